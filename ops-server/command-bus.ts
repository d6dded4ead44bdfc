/**
 * How device commands reach the broker and their answers come back, without a network hop: an
 * in-process publish and subscription on the embedded aedes broker (ingest does not subscribe to
 * `.../result`, so this module does).
 */

/** Publishes a command and listens for answers. */
export interface CommandBus {
  publish(topic: string, payload: string): Promise<void>;
  /** Subscribes `filter`; resolves with the function that unsubscribes. */
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}

interface InProcessPacket {
  topic: string;
  payload: Buffer | string;
}

/** The part of an aedes broker this module uses (structural, so ops-server does not import broker/). */
export interface AedesLike {
  publish(packet: { cmd: 'publish'; topic: string; payload: Buffer; qos: 0 | 1 | 2; retain: boolean; dup: boolean }, done: (err?: Error) => void): void;
  subscribe(topic: string, deliver: (packet: InProcessPacket, cb: () => void) => void, done: () => void): void;
  unsubscribe(topic: string, deliver: (packet: InProcessPacket, cb: () => void) => void, done: () => void): void;
}

/** A CommandBus over an in-process aedes broker. */
export function aedesCommandBus(aedes: AedesLike): CommandBus {
  return {
    publish: (topic, payload) =>
      new Promise((resolve, reject) => {
        // QoS 1: a device subscribed with QoS 1 gets it even across a brief reconnect [MQTT-4.3.2].
        aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve()));
      }),
    subscribe: (filter, onMessage) =>
      new Promise((resolve) => {
        const deliver = (packet: InProcessPacket, cb: () => void): void => {
          try {
            onMessage(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
          } finally {
            cb();
          }
        };
        aedes.subscribe(filter, deliver, () => resolve(() => new Promise<void>((r) => aedes.unsubscribe(filter, deliver, r))));
      }),
  };
}
