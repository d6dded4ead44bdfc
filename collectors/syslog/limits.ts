/** The receiver's limits, stated once with their defaults, and the per-source token buckets. */

export interface SyslogLimits {
  /** Largest frame kept, bytes; a longer line is cut here and counted (`truncated`). RFC 5425 §4.3.1 asks receivers to take at least 2 KiB; rsyslog's default is 8 KiB. */
  maxFrameBytes: number;
  /** Sustained lines per second accepted from one source address. */
  ratePerSecond: number;
  /** Lines one source may send at once above the rate (the bucket's size). */
  burst: number;
  /** Lines waiting to be parsed and handed on; UDP beyond it is dropped (`queue_full`), TCP and TLS sockets are paused. */
  maxQueue: number;
  /** Open TCP and TLS connections in all. */
  maxConnections: number;
  /** Open TCP and TLS connections from one address. */
  maxConnectionsPerSource: number;
  /** A connection idle this long in the middle of a frame (an octet count never filled) is closed. */
  partialFrameTimeoutMs: number;
  /** A connection idle this long between frames is closed (senders reconnect). */
  idleTimeoutMs: number;
  /** Source addresses whose buckets are kept; beyond it the least recently seen is forgotten. */
  maxSources: number;
}

export const DEFAULT_SYSLOG_LIMITS: SyslogLimits = {
  maxFrameBytes: 64 * 1024,
  ratePerSecond: 50_000,
  burst: 100_000,
  maxQueue: 20_000,
  maxConnections: 2_000,
  maxConnectionsPerSource: 500,
  partialFrameTimeoutMs: 10_000,
  idleTimeoutMs: 15 * 60_000,
  maxSources: 10_000,
};

interface Bucket {
  tokens: number;
  at: number;
}

/** One token bucket per source address, bounded in number (least recently seen forgotten first). */
export class SourceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxSources: number,
  ) {}

  /** Takes one token for `source` at `now`; false when its bucket is empty. */
  take(source: string, now: number): boolean {
    let b = this.buckets.get(source);
    if (b) {
      this.buckets.delete(source); // re-inserted below: Map order is recency
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.rate) / 1000);
      b.at = now;
    } else {
      b = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxSources) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(source, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
