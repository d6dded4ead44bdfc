/*
 * The product's /metrics registry: prom-client's process and Node.js figures under their standard names,
 * the build, and every part's own counters and gauges. Checked by `promtool check metrics` in
 * test/metrics-promtool.test.ts: a running total is a counter (name ends in _total), a level is a gauge.
 */
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { REFUSAL_REASONS, registerBrokerMetrics, type Broker } from '../broker/index.ts';
import type { DropReason, MqttIngest } from '../collectors/index.ts';
import type { RuleEngine } from '../rules/index.ts';
import { registerStoreMetrics, type TimeSeriesStore, type WriteAheadLogStats } from '../store/index.ts';

/** What the registry reads at scrape time. */
export interface ProductFigures {
  ingest: MqttIngest;
  /** The embedded broker; absent with an external one. */
  broker?: Broker;
  store: TimeSeriesStore;
  rules: RuleEngine;
  /** Seconds spent evaluating rules on incoming values, and how many values. */
  ruleTime: { readonly seconds: number; readonly values: number };
  socketClients(): number;
  /** The ingest write-ahead log behind QoS 1 acknowledgements (store/wal.ts). */
  wal?: { stats(): WriteAheadLogStats };
}

/*
 * Every reason each labelled counter can carry, so a reason that never happened reads 0 rather than
 * being absent (absent series make rate() and alerting on `increase(...) > 0` miss the first one).
 * The broker lists its reasons (REFUSAL_REASONS); ingest's are a type, so a Record keyed by it makes
 * tsc fail here when a reason is added there and not here.
 */
const DROP_REASONS = Object.keys({
  invalid_json: true, invalid_telemetry: true, invalid_event: true, invalid_status: true, unknown_device: true,
} satisfies Record<DropReason, true>);

/*
 * prom-client's default metrics include nodejs_active_{handles,requests,resources}_total: gauges named as
 * counters, which promtool flags (prometheus/client_js#283, open and marked semver-major; 15.1.3, the
 * newest, still has them). They are dropped here: the same figures are the per-type gauges
 * nodejs_active_handles{type} etc., and sum(nodejs_active_handles) gives the total.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const packageVersion = (): string => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
};

/** A new registry holding every figure of the running product. */
export function productMetrics(figures: ProductFigures): Registry {
  const { ingest, broker, store, rules, ruleTime } = figures;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);

  // The *_build_info convention (value 1, facts as labels), as Prometheus' own exporters expose it.
  new Gauge({ name: 'watchfloor_build_info', help: 'Watchfloor build: its version and the Node.js version running it (value 1)', labelNames: ['version', 'node_version'], registers: [registry] })
    .set({ version: packageVersion(), node_version: process.version }, 1);

  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  };
  // Running totals kept by the parts themselves: the counter is set to the tally at scrape time
  // (prom-client counters have no set(), hence reset + inc).
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } });
  };
  const byReason = (name: string, help: string, known: readonly string[], read: () => Iterable<[string, number]>): void => {
    new Counter({
      name, help, labelNames: ['reason'], registers: [registry],
      collect() {
        this.reset();
        for (const reason of known) this.inc({ reason }, 0);
        for (const [reason, n] of read()) this.inc({ reason }, n);
      },
    });
  };

  byReason('watchfloor_ingest_dropped_total', 'MQTT messages dropped by ingest, by reason', DROP_REASONS, () => ingest.stats.dropped);
  // Only the embedded broker refuses anything; with an external one the counter is absent.
  if (broker) {
    byReason('watchfloor_mqtt_refused_total', 'MQTT connections, publishes and subscribes refused by the broker, by reason', REFUSAL_REASONS, () => broker.refusals);
    registerBrokerMetrics(registry, broker);
  }
  counter('watchfloor_ingest_messages_total', 'MQTT messages seen by ingest', () => ingest.stats.messages);
  counter('watchfloor_ingest_values_total', 'metric values accepted by ingest', () => ingest.stats.values);
  counter('watchfloor_store_written_total', 'points written to the time-series store', () => store.stats().written);
  gauge('watchfloor_store_pending', 'points queued for the next store flush', () => store.stats().pending);
  registerStoreMetrics(registry, store);
  gauge('watchfloor_alerts_firing', 'alerts firing now', () => rules.alerts({ state: 'firing' }).length);
  // Counters, so rate(seconds) / rate(values) gives the mean evaluation cost per value over any window.
  counter('watchfloor_rules_evaluation_seconds_total', 'time spent evaluating rules on incoming values', () => ruleTime.seconds);
  counter('watchfloor_rules_evaluated_values_total', 'incoming values evaluated by the rules', () => ruleTime.values);
  counter('watchfloor_rules_evaluation_errors_total', 'rule evaluations that threw and were skipped (logged; the product goes on)', () => rules.evaluationErrors);
  const wal = figures.wal;
  if (wal) {
    counter('watchfloor_wal_records_total', 'telemetry records appended to the ingest write-ahead log (each a QoS 1 publish made durable)', () => wal.stats().appended);
    counter('watchfloor_wal_group_commits_total', 'synced writes of the write-ahead log (one per group of records)', () => wal.stats().groups);
    counter('watchfloor_wal_failures_total', 'write-ahead log writes that failed; their publishes were refused, not acknowledged', () => wal.stats().failures);
    gauge('watchfloor_wal_replayed', 'records read back from the write-ahead log into the store at start', () => wal.stats().replayed);
    gauge('watchfloor_wal_segments', 'write-ahead log segment files on disk, not yet covered by a store commit', () => wal.stats().segments);
  }
  gauge('watchfloor_socketio_clients', 'connected socket.io clients', () => figures.socketClients());
  return registry;
}
