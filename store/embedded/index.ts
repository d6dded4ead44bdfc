/** The embedded time-series store (DuckDB under the data directory): writer, reader and maintenance assembled in store.ts. */
export { openEmbeddedStore } from './store.ts';
export { DATABASE_FILE, type EmbeddedStoreOptions, type EmbeddedTimeSeriesStore, type MaintenanceReport } from './options.ts';
