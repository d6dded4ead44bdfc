import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger, SecurityEvent } from '../core/index.ts';
import { mayPublishFor, type MqttAccount, type MqttAccounts } from './accounts.ts';

export interface BrokerOptions {
  host: string;
  port: number;
  maxPayloadBytes: number;
  accounts: MqttAccounts;
  logger: Logger;
  /** An authenticated client connected or dropped: a device's presence without waiting for a last will or a timeout. */
  onClient?: (event: ClientEvent) => void;
  /** A refusal worth a SOC's attention (failed login, denied publish or subscribe). */
  onSecurityEvent?: (event: SecurityEvent) => void;
}

export interface ClientEvent {
  username: string;
  role: MqttAccount['role'];
  clientId: string;
  status: 'online' | 'offline';
}

export type RefusalReason = 'anonymous' | 'bad_credentials' | 'topic_denied' | 'payload_too_large' | 'subscribe_denied';


export interface Broker {
  readonly aedes: Aedes;
  readonly port: number;
  /** Refusals counted by reason since start. */
  readonly refusals: Map<RefusalReason, number>;
  close(): Promise<void>;
}

/** Topics a device (or a collector on its behalf) may publish: `devices/{id}/telemetry|events|status|commands/{c}/result`. */
const DEVICE_PUBLISH = /^devices\/([^/]+)\/(?:telemetry|events|status|commands\/[^/]+\/result)$/;
const COMMANDS_SUBSCRIBE = /^devices\/([^/]+)\/commands\/(?:#|\+)$/;

// aedes' AuthenticateError carries the CONNACK return code [MQTT-3.2.2.3].
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** The account a client logged in as; attached at CONNECT, read by every authorization step. */
const accountOf = new WeakMap<Client, MqttAccount>();

function sourceOf(client: Client): string | undefined {
  const conn = client.conn as { remoteAddress?: string };
  return conn.remoteAddress;
}

/** Starts the embedded aedes broker on TCP: no anonymous clients, per-device topic ACLs, a payload limit. */
export async function startBroker(options: BrokerOptions): Promise<Broker> {
  const { accounts, logger, maxPayloadBytes } = options;
  const refusals = new Map<RefusalReason, number>();
  const refuse = (type: RefusalReason, client: Client, extra: Partial<SecurityEvent> = {}): void => {
    refusals.set(type, (refusals.get(type) ?? 0) + 1);
    const event: SecurityEvent = { ts: Date.now(), type, origin: 'mqtt', clientId: client.id, source: sourceOf(client), ...extra };
    logger.warn(event, `mqtt: refused (${type})`);
    options.onSecurityEvent?.(event);
  };

  const aedes = await Aedes.createBroker({
    // Device ids make long client ids; MQTT 3.1.1 lets a server accept more than 23 bytes [MQTT-3.1.3-5].
    maxClientsIdLength: 256,
    authenticate(client, username, password, done) {
      if (!username || !password) {
        refuse('anonymous', client, { username: username ?? undefined });
        return done(authError('anonymous clients are not accepted', NOT_AUTHORIZED), false);
      }
      accounts.authenticate(username, password.toString('utf8')).then(
        (account) => {
          if (!account) {
            refuse('bad_credentials', client, { username });
            return done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
          }
          accountOf.set(client, account);
          done(null, true);
        },
        (err: Error) => {
          logger.error({ err: err.message, username }, 'mqtt: credential check failed');
          done(authError('server unavailable', 3), false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      // client is null only for a stored last will of a client that is gone; it was authorized at CONNECT.
      if (!client) return done(null);
      const account = accountOf.get(client);
      const match = DEVICE_PUBLISH.exec(packet.topic);
      if (!account || !match || !mayPublishFor(account, match[1] ?? '')) {
        refuse('topic_denied', client, { username: account?.username, topic: packet.topic });
        // [MQTT-3.3.5-2] the server may not tell the client; it closes the connection.
        return done(new Error(`not allowed to publish to ${packet.topic}`));
      }
      const size = (packet.payload as Buffer | string).length;
      if (size > maxPayloadBytes) {
        refuse('payload_too_large', client, { username: account.username, topic: packet.topic });
        return done(new Error(`payload of ${size} bytes is over the ${maxPayloadBytes} byte limit`));
      }
      done(null);
    },
    authorizeSubscribe(client, subscription, done) {
      const account = accountOf.get(client);
      const match = COMMANDS_SUBSCRIBE.exec(subscription.topic);
      const id = match?.[1];
      const allowed =
        account !== undefined &&
        id !== undefined &&
        (account.role === 'device' ? id === account.username : id === '+' ? account.devices === '*' : mayPublishFor(account, id));
      if (!allowed) {
        refuse('subscribe_denied', client, { username: account?.username, topic: subscription.topic });
        // A null subscription answers SUBACK 0x80 (failure) without closing the connection [MQTT-3.9.3].
        return done(null, null);
      }
      done(null, subscription);
    },
  });

  const report = (client: Client, status: ClientEvent['status']): void => {
    const account = accountOf.get(client);
    if (account) options.onClient?.({ username: account.username, role: account.role, clientId: client.id, status });
  };
  aedes.on('clientReady', (client) => report(client, 'online'));
  aedes.on('clientDisconnect', (client) => report(client, 'offline'));
  aedes.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'mqtt: client error'));
  aedes.on('connectionError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'mqtt: connection error'));

  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err: err.message }, 'mqtt: listener error'));
  const port = (server.address() as AddressInfo).port;
  logger.info({ host: options.host, port }, 'mqtt: broker listening');

  let closed: Promise<void> | undefined;
  return {
    aedes,
    port,
    refusals,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        aedes.close();
      });
      return closed;
    },
  };
}
