/**
 * Seeded randomness as pure functions of (seed, key, time): the same inputs give the same value
 * on every run and in every process, so a test can ask for the reading at any instant without
 * replaying the ones before it.
 */

/** A uniform number in [0, 1) that depends only on the seed, a key (a device id, a metric) and an integer step. */
export function hash01(seed: number, key: string, step = 0): number {
  // FNV-1a over the key, then the step's two 32-bit halves, then murmur3's finaliser for avalanche.
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (step >>> 0), 16777619);
  h = Math.imul(h ^ Math.floor(step / 4294967296), 16777619);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** A number in [-1, 1) for the key; a fixed per-device bias. */
export const signed = (seed: number, key: string, step = 0): number => hash01(seed, key, step) * 2 - 1;

/**
 * A smooth random walk in [-1, 1]: random knots every `periodMs`, joined by cosine easing, so the
 * value wanders like a real room temperature instead of jumping between samples.
 */
export function smoothWalk(seed: number, key: string, t: number, periodMs: number): number {
  const x = t / periodMs;
  const k = Math.floor(x);
  const ease = (1 - Math.cos(Math.PI * (x - k))) / 2;
  const a = signed(seed, key, k);
  return a + (signed(seed, key, k + 1) - a) * ease;
}

/** Slow drift in [-1, 1]: a 40-minute walk with a 9-minute one on top. */
export function drift(seed: number, key: string, t: number): number {
  return 0.7 * smoothWalk(seed, key, t, 40 * 60_000) + 0.3 * smoothWalk(seed, `${key}#fast`, t, 9 * 60_000);
}

/** Measurement noise in [-1, 1): a new value every second of time. */
export const jitter = (seed: number, key: string, t: number): number => signed(seed, `${key}#noise`, Math.floor(t / 1000));
