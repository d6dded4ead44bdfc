import { Counter, type Registry } from 'prom-client';
import type { DropReason } from './pipeline.ts';
import type { MqttIngest } from './ingest.ts';

/*
 * Every drop reason, so one that never happened reads 0 rather than being absent (absent series make
 * rate() and alerting on `increase(...) > 0` miss the first one). DropReason is a type: keyed by it,
 * this Record makes tsc fail here when a reason is added there and not here.
 */
const DROP_REASONS = Object.keys({
  invalid_json: true, invalid_telemetry: true, invalid_event: true, invalid_status: true, unknown_device: true, invalid_logs: true, invalid_check_report: true,
} satisfies Record<DropReason, true>);

/** Registers ingest's figures on a Prometheus registry: messages seen, values accepted, drops by reason. */
export function registerIngestMetrics(registry: Registry, ingest: MqttIngest): void {
  // Running totals kept by ingest: the counter is set to the tally at scrape time (prom-client counters have no set()).
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } });
  };
  new Counter({
    name: 'watchfloor_ingest_dropped_total', help: 'MQTT messages dropped by ingest, by reason', labelNames: ['reason'], registers: [registry],
    collect() {
      this.reset();
      for (const reason of DROP_REASONS) this.inc({ reason }, 0);
      for (const [reason, n] of ingest.stats.dropped) this.inc({ reason }, n);
    },
  });
  counter('watchfloor_ingest_messages_total', 'MQTT messages seen by ingest', () => ingest.stats.messages);
  counter('watchfloor_ingest_values_total', 'metric values accepted by ingest', () => ingest.stats.values);
  counter('watchfloor_ingest_log_lines_total', 'log lines accepted by ingest (logs/{collector} messages)', () => ingest.stats.logLines);
  counter('watchfloor_ingest_log_lines_invalid_total', 'log lines left out of a logs/{collector} message as not log lines', () => ingest.stats.logLinesInvalid);
}
