import { badRequest } from '../core/index.ts';
import type { Aggregation, RangeBucket, RangeQuery } from './types.ts';

/** Enough for a year at one-minute steps; more would be a reply no chart can draw. */
export const MAX_BUCKETS = 600_000;

export const AGGREGATIONS: readonly Aggregation[] = ['mean', 'min', 'max', 'last', 'sum', 'count'];

/** Where the buckets of a query start and how many there are; `from`/`to` rounded to whole ms (ts on disk are integers). */
export interface BucketPlan {
  start: number;
  step: number;
  count: number;
  from: number;
  to: number;
}

/** Checks a query (it arrives from HTTP parameters) and lays out its buckets, or throws a BAD_REQUEST error (core/errors.ts) naming the field. */
export function planBuckets(q: RangeQuery): BucketPlan {
  if (typeof q.device !== 'string' || q.device === '') throw badRequest('device', 'device is required');
  if (typeof q.metric !== 'string' || q.metric === '') throw badRequest('metric', 'metric is required');
  return planSpan(q);
}

/** planBuckets without the series: the time span, step and aggregation of a query. */
export function planSpan(q: Omit<RangeQuery, 'device' | 'metric'> & { offsetMs?: number }): BucketPlan {
  if (!Number.isFinite(q.from)) throw badRequest('from', 'from is not an epoch-millisecond time');
  if (!Number.isFinite(q.to)) throw badRequest('to', 'to is not an epoch-millisecond time');
  if (q.to < q.from) throw badRequest('to', 'to is before from');
  if (!Number.isSafeInteger(q.stepMs) || q.stepMs < 1) throw badRequest('step', 'step is not a whole number of milliseconds >= 1');
  if (!AGGREGATIONS.includes(q.agg)) throw badRequest('agg', `agg is one of ${AGGREGATIONS.join(', ')}`);
  const from = Math.ceil(q.from);
  const to = Math.floor(q.to);
  const step = q.stepMs;
  // GROUP BY time(step, offset): buckets start at offset + k * step (the offset taken modulo the step, as InfluxDB does).
  const offset = (((q.offsetMs ?? 0) % step) + step) % step;
  if (!Number.isSafeInteger(offset)) throw badRequest('offset', 'offset is not a whole number of milliseconds');
  const start = Math.floor((from - offset) / step) * step + offset;
  const count = Math.floor((to - start) / step) + 1;
  if (count > MAX_BUCKETS) throw badRequest('step', `${count} buckets asked, at most ${MAX_BUCKETS}: use a larger step`);
  return { start, step, count: Math.max(count, 0), from, to };
}

/** The buckets of a plan, all empty; the engine fills in the ones that hold data. */
export function emptyBuckets(plan: BucketPlan): RangeBucket[] {
  return Array.from({ length: plan.count }, (_, i) => ({ ts: plan.start + i * plan.step, value: null }));
}
