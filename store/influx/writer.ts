/*
 * Writes points to InfluxDB through `@influxdata/influxdb-client`'s v2 write API (`/api/v2/write`,
 * served by InfluxDB 2.x, 1.8+ and 3.x, and by VictoriaMetrics): batches of 5,000 lines, gzip above
 * 1 kB, retried with exponential backoff. The library's own retry buffer is off (maxRetries 0): the
 * retries are ours, over the on-disk buffer, so an outage of any length loses nothing up to the bound.
 * InfluxDB before 1.8 has no /api/v2/write (Debian's 1.6.7 answers 404): `api: 'v1'` posts the same
 * batches to 1.x's `/write?db=&rp=&precision=ms` instead.
 * A batch the server refuses for good (400 bad line protocol or a field type conflict, 413 too large,
 * 422 outside the retention policy) would block every later point if retried: it is set aside in
 * `rejected/` beside the buffer, with the server's answer, counted and logged, and the stream goes on.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InfluxDB, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import { createLogger, type Logger, type Point } from '../../core/index.ts';
import { DiskBuffer } from './buffer.ts';
import { toLine } from './line.ts';
import { authOf, baseOf, databaseOf } from './target.ts';

export interface InfluxWriterOptions {
  url: string;
  /** InfluxDB 2.x/3.x token, or "user:password" for 1.8's v2 compatibility API. */
  token?: string;
  org?: string;
  /** 2.x/3.x: the bucket; 1.x: "db" or "db/rp". */
  bucket: string;
  /** `v2` (default): /api/v2/write through the client library; `v1`: 1.x's /write. */
  api?: 'v2' | 'v1';
  /** The buffer's directory. */
  dir: string;
  maxBufferBytes?: number;
  logger?: Logger;
  /** How often lines are persisted and sent (default 1 s). */
  intervalMs?: number;
  /** The longest wait between two attempts while the database is down (default 30 s). */
  maxBackoffMs?: number;
}

export interface InfluxWriterStats {
  sent: number;
  bufferedBytes: number;
  segments: number;
  dropped: number;
  failures: number;
  /** Lines in batches the server refused for good, kept in `rejected/`. */
  rejected: number;
}

/** Lines per request: InfluxDB's recommended 5,000. */
export const BATCH_LINES = 5000;
/** Bodies above this many bytes are gzipped (the library's threshold too). */
const GZIP_BYTES = 1000;

/** Sends one batch of lines; resolves once the server has taken all of them. */
type SendBatch = (lines: string[]) => Promise<void>;

/** Statuses no retry changes: the batch itself is wrong for this database. */
const REFUSED_FOR_GOOD = new Set([400, 413, 422]);

/** An answer from the server that is not a success: its status and what it said. */
class WriteAnswer extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The HTTP status of a failed write (ours, or the client library's HttpError), if the server answered at all. */
const statusOf = (err: unknown): number | undefined => {
  const code = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
};

/** The v2 write API through `@influxdata/influxdb-client`. */
function v2Sender(options: InfluxWriterOptions): { send: SendBatch; close: () => Promise<void> } {
  const api: WriteApi = new InfluxDB({ url: options.url, token: options.token ?? '', timeout: 10_000 }).getWriteApi(options.org ?? '', options.bucket, 'ms', {
    batchSize: BATCH_LINES + 1,
    flushInterval: 0,
    maxRetries: 0,
    gzipThreshold: GZIP_BYTES,
  });
  return {
    send: async (lines) => {
      api.writeRecords(lines);
      await api.flush();
    },
    close: () => api.close(),
  };
}

/** InfluxDB 1.x's `/write` (docs.influxdata.com, "InfluxDB 1.x HTTP API", /write): 204 when every line is in. */
function v1Sender(options: InfluxWriterOptions): { send: SendBatch; close: () => Promise<void> } {
  const { db, rp } = databaseOf(options);
  const auth = authOf(options.token);
  const params = new URLSearchParams({ db, precision: 'ms', ...auth.params });
  if (rp !== undefined) params.set('rp', rp);
  const url = `${baseOf(options)}/write?${params}`;
  return {
    send: async (lines) => {
      const text = lines.join('\n');
      const gzip = Buffer.byteLength(text) > GZIP_BYTES;
      const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', ...auth.headers };
      if (gzip) headers['content-encoding'] = 'gzip';
      const r = await fetch(url, { method: 'POST', headers, body: gzip ? gzipSync(text) : text, signal: AbortSignal.timeout(10_000) });
      if (r.status !== 204) throw new WriteAnswer(r.status, `InfluxDB /write answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
    },
    close: async () => undefined,
  };
}

let loggerRouted = false;

/** Starts a writer that sends everything written to it, in order, surviving outages through its disk buffer. */
export function startInfluxWriter(options: InfluxWriterOptions): InfluxWriter {
  return new InfluxWriter(options);
}

export class InfluxWriter {
  private readonly buffer: DiskBuffer;
  private readonly api: { send: SendBatch; close: () => Promise<void> };
  private readonly log: Logger;
  private readonly loop: Promise<void>;
  private stopping = false;
  private wake: (() => void) | undefined;
  private sent = 0;
  private failures = 0;
  private rejected = 0;
  private readonly rejectedDir: string;
  private readonly intervalMs: number;
  private readonly maxBackoffMs: number;

  constructor(options: InfluxWriterOptions) {
    this.log = (options.logger ?? createLogger()).child({ component: 'influxdb-writer' });
    if (!loggerRouted) {
      // The library logs every failed attempt to the console; ours says it once per outage.
      setLogger({ error: () => undefined, warn: () => undefined });
      loggerRouted = true;
    }
    this.buffer = new DiskBuffer(options.dir, options.maxBufferBytes ?? 1024 ** 3);
    this.rejectedDir = join(options.dir, 'rejected');
    this.intervalMs = options.intervalMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.api = options.api === 'v1' ? v1Sender(options) : v2Sender(options);
    this.loop = this.run();
  }

  /** Takes points (synchronous, cheap); they reach the disk buffer within the interval. */
  write(points: readonly Point[]): void {
    const lines: string[] = [];
    for (const p of points) {
      const line = toLine(p);
      if (line !== undefined) lines.push(line);
    }
    this.buffer.append(lines);
  }

  /** Resolves once every point written before the call is in a buffer file (the ingest write-ahead log waits for it, store/open.ts). */
  persisted(): Promise<void> {
    return this.buffer.persist();
  }

  /**
   * Resolves true once every point written before the call has reached InfluxDB (a delete must come
   * after them, or they would bring the series back), false when that takes longer than `timeoutMs`.
   */
  async sentAll(timeoutMs: number): Promise<boolean> {
    await this.buffer.persist();
    const last = this.buffer.newest();
    const until = Date.now() + timeoutMs;
    this.wake?.();
    for (;;) {
      const oldest = this.buffer.oldest();
      if (last === undefined || oldest === undefined || oldest > last) return true;
      if (Date.now() >= until || this.stopping) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  stats(): InfluxWriterStats {
    return { sent: this.sent, bufferedBytes: this.buffer.bytes, segments: this.buffer.segmentCount, dropped: this.buffer.dropped, failures: this.failures, rejected: this.rejected };
  }

  /** Persists what is held and stops; unsent segments stay on disk and are sent by the next start. */
  async close(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await this.buffer.persist().catch((err: unknown) => this.log.error({ err }, 'persisting the InfluxDB buffer at close failed'));
    await this.api.close().catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.buffer.persist();
        const id = this.buffer.oldest();
        if (id === undefined) {
          await this.pause(this.intervalMs);
          continue;
        }
        await this.sendSegment(id);
      } catch (err) {
        this.failures++;
        const wait = Math.min(this.maxBackoffMs, 500 * 2 ** Math.min(this.failures, 16)) * (0.75 + Math.random() / 2);
        if (this.failures === 1) this.log.warn({ err: (err as Error).message, bufferedBytes: this.buffer.bytes }, 'InfluxDB write failed; points kept on disk and retried');
        await this.pause(wait);
      }
    }
  }

  private readonly progress = new Map<number, number>();

  /** Sends one segment in batches, remembering how far it got, and deletes it once every line is in. */
  private async sendSegment(id: number): Promise<void> {
    const lines = await this.buffer.read(id);
    let from = this.progress.get(id) ?? 0;
    while (from < lines.length) {
      if (this.stopping) return;
      const batch = lines.slice(from, from + BATCH_LINES);
      try {
        await this.api.send(batch);
        this.sent += batch.length;
      } catch (err) {
        const status = statusOf(err);
        if (status === undefined || !REFUSED_FOR_GOOD.has(status)) throw err;
        await this.setAside(`${String(id).padStart(12, '0')}-${from}.lp`, batch, status, err as Error);
      }
      from += batch.length;
      this.progress.set(id, from);
      if (this.failures > 0) this.log.info({ after: this.failures }, 'InfluxDB writes again; replaying the buffer');
      this.failures = 0;
    }
    this.progress.delete(id);
    await this.buffer.remove(id);
  }

  /**
   * Keeps a refused batch where an operator can read why and send it again by hand. InfluxDB 1.x
   * writes the good lines of a partly bad batch ("partial write"), so the file may hold lines that
   * are in the database too; sending them again is harmless (same series and time: overwritten).
   */
  private async setAside(name: string, batch: string[], status: number, err: Error): Promise<void> {
    const file = join(this.rejectedDir, name);
    const reason = err.message.replace(/\s+/g, ' ').slice(0, 500);
    await mkdir(this.rejectedDir, { recursive: true });
    await writeFile(file, `# InfluxDB answered ${status}: ${reason}\n${batch.join('\n')}\n`);
    this.rejected += batch.length;
    this.log.error({ status, reason, lines: batch.length, file }, 'InfluxDB refused a batch for good; set aside, not retried, later points go on');
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

