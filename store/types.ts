import type { Point } from '../core/index.ts';

export type Aggregation = 'mean' | 'min' | 'max' | 'last' | 'sum' | 'count';

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
  /** The refused points by reason (their sum is `dropped`): invalid, too_old, future, tags, cardinality, full, closed. */
  refused?: Readonly<Record<string, number>>;
  /** Bytes of the store's files on disk. */
  diskBytes?: number;
  /** With `store: influxdb`: the writer's figures. */
  influxdb?: { sent: number; bufferedBytes: number; segments: number; dropped: number; failures: number; rejected: number };
}

/** A series as listed: its key, its tags and its latest value when it has one. */
export interface SeriesInfo {
  device: string;
  metric: string;
  tags: Readonly<Record<string, string>>;
}

/** Which series: every condition given must hold; `tags` compares each named tag for equality. */
export interface SeriesSelector {
  device?: string;
  metric?: string;
  tags?: Record<string, string>;
}

/** Raw points of several series over one range. */
export interface PointsQuery {
  series: ReadonlyArray<{ device: string; metric: string }>;
  from: number;
  to: number;
  signal?: AbortSignal;
}

/** One series' points as columns, in time order. */
export interface PointColumns {
  ts: Float64Array;
  value: Float64Array;
}

/** Several series aggregated together per group, in buckets as in RangeQuery (one answer per group). */
export interface GroupRangeQuery {
  groups: ReadonlyArray<ReadonlyArray<{ device: string; metric: string }>>;
  from: number;
  to: number;
  stepMs: number;
  agg: Aggregation;
  /** Buckets start at multiples of the step plus this (InfluxQL GROUP BY time(step, offset)); default 0. */
  offsetMs?: number;
  /** Aborted when the asker gives up (a /query past its deadline): the store stops the query if it can. */
  signal?: AbortSignal;
}

export interface TimeSeriesStore {
  /** Queues points (synchronous, cheap: this is on the ingest hot path at 100k+ values/s); durable after the next flush. */
  write(points: readonly Point[]): void;
  /** Writes everything queued so far; resolves when it is on disk. */
  flush(): Promise<void>;
  /** Latest value per series, filtered by device and/or metric (both optional); served from memory, synchronous. */
  latest(selector?: { device?: string; metric?: string }): LatestValue[];
  /** Buckets from disk (points still queued are not seen until the next flush); rejects a bad query with a BAD_REQUEST error (core/errors.ts). */
  range(q: RangeQuery): Promise<RangeBucket[]>;
  /** Several series over one range in one query, grouped (InfluxQL GROUP BY, dashboards); unknown series count as empty. */
  rangeGroups(q: GroupRangeQuery): Promise<RangeBucket[][]>;
  /**
   * The raw points of each series with `from <= ts <= to`, in time order (InfluxQL raw selects, selectors,
   * functions that need every point); an unknown series has none. Points past raw retention are gone.
   */
  points?(q: PointsQuery): Promise<PointColumns[]>;
  /** The series known to the store that match the selector (from memory, synchronous). */
  series(selector?: SeriesSelector): SeriesInfo[];
  stats(): StoreStats;
  /**
   * With `store: influxdb` only: sends InfluxQL (SELECT and SHOW only) to the configured InfluxDB's /query and
   * answers its status and body as they came; the ops server's /query proxies through it.
   */
  influxql?(q: string, epoch?: string): Promise<{ status: number; body: unknown }>;
  /**
   * Ties a write-ahead log to the store: each commit records `log.head()` as read when its batch was
   * taken, in the same transaction as the points, and then reports it to `log.committed()`. Answers the
   * newest record already committed (0 for none).
   */
  attachLog?(log: CommitLog): Promise<number>;
  /** A record read back from the write-ahead log at start: written as write() would, unless this store already committed it. */
  replay?(seq: number, points: readonly Point[]): void;
  /**
   * Deletes every series of a device and all their points, in every tier (a device removed with
   * `dropSeries=true`). Points queued before the call are deleted too; points written after it start
   * new series. Resolves with what was deleted.
   */
  deleteSeries?(selector: { device: string }): Promise<SeriesDeletion>;
  /** Flushes and closes; idempotent. */
  close(): Promise<void>;
}

/** What deleteSeries() removed. */
export interface SeriesDeletion {
  device: string;
  /** Series (device + metric) deleted. */
  series: number;
  /** Raw points deleted, when the store can count them (InfluxDB's delete answers no count). */
  points?: number;
  /** Rollup rows deleted (embedded store), when counted. */
  rollupRows?: number;
}

/** The store refused a point because it would create one series more than the limit (reported at most once a minute per device). */
export interface SeriesLimitEvent {
  /** When the store refused it (the store's clock). */
  ts: number;
  device: string;
  /** The metric of the refused point: the series that could not be created. */
  metric: string;
  /** Series known at the time (= the limit). */
  series: number;
  maxSeries: number;
  /** Points refused for the limit since the store opened. */
  refused: number;
}

/**
 * A write-ahead log in front of the store (store/wal.ts), as the store sees it. Its records are numbered;
 * a record is appended only after its points went through the store's write().
 */
export interface CommitLog {
  /** The newest record appended: its points, and every earlier record's, are in the store's queue (or were refused). */
  head(): number;
  /** Every record up to `seq` is committed with the store's points: the log may drop them. */
  committed(seq: number): void;
}
