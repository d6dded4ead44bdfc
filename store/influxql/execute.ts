/*
 * InfluxQL over the product's series.
 *
 * The mapping (also what the InfluxDB writer writes, so a dashboard reads both alike, as Telegraf's
 * SNMP dashboards expect many fields per measurement):
 *   measurement = the device kind (tag `kind`: sensor, crac, ups, pdu, switch...; "device" when untagged)
 *   field       = the metric (temperature, humidity, load...)
 *   tags        = the series' inventory tags (device, kind, room, rack, row, position...)
 * Answers have InfluxDB 1.x's JSON shape: {results: [{statement_id, series: [{name, tags?, columns, values}]}]}.
 */
import { WatchfloorError } from '../../core/index.ts';
import type { Aggregation, SeriesInfo, TimeSeriesStore } from '../types.ts';
import type { Expr, Fill, SelectStatement, ShowStatement, Statement } from './parse.ts';

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface StatementResult {
  statement_id: number;
  series?: InfluxSeries[];
  error?: string;
}

export interface ExecuteOptions {
  now: number;
  /** The `epoch` parameter: ns, u, µ, ms, s, m, h; absent means RFC3339 strings. */
  epoch?: string;
}

/** A statement that parses but that this store cannot answer; reported in the statement's `error`. */
class Unsupported extends Error {}

const AGGREGATES: Record<string, Aggregation> = { mean: 'mean', min: 'min', max: 'max', last: 'last', sum: 'sum', count: 'count' };
const TRANSFORMS = new Set(['derivative', 'non_negative_derivative', 'difference', 'non_negative_difference']);
const EPOCH_MS: Record<string, number> = { ns: 1e-6, u: 1e-3, µ: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** The database name Grafana may ask for; everything lives in one. */
export const DATABASE = 'watchfloor';

/** The measurement a series belongs to under the mapping above. */
export const measurementOf = (s: { tags: Readonly<Record<string, string>> }): string => s.tags.kind ?? 'device';

const tagsOf = (s: SeriesInfo): Record<string, string> => ({ ...s.tags, device: s.device });
/** The tags InfluxDB would hold for a series: `kind` is the measurement there, not a tag. */
const influxTags = (s: SeriesInfo): Record<string, string> => {
  const { kind: _kind, ...rest } = tagsOf(s);
  return rest;
};

/** Runs parsed statements against the store; an unsupported statement answers with its own error, like InfluxDB. */
export async function executeInfluxQL(store: TimeSeriesStore, statements: Statement[], opts: ExecuteOptions): Promise<StatementResult[]> {
  const out: StatementResult[] = [];
  for (const [i, st] of statements.entries()) {
    try {
      const series = st.type === 'select' ? await select(store, st, opts) : show(store, st);
      out.push(series.length > 0 ? { statement_id: i, series } : { statement_id: i });
    } catch (err) {
      if (err instanceof Unsupported || err instanceof WatchfloorError) out.push({ statement_id: i, error: err.message });
      else throw err;
    }
  }
  return out;
}

// ---- WHERE ----

/** The time bounds of a WHERE clause: only `time` comparisons joined by AND at the top level count, as in InfluxDB. */
function timeBounds(where: Expr | undefined, now: number): { from?: number; to?: number } {
  const b: { from?: number; to?: number } = {};
  const visit = (e: Expr): void => {
    if (e.kind !== 'binary') return;
    if (e.op === 'AND') return visit(e.left), visit(e.right);
    const [ref, other, flipped] = isTime(e.left) ? [e.left, e.right, false] : isTime(e.right) ? [e.right, e.left, true] : [];
    if (!ref || !other) return;
    const t = timeValue(other, now);
    const op = flipped ? ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as Record<string, string>)[e.op] ?? e.op : e.op;
    if (op === '>' || op === '>=') b.from = Math.max(b.from ?? -Infinity, op === '>' ? Math.floor(t) + 1 : Math.ceil(t));
    else if (op === '<' || op === '<=') b.to = Math.min(b.to ?? Infinity, op === '<' ? Math.ceil(t) - 1 : Math.floor(t));
    else if (op === '=') {
      b.from = t;
      b.to = t;
    }
    else throw new Unsupported(`time ${e.op} is not supported; use >, >=, < or <=`);
  };
  if (where) visit(where);
  return b;
}

const isTime = (e: Expr): boolean => e.kind === 'ref' && e.name.toLowerCase() === 'time';

/** A time literal: 1700000000000ms, now() - 2m, an RFC3339 string, or a bare number of nanoseconds. */
function timeValue(e: Expr, now: number): number {
  switch (e.kind) {
    case 'duration':
      return e.ms;
    case 'num':
      return e.value / 1e6;
    case 'str': {
      const t = Date.parse(e.value);
      if (Number.isNaN(t)) throw new Unsupported(`invalid time "${e.value}"`);
      return t;
    }
    case 'call':
      if (e.name === 'now') return now;
      break;
    case 'binary':
      if (e.op === '+') return timeValue(e.left, now) + timeValue(e.right, now);
      if (e.op === '-') return timeValue(e.left, now) - timeValue(e.right, now);
      break;
  }
  throw new Unsupported('invalid time expression');
}

/** The tag part of a WHERE clause as a predicate over a series' tags; time comparisons pass; a field comparison is refused. */
function tagFilter(where: Expr | undefined, fields: Set<string>): (tags: Record<string, string>) => boolean {
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

// ---- SELECT ----

type Column = (number | null)[];

interface Leaf {
  field: string;
  agg: Aggregation;
}

function leaves(e: Expr, out: Leaf[]): void {
  if (e.kind === 'call') {
    const agg = AGGREGATES[e.name];
    if (agg) {
      const arg = e.args[0];
      if (arg?.kind !== 'ref' || e.args.length !== 1) throw new Unsupported(`${e.name}() takes one field`);
      out.push({ field: arg.name, agg });
      return;
    }
    if (TRANSFORMS.has(e.name)) {
      const inner = e.args[0];
      if (!inner || inner.kind === 'ref') throw new Unsupported(`${e.name}() needs an aggregate inside, e.g. ${e.name}(mean("x"), 1s)`);
      return leaves(inner, out);
    }
    throw new Unsupported(`function ${e.name}() is not supported (supported: ${[...Object.keys(AGGREGATES), ...TRANSFORMS].join(', ')})`);
  }
  if (e.kind === 'binary') return leaves(e.left, out), leaves(e.right, out);
  if (e.kind === 'num') return;
  if (e.kind === 'ref') throw new Unsupported(`raw field "${e.name}" without an aggregate is not supported; use mean(), last()...`);
  if (e.kind === 'wildcard') throw new Unsupported('SELECT * is not supported; name the fields with an aggregate');
  throw new Unsupported('unsupported expression in SELECT');
}

function columnName(e: Expr): string {
  if (e.kind === 'call') return e.name;
  if (e.kind === 'binary') return columnName(e.left) || columnName(e.right);
  if (e.kind === 'ref') return e.name;
  return '';
}

async function select(store: TimeSeriesStore, st: SelectStatement, opts: ExecuteOptions): Promise<InfluxSeries[]> {
  const wanted: Leaf[] = [];
  for (const f of st.fields) leaves(f.expr, wanted);
  const fieldNames = new Set(wanted.map((l) => l.field));
  const { from: lower, to: upper } = timeBounds(st.where, opts.now);
  const from = Math.max(0, lower ?? 0);
  const to = upper ?? opts.now;
  if (st.groupByTime && lower === undefined) throw new Unsupported('GROUP BY time() needs a lower time bound in WHERE (e.g. $timeFilter)');
  if (to < from) return [];
  const stepMs = st.groupByTime ? Math.max(1, Math.round(st.groupByTime.ms)) : to + 1;

  const inMeasurement =
    'regex' in st.measurement ? ((re: RegExp) => (m: string) => re.test(m))(st.measurement.regex) : ((n: string) => (m: string) => m === n)(st.measurement.name);
  const allSeries = store.series().filter((s) => inMeasurement(measurementOf(s)));
  const fieldsHere = new Set(allSeries.map((s) => s.metric));
  const pass = tagFilter(st.where, fieldsHere);

  // Group the matching series by measurement and GROUP BY tags.
  const groups = new Map<string, { name: string; tags: Record<string, string>; series: SeriesInfo[] }>();
  for (const s of allSeries) {
    if (!fieldNames.has(s.metric)) continue;
    const tags = tagsOf(s);
    if (!pass(tags)) continue;
    const keys = st.groupByTags === '*' ? Object.keys(influxTags(s)).sort() : st.groupByTags;
    const groupTags = Object.fromEntries(keys.map((k) => [k, tags[k] ?? '']));
    const name = measurementOf(s);
    const key = JSON.stringify([name, groupTags]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { name, tags: groupTags, series: [] }));
    g.series.push(s);
  }
  const list = [...groups.values()].sort((a, b) => (JSON.stringify([a.name, a.tags]) < JSON.stringify([b.name, b.tags]) ? -1 : 1));
  if (list.length === 0) return [];

  // One grouped range query per (field, aggregation).
  const columns = new Map<string, Column[]>();
  let times: number[] = [];
  for (const leaf of wanted) {
    const key = `${leaf.agg}(${leaf.field})`;
    if (columns.has(key)) continue;
    const buckets = await store.rangeGroups({
      groups: list.map((g) => g.series.filter((s) => s.metric === leaf.field)),
      from,
      to,
      stepMs,
      agg: leaf.agg,
    });
    times = buckets[0]?.map((b) => b.ts) ?? times;
    columns.set(key, buckets.map((bs) => bs.map((b) => b.value)));
  }
  if (!st.groupByTime) times = [from];

  const names = uniqueNames(st.fields.map((f) => f.alias ?? columnName(f.expr)));
  const out: InfluxSeries[] = [];
  list.forEach((g, gi) => {
    const cols = st.fields.map((f) => evaluate(f.expr, gi, columns, times));
    let rows: unknown[][] = times.map((t, i) => [formatTime(t, opts.epoch), ...cols.map((c) => c[i] ?? null)]);
    rows = fill(rows, st.fill);
    if (st.descending) rows.reverse();
    if (st.limit !== undefined) rows = rows.slice(0, st.limit);
    if (rows.length === 0) return;
    out.push({ name: g.name, ...(st.groupByTags.length > 0 ? { tags: g.tags } : {}), columns: ['time', ...names], values: rows });
  });
  return out;
}

function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = seen.get(n) ?? 0;
    seen.set(n, k + 1);
    return k === 0 ? n : `${n}_${k}`;
  });
}

/** Evaluates a SELECT expression over the buckets of one group. */
function evaluate(e: Expr, gi: number, columns: Map<string, Column[]>, times: number[]): Column {
  switch (e.kind) {
    case 'num':
      return times.map(() => e.value);
    case 'call': {
      const agg = AGGREGATES[e.name];
      const arg = e.args[0];
      if (agg && arg?.kind === 'ref') return columns.get(`${agg}(${arg.name})`)?.[gi] ?? times.map(() => null);
      const inner = evaluate(arg as Expr, gi, columns, times);
      const unit = e.args[1]?.kind === 'duration' ? e.args[1].ms : 1000;
      return transform(e.name, inner, times, unit);
    }
    case 'binary': {
      const l = evaluate(e.left, gi, columns, times);
      const r = evaluate(e.right, gi, columns, times);
      return l.map((a, i) => {
        const b = r[i] ?? null;
        if (a === null || b === null) return null;
        if (e.op === '+') return a + b;
        if (e.op === '-') return a - b;
        if (e.op === '*') return a * b;
        return b === 0 ? null : a / b;
      });
    }
    default:
      return times.map(() => null);
  }
}

/** derivative / difference between consecutive non-null buckets (InfluxQL "Transformations"). */
function transform(name: string, xs: Column, times: number[], unitMs: number): Column {
  let prev = -1;
  return xs.map((x, i) => {
    if (x === null) return null;
    const p = prev;
    prev = i;
    if (p < 0) return null;
    const d = x - (xs[p] as number);
    let v = name.includes('derivative') ? d / (((times[i] as number) - (times[p] as number)) / unitMs) : d;
    if (name.startsWith('non_negative') && v < 0) v = Number.NaN;
    return Number.isNaN(v) ? null : v;
  });
}

function fill(rows: unknown[][], f: Fill): unknown[][] {
  const nulls = (r: unknown[]): boolean => r.slice(1).every((v) => v === null);
  if (f.kind === 'none') return rows.filter((r) => !nulls(r));
  if (f.kind === 'value') return rows.map((r) => r.map((v, i) => (i > 0 && v === null ? f.value : v)));
  if (f.kind === 'previous') {
    const last: unknown[] = [];
    return rows.map((r) => r.map((v, i) => (i === 0 ? v : v === null ? (last[i] ?? null) : (last[i] = v))));
  }
  if (f.kind === 'linear') {
    const width = rows[0]?.length ?? 0;
    for (let c = 1; c < width; c++) {
      let prev = -1;
      rows.forEach((r, i) => {
        if (r[c] === null) return;
        if (prev >= 0 && i - prev > 1) {
          const a = rows[prev]?.[c] as number;
          const b = r[c] as number;
          for (let k = prev + 1; k < i; k++) (rows[k] as unknown[])[c] = a + ((b - a) * (k - prev)) / (i - prev);
        }
        prev = i;
      });
    }
  }
  return rows;
}

function formatTime(t: number, epoch: string | undefined): number | string {
  if (epoch === undefined) return new Date(t).toISOString().replace('.000Z', 'Z');
  return t / (EPOCH_MS[epoch] ?? 1);
}

// ---- SHOW ----

function show(store: TimeSeriesStore, st: ShowStatement): InfluxSeries[] {
  const all = store.series();
  switch (st.type) {
    case 'show-databases':
      return [{ name: 'databases', columns: ['name'], values: [[DATABASE]] }];
    case 'show-retention-policies':
      return [{ name: '', columns: ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'], values: [['autogen', '0s', '168h0m0s', 1, true]] }];
    case 'show-measurements': {
      const pass = tagFilter(st.where, new Set());
      let names = [...new Set(all.filter((s) => pass(tagsOf(s))).map(measurementOf))].sort();
      const m = st.match;
      if (m?.kind === 'regex') names = names.filter((n) => m.re.test(n));
      else if (m?.kind === 'str') names = names.filter((n) => n === m.value);
      if (st.limit !== undefined) names = names.slice(0, st.limit);
      return names.length ? [{ name: 'measurements', columns: ['name'], values: names.map((n) => [n]) }] : [];
    }
    case 'show-field-keys':
      return perMeasurement(all, st.from, (list) => [...new Set(list.map((s) => s.metric))].sort().map((f) => [f, 'float']), ['fieldKey', 'fieldType']);
    case 'show-tag-keys': {
      const pass = tagFilter(st.where, new Set());
      return perMeasurement(
        all.filter((s) => pass(tagsOf(s))),
        st.from,
        (list) => [...new Set(list.flatMap((s) => Object.keys(influxTags(s))))].sort().slice(0, st.limit).map((k) => [k]),
        ['tagKey'],
      );
    }
    case 'show-tag-values': {
      const pass = tagFilter(st.where, new Set(all.map((s) => s.metric)));
      const { op, value } = st.key;
      const keyOk = (k: string): boolean =>
        op === 'in' ? (value as string[]).includes(k) : op === '=' ? k === value : op === '!=' ? k !== value : op === '=~' ? (value as RegExp).test(k) : !(value as RegExp).test(k);
      return perMeasurement(
        all,
        st.from,
        (list) => {
          const pairs = new Set<string>();
          for (const s of list) {
            const tags = tagsOf(s);
            if (!pass(tags)) continue;
            for (const [k, v] of Object.entries(influxTags(s))) if (keyOk(k) && v !== '') pairs.add(JSON.stringify([k, v]));
          }
          return [...pairs].sort().slice(0, st.limit).map((p) => JSON.parse(p) as string[]);
        },
        ['key', 'value'],
      );
    }
  }
}

function perMeasurement(all: SeriesInfo[], from: string | undefined, rows: (list: SeriesInfo[]) => unknown[][], columns: string[]): InfluxSeries[] {
  const byName = new Map<string, SeriesInfo[]>();
  for (const s of all) {
    const m = measurementOf(s);
    if (from !== undefined && m !== from) continue;
    const list = byName.get(m) ?? [];
    list.push(s);
    byName.set(m, list);
  }
  return [...byName.keys()]
    .sort()
    .map((name) => ({ name, columns, values: rows(byName.get(name) as SeriesInfo[]) }))
    .filter((s) => s.values.length > 0);
}
