import { Counter, Gauge, type Registry } from 'prom-client';
import type { TimeSeriesStore } from './types.ts';

/**
 * Registers the store's own figures on the product's /metrics: disk use, series, refusals by reason,
 * and with `store: influxdb` the writer's (sent, buffered, dropped for lack of buffer, set aside as refused).
 */
export function registerStoreMetrics(registry: Registry, store: TimeSeriesStore): void {
  const influx = (name: string, help: string, read: (s: NonNullable<ReturnType<TimeSeriesStore['stats']>['influxdb']>) => number): void => {
    if (!store.stats().influxdb) return;
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const s = store.stats().influxdb;
        if (s) this.set(read(s));
      },
    });
  };
  influx('watchfloor_influxdb_sent_points_total', 'lines InfluxDB has taken', (s) => s.sent);
  influx('watchfloor_influxdb_buffered_bytes', 'bytes waiting in the on-disk buffer for InfluxDB', (s) => s.bufferedBytes);
  influx('watchfloor_influxdb_dropped_points_total', 'lines dropped because the on-disk buffer was full', (s) => s.dropped);
  influx('watchfloor_influxdb_rejected_points_total', 'lines InfluxDB refused for good, set aside in influxdb-buffer/rejected/', (s) => s.rejected);
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
      for (const [reason, n] of Object.entries(store.stats().refused ?? {})) this.inc({ reason }, n);
    },
  });
}
