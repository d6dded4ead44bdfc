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
 * latest values by a scan of the points, ~16 ms per million rows (there is no retention yet).
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BIGINT, DOUBLE, DuckDBDataChunk, DuckDBInstance, INTEGER, type DuckDBConnection } from '@duckdb/node-api';
import { createLogger, WatchfloorError, type Logger, type Point } from '../core/index.ts';
import { PendingPoints } from './queue.ts';
import { emptyBuckets, planBuckets } from './range.ts';
import { SeriesBook, type Series } from './series.ts';
import type { Aggregation, LatestValue, RangeBucket, RangeQuery, StoreStats, TimeSeriesStore } from './types.ts';

/** The database file inside the data directory. */
export const DATABASE_FILE = 'timeseries.duckdb';

/** Defaults stated once. */
const defaults = {
  flushIntervalMs: 200,
  /** A minute at 100k values/s (~150 MB of queue), hours at the sample data center's rate: a disk broken longer costs points, never the process. */
  maxPendingPoints: 6_000_000,
  /** A failing disk is retried with backoff up to this interval. */
  maxRetryMs: 10_000,
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
  );`;

const AGGREGATE_SQL: Record<Aggregation, string> = {
  mean: 'avg(value)',
  min: 'min(value)',
  max: 'max(value)',
  last: 'arg_max(value, ts)',
};

export interface EmbeddedStoreOptions {
  /** The data directory (WATCHFLOOR_DATA_DIR); created if missing. */
  dir: string;
  flushIntervalMs?: number;
  logger?: Logger;
  maxPendingPoints?: number;
}

/** Files open in this process: two DuckDB instances on one file would corrupt it (another process is stopped by DuckDB's file lock). */
const openFiles = new Set<string>();

/** Opens (or creates) the store under `dir` and rebuilds the latest value of every series from disk. */
export async function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<TimeSeriesStore> {
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
    const book = await loadSeries(reader);
    log.info({ file, series: book.size }, 'time-series store open');
    return new EmbeddedStore(file, instance, writer, reader, book, log, {
      flushIntervalMs: options.flushIntervalMs ?? defaults.flushIntervalMs,
      maxPendingPoints: options.maxPendingPoints ?? defaults.maxPendingPoints,
    });
  } catch (err) {
    instance?.closeSync();
    openFiles.delete(file);
    throw new WatchfloorError('WF_ERR_STORE_OPEN', `cannot open the time-series store ${file}: ${(err as Error).message}`);
  }
}

/** Every series with its tags and the value at its newest timestamp. */
async function loadSeries(db: DuckDBConnection): Promise<SeriesBook> {
  const book = new SeriesBook();
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

class EmbeddedStore implements TimeSeriesStore {
  private readonly queue = new PendingPoints();
  private readonly chunk = DuckDBDataChunk.create([INTEGER, BIGINT, DOUBLE]);
  private inFlight = 0;
  private written = 0;
  private dropped = 0;
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

  constructor(
    private readonly file: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    private readonly book: SeriesBook,
    private readonly log: Logger,
    private readonly options: { flushIntervalMs: number; maxPendingPoints: number },
  ) {
    this.schedule(options.flushIntervalMs);
  }

  write(points: readonly Point[]): void {
    if (this.closing) {
      this.dropped += points.length;
      return;
    }
    for (const p of points) {
      if (!isStorable(p)) {
        this.dropped++;
        continue;
      }
      if (this.queue.length >= this.options.maxPendingPoints) {
        this.refuseFull();
        continue;
      }
      const ts = Math.trunc(p.ts);
      const s = this.book.record(p.device, p.metric, ts, p.value, p.tags);
      this.queue.push(s.id, ts, p.value);
    }
  }

  flush(): Promise<void> {
    const batch = this.flushes.then(() => this.writeBatch());
    this.flushes = batch.catch(() => undefined);
    return batch;
  }

  latest(selector?: { device?: string; metric?: string }): LatestValue[] {
    return this.book.latest(selector);
  }

  range(q: RangeQuery): Promise<RangeBucket[]> {
    if (this.closing) return Promise.reject(closedError());
    let plan;
    try {
      plan = planBuckets(q);
    } catch (err) {
      return Promise.reject(err);
    }
    const series = this.book.find(q.device, q.metric);
    const buckets = emptyBuckets(plan);
    if (!series || plan.count === 0) return Promise.resolve(buckets);
    const query = async (): Promise<RangeBucket[]> => {
      const result = await this.reader.runAndReadAll(
        `SELECT CAST((ts - $start) // $step AS INTEGER) AS bucket, ${AGGREGATE_SQL[q.agg]} AS value
         FROM points WHERE series = $series AND ts BETWEEN $from AND $to GROUP BY bucket`,
        { start: BigInt(plan.start), step: BigInt(plan.step), series: series.id, from: BigInt(plan.from), to: BigInt(plan.to) },
        { series: INTEGER },
      );
      for (const [bucket, value] of result.getRows()) {
        const b = buckets[bucket as number];
        if (b) b.value = value as number;
      }
      return buckets;
    };
    const run = this.reads.then(query);
    this.reads = run.catch(() => undefined);
    return run;
  }

  stats(): StoreStats {
    return { written: this.written, pending: this.queue.length + this.inFlight, series: this.book.size, dropped: this.dropped };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.timer);
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
    const batch = this.queue.take();
    const series = this.book.takeUnsaved();
    if (batch.length === 0 && series.length === 0) return;
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
        // The commit writes the log and, now and then, a checkpoint: both on DuckDB's thread, off the event loop.
        await this.writer.run('COMMIT');
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      this.written += batch.length;
      this.warnedFull = false;
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
    this.dropped++;
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

function closedError(): WatchfloorError {
  return new WatchfloorError('WF_ERR_STORE_CLOSED', 'the time-series store is closed', 503);
}
