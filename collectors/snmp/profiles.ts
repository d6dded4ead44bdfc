import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, issueLines } from '../../core/index.ts';

const Oid = z.string().regex(/^\d+(\.\d+)+$/, 'not a dotted OID');
const BaseMetric = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a metric name').max(40);

const Scalar = z.strictObject({
  metric: BaseMetric,
  oid: Oid,
  scale: z.number().default(1),
  /** Raw value -> published value (e.g. upsOutputSource battery(5) -> 1). */
  map: z.record(z.string(), z.number()).optional(),
  mapDefault: z.number().optional(),
});

const TableMetric = z.strictObject({
  metric: BaseMetric,
  column: z.number().int().positive(),
  scale: z.number().default(1),
  /** The value is this column divided by 10^(that column), ENTITY-SENSOR's entPhySensorPrecision. */
  precisionColumn: z.number().int().positive().optional(),
  /** The value is multiplied by the SI prefix in that column, ENTITY-SENSOR's entPhySensorScale: 10^(3*(n-9)), units(9) = 1. */
  scaleColumn: z.number().int().positive().optional(),
  /** The value is 100 * this column / that column (used / size). */
  percentOf: z.number().int().positive().optional(),
  /** One value over all rows instead of one per row. */
  aggregate: z.enum(['avg', 'max', 'sum']).optional(),
  map: z.record(z.string(), z.number()).optional(),
  mapDefault: z.number().optional(),
});

const Table = z.strictObject({
  name: z.string(),
  /** The table's entry OID (…Table.1); columns are entry.N. */
  entry: Oid,
  /** Rows are named by a column of this table or by a column OID of another table with the same index. */
  label: z.strictObject({ column: z.number().int().positive().optional(), oid: Oid.optional(), prefix: z.string().optional() }).optional(),
  filter: z.strictObject({ column: z.number().int().positive(), in: z.array(z.union([z.number(), z.string()])).min(1) }).optional(),
  /** `first`: the table describes one thing; publish its first row without a suffix. */
  rows: z.enum(['each', 'first']).default('each'),
  metrics: z.array(TableMetric).min(1),
});

const Module = z.strictObject({ scalars: z.array(Scalar).default([]), tables: z.array(Table).default([]) });

const Profile = z.strictObject({
  name: z.string().min(1),
  /** sysObjectID prefixes; the longest matching prefix wins, an empty list matches anything (the fallback). */
  match: z.array(Oid),
  modules: z.array(z.string()),
  interfaces: z.boolean().default(true),
});

export const ProfileSet = z
  .strictObject({ modules: z.record(z.string(), Module), profiles: z.array(Profile).min(1) })
  .superRefine((set, ctx) => {
    set.profiles.forEach((p, i) =>
      p.modules.forEach((m, j) => {
        if (!set.modules[m]) ctx.addIssue({ code: 'custom', path: ['profiles', i, 'modules', j], message: `unknown module "${m}"` });
      }),
    );
  });
export type ProfileSet = z.infer<typeof ProfileSet>;
export type Profile = z.infer<typeof Profile>;
export type ProfileModule = z.infer<typeof Module>;
export type ProfileTable = z.infer<typeof Table>;
export type ProfileScalar = z.infer<typeof Scalar>;

const builtinFile = new URL('./profiles.yaml', import.meta.url).pathname;

/** Validates profile data (the built-in YAML or a user's), or throws a ConfigError naming the path. */
export function loadProfiles(raw: unknown, source = 'profiles'): ProfileSet {
  const r = ProfileSet.safeParse(raw);
  if (!r.success) throw new ConfigError(source, issueLines(r.error));
  return r.data;
}

let builtin: ProfileSet | undefined;
/** The profiles shipped in collectors/snmp/profiles.yaml. */
export function builtinProfiles(): ProfileSet {
  builtin ??= loadProfiles(parseYaml(readFileSync(builtinFile, 'utf8')), builtinFile);
  return builtin;
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
