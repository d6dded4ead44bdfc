import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type ConnectPacket, type PublishPacket } from 'aedes';
import { MqttConfig, systemClock, type Clock, type Logger, type SecurityEvent } from '../core/index.ts';
import type { MqttAccount, MqttAccounts } from './accounts.ts';
import { mayPublish, maySubscribe, type KindOf } from './acl.ts';
import { joinCluster } from './cluster.ts';
import { FrontDoor, plainAddress } from './front-door.ts';
import { MQTT_LOGIN_LOCKS_FILE, MqttLoginGate, type MqttAuditEntry } from './login-gate.ts';
import { certificateIdentity, judgeClientId, SourceMemory } from './identity.ts';
import { gateSocket, PUBLISH_OVERHEAD_BYTES, type PacketGate } from './packet-gate.ts';
import { trackPresence, type ClientEvent } from './presence.ts';
import { openBrokerState } from './persistence.ts';

export interface BrokerOptions {
  /** The config's `mqtt` section (defaults apply to what is left out). */
  mqtt?: Partial<MqttConfig>;
  /** Shorthands kept from the first version; they override `mqtt`. */
  host?: string;
  port?: number;
  maxPayloadBytes?: number;
  /** Where `persistence: disk` keeps its LevelDB; without it the broker keeps its state in memory. */
  dataDir?: string;
  accounts: MqttAccounts;
  logger: Logger;
  clock?: Clock;
  /** The inventory's kind of a device (collectors granted by kind; certificate identities of known devices). */
  kindOf?: KindOf;
  /** An identity came online (its first connection) or went offline (its last one closed). */
  onClient?: (event: ClientEvent) => void;
  /** Publish a device account's presence as a retained `devices/{id}/status` (default true). */
  presence?: boolean;
  /** A refusal or an anomaly worth a SOC's attention. */
  onSecurityEvent?: (event: SecurityEvent) => void;
  /**
   * Clustered (`persistence: redis`): also hand this node's security events to the cluster, for a node
   * with the rules to hear. A `--role broker` node has no rules of its own, so it forwards.
   */
  forwardSecurityEvents?: boolean;
  /** Clustered: the security events other nodes forwarded. */
  onForwardedSecurityEvent?: (event: SecurityEvent) => void;
  /**
   * For the product's audit log: logins of admin and collector accounts (right or wrong), failed
   * logins of any account, and lockouts (login-gate.ts; a device's good login is not audited).
   */
  onAudit?: (entry: MqttAuditEntry) => void;
  /**
   * A QoS 1 publish that passed every check: aedes writes its PUBACK when `ack` is called [MQTT-4.3.2],
   * so the ingest holds it until the points are durable (collectors/mqtt holdAck); ack(err) refuses it.
   */
  holdAck?: (packet: PublishPacket, ack: (err?: Error) => void) => void;
}

export type { ClientEvent } from './presence.ts';

/** Why the broker refused a connection, a login, a publish or a subscribe: every `reason` label on /metrics. */
export const REFUSAL_REASONS = [
  'anonymous',
  'bad_credentials',
  'locked_out',
  'banned',
  'topic_denied',
  'subscribe_denied',
  'payload_too_large',
  'packet_too_large',
  'source_not_allowed',
  'too_many_connections',
  'connection_rate',
  'keepalive_refused',
  'inflight_exceeded',
  'client_id_in_use',
  'client_id_too_long',
  'client_id_rejected',
  'unknown_certificate',
  'certificate_mismatch',
  'invalid_topic',
  'malformed_packet',
  'unsupported_protocol',
  'keepalive_timeout',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Client ids longer than this (in UTF-8 bytes) are refused, identifier rejected [MQTT-3.1.3-5] lets a server choose. */
export const MAX_CLIENT_ID_BYTES = 256;

/** Traffic through the broker since start. */
export interface BrokerTraffic {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

export interface Broker {
  readonly aedes: Aedes;
  readonly port: number;
  /** The mqtts port when TLS is configured. */
  readonly tlsPort?: number;
  /** Refusals counted by reason since start. */
  readonly refusals: Map<RefusalReason, number>;
  /** MQTT clients connected now. */
  readonly connectedClients: number;
  traffic(): BrokerTraffic;
  close(): Promise<void>;
}

// aedes' AuthenticateError carries the CONNACK return code [MQTT-3.2.2.3].
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** An error the broker raised on purpose; aedes echoes it as clientError, which must not count twice. */
const ours = new WeakSet<Error>();
function refusal(message: string): Error {
  const err = new Error(message);
  ours.add(err);
  return err;
}

/** `devices/{id}/status`, the retained presence topic. */
const STATUS_TOPIC = /^devices\/[^/]+\/status$/;

/** Connection-level refusals (floods) report one security event per kind and source per this long. */
const FLOOD_EVENT_INTERVAL_MS = 10_000;

/** Starts the embedded aedes broker: authenticated identities, per-device ACLs, limits, lockouts, TLS, persistence. */
export async function startBroker(options: BrokerOptions): Promise<Broker> {
  const cfg = MqttConfig.parse({
    ...options.mqtt,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.maxPayloadBytes !== undefined ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
  });
  const { accounts, logger } = options;
  const clock = options.clock ?? systemClock;
  const kindOf: KindOf = options.kindOf ?? (() => undefined);
  const door = new FrontDoor(
    {
      maxConnectionsPerSource: cfg.maxConnectionsPerSource,
      connectionRate: { max: cfg.connectionRate.max, windowMs: cfg.connectionRate.windowSeconds * 1000 },
      denials: { max: cfg.denials.max, windowMs: cfg.denials.windowSeconds * 1000, banMs: cfg.denials.banSeconds * 1000, slowdownMs: cfg.denials.slowdownMs },
      allowedSources: cfg.allowedSources,
    },
    clock,
  );

  const refusals = new Map<RefusalReason, number>();
  const lastFloodEvent = new Map<string, number>();
  let forward: ((event: SecurityEvent) => void) | undefined; // set once the cluster's emitter is open
  const securityEvent = (event: Omit<SecurityEvent, 'ts' | 'origin'>): void => {
    const e: SecurityEvent = { ts: clock.now(), origin: 'mqtt', ...event };
    options.onSecurityEvent?.(e);
    forward?.(e);
  };
  /** Counts a refusal, logs it with its reason, and reports it (floods: once per interval and source). */
  const refuse = (type: RefusalReason, event: Omit<SecurityEvent, 'ts' | 'origin' | 'type'>, flood = false): void => {
    refusals.set(type, (refusals.get(type) ?? 0) + 1);
    if (flood) {
      const key = `${type}:${event.source ?? ''}`;
      const last = lastFloodEvent.get(key);
      if (last !== undefined && clock.now() - last < FLOOD_EVENT_INTERVAL_MS) return;
      lastFloodEvent.set(key, clock.now());
      if (lastFloodEvent.size > 10_000) lastFloodEvent.clear();
    }
    logger.warn({ ...event, reason: type }, `mqtt: refused (${type})`);
    securityEvent({ type, ...event });
  };
  /** Counts and logs a refusal that is no security event (a well-formed CONNECT of a protocol this broker does not speak). */
  const tally = (type: RefusalReason, fields: Record<string, unknown>): void => {
    refusals.set(type, (refusals.get(type) ?? 0) + 1);
    logger.info({ ...fields, reason: type }, `mqtt: refused (${type})`);
  };
  /** Password checks: per (source, username) locks with backoff, per-source limit, audit (login-gate.ts). */
  const logins = new MqttLoginGate({
    bruteForce: { failures: cfg.bruteForce.failures, windowMs: cfg.bruteForce.windowSeconds * 1000, lockoutMs: cfg.bruteForce.lockoutSeconds * 1000 },
    clock, logger, refuse, securityEvent, onAudit: options.onAudit,
    file: options.dataDir ? join(options.dataDir, MQTT_LOGIN_LOCKS_FILE) : undefined,
  });

  const accountOf = new WeakMap<Client, MqttAccount>();
  /** Connections closed because the same client id connected again, here or on another broker of the cluster. */
  const takenOver = new WeakSet<Client>();
  const connectOf = new WeakMap<Client, ConnectPacket>();
  /** CONNECTs of another protocol version (MQTT 5): aedes answers them CONNACK 0x84 and closes; not malformed, not an attack. */
  const otherProtocol = new WeakSet<Client>();
  const gateOf = new WeakMap<object, PacketGate>();
  const sourcesSeen = new SourceMemory();
  const isDevice = (id: string): boolean => kindOf(id) !== undefined || accounts.get(id)?.role === 'device';
  const sourceOf = (client: Client): string => plainAddress((client.conn as { remoteAddress?: string }).remoteAddress);
  const clientsById = (): Record<string, Client | undefined> => (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;

  /** A certificate name that is an account, or a known device (which then logs in as itself). */
  const certificateAccount = (name: string): MqttAccount | undefined =>
    accounts.get(name) ?? (kindOf(name) !== undefined ? { username: name, hash: '', role: 'device' } : undefined);

  /** Everything after the password (or certificate) checked out: client id rules, then let it in. */
  const admitAccount = (client: Client, account: MqttAccount, source: string, done: (err: AuthenticateError | null, ok: boolean | null) => void): void => {
    const holder = clientsById()[client.id];
    const holderAccount = holder && !holder.closed ? accountOf.get(holder) : undefined;
    if (holderAccount && holderAccount.username !== account.username) {
      // [MQTT-3.1.4-2] would let the newcomer take the session over; across identities that is a way to kick a device off.
      refuse('client_id_in_use', { source, username: account.username, clientId: client.id, detail: `client id held by "${holderAccount.username}"` });
      return done(authError('client id in use by another identity', IDENTIFIER_REJECTED), false);
    }
    if (holderAccount) {
      takenOver.add(holder as Client);
      securityEvent({ type: 'client_takeover', source, username: account.username, clientId: client.id, detail: `previous connection from ${sourceOf(holder as Client)} closed` });
      logger.info({ clientId: client.id, username: account.username, source }, 'mqtt: client id taken over by a new connection');
    }
    if (account.role === 'device') {
      const verdict = judgeClientId(account.username, client.id, isDevice);
      const who = { source, username: account.username, clientId: client.id, device: account.username };
      if (verdict.kind === 'claims') {
        securityEvent({ type: 'client_id_claims_device', ...who, detail: `device "${account.username}" connected with the client id of device "${verdict.device}"` });
      } else if (verdict.kind === 'foreign' && cfg.strictClientId) {
        refuse('client_id_rejected', { ...who, detail: 'mqtt.strictClientId: the client id must start with the device id' });
        return done(authError('client id must start with the device id', IDENTIFIER_REJECTED), false);
      } else if (verdict.kind === 'foreign' && cfg.reportUnknownClientIds) {
        securityEvent({ type: 'unknown_client_id', ...who, detail: 'client id does not start with the device id' });
      }
      const before = sourcesSeen.seen(account.username, source);
      if (before) securityEvent({ type: 'device_new_source', ...who, detail: `first login from ${source}; seen before from ${before.join(', ')}` });
    }
    accountOf.set(client, account);
    // From here on the connection may send packets as large as the payload limit allows.
    gateOf.get(client.conn)?.loggedIn();
    done(null, true);
  };

  const state = await openBrokerState(
    cfg.persistence === 'redis'
      ? { kind: 'redis', url: cfg.redis.url }
      : cfg.persistence === 'disk' && options.dataDir
        ? { kind: 'disk', dir: join(options.dataDir, 'mqtt-sessions') }
        : { kind: 'memory' },
  );

  const brokerId = randomUUID();
  if (state.mq) {
    ({ forward } = joinCluster({
      mq: state.mq, brokerId, clientsById, takenOver, logger,
      forwardSecurityEvents: options.forwardSecurityEvents, onForwardedSecurityEvent: options.onForwardedSecurityEvent,
    }));
  }

  const inflight = new WeakMap<Client, number>();
  const dropped = new WeakSet<PublishPacket>();
  const pending = new WeakMap<PublishPacket, Client>();
  const traffic: BrokerTraffic = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };

  /**
   * A denied PUBLISH. Closing the connection (aedes' default) makes a QoS 1 client reconnect and resend
   * forever, so the broker instead acknowledges and drops it, as [MQTT-3.3.5-2] allows, holds the answer
   * a little longer each time (slow down), and bans the identity after too many (then it does close).
   * QoS 2 still closes: MQTT 3.1.1 has no negative PUBREC.
   */
  const deny = (reason: RefusalReason, client: Client, account: MqttAccount, packet: PublishPacket, done: (err?: Error | null) => void): void => {
    const source = sourceOf(client);
    refuse(reason, { source, username: account.username, clientId: client.id, topic: packet.topic });
    const verdict = door.denied(`${account.username}@${source}`);
    if (verdict.bannedUntil !== undefined) {
      securityEvent({ type: 'denial_ban', source, username: account.username, clientId: client.id, detail: `banned until ${new Date(verdict.bannedUntil).toISOString()} after ${cfg.denials.max} denials` });
      return done(refusal('banned for repeated denials'));
    }
    if (packet.qos === 2) return done(refusal(`not allowed to publish to ${packet.topic}`));
    dropped.add(packet);
    setTimeout(() => done(null), verdict.delayMs);
  };

  const aedes = await Aedes.createBroker({
    id: brokerId,
    // Device ids make long client ids; MQTT 3.1.1 lets a server accept more than 23 bytes [MQTT-3.1.3-5].
    maxClientsIdLength: MAX_CLIENT_ID_BYTES,
    connectTimeout: cfg.connectTimeoutSeconds * 1000,
    maxInflightInbound: cfg.maxInflightPerClient,
    ...(state.persistence ? { persistence: state.persistence } : {}),
    ...(state.mq ? { mq: state.mq } : {}),
    preConnect(client, packet, done) {
      connectOf.set(client, packet);
      // [MQTT-3.1.2-2] aedes speaks 3.1 and 3.1.1 (levels 3, 4) and answers any other level with
      // "unacceptable protocol version" (0x84 to an MQTT 5 client); a well-formed packet, so counted, not reported.
      const level = (packet as { protocolVersion?: number }).protocolVersion;
      if (level !== 3 && level !== 4) {
        otherProtocol.add(client);
        tally('unsupported_protocol', { source: sourceOf(client), clientId: packet.clientId, detail: `MQTT protocol level ${String(level)}; this broker speaks 3.1.1 (MQTT 5 devices need mqtt.external)` });
      }
      done(null, true);
    },
    authenticate(client, username, password, done) {
      const source = sourceOf(client);
      const keepalive = connectOf.get(client)?.keepalive ?? 0;
      if (logins.locked(username, source) !== undefined) {
        return done(authError('locked out after repeated failed logins', NOT_AUTHORIZED), false);
      }
      const idBytes = Buffer.byteLength(client.id ?? '', 'utf8');
      if (idBytes > MAX_CLIENT_ID_BYTES) {
        refuse('client_id_too_long', { source, username, clientId: client.id.slice(0, 64), detail: `client id of ${idBytes} bytes; at most ${MAX_CLIENT_ID_BYTES}` }, true);
        return done(authError('client id too long', IDENTIFIER_REJECTED), false);
      }
      if (keepalive === 0 || keepalive > cfg.maxKeepAliveSeconds) {
        refuse('keepalive_refused', { source, username, clientId: client.id, detail: `keep alive ${keepalive} s; 1..${cfg.maxKeepAliveSeconds} s accepted` });
        return done(authError('keep alive out of range', NOT_AUTHORIZED), false);
      }
      const cert = certificateIdentity(client.conn, certificateAccount);
      if (cert) {
        if (!cert.account) {
          refuse('unknown_certificate', { source, username, detail: `certificate names ${cert.names.join(', ') || 'nothing'}` });
          return done(authError('certificate names no known identity', NOT_AUTHORIZED), false);
        }
        if (username && username !== cert.account.username) {
          refuse('certificate_mismatch', { source, username, detail: `certificate names "${cert.account.username}"` });
          return done(authError('username does not match the certificate', NOT_AUTHORIZED), false);
        }
        logins.succeeded(cert.account, source, 'certificate');
        return admitAccount(client, cert.account, source, done);
      }
      if (!username || !password) {
        refuse('anonymous', { source, username, clientId: client.id });
        return done(authError('anonymous clients are not accepted', NOT_AUTHORIZED), false);
      }
      if (door.banned(`${username}@${source}`) !== undefined) {
        refuse('banned', { source, username }, true);
        return done(authError('banned for repeated denials', NOT_AUTHORIZED), false);
      }
      accounts.authenticate(username, password.toString('utf8')).then(
        (account) => {
          if (!account) {
            logins.failed(username, source, client.id, accounts.get(username));
            return done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
          }
          logins.succeeded(account, source, 'password');
          admitAccount(client, account, source, done);
        },
        (err: Error) => {
          logger.error({ err: err.message, username }, 'mqtt: credential check failed');
          done(authError('server unavailable', SERVER_UNAVAILABLE), false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      // client is null only for a stored last will of a client that is gone; it was authorized at CONNECT.
      if (!client) return done(null);
      const account = accountOf.get(client);
      if (!account) return done(refusal('not logged in'));
      // A last will of a connection taken over by the same client id: the device is still there, so its
      // "offline" would be a lie that outlives the takeover as the retained status (aedes drops it on error).
      if (packet === (client as unknown as { will?: unknown }).will && takenOver.has(client) && STATUS_TOPIC.test(packet.topic)) {
        return done(refusal('last will of a taken-over connection'));
      }
      // [MQTT-1.5.3-1] ill-formed UTF-8 closes the connection; the decoder turned it into U+FFFD, which
      // no device topic holds (device ids are ASCII).
      if (packet.topic.includes('\uFFFD')) return done(new Error('topic is not valid UTF-8'));
      if (!mayPublish(account, packet.topic, kindOf)) return deny('topic_denied', client, account, packet, done);
      const size = (packet.payload as Buffer | string).length;
      if (size > cfg.maxPayloadBytes) return deny('payload_too_large', client, account, packet, done);
      if (packet.qos > 0) {
        const n = (inflight.get(client) ?? 0) + 1;
        if (n > cfg.maxInflightPerClient) {
          refuse('inflight_exceeded', { source: sourceOf(client), username: account.username, clientId: client.id, detail: `over ${cfg.maxInflightPerClient} messages in flight` });
          return done(refusal('too many messages in flight'));
        }
        inflight.set(client, n);
        pending.set(packet, client);
      }
      traffic.messagesIn++;
      if (packet.qos === 1 && options.holdAck) return options.holdAck(packet, (err) => done(err ?? null));
      done(null);
    },
    authorizeSubscribe(client, subscription, done) {
      const account = accountOf.get(client);
      if (account && maySubscribe(account, subscription.topic, kindOf)) return done(null, subscription);
      const source = sourceOf(client);
      refuse('subscribe_denied', { source, username: account?.username, clientId: client.id, topic: subscription.topic });
      if (account && door.denied(`${account.username}@${source}`).bannedUntil !== undefined) {
        securityEvent({ type: 'denial_ban', source, username: account.username, clientId: client.id, detail: `banned after ${cfg.denials.max} denials` });
        return done(refusal('banned for repeated denials'));
      }
      // A null subscription answers SUBACK 0x80 (failure) without closing the connection [MQTT-3.9.3].
      done(null, null);
    },
    authorizeForward(_client, packet) {
      traffic.messagesOut++;
      return packet;
    },
  });

  // Acknowledged-and-dropped publishes stop here, before any subscriber or retained store sees them.
  type Publish = (packet: PublishPacket, client: Client | null | ((err?: Error) => void), done?: (err?: Error) => void) => void;
  const publish = aedes.publish.bind(aedes) as unknown as Publish;
  (aedes as unknown as { publish: Publish }).publish = (packet, client, done) => {
    if (typeof client === 'function') return publish(packet, null, client);
    if (dropped.has(packet)) return done?.();
    const from = pending.get(packet);
    if (!from) return publish(packet, client, done);
    pending.delete(packet);
    publish(packet, client, (err) => {
      inflight.set(from, Math.max(0, (inflight.get(from) ?? 1) - 1));
      done?.(err);
    });
  };

  const presence = trackPresence({ aedes, accountOf, takenOver, publish: options.presence ?? true, onClient: options.onClient, logger });
  if (cfg.persistence === 'disk' && options.dataDir && state.persistence) {
    // One broker on its own disk: whatever said "online" when it last stopped (or crashed) is offline now.
    type Retained = { createRetainedStreamCombi(patterns: string[]): AsyncIterable<{ topic: string; payload: Buffer }> };
    await presence.settle((state.persistence as Retained).createRetainedStreamCombi(['devices/+/status']));
  }
  const classify = (client: Client | null, err: Error): void => {
    if (ours.has(err) || (client && otherProtocol.has(client))) return;
    const m = err.message;
    const reason: RefusalReason | undefined = /not allowed in PUBLISH|empty topic|too many levels|Invalid topic|utf-?8/i.test(m)
      ? 'invalid_topic'
      : /Invalid|Malformed|Unknown|protocol|length|header/i.test(m)
        ? 'malformed_packet'
        : undefined;
    if (reason) refuse(reason, { source: client ? sourceOf(client) : undefined, clientId: client?.id, username: client ? accountOf.get(client)?.username : undefined, detail: m }, true);
    else logger.debug({ clientId: client?.id, err: m }, 'mqtt: client error');
  };
  aedes.on('clientError', classify);
  aedes.on('connectionError', classify);
  aedes.on('keepaliveTimeout', (client) => refuse('keepalive_timeout', { source: sourceOf(client), clientId: client.id, username: accountOf.get(client)?.username }, true));

  // Rotation or removal without a restart: whoever is logged in with the old credentials logs in again.
  accounts.onChange((username) => {
    for (const client of Object.values(clientsById())) {
      if (client && accountOf.get(client)?.username === username) {
        logger.info({ username, clientId: client.id }, 'mqtt: credentials changed; closing the session');
        client.close();
      }
    }
  });

  const sockets = new Set<Socket>();
  const closedBytes = { in: 0, out: 0 };
  /** Every connection, TCP or TLS, passes the front door before aedes sees a byte of it. */
  const onConnection = (socket: Socket): void => {
    socket.on('error', () => undefined); // aedes reports stream errors on the client; never an uncaught 'error'
    const source = plainAddress(socket.remoteAddress);
    const verdict = door.admit(source);
    if (verdict) {
      refuse(verdict, { source, detail: verdict === 'too_many_connections' ? `${door.openFrom(source)} open` : undefined }, true);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    // Before the login only a CONNECT-sized packet is read; after it, the payload limit plus a PUBLISH's own fields.
    const gate = gateSocket(socket, { beforeLogin: cfg.maxConnectBytes, afterLogin: cfg.maxPayloadBytes + PUBLISH_OVERHEAD_BYTES }, (p) => {
      const reason = p.loggedIn && p.type === 3 ? 'payload_too_large' : 'packet_too_large';
      refuse(reason, { source, detail: `packet type ${p.type} declares ${p.declared} bytes; at most ${p.limit} ${p.loggedIn ? 'after' : 'before'} login; connection closed` }, true);
    });
    gateOf.set(socket, gate);
    socket.once('close', () => {
      door.release(source);
      sockets.delete(socket);
      closedBytes.in += socket.bytesRead;
      closedBytes.out += socket.bytesWritten;
    });
    aedes.handle(socket);
  };

  const listen = (server: Server, port: number): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, cfg.host, () => {
        server.off('error', reject);
        server.on('error', (err) => logger.error({ err: err.message }, 'mqtt: listener error'));
        resolve((server.address() as AddressInfo).port);
      });
    });

  const servers: Server[] = [];
  const tcp = createServer(onConnection);
  servers.push(tcp);
  const port = await listen(tcp, cfg.port);
  logger.info({ host: cfg.host, port }, 'mqtt: broker listening');

  let tlsPort: number | undefined;
  if (cfg.tls.cert && cfg.tls.key) {
    const tls = createTlsServer(
      {
        cert: readFileSync(cfg.tls.cert),
        key: readFileSync(cfg.tls.key),
        ...(cfg.tls.ca ? { ca: readFileSync(cfg.tls.ca), requestCert: true, rejectUnauthorized: cfg.tls.requireClientCert } : {}),
        minVersion: 'TLSv1.2',
      },
      onConnection,
    );
    tls.on('tlsClientError', (err, socket) => {
      refuse('malformed_packet', { source: plainAddress(socket.remoteAddress), detail: `TLS: ${err.message}` }, true);
    });
    servers.push(tls);
    tlsPort = await listen(tls, cfg.tls.port);
    logger.info({ host: cfg.host, port: tlsPort }, 'mqtts: broker listening');
  }

  let closed: Promise<void> | undefined;
  return {
    aedes,
    port,
    tlsPort,
    refusals,
    get connectedClients() {
      return aedes.connectedClients;
    },
    traffic() {
      let bytesIn = closedBytes.in;
      let bytesOut = closedBytes.out;
      for (const s of sockets) {
        bytesIn += s.bytesRead;
        bytesOut += s.bytesWritten;
      }
      return { ...traffic, bytesIn, bytesOut };
    },
    close() {
      closed ??= (async () => {
        await presence.close();
        const stopped = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await stopped;
        await state.close();
      })();
      return closed;
    },
  };
}
