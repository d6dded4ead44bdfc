/**
 * Availability from the stored check results: each check's `check_up` samples become a step function
 * (a sample holds until the next, or until it goes stale), the checks are merged (the service is down
 * while any check is down), maintenance windows are cut out, and time with no data is counted apart:
 * it is neither up nor down (Uptime Kuma and Zabbix leave it out the same way).
 */
import type { Service } from './schema.ts';
import { CHECK_METRICS, serviceCheckDevice } from './stored.ts';

/** Stored samples of one series with `from <= ts <= to`, in time order; `stepMs` when they are rolled-up buckets. */
export interface SampleColumns {
  ts: ArrayLike<number>;
  value: ArrayLike<number>;
  stepMs?: number;
}
/** Reads one series from the store (passed in: rules/ holds no store). */
export type ReadSamples = (device: string, metric: string, from: number, to: number) => Promise<SampleColumns>;

export type SegmentState = 'up' | 'down' | 'maintenance' | 'nodata';
/** A stretch of time in one state; `down` lists the check keys that were down. */
export interface Segment {
  from: number;
  to: number;
  state: SegmentState;
  down: string[];
}

export interface Incident {
  from: number;
  to: number;
  /** Still down at the end of the asked range. */
  ongoing: boolean;
  checks: string[];
  reason: string;
}

/** The answer of GET /services/{id}/availability. `availabilityPct` is null when no check result covers the range. */
export interface Availability {
  from: number;
  to: number;
  availabilityPct: number | null;
  downtimeSeconds: number;
  upSeconds: number;
  maintenanceSeconds: number;
  noDataSeconds: number;
  incidents: Incident[];
}

interface Window {
  from: number;
  to: number;
}

/** How long one sample speaks for: two intervals, the timeout and a minute of slack; at least two buckets when rolled up. */
export function staleAfterMs(check: { intervalSeconds: number; timeoutSeconds: number; retryIntervalSeconds?: number }, stepMs = 0): number {
  const every = Math.max(check.intervalSeconds, check.retryIntervalSeconds ?? 0) * 1000;
  return Math.max(2 * every + check.timeoutSeconds * 1000 + 60_000, 2 * stepMs);
}

/** The service's state over [from, to) from stored samples; `windows` are its maintenance windows (scheduled and ad hoc). */
export async function serviceTimeline(service: Service, from: number, to: number, read: ReadSamples, windows: readonly Window[]): Promise<Segment[]> {
  if (to <= from) return [];
  const perCheck = await Promise.all(
    service.checks.map(async (c) => {
      const lookback = staleAfterMs(c, 3_600_000);
      const cols = await read(serviceCheckDevice(service.id, c.key), CHECK_METRICS.up, from - lookback, to);
      return { key: c.key, spans: spansOf(cols, staleAfterMs(c, cols.stepMs ?? 0), from, to) };
    }),
  );
  const maint = windows.map((w) => ({ from: Math.max(w.from, from), to: Math.min(w.to, to) })).filter((w) => w.to > w.from);
  const cuts = new Set<number>([from, to]);
  for (const c of perCheck) for (const s of c.spans) cuts.add(s.from).add(s.to);
  for (const w of maint) cuts.add(w.from).add(w.to);
  const points = [...cuts].sort((a, b) => a - b);
  const cursor = perCheck.map(() => 0);
  const out: Segment[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i] as number;
    const b = points[i + 1] as number;
    let state: SegmentState = 'nodata';
    const down: string[] = [];
    if (maint.some((w) => w.from <= a && b <= w.to)) state = 'maintenance';
    else {
      perCheck.forEach((c, k) => {
        let j = cursor[k] as number;
        while (j < c.spans.length && (c.spans[j] as Span).to <= a) j++;
        cursor[k] = j;
        const s = c.spans[j];
        if (!s || s.from > a) return;
        if (s.up) {
          if (state === 'nodata') state = 'up';
        } else {
          state = 'down';
          down.push(c.key);
        }
      });
    }
    const last = out[out.length - 1];
    if (last && last.to === a && last.state === state && last.down.join() === down.join()) last.to = b;
    else out.push({ from: a, to: b, state, down });
  }
  return out;
}

interface Span {
  from: number;
  to: number;
  up: boolean;
}

/** One check's samples as spans clipped to [from, to): each holds until the next sample, at most `staleMs`. */
function spansOf(cols: SampleColumns, staleMs: number, from: number, to: number): Span[] {
  const spans: Span[] = [];
  for (let i = 0; i < cols.ts.length; i++) {
    const t = cols.ts[i] as number;
    const next = i + 1 < cols.ts.length ? (cols.ts[i + 1] as number) : Infinity;
    const end = Math.min(next, t + staleMs, to);
    const start = Math.max(t, from);
    if (end <= start) continue;
    const up = (cols.value[i] as number) >= 0.5;
    const last = spans[spans.length - 1];
    if (last && last.to === start && last.up === up) last.to = end;
    else spans.push({ from: start, to: end, up });
  }
  return spans;
}

/** Sums a timeline into the availability answer; `reasonOf` words an incident from the checks that were down. */
export function summarize(segments: readonly Segment[], from: number, to: number, reasonOf: (checks: string[]) => string): Availability {
  const ms: Record<SegmentState, number> = { up: 0, down: 0, maintenance: 0, nodata: 0 };
  const incidents: Incident[] = [];
  let open: Incident | undefined;
  for (const s of segments) {
    ms[s.state] += s.to - s.from;
    if (s.state === 'down') {
      if (open && open.to === s.from) {
        open.to = s.to;
        for (const c of s.down) if (!open.checks.includes(c)) open.checks.push(c);
      } else {
        open = { from: s.from, to: s.to, ongoing: false, checks: [...s.down], reason: '' };
        incidents.push(open);
      }
    } else open = undefined;
  }
  for (const inc of incidents) {
    inc.ongoing = inc.to >= to;
    inc.reason = reasonOf(inc.checks);
  }
  const covered = ms.up + ms.down;
  // With 30 s checks a month holds ~86,400 samples: four decimals is a tenth of a second a day.
  const pct = covered > 0 ? Math.round((ms.up / covered) * 100 * 10_000) / 10_000 : null;
  return {
    from,
    to,
    availabilityPct: pct,
    downtimeSeconds: Math.round(ms.down / 1000),
    upSeconds: Math.round(ms.up / 1000),
    maintenanceSeconds: Math.round(ms.maintenance / 1000),
    noDataSeconds: Math.round(ms.nodata / 1000),
    incidents,
  };
}

/** Availability per bucket (days for the status page) over `bounds` [b0, b1, ..., bn]; null where nothing was measured. */
export function bucketAvailability(segments: readonly Segment[], bounds: readonly number[]): { from: number; to: number; availabilityPct: number | null; downtimeSeconds: number }[] {
  const out: { from: number; to: number; availabilityPct: number | null; downtimeSeconds: number }[] = [];
  let j = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const a = bounds[i] as number;
    const b = bounds[i + 1] as number;
    let up = 0;
    let down = 0;
    while (j < segments.length && (segments[j] as Segment).to <= a) j++;
    for (let k = j; k < segments.length && (segments[k] as Segment).from < b; k++) {
      const s = segments[k] as Segment;
      const overlap = Math.min(s.to, b) - Math.max(s.from, a);
      if (overlap <= 0) continue;
      if (s.state === 'up') up += overlap;
      else if (s.state === 'down') down += overlap;
    }
    out.push({ from: a, to: b, availabilityPct: up + down > 0 ? Math.round((up / (up + down)) * 100 * 100) / 100 : null, downtimeSeconds: Math.round(down / 1000) });
  }
  return out;
}

/**
 * The store as a sample reader: raw points while the store keeps them, past that the minima of the
 * finest rollup that still holds `from` (a bucket with a down sample is a down bucket). The ages are
 * the embedded store's default tiers (store/tiers.ts): raw 7 days, 1 min 90 days, 5 min a year, then 1 h.
 */
export function samplesFromStore(
  store: {
    points?(q: { series: ReadonlyArray<{ device: string; metric: string }>; from: number; to: number }): Promise<{ ts: Float64Array; value: Float64Array }[]>;
    range(q: { device: string; metric: string; from: number; to: number; stepMs: number; agg: 'min' }): Promise<{ ts: number; value: number | null }[]>;
  },
  options: { now: () => number; rawRetentionMs?: number; tiers?: readonly { keptMs: number; stepMs: number }[] },
): ReadSamples {
  const raw = options.rawRetentionMs ?? 7 * DAY_MS;
  const tiers = options.tiers ?? ROLLED_TIERS;
  return async (device, metric, from, to) => {
    const age = options.now() - from;
    if (store.points && age <= raw - 60_000) {
      const [cols] = await store.points({ series: [{ device, metric }], from, to });
      return cols ?? { ts: [], value: [] };
    }
    const stepMs = (tiers.find((t) => age <= t.keptMs - t.stepMs) ?? tiers[tiers.length - 1] ?? { stepMs: 3_600_000 }).stepMs;
    const buckets = (await store.range({ device, metric, from, to, stepMs, agg: 'min' })).filter((b) => b.value !== null);
    return { ts: buckets.map((b) => b.ts), value: buckets.map((b) => b.value as number), stepMs };
  };
}

const DAY_MS = 86_400_000;
const ROLLED_TIERS = [
  { keptMs: 90 * DAY_MS, stepMs: 60_000 },
  { keptMs: 365 * DAY_MS, stepMs: 300_000 },
  { keptMs: 5 * 365 * DAY_MS, stepMs: 3_600_000 },
];
