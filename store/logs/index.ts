/** The log store: syslog lines in their own DuckDB file, a full-text token index, retention, search, histogram, export. */
export {
  openLogStore,
  LOG_DATABASE_FILE,
  LOG_DROP_REASONS,
  MAX_HISTOGRAM_BUCKETS,
  type HistogramQuery,
  type LogDropReason,
  type LogHistogram,
  type LogSearch,
  type LogSearchResult,
  type LogStore,
  type LogStoreOptions,
  type LogStoreStats,
} from './store.ts';
export { LogsConfig, type LogsConfigInput } from './config.ts';
export type { LogFilters } from './query.ts';
export type { StoredLog } from './schema.ts';
export { CSV_COLUMNS, EXPORT_FORMATS, csvCell, type ExportFormat } from './export.ts';
export { addTokens, parseTextQuery, queryTokens, tokenHash, type TextQuery } from './tokens.ts';
export { registerLogStoreMetrics } from './metrics.ts';
