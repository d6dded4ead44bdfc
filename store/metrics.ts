import { Counter, Gauge, type Registry } from 'prom-client';
import type { TimeSeriesStore } from './types.ts';

/** Registers the store's own figures on the product's /metrics: disk use, series, refusals by reason. */
export function registerStoreMetrics(registry: Registry, store: TimeSeriesStore): void {
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
