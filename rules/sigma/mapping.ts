import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RE2JS } from 're2js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, issueLines, MAX_REGEX_LENGTH, type LogLine } from '../../core/index.ts';
import { compileSelection, type Accessor, type LineContext, type Predicate } from './detection.ts';
import { SigmaRuleError, type FieldValue } from './values.ts';

/** The bundled pipeline: rules/sigma/mapping.yaml. */
export const defaultMappingPath = fileURLToPath(new URL('./mapping.yaml', import.meta.url));

const LogsourceKeys = z.strictObject({ product: z.string().optional(), service: z.string().optional(), category: z.string().optional() });
/** The pipeline file's shape (documented in mapping.yaml itself). */
export const MappingFile = z.strictObject({
  logsources: z.array(z.strictObject({ logsource: LogsourceKeys, when: z.unknown().optional() })),
  fields: z.array(z.strictObject({ sigma: z.array(z.string()).min(1), log: z.array(z.string()).min(1) })).default([]),
  extract: z.record(z.string(), z.array(z.string().max(MAX_REGEX_LENGTH)).min(1)).default({}),
  entities: z.strictObject({ source: z.array(z.string()).optional(), user: z.array(z.string()).optional(), host: z.array(z.string()).optional() }).default({}),
});

export type Logsource = z.output<typeof LogsourceKeys>;
export interface Entities {
  source?: string;
  user?: string;
  host?: string;
}

const LINE_KEYS = new Set(['ts', 'claimedTs', 'host', 'device', 'facility', 'severity', 'program', 'pid', 'message']);

/** A compiled pipeline: logsource conditions, Sigma field names to line values, and who a line is about. */
export interface SigmaMapping {
  /** The condition a rule's logsource puts on lines; throws SigmaRuleError when no entry covers it. */
  logsource(ls: Logsource): Predicate;
  /** Reads a Sigma field from a line through the mapping. */
  field(name: string): Accessor;
  /** The source, user and host a line is about, as far as the mapping can tell. */
  entities(ctx: LineContext): Entities;
  /** Which entity a Sigma field names (SourceIp, src_ip...: source), if any. */
  entityOf(field: string): keyof Entities | undefined;
}

let bundled: SigmaMapping | undefined;

/** Loads and compiles a pipeline file (the bundled one once per process); a bad file is a ConfigError naming it. */
export function loadMapping(file = defaultMappingPath): SigmaMapping {
  if (file === defaultMappingPath) return (bundled ??= readMapping(file));
  return readMapping(file);
}

function readMapping(file: string): SigmaMapping {
  const r = MappingFile.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!r.success) throw new ConfigError(file, issueLines(r.error));
  try {
    return compileMapping(r.data);
  } catch (err) {
    throw new ConfigError(file, [(err as Error).message]);
  }
}

/** Compiles a parsed pipeline. */
export function compileMapping(m: z.output<typeof MappingFile>): SigmaMapping {
  // Extractions use RE2 directly (same engine and cap as compileSafeRegex) because they need the captured group.
  const extractors = new Map(
    Object.entries(m.extract).map(([name, patterns]) => {
      const res = patterns.map((p) => {
        try {
          return RE2JS.compile(p);
        } catch (err) {
          throw new SigmaRuleError(`extract.${name}: /${p}/: ${(err as Error).message}`);
        }
      });
      return [name, res] as const;
    }),
  );
  const path = (p: string): Accessor => {
    if (p.startsWith('fields.')) {
      const k = p.slice(7);
      return (ctx) => ctx.line.fields[k];
    }
    if (p.startsWith('extract.')) {
      const name = p.slice(8);
      const res = extractors.get(name);
      if (!res) throw new SigmaRuleError(`no extraction named ${name}`);
      return (ctx) => {
        const key = `extract.${name}`;
        if (ctx.cache.has(key)) return ctx.cache.get(key);
        let v: string | undefined;
        for (const re of res) {
          const mt = re.matcher(ctx.line.message);
          if (mt.find()) {
            v = mt.group(1) ?? undefined;
            if (v) break;
          }
        }
        ctx.cache.set(key, v);
        return v;
      };
    }
    if (!LINE_KEYS.has(p)) throw new SigmaRuleError(`unknown log line path ${p}`);
    const k = p as keyof LogLine;
    return (ctx) => ctx.line[k] as FieldValue;
  };
  const firstOf = (paths: string[]): Accessor => {
    const gets = paths.map(path);
    return (ctx) => {
      for (const g of gets) {
        const v = g(ctx);
        if (v !== undefined && v !== '') return v;
      }
      return undefined;
    };
  };
  const fieldMap = new Map<string, Accessor>();
  for (const f of m.fields) {
    const get = firstOf(f.log);
    for (const s of f.sigma) fieldMap.set(s, get);
  }
  const field = (name: string): Accessor => {
    const mapped = fieldMap.get(name);
    if (mapped) return mapped;
    const own = path(`fields.${name}`);
    if (!LINE_KEYS.has(name)) return own;
    const top = path(name);
    return (ctx) => own(ctx) ?? top(ctx);
  };
  const sources = m.logsources.map((e) => ({ keys: e.logsource, when: e.when === undefined ? () => true : compileSelection(e.when, path) }));
  const entity = (names: string[] | undefined): Accessor | undefined => {
    if (!names || names.length === 0) return undefined;
    const gets = names.map(field);
    return (ctx) => gets.map((g) => g(ctx)).find((v) => v !== undefined && v !== '');
  };
  // A field names an entity when it reads the same line values as one of the entity's fields.
  const entityByAccessor = new Map<Accessor, keyof Entities>();
  for (const e of ['source', 'user', 'host'] as const) for (const n of m.entities[e] ?? []) entityByAccessor.set(field(n), e);
  const getSource = entity(m.entities.source);
  const getUser = entity(m.entities.user);
  const getHost = entity(m.entities.host);
  return {
    logsource(ls) {
      const given = (['product', 'service', 'category'] as const).filter((k) => ls[k] !== undefined);
      let best: (typeof sources)[number] | undefined;
      let bestN = -1;
      for (const s of sources) {
        const keys = (['product', 'service', 'category'] as const).filter((k) => s.keys[k] !== undefined);
        if (!keys.every((k) => s.keys[k]?.toLowerCase() === ls[k]?.toLowerCase())) continue;
        if (keys.length > bestN) [best, bestN] = [s, keys.length];
      }
      if (!best || bestN < given.length) {
        throw new SigmaRuleError(`no mapping for logsource ${given.map((k) => `${k}: ${ls[k]}`).join(', ') || '(empty)'} (see rules/sigma/mapping.yaml)`);
      }
      return best.when;
    },
    field,
    entityOf: (f) => (fieldMap.has(f) ? entityByAccessor.get(fieldMap.get(f) as Accessor) : undefined),
    entities(ctx) {
      const str = (g: Accessor | undefined) => {
        const v = g?.(ctx);
        return v === undefined || v === '' ? undefined : String(v);
      };
      return { source: str(getSource), user: str(getUser), host: str(getHost) };
    },
  };
}
