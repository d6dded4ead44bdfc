/*
 * The log store: syslog lines kept in their own DuckDB file under the data directory
 * (`logs/logs.duckdb`, so it never waits on the time-series store's writer), written in batches
 * every 200 ms from a bounded queue, searched through a token index of its own (tokens.ts,
 * schema.ts; README.md says why not DuckDB's fts extension), deleted past the retention.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { badRequest, createLogger, systemClock, wfError, type Clock, type WatchfloorError, type LogLine, type Logger } from '../../core/index.ts';
import { LogsConfig, type LogsConfigInput } from './config.ts';
import { exportHead, exportRecord, type ExportFormat } from './export.ts';
import { filterSql, type LogFilters } from './query.ts';
import { appendChunks, appendLines } from './append.ts';
import { byIdsSql } from './by-ids.ts';
import { invalidReason, LOG_COLUMNS, rowToLog, SCHEMA, type StoredLog } from './schema.ts';

/** The database file inside the data directory. */
export const LOG_DATABASE_FILE = join('logs', 'logs.duckdb');

/** Why a line is not stored; each counted in stats().dropped and logged once. */
export const LOG_DROP_REASONS = ['invalid', 'too_old', 'queue_full', 'closed', 'write_failed'] as const;
export type LogDropReason = (typeof LOG_DROP_REASONS)[number];

const defaults = {
  flushIntervalMs: 200,
  /** Retention runs this often. */
  maintenanceIntervalMs: 3_600_000,
  /** Fresh postings moved into a sorted run at this size (~140k lines of syslog): README.md has the trade-off. */
  runPostings: 2_000_000,
  /** A failing disk is retried with backoff up to this interval. */
  maxRetryMs: 10_000,
  /** Most rows one search answers. */
  maxLimit: 10_000,
  /** DuckDB's memory for this file (sorting a run, a search); the time-series store has its own. */
  memoryLimit: '1GB',
};

/** Up to this many candidate lines of a `q`, each is fetched by its id (a small row group each); beyond it one scan of `logs` joined to the candidates is cheaper. */
const POINT_FETCH_MAX = 300;

/** One SELECT per id, each pruned by zone maps to the row group holding it. */
function pointFetch(ids: readonly bigint[]): string {
  return ids.map((id) => `SELECT ${LOG_COLUMNS} FROM logs WHERE id = ${id}`).join(' UNION ALL ');
}

/** At most this many histogram buckets (the telemetry range's bound). */
export const MAX_HISTOGRAM_BUCKETS = 11_000;

export interface LogStoreOptions extends LogsConfigInput {
  /** The data directory (WATCHFLOOR_DATA_DIR); the store is `logs/logs.duckdb` inside it. */
  dir: string;
  logger?: Logger;
  /** "now" for retention; default the system clock. */
  clock?: Clock;
  flushIntervalMs?: number;
  /** 0 turns the periodic retention off (tests call maintain()). */
  maintenanceIntervalMs?: number;
  /** Fresh postings moved into a sorted run at this count. */
  runPostings?: number;
  memoryLimit?: string;
}

export interface LogSearch extends LogFilters {
  /** Newest first, at most this many (default 100, at most 10,000). */
  limit?: number;
}

export interface LogSearchResult {
  logs: StoredLog[];
  /** Every line matching, not only those answered. */
  total: number;
}

export interface HistogramQuery extends LogFilters {
  bucketMs: number;
}

export interface LogHistogram {
  stepMs: number;
  /** Bucket start (epoch ms, a multiple of stepMs) and the lines in it; every bucket from since to until when both are given, else from the first matching line to the last. */
  buckets: { ts: number; count: number }[];
}

export interface LogStoreStats {
  /** Lines written to disk since open. */
  written: number;
  /** Lines waiting for the disk. */
  pending: number;
  dropped: Record<LogDropReason, number>;
  /** Postings not yet in a sorted run. */
  freshPostings: number;
  diskBytes: number;
}

/** The log store (see the file comment). */
export interface LogStore {
  /** Queues lines, each kept one given its id now (arrival order: an alert links it before it is on disk); returns those kept. What is not kept is counted by reason, never thrown. */
  append(lines: readonly LogLine[]): StoredLog[];
  /** Writes what is queued now; resolves once it is on disk. */
  flush(): Promise<void>;
  search(q: LogSearch): Promise<LogSearchResult>;
  histogram(q: HistogramQuery): Promise<LogHistogram>;
  /** The kept lines of these ids, oldest first (an alert's evidence); ids unknown or past retention are left out. */
  byIds(ids: readonly number[]): Promise<StoredLog[]>;
  /** The search's lines (newest first, all of them unless `limit`) as text chunks, streamed from the database. */
  export(filters: LogFilters & { limit?: number }, format: ExportFormat): AsyncIterable<string>;
  /** Deletes lines past the retention (and their postings); how many lines went. */
  maintain(): Promise<{ deleted: number }>;
  stats(): LogStoreStats;
  close(): Promise<void>;
}

/**
 * Rows per row group (DuckDB's default is 122,880). DuckDB prunes by zone maps (min/max per row group)
 * and has no point look-up: fetching one line by id decodes its whole row group. At 4,096 rows, the
 * lines a rare token names cost a small group each, and a token's postings in a sorted run one group
 * (measured in README.md). Set when the file is attached: it applies to the row groups written.
 */
const ROW_GROUP_ROWS = 4096;
/** The name the file is attached under (an in-memory database is DuckDB's default one). */
const DB = 'logdb';

async function connect(instance: DuckDBInstance): Promise<DuckDBConnection> {
  const c = await instance.connect();
  await c.run(`USE ${DB}`);
  return c;
}

/** Files open in this process: two DuckDB instances on one file would corrupt it. */
const openFiles = new Set<string>();

/** Opens (or creates) the log store under `dir`. */
export async function openLogStore(options: LogStoreOptions): Promise<LogStore> {
  const log = (options.logger ?? createLogger()).child({ component: 'log-store' });
  const config = LogsConfig.parse({ retentionDays: options.retentionDays, maxPendingLines: options.maxPendingLines });
  const file = resolve(options.dir, LOG_DATABASE_FILE);
  if (openFiles.has(file)) throw wfError('STORE_OPEN', `the log store ${file} is already open in this process`);
  openFiles.add(file);
  let instance: DuckDBInstance | undefined;
  try {
    mkdirSync(resolve(options.dir, 'logs'), { recursive: true });
    // The file is attached to an in-memory database so its row-group size can be set (ROW_GROUP_ROWS); spills go beside it, not to the working directory.
    instance = await DuckDBInstance.create(':memory:', { memory_limit: options.memoryLimit ?? defaults.memoryLimit, temp_directory: resolve(options.dir, 'logs', 'tmp') });
    const boot = await instance.connect();
    await boot.run(`ATTACH '${file.replaceAll("'", "''")}' AS ${DB} (ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`);
    boot.closeSync();
    const writer = await connect(instance);
    const reader = await connect(instance);
    await writer.run(SCHEMA);
    const top = (await reader.runAndReadAll('SELECT coalesce(max(id), 0), (SELECT count(*) FROM log_postings_fresh) FROM logs')).getRows()[0] ?? [0n, 0n];
    const lines = Number((await reader.runAndReadAll('SELECT count(*) FROM logs')).getRows()[0]?.[0] ?? 0n);
    log.info({ file, lines }, 'log store open');
    return new DuckLogStore(file, instance, writer, reader, log, {
      retentionMs: config.retentionDays * 86_400_000,
      maxPendingLines: config.maxPendingLines,
      clock: options.clock ?? systemClock,
      flushIntervalMs: options.flushIntervalMs ?? defaults.flushIntervalMs,
      maintenanceIntervalMs: options.maintenanceIntervalMs ?? defaults.maintenanceIntervalMs,
      runPostings: options.runPostings ?? defaults.runPostings,
      nextId: Number(top[0]) + 1,
      freshPostings: Number(top[1]),
    });
  } catch (err) {
    instance?.closeSync();
    openFiles.delete(file);
    throw wfError('STORE_OPEN', `cannot open the log store ${file}: ${(err as Error).message}`);
  }
}

interface Settings {
  retentionMs: number;
  maxPendingLines: number;
  clock: Clock;
  flushIntervalMs: number;
  maintenanceIntervalMs: number;
  runPostings: number;
  nextId: number;
  freshPostings: number;
}

class DuckLogStore implements LogStore {
  private queue: StoredLog[] = [];
  private inFlight = 0;
  private written = 0;
  private readonly dropped: Record<LogDropReason, number> = { invalid: 0, too_old: 0, queue_full: 0, closed: 0, write_failed: 0 };
  private readonly warned = new Set<string>();
  private nextId: number;
  private freshPostings: number;
  /** Batches, runs and retention take turns on the writer connection. */
  private writes: Promise<void> = Promise.resolve();
  /** Searches take turns on the reader connection (an export has a connection of its own). */
  private reads: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly exports = new Set<DuckDBConnection>();
  private readonly chunks = appendChunks();

  constructor(
    private readonly file: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    private readonly log: Logger,
    private readonly o: Settings,
  ) {
    this.nextId = o.nextId;
    this.freshPostings = o.freshPostings;
    this.schedule(o.flushIntervalMs);
    if (o.maintenanceIntervalMs > 0) this.scheduleMaintenance();
  }

  append(lines: readonly LogLine[]): StoredLog[] {
    if (this.closing) {
      this.drop('closed', lines.length);
      return [];
    }
    const oldest = this.o.clock.now() - this.o.retentionMs, kept: StoredLog[] = [];
    for (const l of lines) {
      const bad = invalidReason(l);
      if (bad) this.drop('invalid', 1, { field: bad });
      else if (l.ts < oldest) this.drop('too_old');
      else if (this.queue.length + kept.length >= this.o.maxPendingLines) this.drop('queue_full', 1, { pending: this.queue.length + kept.length });
      else kept.push({ ...l, id: this.nextId++ });
    }
    for (const stored of kept) this.queue.push(stored);
    return kept;
  }

  flush(): Promise<void> {
    const batch = this.writes.then(() => this.writeBatch());
    this.writes = batch.catch(() => undefined);
    return batch;
  }

  async search(q: LogSearch): Promise<LogSearchResult> {
    const limit = q.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > defaults.maxLimit) throw badRequest('limit', `limit: a whole number from 1 to ${defaults.maxLimit}`);
    const f = filterSql(q);
    return this.read(async () => {
      if (f.with) {
        // A rare token (an attacker's address): its lines fetched one by one beat a scan of every line.
        const cand = await this.reader.runAndReadAll(`${f.with}SELECT id FROM cand LIMIT ${POINT_FETCH_MAX + 1}`);
        const ids = cand.getRows().map((r) => r[0] as bigint);
        if (ids.length <= POINT_FETCH_MAX) {
          if (ids.length === 0) return { logs: [], total: 0 };
          const rows = await this.reader.runAndReadAll(`SELECT * FROM (${pointFetch(ids)}) WHERE ${f.rest} ORDER BY ts DESC, id DESC`, f.params);
          const all = rows.getRows().map(rowToLog);
          return { logs: all.slice(0, limit), total: all.length };
        }
      }
      const rows = await this.reader.runAndReadAll(`${f.with}SELECT ${LOG_COLUMNS} FROM logs WHERE ${f.where} ORDER BY ts DESC, id DESC LIMIT ${limit}`, f.params);
      const logs = rows.getRows().map(rowToLog);
      // A short answer is the whole of it: no second pass to count.
      const total = logs.length < limit ? logs.length : Number((await this.reader.runAndReadAll(`${f.with}SELECT count(*) FROM logs WHERE ${f.where}`, f.params)).getRows()[0]?.[0] ?? 0n);
      return { logs, total };
    });
  }

  async histogram(q: HistogramQuery): Promise<LogHistogram> {
    const step = q.bucketMs;
    if (!Number.isInteger(step) || step < 1) throw badRequest('step', 'step: a whole number of milliseconds, at least 1');
    if (q.since !== undefined && q.until !== undefined && (q.until - q.since) / step > MAX_HISTOGRAM_BUCKETS) {
      throw badRequest('step', `step: too small for the range (over ${MAX_HISTOGRAM_BUCKETS} buckets)`);
    }
    const f = filterSql(q);
    return this.read(async () => {
      const rows = (await this.reader.runAndReadAll(`${f.with}SELECT ts // ${step} AS b, count(*) FROM logs WHERE ${f.where} GROUP BY b ORDER BY b`, f.params)).getRows();
      const counts = new Map<number, number>(rows.map(([b, n]) => [Number(b as bigint), Number(n as bigint)]));
      const first = q.since !== undefined ? Math.floor(q.since / step) : Number(rows[0]?.[0] ?? 0n);
      const last = q.until !== undefined ? Math.floor(q.until / step) : Number(rows.at(-1)?.[0] ?? -1n);
      if (last - first + 1 > MAX_HISTOGRAM_BUCKETS) throw badRequest('step', `step: too small for the range (over ${MAX_HISTOGRAM_BUCKETS} buckets)`);
      const buckets: { ts: number; count: number }[] = [];
      for (let b = first; b <= last; b++) buckets.push({ ts: b * step, count: counts.get(b) ?? 0 });
      return { stepMs: step, buckets };
    });
  }

  byIds(ids: readonly number[]): Promise<StoredLog[]> {
    return this.read(async () => (await this.reader.runAndReadAll(byIdsSql(ids))).getRows().map(rowToLog));
  }

  export(filters: LogFilters & { limit?: number }, format: ExportFormat): AsyncIterable<string> {
    if (format !== 'ndjson' && format !== 'csv') throw badRequest('format', 'format: ndjson or csv');
    if (filters.limit !== undefined && (!Number.isInteger(filters.limit) || filters.limit < 1)) throw badRequest('limit', 'limit: a whole number, at least 1');
    const f = filterSql(filters);
    if (this.closing) throw closedError();
    const sql = `${f.with}SELECT ${LOG_COLUMNS} FROM logs WHERE ${f.where} ORDER BY ts DESC, id DESC${filters.limit ? ` LIMIT ${filters.limit}` : ''}`;
    return this.stream(sql, f.params, format);
  }

  /** Rows straight from DuckDB's streaming result, one text chunk a data chunk (2048 lines), on a connection of its own. */
  private async *stream(sql: string, params: Record<string, string | number | bigint>, format: ExportFormat): AsyncGenerator<string> {
    const conn = await connect(this.instance);
    this.exports.add(conn);
    try {
      const result = await conn.stream(sql, params);
      const head = exportHead(format);
      if (head) yield head;
      for (;;) {
        if (this.closed) throw closedError();
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        let text = '';
        for (const row of chunk.getRows()) text += exportRecord(rowToLog(row), format);
        yield text;
      }
    } finally {
      this.exports.delete(conn);
      if (!this.closed) conn.closeSync();
    }
  }

  maintain(): Promise<{ deleted: number }> {
    if (this.closing) return Promise.reject(closedError());
    const pass = this.writes.then(() => this.applyRetention());
    this.writes = pass.then(
      () => undefined,
      () => undefined,
    );
    return pass;
  }

  stats(): LogStoreStats {
    return {
      written: this.written,
      pending: this.queue.length + this.inFlight,
      dropped: { ...this.dropped },
      freshPostings: this.freshPostings,
      diskBytes: this.closed ? 0 : fileBytes(this.file) + fileBytes(`${this.file}.wal`),
    };
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
      this.drop('write_failed', this.queue.length);
      this.log.error({ err, lines: this.queue.length }, 'log lines not written at close: they are lost');
      this.queue = [];
    }
    await this.reads;
    for (const conn of this.exports) conn.interrupt();
    // A checkpoint folds DuckDB's write-ahead log into the file, so the next open need not replay it.
    await this.writer.run(`CHECKPOINT ${DB}`).catch((err: unknown) => this.log.warn({ err }, 'log store checkpoint at close failed'));
    this.closed = true;
    for (const conn of this.exports) conn.closeSync();
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
    openFiles.delete(this.file);
    this.log.info({ written: this.written }, 'log store closed');
    if (lost) throw lost;
  }

  private read<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(closedError());
    const run = this.reads.then(fn);
    this.reads = run.catch(() => undefined);
    return run;
  }

  /** Writes the queue in one transaction: the lines, then their postings into the fresh table. */
  private async writeBatch(): Promise<void> {
    if (this.queue.length === 0) return;
    if (this.closed) throw closedError();
    const batch = this.queue;
    this.queue = [];
    this.inFlight = batch.length;
    const firstId = (batch[0] as StoredLog).id; // ids given in append run on in queue order (a failed batch goes back whole)
    let postings: number;
    try {
      await this.writer.run('BEGIN TRANSACTION');
      try {
        postings = await appendLines(this.writer, this.chunks, batch, firstId);
        await this.writer.run('COMMIT');
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } catch (err) {
      // Back in front of what came since, so the order on disk stays the order of arrival.
      this.queue = batch.concat(this.queue);
      throw wfError('STORE_WRITE', `writing ${batch.length} log lines failed: ${(err as Error).message}`);
    } finally {
      this.inFlight = 0;
    }
    this.written += batch.length;
    this.freshPostings += postings;
    if (this.freshPostings >= this.o.runPostings) await this.sealRun();
  }

  /** Moves the fresh postings into `log_postings` as one run sorted by token (DuckDB sorts on its own threads). */
  private async sealRun(): Promise<void> {
    const started = Date.now();
    await this.writer.run('BEGIN TRANSACTION');
    try {
      await this.writer.run('INSERT INTO log_postings SELECT token, id FROM log_postings_fresh ORDER BY token');
      await this.writer.run('DELETE FROM log_postings_fresh');
      await this.writer.run('COMMIT');
    } catch (err) {
      await this.writer.run('ROLLBACK').catch(() => undefined);
      // The postings stay fresh: searches still find them, only slower; the next batch tries again.
      this.log.error({ err: (err as Error).message }, 'log store: sealing a run of postings failed; retried after the next batch');
      return;
    }
    this.log.debug({ postings: this.freshPostings, ms: Date.now() - started }, 'log store: postings sealed into a run');
    this.freshPostings = 0;
  }

  private async applyRetention(): Promise<{ deleted: number }> {
    if (this.closed) throw closedError();
    const cut = BigInt(Math.max(0, Math.floor(this.o.clock.now() - this.o.retentionMs)));
    await this.writer.run('BEGIN TRANSACTION');
    try {
      const res = await this.writer.run('DELETE FROM logs WHERE ts < $cut', { cut });
      // Runs are sealed in arrival order, so the postings of the lines gone are whole row groups below the oldest id kept.
      const row = (await this.writer.runAndReadAll('SELECT min(id) FROM logs')).getRows()[0];
      const keep = row?.[0] === null || row?.[0] === undefined ? BigInt(this.nextId) : (row[0] as bigint);
      await this.writer.run('DELETE FROM log_postings WHERE id < $keep', { keep });
      const fresh = await this.writer.run('DELETE FROM log_postings_fresh WHERE id < $keep', { keep });
      await this.writer.run('COMMIT');
      this.freshPostings = Math.max(0, this.freshPostings - Number(fresh.rowsChanged));
      const deleted = Number(res.rowsChanged);
      if (deleted > 0) this.log.info({ deleted, retentionDays: this.o.retentionMs / 86_400_000 }, 'log store: lines past retention deleted');
      return { deleted };
    } catch (err) {
      await this.writer.run('ROLLBACK').catch(() => undefined);
      throw wfError('STORE_WRITE', `log retention failed: ${(err as Error).message}`);
    }
  }

  private drop(reason: LogDropReason, n = 1, detail: Record<string, unknown> = {}): void {
    if (n <= 0) return;
    this.dropped[reason] += n;
    if (this.warned.has(reason)) return;
    this.warned.add(reason);
    this.log.warn({ reason, ...detail }, 'log store: lines dropped (counted in the store stats; logged once per reason)');
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => this.tick(), delayMs);
    this.timer.unref();
  }

  /** The background flush: an error is logged and the lines stay queued; nothing is thrown from a timer. */
  private tick(): void {
    this.flush()
      .then(
        () => {
          if (this.failures > 0) this.log.info({ after: this.failures }, 'log store writes again');
          this.failures = 0;
        },
        (err: unknown) => {
          this.failures++;
          this.log.error({ err, pending: this.queue.length, attempt: this.failures }, 'log store flush failed; lines kept for the next try');
        },
      )
      .finally(() => {
        if (!this.closing) this.schedule(Math.min(this.o.flushIntervalMs * 2 ** this.failures, defaults.maxRetryMs));
      })
      .catch(() => undefined);
  }

  private scheduleMaintenance(): void {
    this.maintenanceTimer = setTimeout(() => {
      this.maintain()
        .catch((err: unknown) => this.log.error({ err }, 'log retention failed; retried at the next interval'))
        .finally(() => {
          if (!this.closing) this.scheduleMaintenance();
        })
        .catch(() => undefined);
    }, this.o.maintenanceIntervalMs);
    this.maintenanceTimer.unref();
  }
}

function fileBytes(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function closedError(): WatchfloorError {
  return wfError('STORE_CLOSED', 'log store');
}
