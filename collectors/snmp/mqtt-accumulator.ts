import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../core/index.ts';
import type { Accumulator } from '../registry.ts';

export interface MqttAccumulatorOptions {
  brokerUrl: string;
  username?: string;
  password?: string;
  clientId: string;
  logger: Logger;
}

/** An accumulator that publishes onto the broker as a collector account (ARCHITECTURE.md, MQTT topics). */
export interface MqttAccumulator extends Accumulator {
  readonly published: number;
  close(): Promise<void>;
}

/** Connects to the broker as a collector account; resolves once connected, rejects on refusal. */
export function connectMqttAccumulator(o: MqttAccumulatorOptions): Promise<MqttAccumulator> {
  return new Promise((resolve, reject) => {
    const client: MqttClient = mqtt.connect(o.brokerUrl, { username: o.username, password: o.password, clientId: o.clientId, reconnectPeriod: 1000, connectTimeout: 5000 });
    let published = 0;
    let connected = false;
    const send = (topic: string, body: string, retain = false): void => {
      published++;
      client.publish(topic, body, { qos: 0, retain });
    };
    client.once('connect', () => {
      connected = true;
      resolve({
        get published() {
          return published;
        },
        telemetry: (device, ts, metrics) => send(`devices/${device}/telemetry`, JSON.stringify({ ts, metrics })),
        event: (device, event) => send(`devices/${device}/events`, JSON.stringify(event)),
        status: (device, status) => send(`devices/${device}/status`, status, true),
        close: () => new Promise<void>((r) => client.end(false, {}, () => r())),
      });
    });
    client.on('error', (err) => {
      if (!connected) {
        client.end(true);
        reject(err);
      } else o.logger.warn({ err: err.message, clientId: o.clientId }, 'collector MQTT connection error');
    });
  });
}
