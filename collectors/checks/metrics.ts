import { Counter, Gauge, type Registry } from 'prom-client';
import type { ChecksCollector } from './collector.ts';

/** Registers the checks collector's figures: checks scheduled, probes run, failed and timed out, results published, scheduling lag. */
export function registerCheckMetrics(registry: Registry, checks: ChecksCollector): void {
  const stats = () => checks.checks?.stats;
  // Running totals kept by the scheduler: the counter is set to the tally at scrape time (prom-client counters have no set()).
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } });
  };
  new Gauge({ name: 'watchfloor_service_checks', help: 'service checks scheduled by the checks collector', registers: [registry], collect() { this.set(checks.load.checks); } });
  new Gauge({ name: 'watchfloor_service_checks_in_flight', help: 'service check probes running now', registers: [registry], collect() { this.set(checks.load.active); } });
  counter('watchfloor_service_check_probes_total', 'service check probes run', () => stats()?.runs ?? 0);
  counter('watchfloor_service_check_failures_total', 'service check probes that failed', () => stats()?.failures ?? 0);
  counter('watchfloor_service_check_timeouts_total', 'service check probes stopped by their timeout', () => stats()?.timeouts ?? 0);
  counter('watchfloor_service_check_results_published_total', 'service check results published on services/{id}/checks/{key}', () => checks.published);
  new Gauge({
    name: 'watchfloor_service_check_lag_p99_seconds', help: '99th percentile of how late the recent service check probes started against their planned time',
    registers: [registry], collect() { this.set((checks.checks?.lagQuantile(0.99) ?? 0) / 1000); },
  });
}
