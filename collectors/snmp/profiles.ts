import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, issueLines, type Logger } from '../../core/index.ts';
import { bundledMibs, type MibLookup, type MibOid } from '../snmp-common/index.ts';

const DOTTED = /^\d+(\.\d+)+$/;
const NAME = /^([A-Za-z][A-Za-z0-9-]*::)?[A-Za-z][A-Za-z0-9-]*(\.\d+)*$/;
const BaseMetric = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a metric name').max(40);
const OidText = z.string().refine((s) => DOTTED.test(s) || NAME.test(s), 'not a dotted OID or a MIB name (IF-MIB::ifHCInOctets, ifHCInOctets)');
const NameText = z.string().regex(NAME, 'not a column number or a MIB name');
/** Raw value -> published value (e.g. upsOutputSource battery(5) -> 1); a key may be the enumeration's name (`battery`). */
const ValueMap = z.record(z.string(), z.number());

/** The MIB names profiles may use, loaded only when a profile uses one (the bundled profiles are all numbers). */
type MibSource = () => MibLookup;

/**
 * The profile schemas, resolving MIB names to OIDs as they parse: an OID or sysObjectID prefix may be
 * `IF-MIB::ifHCInOctets` or `ifHCInOctets`, a table's entry its table's name, a column its column's
 * name, a map key an enumeration's name. A name no loaded MIB defines is an issue at its field.
 */
function profileSchemas(mibs: MibSource) {
  const resolve = (ref: string, ctx: z.RefinementCtx, path: PropertyKey[] = []): MibOid | undefined => {
    const r = mibs().resolve(ref);
    if ('error' in r) {
      ctx.addIssue({ code: 'custom', message: r.error, path });
      return undefined;
    }
    return r;
  };
  /** Any OID; a scalar's read needs an instance, so a named scalar without one reads .0 (RFC 2578 §7.7: scalars are instance 0). */
  const oidRef = (scalar: boolean) =>
    OidText.transform((s, ctx) => {
      if (DOTTED.test(s)) return s;
      const r = resolve(s, ctx);
      if (!r) return z.NEVER;
      if (scalar && r.instance === '' && r.object?.kind === 'scalar') return `${r.oid}.0`;
      if (scalar && r.instance === '' && r.object?.kind === 'column') {
        ctx.addIssue({ code: 'custom', message: `${s} is a table column: read it in a table (entry and column) or name one instance (${s}.1)` });
        return z.NEVER;
      }
      return r.oid;
    });
  /** A table's entry OID; its table's name stands for it (the entry is the table's .1, RFC 2578 §7.1.12). */
  const entryRef = OidText.transform((s, ctx) => {
    if (DOTTED.test(s)) return s;
    const r = resolve(s, ctx);
    if (!r) return z.NEVER;
    return r.object?.kind === 'table' && r.instance === '' ? `${r.oid}.1` : r.oid;
  });
  const ColumnRef = z.union([z.number().int().positive(), NameText]);
  /** Non-numeric keys of a value map read as names of the object's enumeration. */
  const mapKeys = (map: Record<string, number> | undefined, oid: string, ctx: z.RefinementCtx, path: PropertyKey[]): Record<string, number> | undefined => {
    if (!map || Object.keys(map).every((k) => /^-?\d+$/.test(k))) return map;
    const object = mibs().nameOf(oid)?.object;
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(map)) {
      if (/^-?\d+$/.test(k)) {
        out[k] = v;
        continue;
      }
      const n = mibs().valueOf(object, k);
      if (n !== undefined) out[String(n)] = v;
      else if (!object?.enumeration) ctx.addIssue({ code: 'custom', path: [...path, k], message: `"${k}" is no number, and ${object ? `${object.module}::${object.name}` : oid} enumerates no values by name (no loaded MIB gives it INTEGER { name(n) })` });
      else ctx.addIssue({ code: 'custom', path: [...path, k], message: `"${k}" is no value of ${object.module}::${object.name} (${[...object.enumeration].map(([n, l]) => `${l}(${n})`).join(', ')})` });
    }
    return out;
  };

  const Scalar = z
    .strictObject({
      metric: BaseMetric,
      oid: oidRef(true),
      scale: z.number().default(1),
      map: ValueMap.optional(),
      mapDefault: z.number().optional(),
    })
    .transform((s, ctx) => ({ ...s, map: mapKeys(s.map, s.oid, ctx, ['map']) }));

  const TableMetric = z.strictObject({
    metric: BaseMetric,
    column: ColumnRef,
    scale: z.number().default(1),
    /** The value is this column divided by 10^(that column), ENTITY-SENSOR's entPhySensorPrecision. */
    precisionColumn: ColumnRef.optional(),
    /** The value is multiplied by the SI prefix in that column, ENTITY-SENSOR's entPhySensorScale: 10^(3*(n-9)), units(9) = 1. */
    scaleColumn: ColumnRef.optional(),
    /** The value is 100 * this column / that column (used / size). */
    percentOf: ColumnRef.optional(),
    /** One value over all rows instead of one per row. */
    aggregate: z.enum(['avg', 'max', 'sum']).optional(),
    map: ValueMap.optional(),
    mapDefault: z.number().optional(),
  });

  const Table = z
    .strictObject({
      name: z.string(),
      /** The table's entry OID (…Table.1) or the table's name; columns are entry.N. */
      entry: entryRef,
      /** Rows are named by a column of this table or by a column OID of another table with the same index. */
      label: z.strictObject({ column: ColumnRef.optional(), oid: oidRef(false).optional(), prefix: z.string().optional() }).optional(),
      filter: z.strictObject({ column: ColumnRef, in: z.array(z.union([z.number(), z.string()])).min(1) }).optional(),
      /** `first`: the table describes one thing; publish its first row without a suffix. */
      rows: z.enum(['each', 'first']).default('each'),
      metrics: z.array(TableMetric).min(1),
    })
    .transform((t, ctx) => {
      /** A column by number, or by name: the name must be a column of this entry (entry.N). */
      const column = (ref: number | string, path: PropertyKey[]): number => {
        if (typeof ref === 'number') return ref;
        const r = resolve(ref, ctx, path);
        if (!r) return 0;
        const n = r.oid.startsWith(`${t.entry}.`) ? r.oid.slice(t.entry.length + 1) : '';
        if (/^\d+$/.test(n)) return Number(n);
        ctx.addIssue({ code: 'custom', path, message: `${ref} (${r.oid}) is not a column of this table's entry ${t.entry}` });
        return 0;
      };
      const opt = (ref: number | string | undefined, path: PropertyKey[]): number | undefined => (ref === undefined ? undefined : column(ref, path));
      /** Filter values by name: the column's enumeration (`celsius` for entPhySensorType 8), or `MODULE::name` for an OID-valued column. */
      const filterValues = (entry: string, c: number, values: (number | string)[]): { column: number; in: (number | string)[] } => {
        const plain = (v: number | string): boolean => typeof v === 'number' || DOTTED.test(v) || /^-?\d+$/.test(v);
        if (values.every(plain)) return { column: c, in: values };
        const object = mibs().objectAt(`${entry}.${c}`);
        const out = values.map((v, i) => {
          if (plain(v)) return v;
          const n = mibs().valueOf(object, v as string);
          if (n !== undefined) return n;
          if (object?.enumeration && !(v as string).includes('::')) {
            ctx.addIssue({ code: 'custom', path: ['filter', 'in', i], message: `"${v}" is no value of ${object.module}::${object.name} (${[...object.enumeration].map(([k, l]) => `${l}(${k})`).join(', ')})` });
            return v;
          }
          if (!(v as string).includes('::')) return v;
          const r = resolve(v as string, ctx, ['filter', 'in', i]);
          return r ? r.oid : v;
        });
        return { column: c, in: out };
      };
      const label = t.label && { ...t.label, column: opt(t.label.column, ['label', 'column']) };
      const filter = t.filter && filterValues(t.entry, column(t.filter.column, ['filter', 'column']), t.filter.in);
      const metrics = t.metrics.map((m, i) => {
        const at = (k: string): PropertyKey[] => ['metrics', i, k];
        const c = column(m.column, at('column'));
        return {
          ...m,
          column: c,
          precisionColumn: opt(m.precisionColumn, at('precisionColumn')),
          scaleColumn: opt(m.scaleColumn, at('scaleColumn')),
          percentOf: opt(m.percentOf, at('percentOf')),
          map: mapKeys(m.map, `${t.entry}.${c}`, ctx, [...at('map')]),
        };
      });
      return { ...t, label, filter, metrics };
    });

  const Module = z.strictObject({ scalars: z.array(Scalar).default([]), tables: z.array(Table).default([]) });

  const Profile = z.strictObject({
    name: z.string().min(1),
    /** sysObjectID prefixes (dotted or named); the longest matching prefix wins, an empty list matches anything (the fallback). */
    match: z.array(oidRef(false)),
    modules: z.array(z.string()),
    interfaces: z.boolean().default(true),
  });

  const ProfileSet = z
    .strictObject({ modules: z.record(z.string(), Module), profiles: z.array(Profile).min(1) })
    .superRefine((set, ctx) => {
      set.profiles.forEach((p, i) =>
        p.modules.forEach((m, j) => {
          if (!set.modules[m]) ctx.addIssue({ code: 'custom', path: ['profiles', i, 'modules', j], message: `unknown module "${m}"` });
        }),
      );
    });
  /** A file of the user's profiles folder: more modules, more profiles, or both. */
  const UserFile = z
    .strictObject({ modules: z.record(z.string(), Module).default({}), profiles: z.array(Profile).default([]) })
    .refine((f) => Object.keys(f.modules).length > 0 || f.profiles.length > 0, 'the file defines no modules and no profiles');
  return { ProfileSet, UserFile };
}

export type ProfileSet = z.output<ReturnType<typeof profileSchemas>['ProfileSet']>;
export type Profile = ProfileSet['profiles'][number];
export type ProfileModule = ProfileSet['modules'][string];
export type ProfileTable = ProfileModule['tables'][number];
export type ProfileScalar = ProfileModule['scalars'][number];

const builtinFile = new URL('./profiles.yaml', import.meta.url).pathname;

/** Validates profile data (the built-in YAML or a user's), or throws a ConfigError naming the path. */
export function loadProfiles(raw: unknown, source = 'profiles', mibs: MibSource = bundledMibs): ProfileSet {
  const r = profileSchemas(mibs).ProfileSet.safeParse(raw);
  if (!r.success) throw new ConfigError(source, issueLines(r.error));
  return r.data;
}

let builtin: ProfileSet | undefined;
/** The profiles shipped in collectors/snmp/profiles.yaml. */
export function builtinProfiles(): ProfileSet {
  builtin ??= loadProfiles(parseYaml(readFileSync(builtinFile, 'utf8')), builtinFile);
  return builtin;
}

export interface ProfileSetOptions {
  /** The user's profiles folder (config `snmp.profilesDir`): every .yaml, .yml and .json file in it. */
  dir?: string;
  /** The MIBs names resolve against (config `snmp.mibsDir`); net-snmp's bundled ones when absent. */
  mibs?: MibLookup;
  logger?: Logger;
}

/**
 * The bundled profiles plus the user's folder: a user file adds modules and profiles; one with the
 * name of a bundled one replaces it (a log line says so). User profiles come first, so on a tie in
 * sysObjectID prefix length the user's wins. A file that does not validate is a ConfigError naming
 * the file and the field; a profile defined by two user files is one too.
 */
export function loadProfileSet(o: ProfileSetOptions = {}): ProfileSet {
  const base = builtinProfiles();
  if (!o.dir) return base;
  const mibs: MibSource = o.mibs ? () => o.mibs as MibLookup : bundledMibs;
  let names: string[];
  try {
    names = readdirSync(o.dir).filter((n) => /\.(ya?ml|json)$/i.test(n) && !n.startsWith('.')).sort();
  } catch (err) {
    throw new ConfigError(o.dir, [`snmp.profilesDir: the folder cannot be read: ${(err as Error).message}`]);
  }
  const modules: Record<string, ProfileModule> = { ...base.modules };
  const moduleFrom = new Map<string, string>();
  const userProfiles: Profile[] = [];
  const profileFrom = new Map<string, string>();
  const files: { file: string; profiles: Profile[] }[] = [];
  for (const name of names) {
    const file = join(o.dir, name);
    let raw: unknown;
    try {
      raw = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(file, [(err as Error).message.split('\n')[0] ?? 'unreadable']);
    }
    const r = profileSchemas(mibs).UserFile.safeParse(raw ?? {});
    if (!r.success) throw new ConfigError(file, issueLines(r.error));
    for (const [m, def] of Object.entries(r.data.modules)) {
      const other = moduleFrom.get(m);
      if (other) throw new ConfigError(file, [`modules.${m}: module "${m}" is defined in ${other} too`]);
      if (base.modules[m]) o.logger?.info({ file, module: m }, `SNMP profile module "${m}" from ${name} replaces the bundled one`);
      modules[m] = def;
      moduleFrom.set(m, file);
    }
    files.push({ file, profiles: r.data.profiles });
  }
  // Modules first (any file's profile may use any file's module), then the profiles that name them.
  for (const { file, profiles } of files) {
    const issues: string[] = [];
    profiles.forEach((p, i) => {
      const other = profileFrom.get(p.name);
      if (other) issues.push(`profiles.${i}.name: profile "${p.name}" is defined in ${other} too`);
      p.modules.forEach((m, j) => {
        if (!modules[m]) issues.push(`profiles.${i}.modules.${j}: unknown module "${m}" (known: ${Object.keys(modules).join(', ')})`);
      });
      profileFrom.set(p.name, file);
      if (base.profiles.some((b) => b.name === p.name)) o.logger?.info({ file, profile: p.name }, `SNMP profile "${p.name}" from ${basename(file)} replaces the bundled one`);
      userProfiles.push(p);
    });
    if (issues.length > 0) throw new ConfigError(file, issues);
  }
  const replaced = new Set(userProfiles.map((p) => p.name));
  const set: ProfileSet = { modules, profiles: [...userProfiles, ...base.profiles.filter((p) => !replaced.has(p.name))] };
  o.logger?.info({ dir: o.dir, files: files.length, profiles: userProfiles.map((p) => p.name) }, 'SNMP profiles loaded from the profiles folder');
  return set;
}

/** The profile for a device: the one it names, else the longest sysObjectID prefix match, else the fallback. */
export function matchProfile(set: ProfileSet, sysObjectID: string | undefined, named?: string): Profile {
  if (named) {
    const p = set.profiles.find((x) => x.name === named);
    if (!p) throw new Error(`unknown SNMP profile "${named}" (known: ${set.profiles.map((x) => x.name).join(', ')})`);
    return p;
  }
  let best: Profile | undefined;
  let bestLen = -1;
  for (const p of set.profiles) {
    if (p.match.length === 0 && bestLen < 0) {
      best ??= p;
      continue;
    }
    for (const prefix of p.match) {
      if (sysObjectID && (sysObjectID === prefix || sysObjectID.startsWith(`${prefix}.`)) && prefix.length > bestLen) {
        best = p;
        bestLen = prefix.length;
      }
    }
  }
  return best ?? (set.profiles[0] as Profile);
}
