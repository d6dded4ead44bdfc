/*
 * SELECT, answered as InfluxDB 1.x answers it (influxql/query: compile, select, call iterators).
 *
 * Sources become InfluxDB series: one per device of a measurement (its tags, every metric a field), or
 * one per series of a subquery's answer. Their fields are joined into rows by timestamp; the WHERE
 * clause filters series by tags and rows by field values; GROUP BY tags gathers series into groups.
 * Then either raw rows (fields, tags, arithmetic, transformations of raw fields), or buckets of
 * aggregates and selectors (GROUP BY time(), or one bucket over the whole range) with fill() and
 * transformations of aggregates. mean/min/max/last/sum/count per time bucket, where no row filter
 * applies, come from the store's grouped range query (rollups, one SQL statement); everything else is
 * computed here from raw points.
 */
import type { Aggregation, RangeBucket, SeriesInfo, TimeSeriesStore } from '../types.ts';
import { AGGREGATE_FUNCTIONS, MATH_FUNCTIONS, SELECTORS, TRANSFORM_FUNCTIONS, integralBuckets, lookBehind, reduce, transformPoints, type Pt } from './functions.ts';
import { chargePointsAhead, sliced, type QueryBudget } from './limits.ts';
import type { Expr, Field, SelectStatement, Source } from './parse.ts';
import { arith, condition, formatTime, timeBounds, Unsupported, zoneOffsetMs, type Row } from './where.ts';
import { calls, columnName, expandFields, refs, uniqueNames } from './expr.ts';
import { fillColumn, fillRows, type Column } from './fill.ts';
import { influxTags, measurementOf } from './mapping.ts';

export interface InfluxSeriesOut {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface SelectOptions {
  now: number;
  epoch?: string;
  budget?: QueryBudget;
}

/** The latest time a query without an upper bound reads (the JavaScript Date range). */
const MAX_TIME = 8.64e15;
const SQL_AGGREGATES = new Set<string>(['mean', 'min', 'max', 'last', 'sum', 'count']);

/** One InfluxDB series of a source: measurement, tags, fields; points are read on demand. */
interface Src {
  name: string;
  tags: Record<string, string>;
  /** Store series behind each field (a measurement's device), or the points themselves (a subquery). */
  store?: Map<string, SeriesInfo>;
  points?: Map<string, Pt[]>;
}


interface Group {
  name: string;
  tags: Record<string, string>;
  srcs: Src[];
}

/** Keys sorted, as InfluxDB's JSON (a Go map) has them. */
const sortedTags = (t: Record<string, string>): Record<string, string> => Object.fromEntries(Object.keys(t).sort().map((k) => [k, t[k] as string]));

const isAggregate = (c: { name: string }): boolean => AGGREGATE_FUNCTIONS.has(c.name);

// ---- sources ----

interface Plan {
  from: number;
  to: number;
  lower?: number;
  /** Where reading starts: one bucket (or N-1 for moving_average) before `from` when a transformation needs it. */
  readFrom: number;
  step?: number;
  offset: number;
}

async function sources(store: TimeSeriesStore, st: SelectStatement, plan: Plan, opts: SelectOptions): Promise<Src[]> {
  const out: Src[] = [];
  for (const source of st.sources) {
    if ('subquery' in source) out.push(...(await subquerySources(store, source.subquery, plan, opts)));
    else out.push(...measurementSources(store, source));
  }
  return out;
}

function measurementSources(store: TimeSeriesStore, source: Exclude<Source, { subquery: SelectStatement }>): Src[] {
  const match = 'regex' in source ? (m: string): boolean => source.regex.test(m) : (m: string): boolean => m === source.name;
  const byDevice = new Map<string, Src>();
  for (const s of store.series()) {
    const name = measurementOf(s);
    if (!match(name)) continue;
    const key = `${name}\u0000${s.device}`;
    let src = byDevice.get(key);
    if (!src) byDevice.set(key, (src = { name, tags: influxTags(s), store: new Map() }));
    src.store?.set(s.metric, s);
  }
  return [...byDevice.values()];
}

/** A subquery's answer as series: its rows are points, its columns fields; its time range is the outer one where it has none. */
async function subquerySources(store: TimeSeriesStore, inner: SelectStatement, plan: Plan, opts: SelectOptions): Promise<Src[]> {
  const own = timeBounds(inner.where, opts.now);
  let where = inner.where;
  if (own.from === undefined && plan.lower !== undefined) where = and(where, { kind: 'binary', op: '>=', left: { kind: 'ref', name: 'time' }, right: { kind: 'duration', ms: plan.readFrom } });
  if (own.to === undefined) where = and(where, { kind: 'binary', op: '<=', left: { kind: 'ref', name: 'time' }, right: { kind: 'duration', ms: plan.to } });
  const answer = await selectStatement(store, { ...inner, where }, { ...opts, epoch: 'ms' });
  return answer.map((s) => {
    const points = new Map<string, Pt[]>();
    s.columns.forEach((c, i) => {
      if (i === 0) return;
      const pts: Pt[] = [];
      for (const r of s.values) if (typeof r[i] === 'number') pts.push({ t: r[0] as number, v: r[i] as number });
      points.set(c, pts);
    });
    return { name: s.name, tags: s.tags ?? {}, points };
  });
}

const and = (a: Expr | undefined, b: Expr): Expr => (a ? { kind: 'binary', op: 'AND', left: a, right: b } : b);

/** The rows of one source within [from, to], fields joined by timestamp, filtered by the WHERE clause. */
async function rowsOf(store: TimeSeriesStore, src: Src, fields: string[], from: number, to: number, where: Expr | undefined, fieldKeys: Set<string>, opts: SelectOptions): Promise<Row[]> {
  const byTime = new Map<number, Row>();
  const add = (field: string, t: number, v: number): void => {
    let r = byTime.get(t);
    if (!r) byTime.set(t, (r = { t, f: {} }));
    r.f[field] = v;
  };
  if (src.points) {
    for (const f of fields) for (const p of src.points.get(f) ?? []) if (p.t >= from && p.t <= to) add(f, p.t, p.v);
  } else if (src.store && store.points) {
    const wanted = fields.filter((f) => src.store?.has(f));
    const series = wanted.map((f) => src.store?.get(f) as SeriesInfo);
    // Counted before they are read, so max-select-point refuses a read too large to hold (limits.ts).
    await chargePointsAhead(store, opts.budget, series, from, to);
    const cols = await store.points({ series, from, to, signal: opts.budget?.signal });
    let n = 0;
    cols.forEach((c, i) => {
      n += c.ts.length;
      for (let k = 0; k < c.ts.length; k++) add(wanted[i] as string, c.ts[k] as number, c.value[k] as number);
    });
    await opts.budget?.work(n);
  } else if (src.store) throw new Unsupported('this store cannot read raw points');
  let rows = [...byTime.values()].sort((a, b) => a.t - b.t);
  if (where) rows = rows.filter((r) => condition(where, src.tags, r, fieldKeys) !== false);
  return rows;
}

/** The raw points of every store-backed source, read in one query and kept on the source (as a subquery's are). */
async function loadPoints(store: TimeSeriesStore, srcs: Src[], fields: string[], from: number, to: number, opts: SelectOptions): Promise<void> {
  const wanted: { src: Src; field: string; series: SeriesInfo }[] = [];
  for (const src of srcs) for (const f of fields) {
    const series = src.store?.get(f);
    if (series) wanted.push({ src, field: f, series });
  }
  if (wanted.length === 0) return;
  if (!store.points) throw new Unsupported('this store cannot read raw points');
  const cols = await store.points({ series: wanted.map((w) => w.series), from, to, signal: opts.budget?.signal });
  let n = 0;
  cols.forEach((c, i) => {
    const { src, field } = wanted[i] as (typeof wanted)[number];
    const pts: Pt[] = new Array(c.ts.length);
    for (let k = 0; k < c.ts.length; k++) pts[k] = { t: c.ts[k] as number, v: c.value[k] as number };
    n += pts.length;
    (src.points ??= new Map()).set(field, pts);
  });
  opts.budget?.chargePoints(n);
  await opts.budget?.work(n);
}

/** Every group's buckets of each SQL aggregate, one grouped range query per `agg(field)` (rollups and all). */
async function sqlColumns(store: TimeSeriesStore, list: Group[], leaves: Extract<Expr, { kind: 'call' }>[], plan: Plan, opts: SelectOptions): Promise<Map<string, RangeBucket[][]>> {
  const out = new Map<string, RangeBucket[][]>();
  const charged = new Set<string>();
  for (const c of leaves) {
    const field = (c.args[0] as { name: string }).name;
    const key = `${c.name}(${field})`;
    if (out.has(key)) continue;
    const groups = list.map((g) => g.srcs.map((s) => s.store?.get(field)).filter((s): s is SeriesInfo => s !== undefined));
    // max-select-point counts the raw points an aggregate covers, as InfluxDB does, though the
    // store may answer from rollups: charged once per field, before the aggregate runs.
    if (!charged.has(field)) {
      charged.add(field);
      await chargePointsAhead(store, opts.budget, groups.flat(), plan.readFrom, plan.to);
    }
    // Without GROUP BY time(): one bucket that starts exactly at the range's start.
    const stepMs = plan.step ?? plan.to - plan.readFrom + 1;
    const offsetMs = plan.step ? plan.offset : plan.readFrom % stepMs;
    const run = store.rangeGroups({ groups, from: plan.readFrom, to: plan.to, stepMs, offsetMs, agg: c.name as Aggregation, signal: opts.budget?.signal });
    out.set(key, await (opts.budget ? opts.budget.within(run) : run));
  }
  return out;
}

// ---- the statement ----

/** Runs one SELECT; its rows' times are formatted with `opts.epoch`. */
export async function selectStatement(store: TimeSeriesStore, st: SelectStatement, opts: SelectOptions): Promise<InfluxSeriesOut[]> {
  const { from: lower, to: upper } = timeBounds(st.where, opts.now);
  const from = Math.max(0, lower ?? 0);
  const to = Math.min(upper ?? (st.groupByTime ? opts.now : MAX_TIME), MAX_TIME);
  const step = st.groupByTime ? Math.max(1, Math.round(st.groupByTime.ms)) : undefined;
  // tz(): buckets start at local boundaries, i.e. shifted back by the zone's UTC offset (taken at the range's start).
  const zoneShift = st.tz ? -zoneOffsetMs(st.tz, lower ?? opts.now) : 0;
  const offset = st.groupByTime && step ? (((Math.round(st.groupByTime.offsetMs + zoneShift) % step) + step) % step) : 0;
  if (step && lower === undefined) throw new Unsupported('GROUP BY time() needs a lower time bound in WHERE (e.g. $timeFilter)');
  if (to < from) return [];
  const allCalls = st.fields.flatMap((f) => calls(f.expr));
  const aggregating = allCalls.some(isAggregate);
  if (step && !aggregating) throw new Unsupported('GROUP BY requires at least one aggregate function');
  const behind = Math.max(0, ...allCalls.filter((c) => TRANSFORM_FUNCTIONS.has(c.name) && c.args[0]?.kind === 'call').map((c) => lookBehind(c.name, argNumber(c.args[1]))));
  const bucketOf = (t: number): number => (step ? Math.floor((t - offset) / step) * step + offset : from);
  const readFrom = step && behind > 0 ? from - behind * step : from;
  const plan: Plan = { from, to, lower, readFrom, step, offset };

  const srcs = await sources(store, st, plan, opts);
  const fieldKeySet = new Set(srcs.flatMap((s) => [...(s.store?.keys() ?? s.points?.keys() ?? [])]));
  const tagKeySet = new Set(srcs.flatMap((s) => Object.keys(s.tags)));
  const groupKeys = st.groupByTags === '*' ? [...tagKeySet].sort() : st.groupByTags;
  const fields = expandFields(
    st.fields,
    [...fieldKeySet].sort(),
    [...tagKeySet].filter((k) => !groupKeys.includes(k)),
  );
  const kept = srcs.filter((s) => !st.where || condition(st.where, s.tags, undefined, fieldKeySet) !== false);

  // GROUP BY tags: the groups, in InfluxDB's order (measurement, then tag values by key).
  const groups = new Map<string, Group>();
  for (const s of kept) {
    const tags = sortedTags(Object.fromEntries(groupKeys.map((k) => [k, s.tags[k] ?? ''])));
    const key = JSON.stringify([s.name, tags]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { name: s.name, tags, srcs: [] }));
    g.srcs.push(s);
  }
  const list = [...groups.values()].sort((a, b) => cmp(JSON.stringify([a.name, Object.values(a.tags)]), JSON.stringify([b.name, Object.values(b.tags)])));
  const needed = [...new Set(fields.flatMap((f) => refs(f.expr)).filter((r) => fieldKeySet.has(r)))];
  const whereFields = st.where ? refs(st.where).filter((r) => fieldKeySet.has(r)) : [];
  opts.budget?.chargeSeries(list.reduce((n, g) => n + g.srcs.length * Math.max(1, needed.length), 0));

  const names = uniqueNames(fields.map((f) => f.alias ?? columnName(f.expr)));
  const out: InfluxSeriesOut[] = [];
  // Without GROUP BY time() a lone selector needs its point's time, which only the raw points give.
  const loneSelector = !step && allCalls.filter(isAggregate).length === 1 && SELECTORS.has((allCalls.find(isAggregate) as { name: string }).name);
  const useSql = aggregating && !loneSelector && whereFields.length === 0 && kept.every((s) => s.store) && store.points !== undefined;
  const leaves = fields.flatMap((f) => calls(f.expr)).filter(isAggregate);
  const sqlOnly = useSql && leaves.every((c) => SQL_AGGREGATES.has(c.name) && c.args[0]?.kind === 'ref' && c.args.length === 1);
  // Every group's buckets are charged before anything is read (time(1ms) over years is 10^11 of
  // them, and the store's grouped query would lay them all out): per request, as limits.ts says.
  if (aggregating) {
    const buckets = step ? Math.floor((bucketOf(plan.to) - bucketOf(plan.readFrom)) / step) + 1 : 1;
    opts.budget?.chargeBuckets(buckets * fields.length * list.length);
  }
  // One store query for every group: a grouped range query per aggregate, or the raw points of every series at once.
  const sql = sqlOnly ? await sqlColumns(store, list, leaves, plan, opts) : undefined;
  if (!sqlOnly) await loadPoints(store, kept, [...new Set([...needed, ...whereFields])], aggregating ? readFrom : from, to, opts);
  for (const [gi, g] of list.entries()) {
    const rows = aggregating
      ? await aggregateRows(store, st, fields, g, plan, { needed, whereFields, fieldKeys: fieldKeySet, sql: sql && ((key: string) => sql.get(key)?.[gi]), bucketOf }, opts)
      : await rawRows(store, st, fields, g, plan, [...new Set([...needed, ...whereFields])], fieldKeySet, opts);
    if (!rows) continue;
    let values = rows;
    if (st.descending) values.reverse();
    if (st.offset) values = values.slice(st.offset);
    if (st.limit !== undefined && st.limit > 0) values = values.slice(0, st.limit);
    if (values.length === 0) continue;
    out.push({
      name: g.name,
      ...(groupKeys.length > 0 ? { tags: g.tags } : {}),
      columns: ['time', ...names],
      // Formatted in place, a slice at a time (limits.ts): the largest answer's times held the event loop for seconds.
      values: await sliced(opts.budget, values, (r) => ((r[0] = formatTime(r[0] as number, opts.epoch)), r), 2 + names.length),
    });
  }
  // ORDER BY time DESC walks the series backwards too.
  if (st.descending) out.reverse();
  const soff = st.soffset ?? 0;
  return st.slimit !== undefined && st.slimit > 0 ? out.slice(soff, soff + st.slimit) : out.slice(soff);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const argNumber = (e: Expr | undefined): number | undefined => (e?.kind === 'num' ? e.value : e?.kind === 'duration' ? e.ms : undefined);

// ---- raw rows ----

/** Raw rows of a group: each source's rows evaluated, then merged by time (InfluxDB emits a row per point). */
async function rawRows(store: TimeSeriesStore, st: SelectStatement, fields: Field[], g: Group, plan: Plan, read: string[], fieldKeys: Set<string>, opts: SelectOptions): Promise<unknown[][] | undefined> {
  const all: unknown[][] = [];
  for (const src of g.srcs) {
    const rows = await rowsOf(store, src, read, plan.from, plan.to, st.where, fieldKeys, opts);
    const cols = fields.map((f) => rawColumn(f.expr, rows, src.tags, fieldKeys));
    const times = new Set<number>();
    for (const c of cols) for (const t of c.keys()) times.add(t);
    for (const t of [...times].sort((a, b) => a - b)) {
      const row = [t, ...cols.map((c) => c.get(t) ?? null)];
      // A row holds at least one field's value: tags alone make none.
      if (cols.some((c, i) => c.get(t) !== undefined && fieldBearing((fields[i] as Field).expr, fieldKeys))) all.push(row);
    }
  }
  if (all.length === 0) return undefined;
  return all.sort((a, b) => (a[0] as number) - (b[0] as number));
}

const fieldBearing = (e: Expr, fieldKeys: Set<string>): boolean => refs(e).some((r) => fieldKeys.has(r));

/** One SELECT expression over raw rows: time -> value (a tag's text, a field's number, arithmetic, a transformation). */
function rawColumn(e: Expr, rows: Row[], tags: Record<string, string>, fieldKeys: Set<string>): Map<number, number | string> {
  const m = new Map<number, number | string>();
  if (e.kind === 'ref') {
    if (fieldKeys.has(e.name)) {
      for (const r of rows) if (r.f[e.name] !== undefined) m.set(r.t, r.f[e.name] as number);
    }
    else if (tags[e.name] !== undefined) for (const r of rows) m.set(r.t, tags[e.name] as string);
    return m;
  }
  if (e.kind === 'num') {
    for (const r of rows) m.set(r.t, e.value);
    return m;
  }
  if (e.kind === 'binary') {
    const l = rawColumn(e.left, rows, tags, fieldKeys);
    const r = rawColumn(e.right, rows, tags, fieldKeys);
    for (const [t, a] of l) {
      const b = r.get(t);
      if (typeof a !== 'number' || typeof b !== 'number') continue;
      const v = arith(e.op, a, b);
      if (v !== null) m.set(t, v);
    }
    return m;
  }
  if (e.kind === 'call') {
    const inner = rawColumn(e.args[0] ?? { kind: 'num', value: 0 }, rows, tags, fieldKeys);
    const pts = [...inner].filter((x): x is [number, number] => typeof x[1] === 'number').map(([t, v]) => ({ t, v }));
    if (TRANSFORM_FUNCTIONS.has(e.name)) {
      for (const p of transformPoints(e.name, pts, argNumber(e.args[1]))) m.set(p.t, p.v);
      return m;
    }
    const math = MATH_FUNCTIONS[e.name];
    if (math) {
      for (const p of pts) m.set(p.t, math(p.v, argNumber(e.args[1])));
      return m;
    }
    throw new Unsupported(`function ${e.name}() is not supported`);
  }
  throw new Unsupported('unsupported expression in SELECT');
}

// ---- aggregates ----

interface AggContext {
  needed: string[];
  whereFields: string[];
  fieldKeys: Set<string>;
  /** When every aggregate comes from the store's grouped range query: this group's buckets of `agg(field)`. */
  sql?: (key: string) => RangeBucket[] | undefined;
  bucketOf: (t: number) => number;
}


/** Rows of aggregates for one group: one per time bucket (or one over the range), fill() applied, transformations' look-behind dropped. */
async function aggregateRows(store: TimeSeriesStore, st: SelectStatement, fields: Field[], g: Group, plan: Plan, ctx: AggContext, opts: SelectOptions): Promise<unknown[][] | undefined> {
  const { step } = plan;
  const first = ctx.bucketOf(plan.readFrom);
  const count = step ? Math.floor((ctx.bucketOf(plan.to) - first) / step) + 1 : 1;
  // (Charged for every group by selectStatement before the store was read.)
  const starts = Array.from({ length: count }, (_, i) => (step ? first + i * step : plan.from));
  // Per-bucket points of the group, read once unless every aggregate comes from SQL.
  const sqlOnly = ctx.sql !== undefined;
  let buckets: Map<string, Pt[][]> | undefined;
  if (!sqlOnly) {
    buckets = new Map(ctx.needed.map((f) => [f, starts.map((): Pt[] => [])]));
    for (const src of g.srcs) {
      const rows = await rowsOf(store, src, [...new Set([...ctx.needed, ...ctx.whereFields])], plan.readFrom, plan.to, st.where, ctx.fieldKeys, opts);
      for (const r of rows) {
        const i = step ? Math.floor((ctx.bucketOf(r.t) - first) / step) : 0;
        if (i < 0 || i >= count) continue;
        for (const f of ctx.needed) if (r.f[f] !== undefined) (buckets.get(f)?.[i] as Pt[]).push({ t: r.t, v: r.f[f] as number });
      }
    }
    for (const bs of buckets.values()) for (const b of bs) b.sort((a, c) => a.t - c.t);
  }
  const sqlCache = new Map<string, Column>();
  // The one selector of a statement without GROUP BY time() answers its point's time (InfluxDB: a lone selector keeps its time).
  const allCalls = fields.flatMap((f) => calls(f.expr));
  const lone = !step && allCalls.filter(isAggregate).length === 1 && SELECTORS.has((allCalls.find(isAggregate) as { name: string }).name);
  let selectedTime: number | undefined;
  let anyPoint = false;

  /** distinct() values of a bucket, in the order first seen (InfluxDB's DistinctReducer keeps each value's first point). */
  const distinctOf = (pts: Pt[]): number[] => [...new Set(pts.map((p) => p.v))];
  const leaf = async (c: Extract<Expr, { kind: 'call' }>): Promise<Column> => {
    const arg = c.args[0];
    if (c.name === 'count' && arg?.kind === 'call' && arg.name === 'distinct' && arg.args[0]?.kind === 'ref') {
      const field = arg.args[0].name;
      return (buckets?.get(field) ?? starts.map(() => [])).map((pts) => (pts.length > 0 ? ((anyPoint = true), distinctOf(pts).length) : null));
    }
    if (arg?.kind !== 'ref') throw new Unsupported(`${c.name}() takes a field`);
    if (sqlOnly) {
      const key = `${c.name}(${arg.name})`;
      let col = sqlCache.get(key);
      if (!col) {
        const bs = ctx.sql?.(key);
        const byStart = new Map((bs ?? []).map((b) => [b.ts, b.value]));
        col = starts.map((s) => byStart.get(s) ?? null);
        if (col.some((v) => v !== null)) anyPoint = true;
        sqlCache.set(key, col);
      }
      return col;
    }
    const params = c.args.slice(1).map(argNumber).filter((n): n is number => n !== undefined);
    const per = buckets?.get(arg.name) ?? starts.map(() => []);
    if (c.name === 'integral' && step) {
      if (per.some((b) => b.length > 0)) anyPoint = true;
      return integralBuckets(per, starts, step, params[0] ?? 1000);
    }
    return per.map((pts, i) => {
      if (pts.length > 0) anyPoint = true;
      const start = starts[i] as number;
      const r = reduce(c.name, pts, params, { start, end: step ? start + step : plan.to });
      if (r && lone && r.t !== undefined) selectedTime = r.t;
      return r ? r.v : null;
    });
  };

  const evalCol = async (e: Expr): Promise<Column> => {
    switch (e.kind) {
      case 'num':
        return starts.map(() => e.value);
      case 'binary': {
        const [l, r] = [await evalCol(e.left), await evalCol(e.right)];
        return l.map((a, i) => (a === null || r[i] === null || r[i] === undefined ? null : arith(e.op, a, r[i] as number)));
      }
      case 'call': {
        if (isAggregate(e)) return leaf(e);
        if (TRANSFORM_FUNCTIONS.has(e.name)) {
          const inner = fillColumn(await evalCol(e.args[0] ?? { kind: 'num', value: 0 }), st.fill);
          const pts = inner.flatMap((v, i) => (v === null ? [] : [{ t: starts[i] as number, v }]));
          // Over GROUP BY time(), derivative()'s unit defaults to the interval (InfluxQL reference, DERIVATIVE()).
          const arg = argNumber(e.args[1]) ?? (e.name.includes('derivative') ? step : undefined);
          const byT = new Map(transformPoints(e.name, pts, arg).map((p) => [p.t, p.v]));
          return starts.map((s) => byT.get(s) ?? null);
        }
        const math = MATH_FUNCTIONS[e.name];
        if (math) return (await evalCol(e.args[0] ?? { kind: 'num', value: 0 })).map((v) => (v === null ? null : math(v, argNumber(e.args[1]))));
        throw new Unsupported(`function ${e.name}() is not supported`);
      }
      case 'ref':
        throw new Unsupported(`mixing aggregate and non-aggregate queries is not supported`);
      default:
        throw new Unsupported('unsupported expression in SELECT');
    }
  };

  const only = fields.length === 1 ? (fields[0] as Field).expr : undefined;
  if (only?.kind === 'call' && only.name === 'distinct') {
    // SELECT distinct(f): a row per distinct value of each bucket, at the bucket's time (the range's start without GROUP BY time()).
    const f = only.args[0];
    if (f?.kind !== 'ref') throw new Unsupported('distinct() takes a field');
    const per = buckets?.get(f.name) ?? [];
    const skipped = step ? Math.round((ctx.bucketOf(plan.from) - first) / step) : 0;
    const rows = per.slice(skipped).flatMap((pts, i) => distinctOf(pts).map((v) => [step ? (starts[i + skipped] as number) : (plan.lower ?? 0), v]));
    return rows.length > 0 ? rows : undefined;
  }
  if (only?.kind === 'call' && (only.name === 'top' || only.name === 'bottom')) {
    // top(f, N) / bottom(f, N): the N largest (smallest) points of each bucket, earlier first on a tie, answered in time order at their own times.
    const [f, n] = [only.args[0], argNumber(only.args[1])];
    if (f?.kind !== 'ref' || n === undefined || !Number.isInteger(n) || n < 1 || only.args.length !== 2) throw new Unsupported(`${only.name}() takes a field and a count`);
    const sign = only.name === 'top' ? -1 : 1;
    const skipped = step ? Math.round((ctx.bucketOf(plan.from) - first) / step) : 0;
    const rows = (buckets?.get(f.name) ?? []).slice(skipped).flatMap((pts) =>
      [...pts].sort((a, b) => sign * (a.v - b.v) || a.t - b.t).slice(0, n).sort((a, b) => a.t - b.t).map((p) => [p.t, p.v]),
    );
    return rows.length > 0 ? rows : undefined;
  }
  const cols: Column[] = [];
  for (const f of fields) cols.push(await evalCol(f.expr));
  if (!anyPoint) return undefined;
  // A turn of the event loop between the passes over a group's buckets (limits.ts).
  await opts.budget?.work(count * fields.length);
  const transformed = allCalls.some((c) => TRANSFORM_FUNCTIONS.has(c.name));
  // The buckets read only for a transformation's look-behind are not answered.
  const skip = step ? Math.round((ctx.bucketOf(plan.from) - first) / step) : 0;
  let rows: unknown[][] = [];
  for (let i = skip; i < count; i++) rows.push([lone && selectedTime !== undefined ? selectedTime : (starts[i] as number), ...cols.map((c) => c[i] ?? null)]);
  await opts.budget?.work(count * fields.length);
  if (!step) {
    // One bucket over the range: its time is the lower bound (0 without one), and nothing when no column has a value.
    rows = rows.filter((r) => r.slice(1).some((v) => v !== null));
    // integral() alone answers the epoch (influxd 1.6), as if its range had no start.
    const integralOnly = allCalls.filter(isAggregate).every((c) => c.name === 'integral');
    if (!lone) for (const r of rows) r[0] = integralOnly ? 0 : (plan.lower ?? 0);
    return rows.length > 0 ? rows : undefined;
  }
  // A transformation emits only where it has a value; fill() applies to the aggregates under it.
  if (transformed) return rows.filter((r) => r.slice(1).some((v) => v !== null));
  return fillRows(rows, st.fill);
}
