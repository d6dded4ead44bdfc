/**
 * The embedded store's write path: write() checks and queues points (the ingest hot path), a timer
 * flushes the queue in one transaction per batch on the writer connection, and each commit carries the
 * ingest write-ahead log's mark (store/wal.ts). Figures are in store/embedded/store.ts.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BIGINT, DOUBLE, DuckDBDataChunk, INTEGER, type DuckDBConnection } from '@duckdb/node-api';
import { wfError, type Logger, type Point } from '../../core/index.ts';
import { PendingPoints } from '../queue.ts';
import type { SeriesBook, Series } from '../series.ts';
import type { CommitLog, SeriesLimitEvent } from '../types.ts';
import { closedError, defaults, type Lifecycle, type Options } from './options.ts';

/** DuckDB's vector size: a data chunk holds at most 2048 rows. */
const CHUNK_ROWS = 2048;
/**
 * Rows appended between two yields to the event loop: one slice holds the loop ~1-1.5 ms (see the
 * figures in store.ts), so the broker keeps answering while a large batch is written.
 */
const SLICE_ROWS = 4 * CHUNK_ROWS;

/** Epoch ms of the JavaScript Date range; beyond it a timestamp is a bug, not a time. */
const MAX_TS = 8.64e15;

/** A cardinality explosion goes on while new series keep coming; one report a minute per device keeps its alert firing without a flood. */
const SERIES_LIMIT_REPORT_MS = 60_000;

type WriterOptions = Pick<Options, 'flushIntervalMs' | 'maxPendingPoints' | 'clock' | 'tiers' | 'maxSeries' | 'maxFutureMs' | 'onSeriesLimit'>;

/** Queues points and writes them in batches on the writer connection; every task on that connection takes its turn here. */
export class PointWriter {
  private readonly queue = new PendingPoints();
  private readonly chunk = DuckDBDataChunk.create([INTEGER, BIGINT, DOUBLE]);
  private inFlight = 0;
  private writtenCount = 0;
  private droppedCount = 0;
  private readonly refused = new Map<string, number>();
  /** Per device: when its last series-limit refusal was reported. */
  private readonly limitReported = new Map<string, number>();
  /** Batches are written one after another on the writer connection; each flush() waits its turn. */
  private flushes: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private warnedFull = false;
  /** The write-ahead log whose records each commit covers (store/wal.ts), and the newest record committed. */
  private commitLog: CommitLog | undefined;
  private logMark = 0;

  constructor(
    private readonly writer: DuckDBConnection,
    private readonly book: SeriesBook,
    private readonly life: Lifecycle,
    private readonly log: Logger,
    private readonly options: WriterOptions,
  ) {}

  /** Points on disk, written since the store was opened. */
  get written(): number {
    return this.writtenCount;
  }
  /** Points accepted but not yet on disk (queued or being written). */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }
  get dropped(): number {
    return this.droppedCount;
  }
  /** The refused points by reason. */
  refusals(): Record<string, number> {
    return Object.fromEntries(this.refused);
  }

  /** Starts the background flush. */
  start(): void {
    this.schedule(this.options.flushIntervalMs);
  }
  /** Stops the background flush (close() flushes once more itself). */
  stop(): void {
    clearTimeout(this.timer);
  }

  write(points: readonly Point[]): void {
    if (this.life.closing) {
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
    const read = this.inTurn(() => this.writer.runAndReadAll(`SELECT seq FROM log_marks WHERE log = 'ingest'`));
    const row = (await read).getRows()[0];
    this.logMark = row ? Number(row[0]) : 0;
    this.commitLog = log;
    return this.logMark;
  }

  replay(seq: number, points: readonly Point[]): void {
    if (seq > this.logMark) this.write(points);
  }

  flush(): Promise<void> {
    return this.inTurn(() => this.writeBatch());
  }

  /** Runs `task` on the writer connection after the batches and tasks before it; its failure does not stop the ones after. */
  inTurn<T>(task: () => Promise<T>): Promise<T> {
    const run = this.flushes.then(task);
    this.flushes = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private refuse(reason: string, n = 1): void {
    this.droppedCount += n;
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

  /** Writes what is queued in one transaction: the series rows that changed, then the points. */
  private async writeBatch(): Promise<void> {
    // Read with the take: every log record up to here has its points in this batch or an earlier one.
    const mark = this.commitLog?.head();
    const batch = this.queue.take();
    const series = this.book.takeUnsaved();
    // Records whose points were all refused still move the mark, or the log would grow without end.
    if (batch.length === 0 && series.length === 0 && !(mark !== undefined && mark > this.logMark)) return;
    if (this.life.closed) {
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
      this.writtenCount += batch.length;
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
      throw wfError('STORE_WRITE', `writing ${batch.length} points failed: ${(err as Error).message}`);
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
        this.log.error({ err, pending: this.pending, attempt: this.failures }, 'flush failed; points kept for the next try');
      },
    )
      .finally(() => {
        if (!this.life.closing) this.schedule(Math.min(this.options.flushIntervalMs * 2 ** this.failures, defaults.maxRetryMs));
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
