import { Counter, Gauge, type Registry } from 'prom-client';
import type { Broker } from './broker.ts';
import { REFUSAL_REASONS } from './refusals.ts';

/** Registers the broker's figures on a Prometheus registry: clients, messages and bytes in/out, refusals by reason. */
export function registerBrokerMetrics(registry: Registry, broker: Broker): void {
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  };
  gauge('watchfloor_mqtt_connected_clients', 'MQTT clients connected now', () => broker.connectedClients);
  // Counters read from the broker's own tallies at scrape time (prom-client counters only go up by inc).
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } });
  };
  counter('watchfloor_mqtt_messages_received_total', 'PUBLISH packets accepted from MQTT clients', () => broker.traffic().messagesIn);
  counter('watchfloor_mqtt_messages_sent_total', 'PUBLISH packets delivered to MQTT clients', () => broker.traffic().messagesOut);
  counter('watchfloor_mqtt_bytes_received_total', 'bytes read from MQTT connections (TCP and TLS)', () => broker.traffic().bytesIn);
  counter('watchfloor_mqtt_bytes_sent_total', 'bytes written to MQTT connections (TCP and TLS)', () => broker.traffic().bytesOut);
  // Every reason, so one that never happened reads 0 rather than being absent (rate() would miss the first one).
  new Counter({
    name: 'watchfloor_mqtt_refused_total', help: 'MQTT connections, publishes and subscribes refused by the broker, by reason', labelNames: ['reason'], registers: [registry],
    collect() {
      this.reset();
      for (const reason of REFUSAL_REASONS) this.inc({ reason }, 0);
      for (const [reason, n] of broker.refusals) this.inc({ reason }, n);
    },
  });
}
