/*
 * Log lines to MQTT messages: a JSON array of LogLines per message on `logs/{collector}`, at most
 * `maxLines` lines, `maxBytes` bytes (under the broker's maxPayloadBytes, which would refuse the
 * message and count it against the collector) or `maxDelayMs` of waiting, whichever comes first.
 */
import type { LogLine } from '../../core/index.ts';

export interface LogBatcherOptions {
  maxLines: number;
  maxDelayMs: number;
  maxBytes: number;
  send(payload: string, lines: number): void;
}

/** Longest message text kept when one line alone is over `maxBytes` (the rest is cut and marked). */
const CUT_MESSAGE = 16 * 1024;

export class LogBatcher {
  private parts: string[] = [];
  private bytes = 2;
  private timer: NodeJS.Timeout | undefined;
  /** Lines cut to fit one message. */
  cut = 0;

  constructor(private readonly o: LogBatcherOptions) {}

  add(line: LogLine): void {
    let json = JSON.stringify(line);
    let size = Buffer.byteLength(json);
    if (size + 2 > this.o.maxBytes) {
      // Only a line over 64 KiB of escapes and fields gets here: its text is kept in part, not lost.
      this.cut++;
      json = JSON.stringify({ ...line, message: line.message.slice(0, CUT_MESSAGE), fields: { 'watchfloor.cut': 'true' } });
      size = Buffer.byteLength(json);
    }
    if (this.parts.length > 0 && this.bytes + size + 1 > this.o.maxBytes) this.flush();
    this.parts.push(json);
    this.bytes += size + 1;
    if (this.parts.length >= this.o.maxLines) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.o.maxDelayMs);
      this.timer.unref();
    }
  }

  /** Sends what waits now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.parts.length === 0) return;
    const payload = `[${this.parts.join(',')}]`;
    const n = this.parts.length;
    this.parts = [];
    this.bytes = 2;
    this.o.send(payload, n);
  }
}
