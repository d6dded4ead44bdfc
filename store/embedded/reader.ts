/**
 * The embedded store's read path: ranges in buckets from the tier their step allows (rollup rows below
 * the tier's watermark, raw points above it), raw points for InfluxQL, and the in-memory latest values
 * and series. Queries take turns on the reader connection. Figures are in store/embedded/store.ts.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { emptyBuckets, planBuckets, planSpan, type BucketPlan } from '../range.ts';
import type { SeriesBook } from '../series.ts';
import { chooseTier, COMBINE_SQL, RAW_AS_PARTIAL, ROLLUPS, ROW_VALUE_SQL } from '../tiers.ts';
import type { GroupRangeQuery, LatestValue, PointColumns, PointsQuery, RangeBucket, RangeQuery, SeriesInfo, SeriesSelector } from '../types.ts';
import { closedError, type Lifecycle, type Options, type Watermarks } from './options.ts';

/** Answers the store's queries on the reader connection, one after another. */
export class PointReader {
  /** Queries take turns on the reader connection, so none of them parks a libuv thread waiting for another. */
  private reads: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly reader: DuckDBConnection,
    private readonly book: SeriesBook,
    private readonly watermarks: Watermarks,
    private readonly life: Lifecycle,
    private readonly options: Pick<Options, 'clock' | 'tiers'>,
  ) {}

  /** Settles once the queries started so far are done (close() waits for it). */
  idle(): Promise<unknown> {
    return this.reads;
  }

  latest(selector?: { device?: string; metric?: string }): LatestValue[] {
    return this.book.latest(selector);
  }

  async range(q: RangeQuery): Promise<RangeBucket[]> {
    if (this.life.closing) throw closedError();
    const plan = planBuckets(q);
    const [buckets] = await this.queryGroups([[q]], plan, q.agg);
    return buckets ?? emptyBuckets(plan);
  }

  async rangeGroups(q: GroupRangeQuery): Promise<RangeBucket[][]> {
    if (this.life.closing) throw closedError();
    return this.queryGroups(q.groups, planSpan(q), q.agg, q.signal);
  }

  series(selector?: SeriesSelector): SeriesInfo[] {
    return this.book.list(selector);
  }

  async points(q: PointsQuery): Promise<PointColumns[]> {
    if (this.life.closing) throw closedError();
    const index = new Map<number, number>();
    q.series.forEach((k, i) => {
      const s = this.book.find(k.device, k.metric);
      if (s) index.set(s.id, i);
    });
    const out = q.series.map(() => ({ ts: [] as number[], value: [] as number[] }));
    if (index.size > 0 && q.to >= q.from) {
      const sql = `SELECT series, ts, value FROM points WHERE series IN (${[...index.keys()].join(', ')}) AND ts BETWEEN $from AND $to ORDER BY series, ts`;
      const params = { from: BigInt(Math.ceil(q.from)), to: BigInt(Math.floor(q.to)) };
      const query = async (): Promise<void> => {
        const result = await this.reader.run(sql, params);
        for (let c = 0; c < result.chunkCount; c++) {
          const chunk = result.getChunk(c);
          const [sv, tv, vv] = [chunk.getColumnVector(0), chunk.getColumnVector(1), chunk.getColumnVector(2)];
          const rows = chunk.rowCount;
          for (let i = 0; i < rows; i++) {
            const o = out[index.get(sv.getItem(i) as number) as number] as { ts: number[]; value: number[] };
            o.ts.push(Number(tv.getItem(i) as bigint));
            o.value.push(vv.getItem(i) as number);
          }
        }
      };
      const run = this.reads.then(query);
      this.reads = run.catch(() => undefined);
      await run;
    }
    return out.map((o) => ({ ts: Float64Array.from(o.ts), value: Float64Array.from(o.value) }));
  }

  /** One SQL query for every group: the tier chosen by range and step, rollup rows below its watermark, raw points above. */
  private queryGroups(groups: GroupRangeQuery['groups'], plan: BucketPlan, agg: GroupRangeQuery['agg'], signal?: AbortSignal): Promise<RangeBucket[][]> {
    const pairs: string[] = [];
    const idList: number[] = [];
    groups.forEach((g, gi) => {
      for (const k of g) {
        const s = this.book.find(k.device, k.metric);
        if (s) {
          pairs.push(`(${s.id}, ${gi})`);
          idList.push(s.id);
        }
      }
    });
    if (pairs.length === 0 || plan.count === 0) return Promise.resolve(groups.map(() => emptyBuckets(plan)));
    // A short literal list lets DuckDB skip row groups early; for many series the join alone filters (measured faster).
    const ids = idList.length <= 64 ? `series IN (${idList.join(', ')})` : 'TRUE';
    // A rollup row fits one bucket only when its resolution divides the step and the buckets' offset (GROUP BY time(2m, 30s)).
    const tier = chooseTier(plan.from, gcd(plan.step, plan.start), this.options.clock.now(), this.options.tiers);
    const rollup = ROLLUPS.find((r) => r.name === tier);
    const wm = rollup ? (this.watermarks.get(rollup.name) ?? 0) : 0;
    // A rollup row is a whole period: only the periods wholly inside [from, to] are read from it; the partial
    // periods at the edges come from the raw points (InfluxDB counts exactly the points inside the bounds).
    const res = rollup?.resolutionMs ?? 1;
    const rfrom = Math.ceil(plan.from / res) * res;
    const rto = Math.floor((plan.to + 1) / res) * res;
    // Past raw retention the edge points are gone: the edge periods then come whole from the rollup, the nearest there is.
    const rawKept = plan.from >= this.options.clock.now() - this.options.tiers.rawRetentionMs;
    const edges = rollup && rawKept ? ' OR ts < $rfrom OR ts >= $rto' : '';
    const raw = `${RAW_AS_PARTIAL} WHERE ${ids} AND ts BETWEEN $from AND $to AND (ts >= $wm${edges})`;
    const bucketOf = 'CAST((src.ts - $start) // $step AS INTEGER)';
    const grouped = (from: string): string => `SELECT g.grp, ${bucketOf} AS bucket, ${COMBINE_SQL[agg]} AS value FROM (${from}) src JOIN g ON src.series = g.sid GROUP BY ALL`;
    const rollupRows = rollup && `SELECT * FROM ${rollup.table} WHERE ${ids} AND ts >= $rfrom AND ts < $rto AND ts < $wm`;
    // A step of the tier's own resolution with one series per group: each rollup row is a whole bucket
    // already, so it needs no grouping (a day of 1,000 series: 288 k rows through no hash table).
    const oneRowPerBucket = rollup !== undefined && plan.step === rollup.resolutionMs && groups.every((g) => g.length <= 1);
    const body = !rollupRows
      ? grouped(raw)
      : oneRowPerBucket
        ? `SELECT g.grp, ${bucketOf} AS bucket, ${ROW_VALUE_SQL[agg]} AS value FROM (${rollupRows}) src JOIN g ON src.series = g.sid UNION ALL ${grouped(raw)}`
        : grouped(`${rollupRows} UNION ALL ${raw}`);
    const sql = `WITH g(sid, grp) AS (VALUES ${pairs.join(', ')}) ${body}`;
    const params: Record<string, bigint> = { start: BigInt(plan.start), step: BigInt(plan.step), from: BigInt(plan.from), to: BigInt(plan.to), wm: BigInt(wm) };
    // DuckDB refuses a parameter the statement does not use.
    if (rollup) {
      params.rfrom = BigInt(rawKept ? rfrom : Math.floor(plan.from / res) * res);
      params.rto = BigInt(rawKept ? rto : plan.to + 1);
    }
    const query = async (): Promise<RangeBucket[][]> => {
      // An asker that gave up (a /query past its deadline) is not started, or is interrupted on DuckDB's thread.
      signal?.throwIfAborted();
      const stop = (): void => this.reader.interrupt();
      signal?.addEventListener('abort', stop, { once: true });
      const result = await this.reader.run(sql, params).finally(() => signal?.removeEventListener('abort', stop));
      // Straight from DuckDB's vectors into one typed array, then each bucket made once with its value:
      // converting 288 k rows to JS columns, or filling made-up buckets in place, cost 50-100 ms each.
      const { count } = plan;
      const values = new Float64Array(groups.length * count);
      const held = new Uint8Array(groups.length * count);
      for (let c = 0; c < result.chunkCount; c++) {
        const chunk = result.getChunk(c);
        const grp = chunk.getColumnVector(0);
        const bucket = chunk.getColumnVector(1);
        const value = chunk.getColumnVector(2);
        // rowCount is a call into DuckDB: once per chunk, not once per row (it was half the fill's time).
        const rows = chunk.rowCount;
        for (let i = 0; i < rows; i++) {
          const b = bucket.getItem(i) as number;
          const v = value.getItem(i) as number | null;
          // A row outside the plan's buckets (a rollup period ending past `to`) has no bucket to go in.
          if (b < 0 || b >= count || v === null) continue;
          const at = (grp.getItem(i) as number) * count + b;
          values[at] = v;
          held[at] = 1;
        }
      }
      return groups.map((_, g) => {
        const buckets: RangeBucket[] = new Array(count);
        for (let i = 0, at = g * count; i < count; i++, at++) buckets[i] = { ts: plan.start + i * plan.step, value: held[at] ? (values[at] as number) : null };
        return buckets;
      });
    };
    const run = this.reads.then(query);
    this.reads = run.catch(() => undefined);
    return run;
  }
}

function gcd(a: number, b: number): number {
  let [x, y] = [Math.abs(a), Math.abs(b)];
  while (y > 0) [x, y] = [y, x % y];
  return x;
}
