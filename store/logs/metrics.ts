import { Counter, Gauge, type Registry } from 'prom-client';
import { LOG_DROP_REASONS, type LogStore } from './store.ts';

/**
 * The log store's figures on the product's /metrics: lines stored, lines dropped by reason (each
 * reason exported from the first scrape at 0), lines waiting, bytes on disk.
 */
export function registerLogStoreMetrics(registry: Registry, store: LogStore): void {
  new Counter({
    name: 'watchfloor_log_store_lines_total',
    help: 'log lines written to the log store since start',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(store.stats().written);
    },
  });
  new Counter({
    name: 'watchfloor_log_store_dropped_total',
    help: 'log lines the log store dropped, by reason (invalid, too_old, queue_full, closed, write_failed)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      const dropped = store.stats().dropped;
      for (const reason of LOG_DROP_REASONS) this.inc({ reason }, dropped[reason]);
    },
  });
  new Gauge({
    name: 'watchfloor_log_store_pending_lines',
    help: 'log lines waiting for the disk',
    registers: [registry],
    collect() {
      this.set(store.stats().pending);
    },
  });
  new Gauge({
    name: 'watchfloor_log_store_disk_bytes',
    help: 'bytes of the log store on disk',
    registers: [registry],
    collect() {
      this.set(store.stats().diskBytes);
    },
  });
}
