import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../core/index.ts';

/** How soon an event added is on disk: a burst is written in one append. */
const FLUSH_MS = 200;

/**
 * Recent events (device events, security events), newest last, bounded so a chatty source cannot
 * grow memory without end. With a file they outlive a restart (a SOC analyst's evidence must not
 * vanish with an upgrade): each event is appended as a JSON line within FLUSH_MS, the last
 * `capacity` are read back at start, and the file is rewritten to those whenever it holds twice as
 * many, so it stays bounded too.
 */
export class EventLog<E extends { ts: number }> {
  private readonly events: E[] = [];
  private pending: string[] = [];
  private linesInFile = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly capacity = 10_000,
    private readonly file?: string,
    private readonly logger?: Logger,
  ) {
    if (file) this.load(file);
  }

  add(event: E): void {
    this.events.push(event);
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    if (!this.file) return;
    this.pending.push(JSON.stringify(event));
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  /** Events that pass `keep` and are not older than `since`, newest first. */
  query(keep: (e: E) => boolean, since?: number, limit = 1000): E[] {
    const out: E[] = [];
    for (let i = this.events.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.events[i] as E;
      if (since !== undefined && e.ts < since) continue;
      if (keep(e)) out.push(e);
    }
    return out;
  }

  /** Writes what is pending; called at stop. */
  close(): void {
    this.flush();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.file || this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    try {
      if (this.linesInFile + lines.length > 2 * this.capacity) {
        // Everything worth keeping is in memory: write just that, aside, then swap it in.
        const tmp = `${this.file}.tmp`;
        writeFileSync(tmp, this.events.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
        renameSync(tmp, this.file);
        this.linesInFile = this.events.length;
      } else {
        appendFileSync(this.file, `${lines.join('\n')}\n`, { mode: 0o600 });
        this.linesInFile += lines.length;
      }
    } catch (err) {
      // Kept in memory still; the next flush tries again with these lines first.
      this.pending = lines.concat(this.pending);
      this.logger?.error({ err: (err as Error).message, file: this.file }, 'events: could not write the event log; kept in memory');
    }
  }

  private load(file: string): void {
    mkdirSync(dirname(file), { recursive: true });
    if (!existsSync(file)) return;
    let skipped = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      this.linesInFile++;
      try {
        const e = JSON.parse(line) as E;
        if (typeof e?.ts === 'number') this.events.push(e);
        else skipped++;
      } catch {
        skipped++; // a line cut short by a crash mid-write; the others still count
      }
    }
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    if (skipped) this.logger?.warn({ file, skipped }, 'events: skipped unreadable lines of the event log');
  }
}
