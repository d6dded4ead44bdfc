/*
 * The product's /metrics registry: prom-client's process and Node.js figures under their standard names,
 * the build, and every part's own counters and gauges. Checked by `promtool check metrics` in
 * test/metrics-promtool.test.ts: a running total is a counter (name ends in _total), a level is a gauge.
 */
import { readFileSync } from 'node:fs';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { registerBrokerMetrics, type Broker } from '../broker/index.ts';
import { registerIngestMetrics, type EvaluationTime, type MqttIngest } from '../collectors/index.ts';
import { registerRuleMetrics, type RuleEngine } from '../rules/index.ts';
import { registerStoreMetrics, registerWriteAheadLogMetrics, type TimeSeriesStore, type WriteAheadLogStats } from '../store/index.ts';

/** What the registry reads at scrape time. */
export interface ProductFigures {
  ingest: MqttIngest;
  /** The embedded broker; absent with an external one. */
  broker?: Broker;
  store: TimeSeriesStore;
  rules: RuleEngine;
  /** Seconds spent evaluating rules on incoming values, and how many values (the ingest's evaluate step). */
  evaluationTime: Readonly<EvaluationTime>;
  socketClients(): number;
  /** The ingest write-ahead log behind QoS 1 acknowledgements (store/wal.ts). */
  wal?: { stats(): WriteAheadLogStats };
}

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

/** A new registry holding every figure of the running product: the defaults, then each part's own (registered next to what they measure). */
export function productMetrics(figures: ProductFigures): Registry {
  const { ingest, broker, store, rules } = figures;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);

  // The *_build_info convention (value 1, facts as labels), as Prometheus' own exporters expose it.
  new Gauge({ name: 'watchfloor_build_info', help: 'Watchfloor build: its version and the Node.js version running it (value 1)', labelNames: ['version', 'node_version'], registers: [registry] })
    .set({ version: packageVersion(), node_version: process.version }, 1);

  registerIngestMetrics(registry, ingest);
  // Only the embedded broker refuses anything; with an external one its figures are absent.
  if (broker) registerBrokerMetrics(registry, broker);
  registerStoreMetrics(registry, store);
  if (figures.wal) registerWriteAheadLogMetrics(registry, figures.wal);
  registerRuleMetrics(registry, rules, figures.evaluationTime);
  new Gauge({ name: 'watchfloor_socketio_clients', help: 'connected socket.io clients', registers: [registry], collect() { this.set(figures.socketClients()); } });
  return registry;
}
