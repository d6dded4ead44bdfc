/*
 * InfluxQL functions over points, as InfluxDB 1.x computes them (query/functions.go, query/call_iterator.go):
 * aggregates and selectors over one bucket's points, and the transformations over a sequence of points.
 * A selector answers the point it picked (its time, InfluxDB's "selector" functions); an aggregate a value.
 */

/** A point of one bucket or one sequence: time (epoch ms) and value. */
export interface Pt {
  t: number;
  v: number;
}

/** What a reducer answers: a value, and for a selector the time of the point it selected. */
export interface Reduced {
  v: number;
  t?: number;
}

/** Selectors answered here (top() and bottom() alone in a SELECT, by select.ts); sample() is not (refused by name). */
export const SELECTORS = new Set(['first', 'last', 'min', 'max', 'percentile', 'top', 'bottom']);
export const AGGREGATE_FUNCTIONS = new Set(['count', 'mean', 'sum', 'median', 'mode', 'spread', 'stddev', 'integral', 'distinct', ...SELECTORS]);
export const TRANSFORM_FUNCTIONS = new Set(['derivative', 'non_negative_derivative', 'difference', 'non_negative_difference', 'moving_average', 'cumulative_sum', 'elapsed']);
export const MATH_FUNCTIONS: Record<string, (x: number, arg?: number) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  // Go's math.Round: half away from zero.
  round: (x) => Math.sign(x) * Math.round(Math.abs(x)),
  sqrt: Math.sqrt,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  exp: Math.exp,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  pow: (x, y = 1) => x ** y,
  log: (x, b = Math.E) => Math.log(x) / Math.log(b),
};

/** Points sorted by value, ties by time (InfluxDB's sort for median, percentile and mode). */
const byValue = (pts: Pt[]): Pt[] => [...pts].sort((a, b) => a.v - b.v || a.t - b.t);

/**
 * One bucket's points (in time order) reduced by an aggregate or selector; undefined when the bucket
 * yields nothing (no points, a percentile out of range, stddev of one point).
 */
export function reduce(name: string, pts: Pt[], args: number[], bucket: { start: number; end: number }): Reduced | undefined {
  if (pts.length === 0) return name === 'count' ? undefined : undefined;
  switch (name) {
    case 'count':
      return { v: pts.length };
    case 'sum':
      return { v: pts.reduce((a, p) => a + p.v, 0) };
    case 'mean':
      // InfluxDB's FloatMeanReducer: a running sum divided by the count.
      return { v: pts.reduce((a, p) => a + p.v, 0) / pts.length };
    case 'first':
      return pick(pts, (p, best) => p.t < best.t);
    case 'last':
      return pick(pts, (p, best) => p.t >= best.t);
    case 'max':
      return pick(pts, (p, best) => p.v > best.v || (p.v === best.v && p.t < best.t));
    case 'min':
      return pick(pts, (p, best) => p.v < best.v || (p.v === best.v && p.t < best.t));
    case 'spread': {
      let lo = Infinity;
      let hi = -Infinity;
      for (const p of pts) {
        lo = Math.min(lo, p.v);
        hi = Math.max(hi, p.v);
      }
      return { v: hi - lo };
    }
    case 'median': {
      const s = byValue(pts);
      const n = s.length;
      const mid = Math.floor(n / 2);
      return { v: n % 2 === 1 ? (s[mid] as Pt).v : ((s[mid - 1] as Pt).v + (s[mid] as Pt).v) / 2 };
    }
    case 'mode': {
      // The most frequent value; on a tie the smallest (the first met in value order).
      const s = byValue(pts);
      let best = (s[0] as Pt).v;
      let bestN = 0;
      for (let i = 0; i < s.length; ) {
        let j = i;
        while (j < s.length && (s[j] as Pt).v === (s[i] as Pt).v) j++;
        if (j - i > bestN) {
          bestN = j - i;
          best = (s[i] as Pt).v;
        }
        i = j;
      }
      return { v: best };
    }
    case 'stddev': {
      if (pts.length < 2) return undefined;
      const mean = pts.reduce((a, p) => a + p.v, 0) / pts.length;
      const sq = pts.reduce((a, p) => a + (p.v - mean) ** 2, 0);
      return { v: Math.sqrt(sq / (pts.length - 1)) };
    }
    case 'percentile': {
      const n = args[0] ?? 50;
      const s = byValue(pts);
      const i = Math.floor((s.length * n) / 100 + 0.5) - 1;
      if (i < 0 || i >= s.length) return undefined;
      const p = s[i] as Pt;
      return { v: p.v, t: p.t };
    }
    case 'integral':
      return { v: integral(pts, args[0] ?? 1000, bucket) };
  }
  return undefined;
}

function pick(pts: Pt[], better: (p: Pt, best: Pt) => boolean): Reduced {
  let best = pts[0] as Pt;
  for (let i = 1; i < pts.length; i++) if (better(pts[i] as Pt, best)) best = pts[i] as Pt;
  return { v: best.v, t: best.t };
}

/** The area under the points by the trapezoid rule, in value x unit (query/functions.go FloatIntegralReducer). */
function integral(pts: Pt[], unitMs: number, _bucket: { start: number; end: number }): number {
  let area = 0;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1] as Pt;
    const b = pts[i] as Pt;
    if (b.t === a.t) continue;
    area += ((a.v + b.v) / 2) * ((b.t - a.t) / unitMs);
  }
  return area;
}

/**
 * A transformation over a sequence of points (in time order, nulls already dropped): derivative,
 * difference, moving_average, cumulative_sum, elapsed. Answers only the points InfluxDB emits.
 */
export function transformPoints(name: string, pts: Pt[], arg: number | undefined): Pt[] {
  const out: Pt[] = [];
  switch (name) {
    case 'derivative':
    case 'non_negative_derivative': {
      const unit = arg ?? 1000;
      for (let i = 1; i < pts.length; i++) {
        const a = pts[i - 1] as Pt;
        const b = pts[i] as Pt;
        if (b.t === a.t) continue;
        const d = (b.v - a.v) / ((b.t - a.t) / unit);
        if (name === 'non_negative_derivative' && d < 0) continue;
        out.push({ t: b.t, v: d });
      }
      return out;
    }
    case 'difference':
    case 'non_negative_difference':
      for (let i = 1; i < pts.length; i++) {
        const d = (pts[i] as Pt).v - (pts[i - 1] as Pt).v;
        if (name === 'non_negative_difference' && d < 0) continue;
        out.push({ t: (pts[i] as Pt).t, v: d });
      }
      return out;
    case 'moving_average': {
      const n = arg ?? 1;
      let sum = 0;
      for (let i = 0; i < pts.length; i++) {
        sum += (pts[i] as Pt).v;
        if (i >= n) sum -= (pts[i - n] as Pt).v;
        if (i >= n - 1) out.push({ t: (pts[i] as Pt).t, v: sum / n });
      }
      return out;
    }
    case 'cumulative_sum': {
      let sum = 0;
      for (const p of pts) out.push({ t: p.t, v: (sum += p.v) });
      return out;
    }
    case 'elapsed': {
      const unit = arg ?? 1e-6;
      for (let i = 1; i < pts.length; i++) out.push({ t: (pts[i] as Pt).t, v: Math.trunc(((pts[i] as Pt).t - (pts[i - 1] as Pt).t) / unit) });
      return out;
    }
  }
  return out;
}

/**
 * integral() per time bucket as InfluxDB's FloatIntegralReducer runs it over the whole sequence: when a
 * point falls past its bucket, the value at the boundary is interpolated, the bucket closed with the
 * area up to it, and the next bucket starts from that boundary point. Buckets without points answer null.
 */
export function integralBuckets(per: Pt[][], starts: number[], step: number, unitMs: number): (number | null)[] {
  const out: (number | null)[] = starts.map(() => null);
  let prev: Pt | undefined;
  let open = -1;
  let sum = 0;
  per.forEach((pts, i) => {
    for (const p of pts) {
      if (prev && open >= 0 && i !== open) {
        const end = (starts[open] as number) + step;
        const at = prev.v + ((p.v - prev.v) * (end - prev.t)) / (p.t - prev.t);
        sum += ((prev.v + at) / 2) * ((end - prev.t) / unitMs);
        out[open] = sum;
        sum = 0;
        prev = { t: end, v: at };
      }
      open = i;
      if (prev && p.t !== prev.t) sum += ((prev.v + p.v) / 2) * ((p.t - prev.t) / unitMs);
      prev = p;
    }
  });
  if (open >= 0) out[open] = sum;
  return out;
}

/** How many buckets before the range a transformation reads, as InfluxDB extends the query. */
export function lookBehind(name: string, arg: number | undefined): number {
  // influxd 1.6 shifts the start by one interval for every transformation but cumulative_sum (moving_average too, whatever its N).
  void arg;
  return name === 'cumulative_sum' ? 0 : 1;
}
