import { Counter, Gauge, type Registry } from 'prom-client';
import type { TimeSeriesStore } from './types.ts';
import type { WriteAheadLogStats } from './wal.ts';

type InfluxStats = NonNullable<ReturnType<TimeSeriesStore['stats']>['influxdb']>;

/**
 * Why the store refuses a point (StoreStats.refused), each exported from the first scrape at 0 so an
 * alert on `increase(watchfloor_store_refused_total[5m]) > 0` sees the first refusal of a kind.
 */
export const STORE_REFUSAL_REASONS = ['invalid', 'too_old', 'future', 'tags', 'cardinality', 'full', 'closed'] as const;

/**
 * Registers the store's own figures on the product's /metrics: disk use, series, refusals by reason,
 * and with `store: influxdb` the writer's (sent, buffered, dropped for lack of buffer, set aside as refused).
 * Running totals are counters set to the store's tally at scrape time (prom-client counters have no set()).
 */
export function registerStoreMetrics(registry: Registry, store: TimeSeriesStore): void {
  new Counter({ name: 'watchfloor_store_written_total', help: 'points written to the time-series store', registers: [registry], collect() { this.reset(); this.inc(store.stats().written); } });
  new Gauge({ name: 'watchfloor_store_pending', help: 'points queued for the next store flush', registers: [registry], collect() { this.set(store.stats().pending); } });
  const influx = store.stats().influxdb !== undefined;
  const influxCounter = (name: string, help: string, read: (s: InfluxStats) => number): void => {
    if (!influx) return;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const s = store.stats().influxdb;
        this.reset();
        this.inc(s ? read(s) : 0);
      },
    });
  };
  influxCounter('watchfloor_influxdb_sent_points_total', 'lines InfluxDB has taken', (s) => s.sent);
  if (influx) {
    new Gauge({
      name: 'watchfloor_influxdb_buffered_bytes',
      help: 'bytes waiting in the on-disk buffer for InfluxDB',
      registers: [registry],
      collect() {
        this.set(store.stats().influxdb?.bufferedBytes ?? 0);
      },
    });
  }
  influxCounter('watchfloor_influxdb_dropped_points_total', 'lines dropped because the on-disk buffer was full', (s) => s.dropped);
  influxCounter('watchfloor_influxdb_rejected_points_total', 'lines InfluxDB refused for good, set aside in influxdb-buffer/rejected/', (s) => s.rejected);
  new Gauge({
    name: 'watchfloor_store_disk_bytes',
    help: 'bytes of the time-series store on disk',
    registers: [registry],
    collect() {
      this.set(store.stats().diskBytes ?? 0);
    },
  });
  new Gauge({
    name: 'watchfloor_store_series',
    help: 'series known to the time-series store',
    registers: [registry],
    collect() {
      this.set(store.stats().series);
    },
  });
  new Counter({
    name: 'watchfloor_store_refused_total',
    help: 'points refused by the time-series store, by reason (invalid, too_old, future, tags, cardinality, full, closed)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const reason of STORE_REFUSAL_REASONS) this.inc({ reason }, 0);
      for (const [reason, n] of Object.entries(store.stats().refused ?? {})) this.inc({ reason }, n);
    },
  });
}

/** Registers the ingest write-ahead log's figures (wal.ts): records and group commits, failures, replayed records, segments on disk. */
export function registerWriteAheadLogMetrics(registry: Registry, wal: { stats(): WriteAheadLogStats }): void {
  const counter = (name: string, help: string, read: (s: WriteAheadLogStats) => number): void => {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read(wal.stats())); } });
  };
  const gauge = (name: string, help: string, read: (s: WriteAheadLogStats) => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read(wal.stats())); } });
  };
  counter('watchfloor_wal_records_total', 'telemetry records appended to the ingest write-ahead log (each a QoS 1 publish made durable)', (s) => s.appended);
  counter('watchfloor_wal_group_commits_total', 'synced writes of the write-ahead log (one per group of records)', (s) => s.groups);
  counter('watchfloor_wal_failures_total', 'write-ahead log writes that failed; their publishes were refused, not acknowledged', (s) => s.failures);
  gauge('watchfloor_wal_replayed', 'records read back from the write-ahead log into the store at start', (s) => s.replayed);
  gauge('watchfloor_wal_segments', 'write-ahead log segment files on disk, not yet covered by a store commit', (s) => s.segments);
}
