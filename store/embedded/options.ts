/** The embedded store's options, their defaults, and what its writer, reader and maintenance share. */
import { wfError, type Clock, type Logger, type Point, type WatchfloorError } from '../../core/index.ts';
import type { TierName, TierOptions } from '../tiers.ts';
import type { CommitLog, SeriesDeletion, SeriesLimitEvent, TimeSeriesStore } from '../types.ts';

/** The database file inside the data directory. */
export const DATABASE_FILE = 'timeseries.duckdb';

/** Defaults stated once. */
export const defaults = {
  flushIntervalMs: 200,
  /** A minute at 100k values/s (~150 MB of queue), hours at the sample data center's rate: a disk broken longer costs points, never the process. */
  maxPendingPoints: 6_000_000,
  /** A failing disk is retried with backoff up to this interval. */
  maxRetryMs: 10_000,
  /** Rollups and retention run this often. */
  maintenanceIntervalMs: 60_000,
  /** The cardinality limit: series beyond it are refused and counted (a sensor fleet of 10k devices x 10 metrics fits). */
  maxSeries: 100_000,
  /** A timestamp this far ahead of the clock is a broken device clock, not data. */
  maxFutureMs: 3_600_000,
};

export interface EmbeddedStoreOptions {
  /** The data directory (WATCHFLOOR_DATA_DIR); created if missing. */
  dir: string;
  flushIntervalMs?: number;
  logger?: Logger;
  maxPendingPoints?: number;
  /** "now" for retention, rollups and the timestamp checks; default the system clock. */
  clock?: Clock;
  tiers?: Partial<TierOptions>;
  maxSeries?: number;
  maxFutureMs?: number;
  /** 0 turns the periodic maintenance off (tests call maintain()). */
  maintenanceIntervalMs?: number;
  /** Told when a point is refused for the series limit, at most once a minute per device (after the write returns). */
  onSeriesLimit?: (e: SeriesLimitEvent) => void;
}

/** What one maintenance pass did. */
export interface MaintenanceReport {
  /** Rollup rows written per tier. */
  rolledUp: Record<string, number>;
  /** Rows deleted by retention per tier. */
  deleted: Record<TierName, number>;
}

/** The embedded store: the store interface plus its maintenance pass (rollups, retention). */
export interface EmbeddedTimeSeriesStore extends TimeSeriesStore {
  /** Folds settled raw points into the rollup tiers and deletes what is past retention. */
  maintain(): Promise<MaintenanceReport>;
  attachLog(log: CommitLog): Promise<number>;
  replay(seq: number, points: readonly Point[]): void;
  deleteSeries(selector: { device: string }): Promise<SeriesDeletion>;
}

/** The options with every default filled in. */
export type Options = Required<Omit<EmbeddedStoreOptions, 'dir' | 'logger' | 'tiers' | 'onSeriesLimit'>> & { tiers: TierOptions; onSeriesLimit?: (e: SeriesLimitEvent) => void };

/** Where the store is in its life, as its parts see it: `closing` from close() on, `closed` once the native handles are gone. */
export interface Lifecycle {
  closing: boolean;
  closed: boolean;
}

/** Per rollup tier: everything before this time is in the rollup table. */
export type Watermarks = Map<string, number>;

export function closedError(): WatchfloorError {
  return wfError('STORE_CLOSED', 'time-series store');
}
