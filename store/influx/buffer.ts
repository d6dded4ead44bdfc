/*
 * The bounded on-disk buffer in front of InfluxDB: lines go to numbered segment files (one per persist,
 * append-only, never rewritten), are sent oldest segment first, and a segment is deleted only once all
 * its lines are acknowledged. A restart replays what is left, in order; a line sent twice after a crash
 * overwrites itself (InfluxDB keeps one value per series and timestamp), so replay is harmless.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { appendFile, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

const SEGMENT = /^(\d{12})\.lp$/;

export class DiskBuffer {
  private pending: string[] = [];
  private pendingBytes = 0;
  /** Segment ids on disk, oldest first, with their sizes. */
  private readonly segments = new Map<number, number>();
  private nextId = 1;
  private onDisk = 0;
  dropped = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir).sort()) {
      const m = SEGMENT.exec(f);
      if (!m) continue;
      const id = Number(m[1]);
      const size = statSync(join(dir, f)).size;
      this.segments.set(id, size);
      this.onDisk += size;
      this.nextId = Math.max(this.nextId, id + 1);
    }
  }

  /** Bytes held: on disk and not yet persisted. */
  get bytes(): number {
    return this.onDisk + this.pendingBytes;
  }

  get segmentCount(): number {
    return this.segments.size;
  }

  /** Takes lines in memory (synchronous); beyond the bound the newest lines are refused and counted, the buffered ones kept. */
  append(lines: readonly string[]): void {
    for (const line of lines) {
      const size = line.length + 1;
      if (this.bytes + size > this.maxBytes) {
        this.dropped++;
        continue;
      }
      this.pending.push(line);
      this.pendingBytes += size;
    }
  }

  /** The persist in progress: a later call waits for it, or it would answer "on disk" while that write is still going on. */
  private persisting: Promise<void> = Promise.resolve();

  /** Writes the lines taken so far into a new segment file (written aside, then renamed, so a crash leaves no half segment). */
  persist(): Promise<void> {
    const run = this.persisting.then(() => this.persistNow());
    this.persisting = run.catch(() => undefined);
    return run;
  }

  private async persistNow(): Promise<void> {
    if (this.pending.length === 0) return;
    const lines = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const id = this.nextId++;
    const file = this.file(id);
    try {
      await appendFile(`${file}.tmp`, `${lines.join('\n')}\n`);
      await rename(`${file}.tmp`, file);
    } catch (err) {
      this.pending = lines.concat(this.pending);
      this.pendingBytes += bytes;
      throw err;
    }
    this.segments.set(id, bytes);
    this.onDisk += bytes;
  }

  /** The oldest segment's id, if any. */
  oldest(): number | undefined {
    for (const id of this.segments.keys()) return id;
    return undefined;
  }

  /** The newest segment's id, if any. */
  newest(): number | undefined {
    let last: number | undefined;
    for (const id of this.segments.keys()) if (last === undefined || id > last) last = id;
    return last;
  }

  async read(id: number): Promise<string[]> {
    const text = await readFile(this.file(id), 'utf8');
    return text.split('\n').filter((l) => l !== '');
  }

  async remove(id: number): Promise<void> {
    await rm(this.file(id), { force: true });
    this.onDisk -= this.segments.get(id) ?? 0;
    this.segments.delete(id);
  }

  private file(id: number): string {
    return join(this.dir, `${String(id).padStart(12, '0')}.lp`);
  }
}
