/**
 * Flap detection after Nagios: the share of state changes over the last `window` evaluations,
 * with hysteresis (enter at `high`, leave at `low`). The history is a bit field in one number
 * (1 = firing), so recording an evaluation allocates nothing.
 */
export interface FlapPolicy {
  /** Evaluations remembered, 2..30. */
  window: number;
  /** Enter flapping at this share of changes (0..1). */
  high: number;
  /** Leave flapping at or under this share. */
  low: number;
}

export const DEFAULT_FLAP: FlapPolicy = { window: 20, high: 0.3, low: 0.1 };

/** Appends one evaluation (firing or not) to the history bits. */
export const recordBit = (bits: number, firing: boolean, window: number): number => ((bits << 1) | (firing ? 1 : 0)) & ((1 << window) - 1);

function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v !== 0; v &= v - 1) c++;
  return c;
}

/** The share of changes between neighbouring evaluations among the last `seen` (at most `window`). */
export function changeShare(bits: number, seen: number, window: number): number {
  const n = Math.min(seen, window);
  if (n < 2) return 0;
  const pairs = n - 1;
  return popcount((bits ^ (bits >>> 1)) & ((1 << pairs) - 1)) / pairs;
}

/** Whether a series is flapping after this evaluation, given whether it was before. */
export function isFlapping(policy: FlapPolicy, wasFlapping: boolean, bits: number, seen: number): boolean {
  if (seen < policy.window) return wasFlapping;
  const share = changeShare(bits, seen, policy.window);
  return wasFlapping ? share > policy.low : share >= policy.high;
}
