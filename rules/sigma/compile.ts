import { parseAllDocuments } from 'yaml';
import { compileDetection, type Predicate } from './detection.ts';
import { loadMapping, type Logsource, type SigmaMapping } from './mapping.ts';
import { SigmaRuleError } from './values.ts';

/** Sigma levels (rules specification v2, "Level"). */
export const SIGMA_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type SigmaLevel = (typeof SIGMA_LEVELS)[number];
const STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'];

/** A Sigma rule file's text; `file` names it in errors. */
export interface SigmaSource {
  file: string;
  text: string;
}

/** A rule that could not be compiled, with the reason `rules lint` prints. */
export interface SigmaLoadError {
  file: string;
  rule: string;
  reason: string;
}

interface RuleInfo {
  /** The rule's key: its id, else its name, else file#document. */
  key: string;
  id?: string;
  name?: string;
  title: string;
  status?: string;
  level: SigmaLevel;
  tags: string[];
  /** ATT&CK technique ids from tags like attack.t1110.001, as T1110.001. */
  attack: string[];
  file: string;
  /** Whether hits are reported on their own (false for a rule only a correlation uses, unless it says `generate: true`). */
  standalone: boolean;
}

export interface SigmaDetectionRule extends RuleInfo {
  kind: 'detection';
  logsource: Logsource;
  inLogsource: Predicate;
  matches: Predicate;
}

/** Bounds of a correlation condition (all given bounds must hold). */
export interface CountBounds {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
}

export interface SigmaCorrelationRule extends RuleInfo {
  kind: 'correlation';
  type: 'event_count' | 'value_count' | 'temporal' | 'temporal_ordered';
  /** Keys of the referenced rules, in the order written. */
  rules: string[];
  groupBy: string[];
  timespanMs: number;
  condition: CountBounds;
  /** value_count: the field whose distinct values are counted. */
  field?: string;
  /** aliases: alias -> referenced rule key -> field name in that rule's events. */
  aliases: Map<string, Map<string, string>>;
  /** generate: true: the referenced rules also report their own hits. */
  generate: boolean;
}

export type SigmaRule = SigmaDetectionRule | SigmaCorrelationRule;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optString = (v: unknown, what: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new SigmaRuleError(`${what} must be a string`);
  return v;
};

/** Parses a timespan: a number and s, m, h or d (correlation specification, "Time Selection"). */
export function parseTimespan(v: unknown): number {
  const m = typeof v === 'string' ? /^([1-9][0-9]*)([smhd])$/.exec(v) : null;
  if (!m) throw new SigmaRuleError(`timespan "${String(v)}" is not a number followed by s, m, h or d`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's'];
}

const attackIds = (tags: string[]): string[] =>
  tags.flatMap((t) => {
    const m = /^attack\.(t[0-9]{4}(?:\.[0-9]{3})?)$/i.exec(t);
    return m ? [(m[1] as string).toUpperCase()] : [];
  });

function info(doc: Record<string, unknown>, file: string, n: number): Omit<RuleInfo, 'standalone'> {
  const title = optString(doc.title, 'title');
  if (!title) throw new SigmaRuleError('title is missing');
  const status = optString(doc.status, 'status');
  if (status !== undefined && !STATUSES.includes(status)) throw new SigmaRuleError(`status "${status}" is not one of ${STATUSES.join(', ')}`);
  const level = optString(doc.level, 'level') ?? 'medium';
  if (!(SIGMA_LEVELS as readonly string[]).includes(level)) throw new SigmaRuleError(`level "${level}" is not one of ${SIGMA_LEVELS.join(', ')}`);
  const tags = doc.tags ?? [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new SigmaRuleError('tags must be a list of strings');
  const id = optString(doc.id, 'id');
  const name = optString(doc.name, 'name');
  return { key: id ?? name ?? `${file}#${n}`, id, name, title, status, level: level as SigmaLevel, tags, attack: attackIds(tags), file };
}

function compileBounds(c: unknown, type: string): { bounds: CountBounds; field?: string } {
  if (c === undefined && (type === 'temporal' || type === 'temporal_ordered')) return { bounds: {} };
  if (!isMap(c)) throw new SigmaRuleError('correlation.condition must be a map like {gte: 5}');
  const bounds: CountBounds = {};
  let field: string | undefined;
  for (const [k, v] of Object.entries(c)) {
    if (k === 'field') field = optString(v, 'correlation.condition.field');
    else if (['gt', 'gte', 'lt', 'lte', 'eq'].includes(k)) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new SigmaRuleError(`correlation.condition.${k} must be a whole number`);
      bounds[k as keyof CountBounds] = v;
    } else throw new SigmaRuleError(`correlation.condition.${k}: expected gt, gte, lt, lte, eq${type === 'value_count' ? ' or field' : ''}`);
  }
  if (Object.keys(bounds).length === 0 && type !== 'temporal' && type !== 'temporal_ordered') throw new SigmaRuleError('correlation.condition has no bound (gt, gte, lt, lte, eq)');
  if (type === 'value_count' && !field) throw new SigmaRuleError('a value_count correlation needs condition.field');
  return { bounds, field };
}

function compileCorrelation(doc: Record<string, unknown>, base: Omit<RuleInfo, 'standalone'>): Omit<SigmaCorrelationRule, 'rules' | 'aliases' | 'standalone'> & { refs: string[]; rawAliases: Record<string, Record<string, string>> } {
  const c = doc.correlation;
  if (!isMap(c)) throw new SigmaRuleError('correlation must be a map');
  const type = c.type;
  if (type !== 'event_count' && type !== 'value_count' && type !== 'temporal' && type !== 'temporal_ordered') throw new SigmaRuleError(`correlation.type "${String(type)}" is not event_count, value_count, temporal or temporal_ordered`);
  const refs = typeof c.rules === 'string' ? [c.rules] : c.rules;
  if (!Array.isArray(refs) || refs.length === 0 || !refs.every((r) => typeof r === 'string')) throw new SigmaRuleError('correlation.rules must list rule ids or names');
  const groupBy = c['group-by'] === undefined ? [] : typeof c['group-by'] === 'string' ? [c['group-by']] : c['group-by'];
  if (!Array.isArray(groupBy) || !groupBy.every((g) => typeof g === 'string')) throw new SigmaRuleError('correlation.group-by must be a list of field names');
  const { bounds, field } = compileBounds(c.condition, type);
  const aliases = c.aliases ?? {};
  if (!isMap(aliases) || !Object.values(aliases).every((a) => isMap(a) && Object.values(a).every((f) => typeof f === 'string'))) throw new SigmaRuleError('correlation.aliases must map alias -> rule name -> field');
  return { ...base, kind: 'correlation', type, refs, groupBy, generate: c.generate === true || doc.generate === true, timespanMs: parseTimespan(c.timespan), condition: bounds, field, rawAliases: aliases as Record<string, Record<string, string>> };
}

/**
 * Compiles Sigma rule files (each possibly several YAML documents) against a field-mapping
 * pipeline. Every document that is a rule counts; one that cannot run becomes an error with the
 * reason, never an exception. Correlations resolve their rules by id or name across all files.
 */
export function compileSigma(docs: SigmaSource[], opts: { mapping?: SigmaMapping } = {}): { rules: SigmaRule[]; errors: SigmaLoadError[]; total: number } {
  const mapping = opts.mapping ?? loadMapping();
  const errors: SigmaLoadError[] = [];
  const detections: SigmaDetectionRule[] = [];
  const pending: { file: string; rule: ReturnType<typeof compileCorrelation> }[] = [];
  let total = 0;
  const seenIds = new Map<string, string>();
  for (const src of docs) {
    let parsed;
    try {
      parsed = parseAllDocuments(src.text);
    } catch (err) {
      errors.push({ file: src.file, rule: '-', reason: `not YAML: ${(err as Error).message}` });
      total++;
      continue;
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    list.forEach((d, n) => {
      if (d.errors.length > 0) {
        total++;
        errors.push({ file: src.file, rule: `#${n + 1}`, reason: `not YAML: ${d.errors[0]?.message.split('\n')[0]}` });
        return;
      }
      let doc: unknown;
      try {
        doc = d.toJS(); // throws on an alias bomb (the yaml package caps alias expansion)
      } catch (err) {
        total++;
        errors.push({ file: src.file, rule: `#${n + 1}`, reason: `not YAML: ${(err as Error).message}` });
        return;
      }
      if (doc === null || doc === undefined) return; // an empty document (a trailing ---)
      total++;
      const label = isMap(doc) ? String(doc.title ?? doc.id ?? doc.name ?? `#${n + 1}`) : `#${n + 1}`;
      try {
        if (!isMap(doc)) throw new SigmaRuleError('a rule must be a YAML map');
        if (doc.action !== undefined) throw new SigmaRuleError('action: global/reset/repeat collections are Sigma 1 and removed in v2');
        if (doc.filter !== undefined) throw new SigmaRuleError('Sigma filters are not supported yet');
        const base = info(doc, src.file, n + 1);
        // Correlations and people find a rule by its id: two rules with one id would make that ambiguous.
        const first = base.id === undefined ? undefined : seenIds.get(base.id);
        if (first !== undefined) throw new SigmaRuleError(`duplicate id ${base.id} (first in ${first})`);
        if (base.id !== undefined) seenIds.set(base.id, src.file);
        if (doc.correlation !== undefined) {
          pending.push({ file: src.file, rule: compileCorrelation(doc, base) });
          return;
        }
        if (!isMap(doc.logsource)) throw new SigmaRuleError('logsource is missing');
        const ls = doc.logsource as Logsource;
        detections.push({ ...base, kind: 'detection', standalone: true, logsource: ls, inLogsource: mapping.logsource(ls), matches: compileDetection(doc.detection, mapping.field) });
      } catch (err) {
        if (!(err instanceof SigmaRuleError)) throw err;
        errors.push({ file: src.file, rule: label, reason: err.message });
      }
    });
  }
  // Correlations: resolve references (id or name) to rules that loaded, in dependency order.
  const byRef = new Map<string, SigmaRule>();
  const index = (r: SigmaRule) => {
    byRef.set(r.key, r);
    if (r.id) byRef.set(r.id, r);
    if (r.name) byRef.set(r.name, r);
  };
  detections.forEach(index);
  const correlations: SigmaCorrelationRule[] = [];
  let left = pending;
  while (left.length > 0) {
    const next: typeof pending = [];
    for (const p of left) {
      const missing = p.rule.refs.filter((r) => !byRef.has(r));
      if (missing.length > 0) {
        next.push(p);
        continue;
      }
      const { refs, rawAliases, ...rest } = p.rule;
      const rules = refs.map((r) => (byRef.get(r) as SigmaRule).key);
      const aliases = new Map(Object.entries(rawAliases).map(([alias, per]) => [alias, new Map(Object.entries(per).map(([ref, f]) => [byRef.get(ref)?.key ?? ref, f]))]));
      const rule: SigmaCorrelationRule = { ...rest, rules, aliases, standalone: true };
      correlations.push(rule);
      index(rule);
    }
    if (next.length === left.length) {
      for (const p of next) {
        const missing = p.rule.refs.filter((r) => !byRef.has(r));
        errors.push({ file: p.file, rule: p.rule.title, reason: `correlation refers to ${missing.join(', ')}, which did not load or does not exist` });
      }
      break;
    }
    left = next;
  }
  // A rule a correlation uses is reported on its own only when that correlation says generate: true.
  const generates = new Set(correlations.filter((c) => c.generate).map((c) => c.key));
  for (const c of correlations) for (const k of c.rules) {
    const r = byRef.get(k);
    if (r && !generates.has(c.key)) r.standalone = false;
  }
  for (const c of correlations) for (const k of c.rules) if (generates.has(c.key)) (byRef.get(k) as SigmaRule).standalone = true;
  return { rules: [...detections, ...correlations], errors, total };
}
