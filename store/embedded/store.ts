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
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { createLogger, systemClock, wfError, type Logger, type Point } from '../../core/index.ts';
import { SeriesBook } from '../series.ts';
import { defaultTiers, TIER_SCHEMA } from '../tiers.ts';
import type { CommitLog, GroupRangeQuery, LatestValue, PointColumns, PointsQuery, RangeBucket, RangeQuery, SeriesDeletion, SeriesInfo, SeriesSelector, StoreStats } from '../types.ts';
import { deleteDeviceSeries } from './delete.ts';
import { loadWatermarks, TierMaintenance } from './maintenance.ts';
import { DATABASE_FILE, defaults, type EmbeddedStoreOptions, type EmbeddedTimeSeriesStore, type Lifecycle, type MaintenanceReport, type Options } from './options.ts';
import { PointReader } from './reader.ts';
import { PointWriter } from './writer.ts';

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

/** Files open in this process: two DuckDB instances on one file would corrupt it (another process is stopped by DuckDB's file lock). */
const openFiles = new Set<string>();

/** Opens (or creates) the store under `dir` and rebuilds the latest value of every series from disk. */
export async function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedTimeSeriesStore> {
  const log = (options.logger ?? createLogger()).child({ component: 'store' });
  const file = resolve(options.dir, DATABASE_FILE);
  if (openFiles.has(file)) throw wfError('STORE_OPEN', `the time-series store ${file} is already open in this process`);
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
    const watermarks = await loadWatermarks(reader);
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
    throw wfError('STORE_OPEN', `cannot open the time-series store ${file}: ${(err as Error).message}`);
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

/** The store, assembled from its writer (queue, batches), reader (ranges, points) and maintenance (rollups, retention). */
class EmbeddedStore implements EmbeddedTimeSeriesStore {
  private readonly life: Lifecycle = { closing: false, closed: false };
  private readonly writes: PointWriter;
  private readonly reads: PointReader;
  private readonly maintenance: TierMaintenance;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly file: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    private readonly book: SeriesBook,
    /** Per rollup tier: everything before this time is in the rollup table. */
    watermarks: Map<string, number>,
    private readonly log: Logger,
    options: Options,
  ) {
    this.writes = new PointWriter(writer, book, this.life, log, options);
    this.reads = new PointReader(reader, book, watermarks, this.life, options);
    this.maintenance = new TierMaintenance(writer, this.writes, watermarks, this.life, log, options);
    this.writes.start();
    this.maintenance.start();
  }

  write(points: readonly Point[]): void {
    this.writes.write(points);
  }
  attachLog(log: CommitLog): Promise<number> {
    return this.writes.attachLog(log);
  }
  replay(seq: number, points: readonly Point[]): void {
    this.writes.replay(seq, points);
  }
  flush(): Promise<void> {
    return this.writes.flush();
  }
  latest(selector?: { device?: string; metric?: string }): LatestValue[] {
    return this.reads.latest(selector);
  }
  range(q: RangeQuery): Promise<RangeBucket[]> {
    return this.reads.range(q);
  }
  rangeGroups(q: GroupRangeQuery): Promise<RangeBucket[][]> {
    return this.reads.rangeGroups(q);
  }
  series(selector?: SeriesSelector): SeriesInfo[] {
    return this.reads.series(selector);
  }
  points(q: PointsQuery): Promise<PointColumns[]> {
    return this.reads.points(q);
  }
  maintain(): Promise<MaintenanceReport> {
    return this.maintenance.maintain();
  }
  deleteSeries(selector: { device: string }): Promise<SeriesDeletion> {
    return deleteDeviceSeries(this.writer, this.writes, this.book, this.life, selector.device);
  }

  stats(): StoreStats {
    return {
      written: this.writes.written,
      pending: this.writes.pending,
      series: this.book.size,
      dropped: this.writes.dropped,
      refused: this.writes.refusals(),
      diskBytes: this.life.closed ? 0 : fileBytes(this.file) + fileBytes(`${this.file}.wal`),
    };
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = this.shutdown();
      this.life.closing = true;
    }
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.writes.stop();
    this.maintenance.stop();
    let lost: unknown;
    try {
      await this.flush();
    } catch (err) {
      lost = err;
      this.log.error({ err, points: this.stats().pending }, 'points not written at close: they are lost');
    }
    await this.reads.idle();
    // A checkpoint folds the write-ahead log into the file, so the next open need not replay it.
    await this.writer.run('CHECKPOINT').catch((err: unknown) => this.log.warn({ err }, 'checkpoint at close failed'));
    this.life.closed = true;
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
    openFiles.delete(this.file);
    this.log.info({ written: this.writes.written }, 'time-series store closed');
    if (lost) throw lost;
  }
}

function fileBytes(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
