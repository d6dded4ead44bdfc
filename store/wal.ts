/*
 * The ingest's write-ahead log: what makes a QoS 1 PUBACK mean "this reading survives a crash".
 *
 * The store commits its queue every flushIntervalMs (200 ms); a reading acknowledged in between lived
 * only in memory, and `kill -9` lost it (issue 12 item 9: 28 of 1,080 acknowledged readings in one
 * run). Now an accepted message's points are appended here, and the PUBACK waits for the append's
 * fsync. Appends are group-committed: every record that arrives while one synced write (O_DSYNC, or
 * write + fdatasync) is on its way goes out in the next single synced write, so at 25,000 messages/s
 * a group holds hundreds of records and the disk sees a few hundred syncs a second, not one per message.
 *
 * Records carry a sequence number. The store reads the log's head when it takes a batch and commits
 * that number with the points, in the same transaction (store/embedded/writer.ts, table log_marks), then
 * reports it: segments wholly at or below it are deleted. At start, every record is handed back to
 * the store's replay(), which skips those already committed, so a crash between the store's commit
 * and a segment's deletion neither loses nor doubles a point.
 *
 * On disk: DIR/<first seq, 16 digits>.wal, one JSON record a line. A new segment is begun at every
 * start, so a torn last line (the crash came mid-write) is only ever at the end of an old segment; it
 * was never acknowledged, and replay skips it with a warning.
 */
import { constants, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { wfError, type Logger, type Point } from '../core/index.ts';
import type { CommitLog, TimeSeriesStore } from './types.ts';

const SEGMENT = /^(\d{16})\.wal$/;

/** Defaults stated once. */
const defaults = {
  /** A segment is sealed past this size; at 25,000 messages/s (~4 MB/s of records) one lives about a second. */
  segmentBytes: 4 * 1024 * 1024,
};

export interface WriteAheadLogOptions {
  /** The log's directory (created if missing): DATA_DIR/tsdb/ingest-wal in the product. */
  dir: string;
  logger: Logger;
  segmentBytes?: number;
  /** false skips fdatasync (a test of the mechanics on a slow disk); durability then holds against a process crash only. */
  sync?: boolean;
}

export interface WriteAheadLogStats {
  /** Records appended since open. */
  appended: number;
  /** Group commits (one synced write each). */
  groups: number;
  /** Records read back into the store at open. */
  replayed: number;
  /** Groups whose write or sync failed (their publishes were refused, not acknowledged). */
  failures: number;
  /** Segment files on disk. */
  segments: number;
}

interface Segment {
  file: string;
  /** The newest record the file holds (first seq - 1 while it holds none). */
  lastSeq: number;
}

/** One record: the points of one accepted message, usually one device at one time with one set of tags. */
type WalRecord = { s: number; d: string; t: number; g: Record<string, string>; m: Record<string, number> } | { s: number; p: Point[] };

/**
 * Opens the log under `options.dir`, hands every record it holds to the store's replay(), attaches
 * itself to the store's commits and starts a new segment. The store must implement attachLog/replay.
 */
export async function openWriteAheadLog(store: TimeSeriesStore, options: WriteAheadLogOptions): Promise<WriteAheadLog> {
  if (!store.attachLog || !store.replay) throw wfError('STORE_OPEN', 'this store cannot take a write-ahead log');
  const log = new WriteAheadLog(options);
  mkdirSync(options.dir, { recursive: true });
  const committed = await store.attachLog(log);
  const replayed = log.replayInto(store, committed);
  await log.begin();
  if (replayed > 0) {
    options.logger.info({ records: replayed, dir: options.dir }, 'ingest write-ahead log replayed into the store');
    // Committed now rather than at the next tick, so the old segments go at once; a failing disk keeps them for later.
    await store.flush().catch((err: unknown) => options.logger.error({ err }, 'store flush after the write-ahead log replay failed; the log is kept'));
  }
  return log;
}

/** The log itself; see the file comment. append() is the hot path: synchronous, the callback after fsync. */
export class WriteAheadLog implements CommitLog {
  private seq = 0;
  private pending: string[] = [];
  private waiters: ((err?: Error) => void)[] = [];
  private writing = false;
  private drained: (() => void) | undefined;
  private active: (Segment & { handle: FileHandle; bytes: number }) | undefined;
  private readonly sealed: Segment[] = [];
  private readonly segmentBytes: number;
  private readonly sync: boolean;
  /** Synced writes through O_DSYNC where the platform has it (Linux, macOS), else fdatasync after each write. */
  private readonly dsync: boolean;
  private readonly log: Logger;
  private closed = false;
  /** After a failed write the segment may end in a torn line: the next group starts a new one. */
  private broken = false;
  private readonly figures = { appended: 0, groups: 0, replayed: 0, failures: 0 };

  constructor(private readonly options: WriteAheadLogOptions) {
    this.segmentBytes = options.segmentBytes ?? defaults.segmentBytes;
    this.sync = options.sync ?? true;
    this.dsync = this.sync && typeof constants.O_DSYNC === 'number';
    this.log = options.logger.child({ component: 'ingest-wal' });
  }

  /**
   * Appends the points of one accepted message; `done` runs once they are on disk (fdatasync), or with
   * the error that kept them off it. Call it after the points went through the store's write(): the
   * store's next commit then covers this record (see head()).
   */
  append(points: readonly Point[], done: (err?: Error) => void): void {
    if (this.closed) return done(wfError('STORE_CLOSED', 'ingest write-ahead log'));
    const seq = ++this.seq;
    this.pending.push(JSON.stringify(encode(seq, points)));
    this.waiters.push(done);
    this.figures.appended++;
    if (!this.writing) {
      this.writing = true;
      // After the code running now: the rest of the socket chunk being parsed joins this group, without
      // waiting a turn of the event loop (under load a turn is tens of ms, and every PUBACK waits for it).
      process.nextTick(() => void this.writeGroups());
    }
  }

  /** The newest record appended; its points and every earlier record's are in the store's queue (or refused by it). */
  head(): number {
    return this.seq;
  }

  /** The store committed every record up to `seq`: segments wholly below it go. */
  committed(seq: number): void {
    for (let i = this.sealed.length - 1; i >= 0; i--) {
      const s = this.sealed[i] as Segment;
      if (s.lastSeq > seq) continue;
      this.sealed.splice(i, 1);
      unlink(s.file).catch((err: unknown) => this.log.warn({ err, file: s.file }, 'could not delete a committed write-ahead log segment'));
    }
  }

  stats(): WriteAheadLogStats {
    return { ...this.figures, segments: this.sealed.length + (this.active ? 1 : 0) };
  }

  /** Waits for the appends in flight, then closes the segment; it stays until the store's last commit covers it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.writing) await new Promise<void>((resolve) => (this.drained = resolve));
    const active = this.active;
    this.active = undefined;
    if (active) {
      await active.handle.close().catch(() => undefined);
      this.sealed.push({ file: active.file, lastSeq: active.lastSeq });
    }
  }

  /** At open: every record of every segment to the store's replay(); answers how many are newer than `committed`. The old segments become sealed. */
  replayInto(store: TimeSeriesStore, committed: number): number {
    const files = readdirSync(this.options.dir).filter((f) => SEGMENT.test(f)).sort();
    let last = committed;
    let replayed = 0;
    for (const name of files) {
      const file = join(this.options.dir, name);
      const first = Number(SEGMENT.exec(name)?.[1]);
      let lastSeq = first - 1;
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (line === '') return;
        const record = decode(line);
        if (!record) {
          this.log.warn({ file, line: i + 1, last: i === lines.length - 1 }, 'write-ahead log: an unreadable record (a write torn by a crash; it was never acknowledged) skipped');
          return;
        }
        lastSeq = Math.max(lastSeq, record.seq);
        // Every record goes to replay(): the embedded store skips what it committed, InfluxDB takes all again.
        store.replay?.(record.seq, record.points);
        if (record.seq > committed) replayed++;
      });
      last = Math.max(last, lastSeq);
      this.sealed.push({ file, lastSeq });
    }
    // Numbering goes on above the store's mark even if the log's files were lost, so no new record looks committed.
    this.seq = last;
    this.figures.replayed = replayed;
    // The old segments go with the next commit (store/open.ts may still have to pass records on to InfluxDB).
    return replayed;
  }

  /** Starts the segment this run appends to. */
  async begin(): Promise<void> {
    const file = join(this.options.dir, `${String(this.seq + 1).padStart(16, '0')}.wal`);
    // O_DSYNC: each write returns once its data is on disk, one thread-pool round trip instead of write + fdatasync.
    const handle = await open(file, this.dsync ? constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC : 'a');
    this.active = { file, handle, bytes: 0, lastSeq: this.seq };
    this.broken = false;
    if (this.sync) await syncDirectory(this.options.dir);
  }

  /** The group-commit loop: one write and one fdatasync for everything pending, again while more arrived meanwhile. */
  private async writeGroups(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const lines = this.pending;
        const waiters = this.waiters;
        const lastSeq = this.seq;
        this.pending = [];
        this.waiters = [];
        let failure: Error | undefined;
        try {
          // No segment (its start failed), a torn one, or a full one: the group goes to a new file.
          if (!this.active || this.broken || this.active.bytes >= this.segmentBytes) await this.rotate();
          const active = this.active as NonNullable<typeof this.active>;
          const data = Buffer.from(`${lines.join('\n')}\n`);
          for (let at = 0; at < data.length; ) at += (await active.handle.write(data, at, data.length - at)).bytesWritten;
          if (this.sync && !this.dsync) await active.handle.datasync();
          active.bytes += data.length;
          active.lastSeq = lastSeq;
          this.figures.groups++;
        } catch (err) {
          failure = wfError('WAL_WRITE', (err as Error).message);
          this.broken = true;
          this.figures.failures++;
          this.log.error({ err: (err as Error).message, records: lines.length }, 'write-ahead log write failed: those publishes are refused, not acknowledged');
        }
        for (const w of waiters) {
          try {
            w(failure);
          } catch (err) {
            this.log.error({ err: (err as Error).message }, 'a write-ahead log waiter failed');
          }
        }
      }
    } finally {
      this.writing = false;
      this.drained?.();
      this.drained = undefined;
    }
  }

  /** Seals the active segment and starts the next one, named by the next record it will hold. */
  private async rotate(): Promise<void> {
    const old = this.active;
    if (old) {
      this.active = undefined;
      await old.handle.close().catch(() => undefined);
      this.sealed.push({ file: old.file, lastSeq: old.lastSeq });
    }
    await this.begin();
  }
}

/** The compact form when the points share device, time and tags (one MQTT message), else the points as they are. */
function encode(seq: number, points: readonly Point[]): WalRecord {
  const first = points[0];
  if (first && points.every((p) => p.device === first.device && p.ts === first.ts && p.tags === first.tags)) {
    const m: Record<string, number> = {};
    for (const p of points) m[p.metric] = p.value;
    return { s: seq, d: first.device, t: first.ts, g: first.tags ?? {}, m };
  }
  return { s: seq, p: [...points] };
}

function decode(line: string): { seq: number; points: Point[] } | undefined {
  let r: WalRecord;
  try {
    r = JSON.parse(line) as WalRecord;
  } catch {
    return undefined;
  }
  if (typeof r !== 'object' || r === null || typeof r.s !== 'number') return undefined;
  if ('p' in r) return Array.isArray(r.p) ? { seq: r.s, points: r.p } : undefined;
  if (typeof r.d !== 'string' || typeof r.t !== 'number' || typeof r.m !== 'object' || r.m === null) return undefined;
  const tags = r.g ?? {};
  return { seq: r.s, points: Object.entries(r.m).map(([metric, value]) => ({ device: r.d, metric, ts: r.t, value, tags })) };
}

/** A new file's name is durable only once its directory is synced (fsync(2), "NOTES"). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
