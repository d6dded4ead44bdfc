/** The time-series store: one interface, its embedded engine (DuckDB under the data directory) and the InfluxDB writer. */
export type {
  Aggregation,
  CommitLog,
  GroupRangeQuery,
  LatestValue,
  RangeBucket,
  RangeQuery,
  SeriesDeletion,
  SeriesInfo,
  SeriesLimitEvent,
  SeriesSelector,
  StoreStats,
  TimeSeriesStore,
} from './types.ts';
export { openEmbeddedStore, DATABASE_FILE, type EmbeddedStoreOptions, type EmbeddedTimeSeriesStore, type MaintenanceReport } from './embedded/index.ts';
export { MAX_BUCKETS, AGGREGATIONS } from './range.ts';
export { defaultTiers, chooseTier, type TierOptions, type TierName } from './tiers.ts';
export { registerStoreMetrics, registerWriteAheadLogMetrics } from './metrics.ts';
export { openStore, type StoreSurroundings } from './open.ts';
export { parseInfluxQL, executeInfluxQL, InfluxQLSyntaxError, measurementOf, chunkResults, type StatementResult } from './influxql/index.ts';
export { DEFAULT_QUERY_LIMITS, QueryBudget, QueryLimitError, statementCapError, stringifyResults, treeDepthError, type QueryLimits } from './influxql/index.ts';
export { startInfluxWriter, BATCH_LINES, type InfluxWriter, type InfluxWriterOptions, type InfluxWriterStats } from './influx/index.ts';
export { toLine, InfluxReader, notReadOnly, type InfluxReaderOptions, type InfluxQueryReply } from './influx/index.ts';
export { openWriteAheadLog, WriteAheadLog, type WriteAheadLogOptions, type WriteAheadLogStats } from './wal.ts';
export { openLogStore, LogsConfig, registerLogStoreMetrics, LOG_DATABASE_FILE, LOG_DROP_REASONS, type LogStore, type LogStoreOptions, type LogFilters, type LogSearch, type LogSearchResult, type LogHistogram, type StoredLog, type ExportFormat } from './logs/index.ts';
