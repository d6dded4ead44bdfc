/*
 * The embedded time-series store, on DuckDB (`@duckdb/node-api`).
 *
 * Chosen by measurement (`node bin/run-ts.js bench/store.ts`, this 2-core machine, Node 20): one day of
 * 10 s data for 1000 series (8.64M rows of series INTEGER, ts BIGINT, value DOUBLE), written in
 * transactions of 20,000 rows, then one series' day in 5-minute buckets:
 *
 *                          insert rows/s            range query (median)   disk     max RSS
 *   DuckDB appender        2.0M first 1M, 1.8M day  mean 61 ms, last 65 ms  76 MB    247 MB
 *   better-sqlite3 12      269k first 1M, 183k day  mean 37 ms, last 41 ms  405 MB   140 MB
 *     (prepared INSERT, WAL, synchronous=NORMAL, index on (series, ts), which it needs for the query)
 *
 * DuckDB, because ingest is the hard requirement: 100k values/s on two cores next to the MQTT broker.
 * better-sqlite3 is synchronous, so at 183k rows/s the inserts alone would hold the event loop more
 * than half the time, and every query would block it too. DuckDB's appender takes ~10x the rows, its
 * commits, checkpoints and queries run on its own threads, and its columns compress 5x smaller.
 * SQLite's index answers one series faster (37 vs 61 ms a day), but both are well inside what a chart
 * needs. If long ranges get slow, sorting settled hours by (series, ts) takes the same DuckDB query to
 * ~9 ms a day (measured), without changing the interface.
 *
 * The store itself (same bench, "store" part): write() ~100-230 ns a point; a flush of 20,000 rows
 * takes ~8-10 ms wall but holds the event loop at most ~1.5 ms at a time (slices of 8192 rows, the
 * commit off-thread); at 100k values/s sustained the loop delay p99 is 2-4 ms. Reopening rebuilds the
 * latest values by a scan of the points, ~16 ms per million rows.
 *
 * Retention and downsampling (store/tiers.ts): raw points for days, 1-minute, 5-minute and 1-hour rollups for
 * months and years, folded by a maintenance pass once a minute on the writer connection; a range
 * reads the coarsest tier its step allows. Measured (`node bin/run-ts.js bench/store.ts --part tiers`,
 * 1000 series x a day at 10 s, shared 2-core machine, two runs): through write()+flush 430-630k points/s;
 * rolling the day up 1.4-5.7 s; one series' day at 1-min step 62-125 ms from raw points, 14-31 ms from the
 * minute tier; 1000 series' day at 5-min step 700-740 ms from the minute tier, 285-300 ms from the 5-minute
 * tier, 144 ms median (p90 166) once its rollup rows skip the GROUP BY and are read from DuckDB's vectors
 * (DuckDB 80-117 ms, reading its vectors 12-15, making the 288 k buckets 13-33);
 * 8.8 bytes per raw point on disk, 13.7 with the minute and hour tiers, 14.7 with all three
 * (VictoriaMetrics: 4.8 on the same data).
 */
import { mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BIGINT, DOUBLE, DuckDBDataChunk, DuckDBInstance, INTEGER, type DuckDBConnection } from '@duckdb/node-api';
import { createLogger, systemClock, WatchfloorError, type Clock, type Logger, type Point } from '../core/index.ts';
import { PendingPoints } from './queue.ts';
import { emptyBuckets, planBuckets, planSpan, type BucketPlan } from './range.ts';
import { SeriesBook, type Series } from './series.ts';
import { chooseTier, COMBINE_SQL, ROW_VALUE_SQL, cutoffs, defaultTiers, RAW_AS_PARTIAL, ROLLUPS, rollupSql, TIER_SCHEMA, TIER_TABLE, TIERS, type TierName, type TierOptions } from './tiers.ts';
import type {
  CommitLog,
  GroupRangeQuery,
  LatestValue,
  PointColumns,
  PointsQuery,
  RangeBucket,
  RangeQuery,
  SeriesLimitEvent,
  SeriesInfo,
  SeriesSelector,
  StoreStats,
  TimeSeriesStore,
} from './types.ts';

/** The database file inside the data directory. */
export const DATABASE_FILE = 'timeseries.duckdb';

/** Defaults stated once. */
const defaults = {
  flushIntervalMs: 200,
  /** A minute at 100k values/s (~150 MB of queue), hours at the sample data center's rate: a disk broken longer costs points, never the process. */
  maxPendingPoints: 6_000_000,
  /** A failing disk is retried with backoff up to this interval. */
  maxRetryMs: 10_000,
  /** Rollups and retention run this often. */
  maintenanceIntervalMs: 60_000,
  /** The cardinality limit: series beyond it are refused and counted (a sensor fleet of 10k devices x 10 metrics fits). */
  maxSeries: 100_000,
  /** A timestamp this far ahead of the clock is a broken device clock, not data. */
  maxFutureMs: 3_600_000,
};

/** DuckDB's vector size: a data chunk holds at most 2048 rows. */
const CHUNK_ROWS = 2048;
/**
 * Rows appended between two yields to the event loop: one slice holds the loop ~1-1.5 ms (see the
 * figures above), so the broker keeps answering while a large batch is written.
 */
const SLICE_ROWS = 4 * CHUNK_ROWS;

/** Epoch ms of the JavaScript Date range; beyond it a timestamp is a bug, not a time. */
const MAX_TS = 8.64e15;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    device VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    tags VARCHAR NOT NULL            -- JSON object
  );
  CREATE TABLE IF NOT EXISTS points (
    series INTEGER NOT NULL,
    ts BIGINT NOT NULL,              -- epoch ms
    value DOUBLE NOT NULL
  );
  -- The ingest write-ahead log's newest record committed with the points (store/wal.ts), set in the same transaction.
  CREATE TABLE IF NOT EXISTS log_marks (
    log VARCHAR PRIMARY KEY,
    seq BIGINT NOT NULL
  );`;

export interface EmbeddedStoreOptions {
  /** The data directory (WATCHFLOOR_DATA_DIR); created if missing. */
  dir: string;
  flushIntervalMs?: number;
  logger?: Logger;
  maxPendingPoints?: number;
  /** "now" for retention, rollups and the timestamp checks; default the system clock. */
  clock?: Clock;
  tiers?: Partial<TierOptions>;
  maxSeries?: number;
  maxFutureMs?: number;
  /** 0 turns the periodic maintenance off (tests call maintain()). */
  maintenanceIntervalMs?: number;
  /** Told when a point is refused for the series limit, at most once a minute per device (after the write returns). */
  onSeriesLimit?: (e: SeriesLimitEvent) => void;
}

/** What one maintenance pass did. */
export interface MaintenanceReport {
  /** Rollup rows written per tier. */
  rolledUp: Record<string, number>;
  /** Rows deleted by retention per tier. */
  deleted: Record<TierName, number>;
}

/** The embedded store: the store interface plus its maintenance pass (rollups, retention). */
export interface EmbeddedTimeSeriesStore extends TimeSeriesStore {
  /** Folds settled raw points into the rollup tiers and deletes what is past retention. */
  maintain(): Promise<MaintenanceReport>;
  attachLog(log: CommitLog): Promise<number>;
  replay(seq: number, points: readonly Point[]): void;
}

type Options = Required<Omit<EmbeddedStoreOptions, 'dir' | 'logger' | 'tiers' | 'onSeriesLimit'>> & { tiers: TierOptions; onSeriesLimit?: (e: SeriesLimitEvent) => void };

/** A cardinality explosion goes on while new series keep coming; one report a minute per device keeps its alert firing without a flood. */
const SERIES_LIMIT_REPORT_MS = 60_000;

/** Files open in this process: two DuckDB instances on one file would corrupt it (another process is stopped by DuckDB's file lock). */
const openFiles = new Set<string>();

/** Opens (or creates) the store under `dir` and rebuilds the latest value of every series from disk. */
export async function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedTimeSeriesStore> {
  const log = (options.logger ?? createLogger()).child({ component: 'store' });
  const file = resolve(options.dir, DATABASE_FILE);
  if (openFiles.has(file)) throw new WatchfloorError('WF_ERR_STORE_OPEN', `the time-series store ${file} is already open in this process`);
  openFiles.add(file);
  let instance: DuckDBInstance | undefined;
  try {
    mkdirSync(options.dir, { recursive: true });
    instance = await DuckDBInstance.create(file);
    const writer = await instance.connect();
    const reader = await instance.connect();
    await writer.run(SCHEMA);
    await writer.run(TIER_SCHEMA);
    const maxSeries = options.maxSeries ?? defaults.maxSeries;
    const book = await loadSeries(reader, maxSeries);
    const watermarks = new Map<string, number>();
    for (const [tier, wm] of (await reader.runAndReadAll('SELECT tier, watermark FROM tier_watermarks')).getRows()) {
      watermarks.set(tier as string, Number(wm));
    }
    log.info({ file, series: book.size }, 'time-series store open');
    return new EmbeddedStore(file, instance, writer, reader, book, watermarks, log, {
      flushIntervalMs: options.flushIntervalMs ?? defaults.flushIntervalMs,
      maxPendingPoints: options.maxPendingPoints ?? defaults.maxPendingPoints,
      clock: options.clock ?? systemClock,
      tiers: { ...defaultTiers, ...options.tiers },
      maxSeries,
      maxFutureMs: options.maxFutureMs ?? defaults.maxFutureMs,
      maintenanceIntervalMs: options.maintenanceIntervalMs ?? defaults.maintenanceIntervalMs,
      onSeriesLimit: options.onSeriesLimit,
    });
  } catch (err) {
    instance?.closeSync();
    openFiles.delete(file);
    throw new WatchfloorError('WF_ERR_STORE_OPEN', `cannot open the time-series store ${file}: ${(err as Error).message}`);
  }
}

/** Every series with its tags and the value at its newest timestamp. */
async function loadSeries(db: DuckDBConnection, maxSeries: number): Promise<SeriesBook> {
  const book = new SeriesBook(maxSeries);
  const reader = await db.runAndReadAll(`
    SELECT s.id, s.device, s.metric, s.tags, l.ts, l.value
    FROM series s
    LEFT JOIN (SELECT series, max(ts) AS ts, arg_max(value, ts) AS value FROM points GROUP BY series) l ON l.series = s.id`);
  for (const [id, device, metric, tags, ts, value] of reader.getRows()) {
    const latest = ts === null ? undefined : { ts: Number(ts), value: value as number };
    book.restore(id as number, device as string, metric as string, JSON.parse(tags as string) as Record<string, string>, latest);
  }
  return book;
}

class EmbeddedStore implements EmbeddedTimeSeriesStore {
  private readonly queue = new PendingPoints();
  private readonly chunk = DuckDBDataChunk.create([INTEGER, BIGINT, DOUBLE]);
  private inFlight = 0;
  private written = 0;
  private dropped = 0;
  private readonly refused = new Map<string, number>();
  /** Per device: when its last series-limit refusal was reported. */
  private readonly limitReported = new Map<string, number>();
  private maintenanceTimer: NodeJS.Timeout | undefined;
  /** Batches are written one after another on the writer connection; each flush() waits its turn. */
  private flushes: Promise<void> = Promise.resolve();
  /** Queries take turns on the reader connection, so none of them parks a libuv thread waiting for another. */
  private reads: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closing: Promise<void> | undefined;
  private warnedFull = false;
  /** Set once the database is closed: nothing may touch the native handles after that. */
  private closed = false;
  /** The write-ahead log whose records each commit covers (store/wal.ts), and the newest record committed. */
  private commitLog: CommitLog | undefined;
  private logMark = 0;

  constructor(
    private readonly file: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    private readonly book: SeriesBook,
    /** Per rollup tier: everything before this time is in the rollup table. */
    private readonly watermarks: Map<string, number>,
    private readonly log: Logger,
    private readonly options: Options,
  ) {
    this.schedule(options.flushIntervalMs);
    if (options.maintenanceIntervalMs > 0) this.scheduleMaintenance();
  }

  write(points: readonly Point[]): void {
    if (this.closing) {
      this.refuse('closed', points.length);
      return;
    }
    const now = this.options.clock.now();
    // Older than the longest tier keeps: it would be deleted at once. Ahead of the clock: a broken device clock.
    const oldest = now - this.options.tiers.hourRetentionMs;
    const newest = now + this.options.maxFutureMs;
    for (const p of points) {
      if (!isStorable(p)) {
        this.refuse('invalid');
        continue;
      }
      if (p.ts < oldest || p.ts > newest) {
        this.refuse(p.ts < oldest ? 'too_old' : 'future');
        continue;
      }
      if (this.queue.length >= this.options.maxPendingPoints) {
        this.refuseFull();
        continue;
      }
      const ts = Math.trunc(p.ts);
      const s = this.book.record(p.device, p.metric, ts, p.value, p.tags);
      if (typeof s === 'string') {
        this.refuseSeries(s, p);
        continue;
      }
      this.queue.push(s.id, ts, p.value);
    }
  }

  async attachLog(log: CommitLog): Promise<number> {
    // In turn with the batches, on the writer connection: the mark read is the one the last commit wrote.
    const read = this.flushes.then(() => this.writer.runAndReadAll(`SELECT seq FROM log_marks WHERE log = 'ingest'`));
    this.flushes = read.then(
      () => undefined,
      () => undefined,
    );
    const row = (await read).getRows()[0];
    this.logMark = row ? Number(row[0]) : 0;
    this.commitLog = log;
    return this.logMark;
  }

  replay(seq: number, points: readonly Point[]): void {
    if (seq > this.logMark) this.write(points);
  }

  flush(): Promise<void> {
    const batch = this.flushes.then(() => this.writeBatch());
    this.flushes = batch.catch(() => undefined);
    return batch;
  }

  latest(selector?: { device?: string; metric?: string }): LatestValue[] {
    return this.book.latest(selector);
  }

  async range(q: RangeQuery): Promise<RangeBucket[]> {
    if (this.closing) throw closedError();
    const plan = planBuckets(q);
    const [buckets] = await this.queryGroups([[q]], plan, q.agg);
    return buckets ?? emptyBuckets(plan);
  }

  async rangeGroups(q: GroupRangeQuery): Promise<RangeBucket[][]> {
    if (this.closing) throw closedError();
    return this.queryGroups(q.groups, planSpan(q), q.agg, q.signal);
  }

  series(selector?: SeriesSelector): SeriesInfo[] {
    return this.book.list(selector);
  }

  async points(q: PointsQuery): Promise<PointColumns[]> {
    if (this.closing) throw closedError();
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

  stats(): StoreStats {
    return {
      written: this.written,
      pending: this.queue.length + this.inFlight,
      series: this.book.size,
      dropped: this.dropped,
      refused: Object.fromEntries(this.refused),
      diskBytes: this.closed ? 0 : fileBytes(this.file) + fileBytes(`${this.file}.wal`),
    };
  }

  maintain(): Promise<MaintenanceReport> {
    if (this.closing) return Promise.reject(closedError());
    const pass = this.flushes.then(() => this.runMaintenance());
    this.flushes = pass.then(
      () => undefined,
      () => undefined,
    );
    return pass;
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

  private async runMaintenance(): Promise<MaintenanceReport> {
    if (this.closed) throw closedError();
    const now = this.options.clock.now();
    const report: MaintenanceReport = { rolledUp: {}, deleted: { raw: 0, minute: 0, fiveMinutes: 0, hour: 0 } };
    await this.backfillNewTiers(report);
    for (const r of ROLLUPS) {
      const from = this.watermarks.get(r.name) ?? 0;
      const to = Math.floor((now - this.options.tiers.settleMs) / r.resolutionMs) * r.resolutionMs;
      if (to <= from) continue;
      await this.writer.run('BEGIN TRANSACTION');
      try {
        const res = await this.writer.run(rollupSql(r), { from: BigInt(from), to: BigInt(to) });
        await this.writer.run('INSERT OR REPLACE INTO tier_watermarks VALUES ($tier, $wm)', { tier: r.name, wm: BigInt(to) });
        await this.writer.run('COMMIT');
        report.rolledUp[r.name] = Number(res.rowsChanged);
        this.watermarks.set(r.name, to);
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw new WatchfloorError('WF_ERR_STORE_WRITE', `rolling up ${r.name}: ${(err as Error).message}`);
      }
    }
    const cut = cutoffs(now, this.options.tiers, this.watermarks);
    for (const tier of TIERS) {
      const res = await this.writer.run(`DELETE FROM ${TIER_TABLE[tier]} WHERE ts < $cut`, { cut: BigInt(Math.max(0, cut[tier])) });
      report.deleted[tier] = Number(res.rowsChanged);
    }
    return report;
  }

  /**
   * A rollup tier added after the store was made (the 5-minute one, in a store from before it) is
   * filled once from the next finer rollup, up to that one's watermark: the raw points it would be
   * built from may be long expired, and its history must reach as far back as the finer tier's.
   */
  private async backfillNewTiers(report: MaintenanceReport): Promise<void> {
    for (const [i, r] of ROLLUPS.entries()) {
      const finer = i > 0 ? ROLLUPS[i - 1] : undefined;
      const finerWm = finer ? this.watermarks.get(finer.name) : undefined;
      if (!finer || finerWm === undefined || this.watermarks.has(r.name)) continue;
      const to = Math.floor(finerWm / r.resolutionMs) * r.resolutionMs;
      await this.writer.run('BEGIN TRANSACTION');
      try {
        const res = await this.writer.run(
          `INSERT INTO ${r.table}
            SELECT series, ts // ${r.resolutionMs} * ${r.resolutionMs} AS t, sum(n), sum(s), min(lo), max(hi), max(lt), arg_max(lv, lt)
            FROM ${finer.table} WHERE ts < $to GROUP BY series, t ORDER BY t, series`,
          { to: BigInt(to) },
        );
        await this.writer.run('INSERT OR REPLACE INTO tier_watermarks VALUES ($tier, $wm)', { tier: r.name, wm: BigInt(to) });
        await this.writer.run('COMMIT');
        report.rolledUp[r.name] = Number(res.rowsChanged);
        this.watermarks.set(r.name, to);
        this.log.info({ tier: r.name, from: finer.name, rows: Number(res.rowsChanged) }, 'store: a new rollup tier filled from the finer one');
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw new WatchfloorError('WF_ERR_STORE_WRITE', `filling ${r.name} from ${finer.name}: ${(err as Error).message}`);
      }
    }
  }

  private scheduleMaintenance(): void {
    this.maintenanceTimer = setTimeout(() => {
      this.maintain()
        .then(
          (r) => this.log.debug({ ...r }, 'store maintenance done'),
          (err: unknown) => this.log.error({ err }, 'store maintenance failed; retried at the next interval'),
        )
        .finally(() => {
          if (!this.closing) this.scheduleMaintenance();
        })
        .catch(() => undefined);
    }, this.options.maintenanceIntervalMs);
    this.maintenanceTimer.unref();
  }

  private refuse(reason: string, n = 1): void {
    this.dropped += n;
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + n);
  }

  /** A point the series book refused: counted, and logged once per reason so an explosion does not flood the log. */
  private refuseSeries(reason: 'tags' | 'cardinality', p: Point): void {
    if (!this.refused.has(reason)) {
      this.log.error(
        { reason, device: p.device, metric: p.metric, series: this.book.size, maxSeries: this.options.maxSeries },
        reason === 'cardinality' ? 'series limit reached: points of new series are refused' : 'tags over the limits: point refused',
      );
    }
    this.refuse(reason);
    if (reason === 'cardinality') this.reportSeriesLimit(p);
  }

  private reportSeriesLimit(p: Point): void {
    const report = this.options.onSeriesLimit;
    if (!report) return;
    const now = this.options.clock.now();
    const last = this.limitReported.get(p.device);
    if (last !== undefined && now - last < SERIES_LIMIT_REPORT_MS) return;
    if (this.limitReported.size >= 10_000) this.limitReported.clear();
    this.limitReported.set(p.device, now);
    const e: SeriesLimitEvent = { ts: now, device: p.device, metric: p.metric, series: this.book.size, maxSeries: this.options.maxSeries, refused: this.refused.get('cardinality') ?? 0 };
    // After write() returns: the listener raises alerts, which must not run inside the ingest's write.
    queueMicrotask(() => {
      try {
        report(e);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'the series-limit listener failed');
      }
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.timer);
    clearTimeout(this.maintenanceTimer);
    let lost: unknown;
    try {
      await this.flush();
    } catch (err) {
      lost = err;
      this.log.error({ err, points: this.stats().pending }, 'points not written at close: they are lost');
    }
    await this.reads;
    // A checkpoint folds the write-ahead log into the file, so the next open need not replay it.
    await this.writer.run('CHECKPOINT').catch((err: unknown) => this.log.warn({ err }, 'checkpoint at close failed'));
    this.closed = true;
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
    openFiles.delete(this.file);
    this.log.info({ written: this.written }, 'time-series store closed');
    if (lost) throw lost;
  }

  /** Writes what is queued in one transaction: the series rows that changed, then the points. */
  private async writeBatch(): Promise<void> {
    // Read with the take: every log record up to here has its points in this batch or an earlier one.
    const mark = this.commitLog?.head();
    const batch = this.queue.take();
    const series = this.book.takeUnsaved();
    // Records whose points were all refused still move the mark, or the log would grow without end.
    if (batch.length === 0 && series.length === 0 && !(mark !== undefined && mark > this.logMark)) return;
    if (this.closed) {
      this.queue.giveBack(batch);
      this.book.giveBackUnsaved(series);
      throw closedError();
    }
    this.inFlight = batch.length;
    try {
      await this.writer.run('BEGIN TRANSACTION');
      try {
        await this.saveSeries(series);
        await this.appendPoints(batch);
        if (mark !== undefined && mark > this.logMark) await this.writer.run(`INSERT OR REPLACE INTO log_marks VALUES ('ingest', $seq)`, { seq: BigInt(mark) });
        // The commit writes the log and, now and then, a checkpoint: both on DuckDB's thread, off the event loop.
        await this.writer.run('COMMIT');
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      this.written += batch.length;
      this.warnedFull = false;
      if (mark !== undefined && mark > this.logMark) {
        this.logMark = mark;
        try {
          this.commitLog?.committed(mark);
        } catch (err) {
          this.log.error({ err: (err as Error).message }, 'the write-ahead log failed to take a commit');
        }
      }
    } catch (err) {
      this.queue.giveBack(batch);
      this.book.giveBackUnsaved(series);
      throw new WatchfloorError('WF_ERR_STORE_WRITE', `writing ${batch.length} points failed: ${(err as Error).message}`);
    } finally {
      this.inFlight = 0;
    }
  }

  private async saveSeries(list: readonly Series[]): Promise<void> {
    // Rows of 4 parameters; 250 rows a statement keeps each statement small.
    for (let i = 0; i < list.length; i += 250) {
      const rows = list.slice(i, i + 250);
      const values = rows.map((_, r) => `($${4 * r + 1}, $${4 * r + 2}, $${4 * r + 3}, $${4 * r + 4})`).join(', ');
      const params = rows.flatMap((s) => [s.id, s.device, s.metric, JSON.stringify(s.tags)]);
      await this.writer.run(`INSERT OR REPLACE INTO series VALUES ${values}`, params);
    }
  }

  /** Copies the batch's columns into DuckDB data chunks, yielding to the event loop between slices. */
  private async appendPoints(batch: PendingPoints): Promise<void> {
    if (batch.length === 0) return;
    const appender = await this.writer.createAppender('points');
    try {
      for (let start = 0; start < batch.length; start += CHUNK_ROWS) {
        const rows = Math.min(CHUNK_ROWS, batch.length - start);
        if (this.chunk.rowCount !== rows) this.chunk.rowCount = rows;
        const ids = this.chunk.getColumnVector(0);
        const ts = this.chunk.getColumnVector(1);
        const value = this.chunk.getColumnVector(2);
        for (let i = 0; i < rows; i++) {
          ids.setItem(i, batch.series[start + i] as number);
          ts.setItem(i, BigInt(batch.ts[start + i] as number));
          value.setItem(i, batch.value[start + i] as number);
        }
        ids.flush();
        ts.flush();
        value.flush();
        appender.appendDataChunk(this.chunk);
        if ((start + rows) % SLICE_ROWS === 0) {
          appender.flushSync();
          await nextTurn();
        }
      }
      appender.flushSync();
    } catch (err) {
      try {
        appender.clear();
      } catch {
        // The transaction is rolled back anyway; the first error is the one worth reporting.
      }
      throw err;
    } finally {
      appender.closeSync();
    }
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => this.tick(), delayMs);
    // The timer must not keep a finished process (a CLI command, a test) alive; close() flushes.
    this.timer.unref();
  }

  /** The background flush: an error is logged and the points stay queued; nothing is thrown from a timer. */
  private tick(): void {
    this.flush().then(
      () => {
        if (this.failures > 0) this.log.info({ after: this.failures }, 'time-series store writes again');
        this.failures = 0;
      },
      (err: unknown) => {
        this.failures++;
        this.log.error({ err, pending: this.stats().pending, attempt: this.failures }, 'flush failed; points kept for the next try');
      },
    )
      .finally(() => {
        if (!this.closing) this.schedule(Math.min(this.options.flushIntervalMs * 2 ** this.failures, defaults.maxRetryMs));
      })
      .catch(() => undefined);
  }

  private refuseFull(): void {
    this.refuse('full');
    if (this.warnedFull) return;
    this.warnedFull = true;
    this.log.error({ pending: this.queue.length }, 'time-series queue full (the disk is not keeping up): new points are dropped');
  }
}

/** A point the store can keep: named, a finite value, a timestamp in the epoch-ms range. */
function isStorable(p: Point | null | undefined): p is Point {
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.device === 'string' &&
    p.device !== '' &&
    typeof p.metric === 'string' &&
    p.metric !== '' &&
    Number.isFinite(p.value) &&
    Number.isFinite(p.ts) &&
    p.ts >= 0 &&
    p.ts <= MAX_TS
  );
}

function gcd(a: number, b: number): number {
  let [x, y] = [Math.abs(a), Math.abs(b)];
  while (y > 0) [x, y] = [y, x % y];
  return x;
}

function fileBytes(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function closedError(): WatchfloorError {
  return new WatchfloorError('WF_ERR_STORE_CLOSED', 'the time-series store is closed', 503);
}
