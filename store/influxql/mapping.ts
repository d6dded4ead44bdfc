/*
 * How the product's series look in InfluxQL (see execute.ts): measurement = the device kind (tag `kind`,
 * "device" when untagged), field = the metric, tags = the series' inventory tags and `device`.
 * Shared by SELECT, SHOW and the executor.
 */
import type { SeriesInfo } from '../types.ts';
import type { Expr } from './parse.ts';
import { isTime, Unsupported } from './where.ts';

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
  /** chunked=true: more rows of this series follow in the next chunk. */
  partial?: boolean;
}

/** The database name Grafana may ask for; everything lives in one. */
export const DATABASE = 'watchfloor';

/** The measurement a series belongs to under the mapping above. */
export const measurementOf = (s: { tags: Readonly<Record<string, string>> }): string => s.tags.kind ?? 'device';

export const tagsOf = (s: SeriesInfo): Record<string, string> => ({ ...s.tags, device: s.device });
/** The tags InfluxDB would hold for a series: `kind` is the measurement there, not a tag. */
export const influxTags = (s: SeriesInfo): Record<string, string> => {
  const { kind: _kind, ...rest } = tagsOf(s);
  return rest;
};

/** The tag part of a WHERE clause as a predicate over a series' tags; time comparisons pass; a field comparison is refused. */
export function tagFilter(where: Expr | undefined, fields: Set<string>): (tags: Record<string, string>) => boolean {
  if (!where) return () => true;
  const compile = (e: Expr): ((tags: Record<string, string>) => boolean) => {
    if (e.kind !== 'binary') throw new Unsupported('a WHERE condition must compare a tag with a value');
    if (e.op === 'AND' || e.op === 'OR') {
      const l = compile(e.left);
      const r = compile(e.right);
      return e.op === 'AND' ? (t) => l(t) && r(t) : (t) => l(t) || r(t);
    }
    if (isTime(e.left) || isTime(e.right)) return () => true;
    if (e.left.kind !== 'ref') throw new Unsupported('a WHERE condition must name a tag on its left');
    const key = e.left.name;
    if (fields.has(key)) throw new Unsupported(`conditions on field values ("${key}") are not supported; filter on tags`);
    const right = e.right;
    if (right.kind === 'regex') {
      const re = right.re;
      return e.op === '=~' ? (t) => re.test(t[key] ?? '') : (t) => !re.test(t[key] ?? '');
    }
    const value = right.kind === 'str' ? right.value : right.kind === 'num' ? String(right.value) : right.kind === 'ref' ? right.name : undefined;
    if (value === undefined) throw new Unsupported(`cannot compare tag "${key}" with that value`);
    if (e.op === '=') return (t) => (t[key] ?? '') === value;
    if (e.op === '!=') return (t) => (t[key] ?? '') !== value;
    throw new Unsupported(`tag "${key}" can be compared with =, !=, =~ or !~ only`);
  };
  return compile(where);
}
