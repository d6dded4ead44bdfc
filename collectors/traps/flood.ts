/*
 * A trap flood must not become an event flood: 5,000 datagrams with a wrong community made 4,368
 * security events and could push real evidence out of the bounded history. So refusals are coalesced
 * per (type, source) and window: the first few of a window go out at once (enough for every shipped
 * count rule to fire as before: snmp-auth-failures needs 3), the rest are counted, and one summary
 * event per window says how many there were. A window that ends quiet closes, so the next refusal
 * from that source is reported at once again.
 */
import type { Clock, SecurityEvent } from '../../core/index.ts';

export interface FloodOptions {
  /** Window length; 60 s by default. */
  windowMs?: number;
  /** Events of one (type, source) passed at once per window before counting starts; 5 by default. */
  burst?: number;
  /** Distinct (type, source) windows kept; beyond it, sources share one "*" window (spoofed-source floods). */
  maxKeys?: number;
}

interface Window {
  start: number;
  passed: number;
  suppressed: number;
  /** The newest suppressed event, the template of the summary. */
  last?: SecurityEvent;
}

/** Coalesces repeated security events of one type from one source into a few events and one summary per window. */
export class SecurityEventFlood {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly clock: Clock,
    private readonly emit: (e: SecurityEvent) => void,
    o: FloodOptions = {},
  ) {
    this.windowMs = o.windowMs ?? 60_000;
    this.burst = o.burst ?? 5;
    this.maxKeys = o.maxKeys ?? 1024;
    // Checked a few times per window, so a summary is at most a quarter window late.
    this.timer = setInterval(() => this.flush(), Math.max(10, Math.floor(this.windowMs / 4)));
    this.timer.unref();
  }

  /** Reports an event now (true), or counts it into its window's summary (false). */
  report(e: SecurityEvent): boolean {
    const now = this.clock.now();
    let key = `${e.type}\u0000${e.source ?? ''}`;
    if (!this.windows.has(key) && this.windows.size >= this.maxKeys) {
      key = `${e.type}\u0000*`;
      e = { ...e, source: '*' };
    }
    let w = this.windows.get(key);
    if (w && now - w.start >= this.windowMs) {
      this.close(key, w, now);
      w = this.windows.get(key);
    }
    if (!w) {
      w = { start: now, passed: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    if (w.passed < this.burst) {
      w.passed++;
      this.emit(e);
      return true;
    }
    w.suppressed++;
    w.last = e;
    return false;
  }

  /** Ends every window past its length: a summary for those that counted, and closes the quiet ones. */
  flush(now = this.clock.now(), all = false): void {
    for (const [key, w] of [...this.windows]) if (all || now - w.start >= this.windowMs) this.close(key, w, now);
  }

  private close(key: string, w: Window, now: number): void {
    if (w.suppressed === 0 || !w.last) {
      this.windows.delete(key);
      return;
    }
    const e = w.last;
    const seconds = Math.round((now - w.start) / 1000);
    const from = e.source === '*' ? 'many sources' : (e.source ?? 'an unknown source');
    this.emit({ ...e, ts: now, detail: `${w.suppressed} more like this from ${from} in the last ${seconds} s (a flood, summarized): ${e.detail ?? e.type}`.slice(0, 2048) });
    // The flood goes on: a new window that passes nothing at once, only counts.
    this.windows.set(key, { start: now, passed: this.burst, suppressed: 0 });
  }

  /** Stops the timer; what was counted so far still goes out as summaries. */
  stop(): void {
    clearInterval(this.timer);
    this.flush(this.clock.now(), true);
    this.windows.clear();
  }
}
