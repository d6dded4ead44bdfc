import type { Aedes, Client } from 'aedes';
import type { Logger } from '../core/index.ts';
import type { MqttAccount } from './accounts.ts';

export interface ClientEvent {
  username: string;
  role: MqttAccount['role'];
  clientId: string;
  status: 'online' | 'offline';
  /**
   * Offline only: the last connection ended with the client's own DISCONNECT [MQTT-3.14]. The device
   * chose to leave (a sleeping sensor, a cron script, mosquitto_pub): it is not offline until its
   * reporting interval passes without data. False for a dropped socket or a keep-alive timeout.
   */
  left?: boolean;
}

export interface PresenceOptions {
  aedes: Aedes;
  /** The account each logged-in connection authenticated as. */
  accountOf: WeakMap<Client, MqttAccount>;
  /** Connections closed because the same client id connected again: not the device leaving. */
  takenOver: WeakSet<Client>;
  /** Publish device presence as the retained `devices/{id}/status`. */
  publish: boolean;
  onClient?: (event: ClientEvent) => void;
  logger: Logger;
}

export interface PresenceTracker {
  /** Turns a retained `online` of a device not connected now into `offline` (a broker alone on its disk, after a crash). */
  settle(retained: AsyncIterable<{ topic: string; payload: Buffer }>): Promise<void>;
  /** The broker stops: the devices connected here go offline with it (in a cluster they reconnect elsewhere and say online). */
  close(): Promise<void>;
}

/**
 * A device's presence follows its identity: online with its first connection, offline when its last
 * one drops. A clean DISCONNECT is the device leaving by choice, not going offline; a connection
 * closed by a takeover (the same client id again, here or on another broker) is not the device
 * leaving at all. Collectors and admins are reported per connection (the demo fleet watches for a
 * second simulator). Device presence is also published as the retained `devices/{id}/status`, so
 * every subscriber, and a product started later, reads it.
 */
export function trackPresence(o: PresenceOptions): PresenceTracker {
  const { aedes, accountOf, takenOver, logger } = o;
  const sessions = new Map<string, number>();
  const devicesOnline = new Set<string>();
  let closing = false;

  /** Presence writes of one device, in order: a clean leave must not overtake the "online" of the connection that left. */
  const statusWrites = new Map<string, Promise<void>>();
  const inOrder = (device: string, write: () => Promise<void>): Promise<void> => {
    const next = (statusWrites.get(device) ?? Promise.resolve()).then(write);
    statusWrites.set(device, next);
    void next.then(() => {
      if (statusWrites.get(device) === next) statusWrites.delete(device);
    });
    return next;
  };
  const publishStatus = (device: string, status: 'online' | 'offline'): Promise<void> =>
    inOrder(device, () => new Promise((resolve) => {
      aedes.publish({ cmd: 'publish', topic: `devices/${device}/status`, payload: Buffer.from(status), qos: 1, retain: true, dup: false }, (err) => {
        if (err) logger.warn({ device, status, err: err.message }, 'mqtt: could not publish presence');
        resolve();
      });
    }));
  /**
   * A device that left with DISCONNECT: its retained "online" is removed from the store without telling
   * subscribers anything (an empty retained payload deletes [MQTT-3.3.1-10]); it said nothing about being
   * offline. A restart then finds no "online" to turn into "offline", and a later subscriber reads no
   * status until the device is back.
   */
  const forgetStatus = (device: string): Promise<void> =>
    inOrder(device, async () => {
      const packet = { cmd: 'publish' as const, topic: `devices/${device}/status`, payload: Buffer.alloc(0), qos: 0 as const, retain: true, dup: false };
      try {
        await (aedes as unknown as { persistence: { storeRetained(p: typeof packet): Promise<void> } }).persistence.storeRetained(packet);
      } catch (err) {
        logger.warn({ device, err: (err as Error).message }, 'mqtt: could not clear presence');
      }
    });

  /** Connections counted in `sessions`: ready, and not disconnected since. */
  const counted = new WeakSet<Client>();
  aedes.on('clientReady', (client) => {
    const account = accountOf.get(client);
    if (!account) return;
    // aedes says ready only once the CONNACK's queue is sent; a connection dropped before that has had its
    // clientDisconnect already. Counted now, it would be a session that never ends (the device's next drop says nothing).
    if (client.closed) return;
    counted.add(client);
    const n = (sessions.get(account.username) ?? 0) + 1;
    sessions.set(account.username, n);
    if (n === 1 || account.role !== 'device') o.onClient?.({ username: account.username, role: account.role, clientId: client.id, status: 'online' });
    if (n === 1 && account.role === 'device') {
      devicesOnline.add(account.username);
      if (o.publish) void publishStatus(account.username, 'online');
    }
  });
  aedes.on('clientDisconnect', (client) => {
    const account = accountOf.get(client);
    if (!account) return;
    // Not ready yet: no session began, so none ends (its last will still says what it says).
    if (!counted.delete(client)) return;
    const n = (sessions.get(account.username) ?? 1) - 1;
    if (n > 0) sessions.set(account.username, n);
    else sessions.delete(account.username);
    const gone = n <= 0 && !(account.role === 'device' && takenOver.has(client));
    // [MQTT-3.14.4-3] aedes sets this only for a DISCONNECT packet; a dropped socket or keep-alive timeout leaves it false.
    const left = (client as unknown as { _disconnected?: boolean })._disconnected === true;
    if (gone || account.role !== 'device') o.onClient?.({ username: account.username, role: account.role, clientId: client.id, status: 'offline', left });
    if (n <= 0 && account.role === 'device') devicesOnline.delete(account.username);
    if (gone && account.role === 'device' && o.publish && !closing) void (left ? forgetStatus(account.username) : publishStatus(account.username, 'offline'));
  });

  return {
    async settle(retained) {
      if (!o.publish) return;
      for await (const packet of retained) {
        const device = packet.topic.split('/')[1];
        if (device && packet.payload.toString() === 'online' && !devicesOnline.has(device)) await publishStatus(device, 'offline');
      }
    },
    async close() {
      closing = true;
      if (o.publish) await Promise.all([...devicesOnline].map((d) => publishStatus(d, 'offline')));
    },
  };
}
