/**
 * Counter arithmetic for interface octets (RFC 2863 §3.1.5, RFC 2578 §7.1.6/§7.1.10): a counter only
 * grows, wraps at 2^32 or 2^64, and its value has no meaning on its own, only its change does.
 */

export interface CounterSample {
  /** The raw counter value. */
  value: bigint;
  /** When it was read (ms). */
  ts: number;
  /** 32 or 64 bit. */
  bits: 32 | 64;
  /** ifCounterDiscontinuityTime (TimeTicks) or the sysUpTime the sample was read under; a change means the counter restarted. */
  epoch?: number;
}

export type RateResult =
  | { ok: true; perSecond: number; wrapped: boolean }
  | { ok: false; reason: 'first' | 'reset' | 'discontinuity' | 'no_time' | 'implausible' };

/**
 * The per-second rate between two samples of one counter. A 32-bit counter that goes down wrapped when
 * the wrapped delta is plausible (below `maxPerSecond`, or the old value was in the top half); otherwise the
 * counter was reset (agent restart, `clear counters`) and there is no rate this time. A 64-bit counter
 * cannot wrap within a poll at any real speed, so it going down is always a reset.
 */
export function counterRate(prev: CounterSample | undefined, cur: CounterSample, maxPerSecond?: number): RateResult {
  if (!prev) return { ok: false, reason: 'first' };
  const seconds = (cur.ts - prev.ts) / 1000;
  if (!(seconds > 0)) return { ok: false, reason: 'no_time' };
  if (prev.epoch !== undefined && cur.epoch !== undefined && prev.epoch !== cur.epoch) return { ok: false, reason: 'discontinuity' };
  if (prev.bits !== cur.bits) return { ok: false, reason: 'discontinuity' };
  let delta = cur.value - prev.value;
  let wrapped = false;
  if (delta < 0n) {
    if (cur.bits === 64) return { ok: false, reason: 'reset' };
    const modulus = 1n << 32n;
    const wrappedDelta = cur.value + modulus - prev.value;
    const plausible = maxPerSecond !== undefined ? Number(wrappedDelta) / seconds <= maxPerSecond : prev.value >= modulus / 2n;
    if (!plausible) return { ok: false, reason: 'reset' };
    delta = wrappedDelta;
    wrapped = true;
  }
  const perSecond = Number(delta) / seconds;
  // A rate beyond what the link can carry is a counter jump (agent bug, missed discontinuity), not traffic.
  if (maxPerSecond !== undefined && maxPerSecond > 0 && perSecond > maxPerSecond * 1.05) return { ok: false, reason: 'implausible' };
  return { ok: true, perSecond, wrapped };
}
