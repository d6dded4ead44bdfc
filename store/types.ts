import type { Point } from '../core/index.ts';

export type Aggregation = 'mean' | 'min' | 'max' | 'last';

export interface LatestValue {
  device: string;
  metric: string;
  ts: number;
  value: number;
  tags: Record<string, string>;
}

/** Points with `from <= ts <= to`, grouped in buckets of `stepMs` aligned to multiples of the step. */
export interface RangeQuery {
  device: string;
  metric: string;
  from: number;
  to: number;
  stepMs: number;
  agg: Aggregation;
}

/** One per step from `from` (aligned down to the step) to `to`; `value` is null where the bucket holds no data. */
export interface RangeBucket {
  ts: number;
  value: number | null;
}

export interface StoreStats {
  /** Points on disk, written since this store was opened. */
  written: number;
  /** Points accepted but not yet on disk (queued or being written). */
  pending: number;
  /** Series (device + metric) known, from disk and from writes. */
  series: number;
  /** Points refused: a non-finite value, a bad timestamp or device/metric, a closed store, or a full queue. */
  dropped: number;
}

export interface TimeSeriesStore {
  /** Queues points (synchronous, cheap: this is on the ingest hot path at 100k+ values/s); durable after the next flush. */
  write(points: readonly Point[]): void;
  /** Writes everything queued so far; resolves when it is on disk. */
  flush(): Promise<void>;
  /** Latest value per series, filtered by device and/or metric (both optional); served from memory, synchronous. */
  latest(selector?: { device?: string; metric?: string }): LatestValue[];
  /** Buckets from disk (points still queued are not seen until the next flush); rejects a bad query with WF_ERR_BAD_REQUEST. */
  range(q: RangeQuery): Promise<RangeBucket[]>;
  stats(): StoreStats;
  /** Flushes and closes; idempotent. */
  close(): Promise<void>;
}
