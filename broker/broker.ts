import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { joinCluster } from './cluster.ts';
import { Connections } from './connections.ts';
import { FrontDoor } from './front-door.ts';
import { brokerHooks, closeSessionsOnCredentialChange, MAX_CLIENT_ID_BYTES, reportClientErrors } from './hooks/index.ts';
import { openListeners } from './listeners.ts';
import { MQTT_LOGIN_LOCKS_FILE, MqttLoginGate } from './login-gate.ts';
import { brokerSettings, bruteForceLimits, frontDoorLimits, type BrokerOptions } from './options.ts';
import { openBrokerState, persistenceChoice } from './persistence.ts';
import { trackPresence } from './presence.ts';
import { Refusals, type RefusalReason } from './refusals.ts';

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

/**
 * Starts the embedded aedes broker: authenticated identities, per-device ACLs, limits, lockouts, TLS,
 * persistence. Only the assembly is here; each part is its own file (see broker/README.md).
 */
export async function startBroker(options: BrokerOptions): Promise<Broker> {
  const { cfg, clock, kindOf, presence: publishPresence } = brokerSettings(options);
  const { accounts, logger } = options;

  // What every hook shares: the refusal tally and event reporter, the front door, the login gate, the connections.
  const report = new Refusals({ clock, logger, onSecurityEvent: options.onSecurityEvent });
  const door = new FrontDoor(frontDoorLimits(cfg), clock);
  const logins = new MqttLoginGate({
    bruteForce: bruteForceLimits(cfg),
    clock, logger, refuse: report.refuse, securityEvent: report.securityEvent, onAudit: options.onAudit,
    file: options.dataDir ? join(options.dataDir, MQTT_LOGIN_LOCKS_FILE) : undefined,
  });
  const book = new Connections();

  // Persistence and cluster: sessions, queues and retained messages; on Redis, the other nodes.
  const state = await openBrokerState(persistenceChoice(cfg, options.dataDir));
  const brokerId = randomUUID();
  if (state.mq) {
    report.forwardTo(joinCluster({
      mq: state.mq, brokerId, clientsById: book.clientsById, takenOver: book.takenOver, logger,
      forwardSecurityEvents: options.forwardSecurityEvents, onForwardedSecurityEvent: options.onForwardedSecurityEvent,
    }).forward);
  }

  // The hooks (hooks/index.ts lists them with their defaults).
  const { hooks, publish } = brokerHooks({ cfg, accounts, kindOf, door, logins, report, book, logger, holdAck: options.holdAck });
  const aedes = await Aedes.createBroker({
    id: brokerId,
    // Device ids make long client ids; MQTT 3.1.1 lets a server accept more than 23 bytes [MQTT-3.1.3-5].
    maxClientsIdLength: MAX_CLIENT_ID_BYTES,
    connectTimeout: cfg.connectTimeoutSeconds * 1000,
    maxInflightInbound: cfg.maxInflightPerClient,
    ...(state.persistence ? { persistence: state.persistence } : {}),
    // Every publish goes straight to its subscribers (0: no limit in aedes' emitter). Its default, 100
    // in flight and one first-in-first-out line for the rest, put a device's one message behind every
    // bulk connection's socket read while ingest was behind (issue 19); ingest serves connections in
    // turn instead (collectors/mqtt/turns.ts). What is in the product stays bounded all the same: aedes
    // reads a connection again only once every message of its last read is done.
    concurrency: 0,
    ...(state.mq ? { mq: state.mq } : {}),
    ...hooks,
  });
  book.attach(aedes);
  publish.attach(aedes);

  // Presence: a device's retained status follows its connections.
  const presence = trackPresence({ aedes, accountOf: book.accountOf, takenOver: book.takenOver, publish: publishPresence, onClient: options.onClient, logger });
  // One broker on its own disk: whatever said "online" when it last stopped (or crashed) is offline now.
  if (state.retained) await presence.settle(state.retained(['devices/+/status']));

  reportClientErrors(aedes, { report, book, logger });
  closeSessionsOnCredentialChange(accounts, book, logger);

  const listeners = await openListeners({ cfg, aedes, door, report, book, logger });

  let closed: Promise<void> | undefined;
  return {
    aedes,
    port: listeners.port,
    tlsPort: listeners.tlsPort,
    refusals: report.counts,
    get connectedClients() {
      return aedes.connectedClients;
    },
    traffic() {
      const bytes = listeners.bytes();
      return { messagesIn: publish.messages.in, messagesOut: publish.messages.out, bytesIn: bytes.in, bytesOut: bytes.out };
    },
    close() {
      closed ??= (async () => {
        await presence.close();
        const stopped = listeners.stopListening();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        listeners.dropConnections();
        await stopped;
        await state.close();
      })();
      return closed;
    },
  };
}
