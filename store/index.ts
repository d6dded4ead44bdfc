/** The time-series store: one interface, and its embedded engine (DuckDB under the data directory). */
export type { Aggregation, LatestValue, RangeBucket, RangeQuery, StoreStats, TimeSeriesStore } from './types.ts';
export { openEmbeddedStore, DATABASE_FILE, type EmbeddedStoreOptions } from './embedded.ts';
export { MAX_BUCKETS } from './range.ts';
