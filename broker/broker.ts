import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type ConnectPacket, type PublishPacket } from 'aedes';
import { MqttConfig, SecurityEventSchema, systemClock, type Clock, type Logger, type SecurityEvent } from '../core/index.ts';
import type { MqttAccount, MqttAccounts } from './accounts.ts';
import { mayPublish, maySubscribe, type KindOf } from './acl.ts';
import { FrontDoor, plainAddress } from './front-door.ts';
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
}

/** Where forwarded security events travel between cluster nodes: `$SYS`, so no device can publish or (without `$SYS` rights) read them. */
const FORWARDED = (brokerId: string): string => `$SYS/${brokerId}/watchfloor/security-events`;

export interface ClientEvent {
  username: string;
  role: MqttAccount['role'];
  clientId: string;
  status: 'online' | 'offline';
}

/** Why the broker refused a connection, a login, a publish or a subscribe; the `reason` label on /metrics. */
export type RefusalReason =
  | 'anonymous'
  | 'bad_credentials'
  | 'locked_out'
  | 'banned'
  | 'topic_denied'
  | 'subscribe_denied'
  | 'payload_too_large'
  | 'source_not_allowed'
  | 'too_many_connections'
  | 'connection_rate'
  | 'keepalive_refused'
  | 'inflight_exceeded'
  | 'client_id_in_use'
  | 'unknown_certificate'
  | 'certificate_mismatch'
  | 'invalid_topic'
  | 'malformed_packet'
  | 'keepalive_timeout';

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
      bruteForce: { failures: cfg.bruteForce.failures, windowMs: cfg.bruteForce.windowSeconds * 1000, lockoutMs: cfg.bruteForce.lockoutSeconds * 1000 },
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

  const accountOf = new WeakMap<Client, MqttAccount>();
  /** Connections closed because the same client id connected again, here or on another broker of the cluster. */
  const takenOver = new WeakSet<Client>();
  const connectOf = new WeakMap<Client, ConnectPacket>();
  const sourceOf = (client: Client): string => plainAddress((client.conn as { remoteAddress?: string }).remoteAddress);
  const clientsById = (): Record<string, Client | undefined> => (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;

  /** TLS: the verified client certificate's CN, then its DNS SANs, that name an account or a known device. */
  const certificateIdentity = (client: Client): { names: string[]; account?: MqttAccount } | undefined => {
    const conn = client.conn as Partial<TLSSocket>;
    if (typeof conn.getPeerCertificate !== 'function' || !conn.authorized) return undefined;
    const cert = conn.getPeerCertificate();
    if (!cert || !cert.subject) return undefined;
    const cn = (cert.subject as unknown as Record<string, string | string[] | undefined>).CN;
    const sans = (cert.subjectaltname ?? '').split(/,\s*/).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
    const names = [...(Array.isArray(cn) ? cn : cn ? [cn] : []), ...sans];
    for (const name of names) {
      const account = accounts.get(name);
      if (account) return { names, account };
      if (kindOf(name) !== undefined) return { names, account: { username: name, hash: '', role: 'device' } };
    }
    return { names };
  };

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
    if (account.role === 'device' && cfg.reportUnknownClientIds && !client.id.startsWith(account.username)) {
      securityEvent({ type: 'unknown_client_id', source, username: account.username, clientId: client.id, device: account.username, detail: 'client id does not start with the device id' });
    }
    accountOf.set(client, account);
    done(null, true);
  };

  const state = await openBrokerState(
    cfg.persistence === 'redis'
      ? { kind: 'redis', url: cfg.redis.url }
      : cfg.persistence === 'disk' && options.dataDir
        ? { kind: 'disk', dir: join(options.dataDir, 'mqtt-sessions') }
        : { kind: 'memory' },
  );

  // Cluster: aedes closes a local client when another broker announces the same client id on
  // `$SYS/{brokerId}/new/clients`. Marked here first (listeners run in the order they were added), so
  // that close neither reads as the device going offline nor fires its last will.
  const brokerId = randomUUID();
  if (state.mq) {
    type Emitter = {
      on(topic: string, fn: (packet: { topic: string; payload: Buffer }, cb: () => void) => void): void;
      emit(packet: { topic: string; payload: Buffer }): void;
    };
    const mq = state.mq as Emitter;
    mq.on('$SYS/+/new/clients', (packet, cb) => {
      const holder = clientsById()[packet.payload.toString()];
      if (packet.topic.split('/')[1] !== brokerId && holder && !holder.closed) takenOver.add(holder);
      cb();
    });
    if (options.forwardSecurityEvents) forward = (e) => mq.emit({ topic: FORWARDED(brokerId), payload: Buffer.from(JSON.stringify(e)) });
    const hear = options.onForwardedSecurityEvent;
    if (hear) {
      mq.on(FORWARDED('+'), (packet, cb) => {
        cb();
        if (packet.topic.split('/')[1] === brokerId) return; // this node's own, reported already
        let parsed: ReturnType<typeof SecurityEventSchema.safeParse> | undefined;
        try {
          parsed = SecurityEventSchema.safeParse(JSON.parse(packet.payload.toString()));
        } catch {
          parsed = undefined;
        }
        if (parsed?.success) hear(parsed.data);
        else logger.warn({ topic: packet.topic, bytes: packet.payload.length }, 'mqtt: a forwarded security event was not one; dropped');
      });
    }
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
    maxClientsIdLength: 256,
    maxInflightInbound: cfg.maxInflightPerClient,
    ...(state.persistence ? { persistence: state.persistence } : {}),
    ...(state.mq ? { mq: state.mq } : {}),
    preConnect(client, packet, done) {
      connectOf.set(client, packet);
      done(null, true);
    },
    authenticate(client, username, password, done) {
      const source = sourceOf(client);
      const keepalive = connectOf.get(client)?.keepalive ?? 0;
      if (door.lockedOut(source) !== undefined) {
        refuse('locked_out', { source, username }, true);
        return done(authError('locked out after repeated failed logins', NOT_AUTHORIZED), false);
      }
      if (keepalive === 0 || keepalive > cfg.maxKeepAliveSeconds) {
        refuse('keepalive_refused', { source, username, clientId: client.id, detail: `keep alive ${keepalive} s; 1..${cfg.maxKeepAliveSeconds} s accepted` });
        return done(authError('keep alive out of range', NOT_AUTHORIZED), false);
      }
      const cert = certificateIdentity(client);
      if (cert) {
        if (!cert.account) {
          refuse('unknown_certificate', { source, username, detail: `certificate names ${cert.names.join(', ') || 'nothing'}` });
          return done(authError('certificate names no known identity', NOT_AUTHORIZED), false);
        }
        if (username && username !== cert.account.username) {
          refuse('certificate_mismatch', { source, username, detail: `certificate names "${cert.account.username}"` });
          return done(authError('username does not match the certificate', NOT_AUTHORIZED), false);
        }
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
            // The password is never logged, not even a wrong one.
            refuse('bad_credentials', { source, username, clientId: client.id, detail: accounts.get(username) ? 'wrong password' : 'unknown username' });
            const until = door.loginFailed(source);
            if (until !== undefined) {
              logger.warn({ source, until }, 'mqtt: brute force; source locked out');
              securityEvent({ type: 'brute_force_lockout', source, username, detail: `${cfg.bruteForce.failures} failed logins in ${cfg.bruteForce.windowSeconds} s; locked out until ${new Date(until).toISOString()}` });
            }
            return done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
          }
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

  // A device's presence follows its identity: online with its first connection, offline when its last
  // one closes. A connection closed by a takeover (the same client id again, here or on another broker)
  // is not the device leaving. Collectors and admins are reported per connection (the demo fleet
  // watches for a second simulator). Device presence is also published as the retained
  // `devices/{id}/status`, so every subscriber, and a product started later, reads it.
  const presence = options.presence ?? true;
  const sessions = new Map<string, number>();
  const devicesOnline = new Set<string>();
  let closing = false;
  const publishStatus = (device: string, status: 'online' | 'offline'): Promise<void> =>
    new Promise((resolve) => {
      aedes.publish({ cmd: 'publish', topic: `devices/${device}/status`, payload: Buffer.from(status), qos: 1, retain: true, dup: false }, (err) => {
        if (err) logger.warn({ device, status, err: err.message }, 'mqtt: could not publish presence');
        resolve();
      });
    });
  aedes.on('clientReady', (client) => {
    const account = accountOf.get(client);
    if (!account) return;
    const n = (sessions.get(account.username) ?? 0) + 1;
    sessions.set(account.username, n);
    if (n === 1 || account.role !== 'device') options.onClient?.({ username: account.username, role: account.role, clientId: client.id, status: 'online' });
    if (n === 1 && account.role === 'device') {
      devicesOnline.add(account.username);
      if (presence) void publishStatus(account.username, 'online');
    }
  });
  aedes.on('clientDisconnect', (client) => {
    const account = accountOf.get(client);
    if (!account) return;
    const n = (sessions.get(account.username) ?? 1) - 1;
    if (n > 0) sessions.set(account.username, n);
    else sessions.delete(account.username);
    const gone = n <= 0 && !(account.role === 'device' && takenOver.has(client));
    if (gone || account.role !== 'device') options.onClient?.({ username: account.username, role: account.role, clientId: client.id, status: 'offline' });
    if (n <= 0 && account.role === 'device') devicesOnline.delete(account.username);
    if (gone && account.role === 'device' && presence && !closing) void publishStatus(account.username, 'offline');
  });
  if (presence && cfg.persistence === 'disk' && options.dataDir && state.persistence) {
    // One broker on its own disk: whatever said "online" when it last stopped (or crashed) is offline now.
    type Retained = { createRetainedStreamCombi(patterns: string[]): AsyncIterable<{ topic: string; payload: Buffer }> };
    for await (const packet of (state.persistence as Retained).createRetainedStreamCombi(['devices/+/status'])) {
      const device = packet.topic.split('/')[1];
      if (device && packet.payload.toString() === 'online' && !devicesOnline.has(device)) await publishStatus(device, 'offline');
    }
  }
  const classify = (client: Client | null, err: Error): void => {
    if (ours.has(err)) return;
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
        // The devices connected here go offline with the broker (in a cluster they reconnect elsewhere and say online).
        closing = true;
        if (presence) await Promise.all([...devicesOnline].map((d) => publishStatus(d, 'offline')));
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
