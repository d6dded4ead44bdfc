import mqtt, { type MqttClient } from 'mqtt';
import type { Logger, MqttConfig } from '../core/index.ts';

/** A message as in-process subscribers receive it. */
export interface BusPacket {
  topic: string;
  payload: Buffer | string;
}

/** Publish and subscribe as aedes offers them in-process, so ingest, commands and alerts run over either broker. */
export interface MqttBus {
  publish(packet: { cmd: 'publish'; topic: string; payload: Buffer; qos: 0 | 1 | 2; retain: boolean; dup: boolean }, done: (err?: Error) => void): void;
  subscribe(filter: string, deliver: (packet: BusPacket, done: () => void) => void, done: (err?: Error) => void): void;
  unsubscribe(filter: string, deliver: (packet: BusPacket, done: () => void) => void, done: () => void): void;
}

/** The product's link to an external broker (Mosquitto, EMQX): one MQTT client. */
export interface ExternalBroker extends MqttBus {
  readonly url: string;
  readonly connected: boolean;
  close(): Promise<void>;
}

export type ExternalBrokerConfig = NonNullable<MqttConfig['external']>;

/** `$share/{group}/{filter}` [MQTT-5 4.8.2]: the filter that messages are matched against is the part after the group. */
function plainFilter(filter: string): string {
  return filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter;
}

/** Does `topic` match the subscription `filter` [MQTT-4.7.1]? Wildcards at the first level never match `$` topics [MQTT-4.7.2-1]. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Connects to an external broker and offers it as an MqttBus. Resolves once connected; rejects when the
 * first attempt is refused or times out (wrong URL or credentials stop start-up); later drops reconnect.
 */
export function connectExternalBroker(cfg: ExternalBrokerConfig, logger: Logger, timeoutMs = 10_000): Promise<ExternalBroker> {
  const client: MqttClient = mqtt.connect(cfg.url, {
    username: cfg.username,
    password: cfg.password,
    clientId: cfg.clientId ?? `watchfloor-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: timeoutMs,
  });
  const where = new URL(cfg.url);
  const shown = `${where.protocol}//${where.host}`; // never the credentials
  const listeners = new Map<string, Set<(packet: BusPacket, done: () => void) => void>>();
  client.on('message', (topic, payload) => {
    for (const [filter, set] of listeners) {
      if (!topicMatches(plainFilter(filter), topic)) continue;
      for (const deliver of set) deliver({ topic, payload }, () => undefined);
    }
  });

  const bus: ExternalBroker = {
    url: shown,
    get connected() {
      return client.connected;
    },
    publish(packet, done) {
      client.publish(packet.topic, packet.payload, { qos: packet.qos, retain: packet.retain }, (err) => done(err ?? undefined));
    },
    subscribe(filter, deliver, done) {
      const known = listeners.get(filter);
      if (known) {
        known.add(deliver);
        return done();
      }
      listeners.set(filter, new Set([deliver]));
      // mqtt.js renews the subscriptions after a reconnect (resubscribe), as a clean session needs.
      client.subscribe(filter, { qos: 1 }, (err, granted) => {
        const refused = granted?.find((g) => g.qos === 128);
        if (err || refused) {
          listeners.delete(filter);
          return done(new Error(`external broker ${shown} refused the subscription to ${filter}${err ? `: ${err.message}` : ''}`));
        }
        done();
      });
    },
    unsubscribe(filter, deliver, done) {
      const set = listeners.get(filter);
      set?.delete(deliver);
      if (!set || set.size > 0) return done();
      listeners.delete(filter);
      if (!client.connected) return done();
      client.unsubscribe(filter, () => done());
    },
    close: () => client.endAsync().then(() => undefined, () => undefined),
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no answer from ${shown} within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      client.end(true);
      reject(new Error(`external MQTT broker ${shown}: ${err.message}`));
    };
    client.once('error', fail);
    client.once('connect', () => {
      clearTimeout(timer);
      client.off('error', fail);
      logger.info({ broker: shown }, 'mqtt: connected to the external broker');
      client.on('error', (err) => logger.warn({ broker: shown, err: err.message }, 'mqtt: external broker error'));
      client.on('offline', () => logger.warn({ broker: shown }, 'mqtt: external broker unreachable; reconnecting'));
      client.on('connect', () => logger.info({ broker: shown }, 'mqtt: reconnected to the external broker'));
      resolve(bus);
    });
  });
}
