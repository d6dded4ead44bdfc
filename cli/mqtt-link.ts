import { connectExternalBroker, startBroker, type Broker, type ClientEvent, type ExternalBroker, type MqttAccounts, type MqttAuditEntry, type MqttBus } from '../broker/index.ts';
import { partitionOf, type CollectorPublishTarget, type MqttIngest } from '../collectors/index.ts';
import type { Clock, Config, Estate, Logger, SecurityEvent } from '../core/index.ts';
import type { OpsServer } from '../ops-server/index.ts';

export interface MqttLinkOptions {
  config: Config;
  estate: Estate;
  accounts: MqttAccounts;
  logger: Logger;
  /** false: QoS 1 is acknowledged on receipt (only for `npm run bench -- e2e`). */
  durableAcks?: boolean;
  onSecurityEvent(e: SecurityEvent): void;
  onAudit(entry: MqttAuditEntry): void;
  onClient(event: ClientEvent): void;
}

/** The product's MQTT: the embedded broker, or one client of an external broker standing in for it. */
export interface MqttLink {
  /** The embedded broker; undefined when `mqtt.external` names an external one. */
  readonly broker?: Broker;
  readonly external?: ExternalBroker;
  /** What ingest subscribes to and alerts and commands are published on. */
  readonly bus: MqttBus;
  readonly port: number;
  /** Where the collectors (and the demo fleet) publish: an account made for them, or the external collector account. */
  readonly collectorTarget: CollectorPublishTarget;
  /** QoS 1 telemetry waits for this ingest's write-ahead log before its PUBACK (until then: acknowledged at once). */
  holdAcksFor(ingest: MqttIngest): void;
  connected(): boolean;
  close(): Promise<void>;
}

/**
 * Connects to the external broker (Mosquitto, EMQX) when `mqtt.external` is set, else starts the
 * embedded one: ingest, alerts and commands go through one MQTT client there; the embedded broker's
 * accounts, ACLs and limits do not apply.
 */
export async function startMqttLink(o: MqttLinkOptions): Promise<MqttLink> {
  const { config, logger } = o;
  const ext = config.mqtt.external;
  let ingestNow: MqttIngest['holdAck'] | undefined;
  const external = ext ? await connectExternalBroker(ext, logger) : undefined;
  const broker = external ? undefined : await startBroker({
    mqtt: config.mqtt,
    dataDir: config.dataDir,
    kindOf: (id) => o.estate.devices.get(id)?.kind,
    accounts: o.accounts,
    logger,
    onSecurityEvent: (e) => o.onSecurityEvent(e),
    onAudit: o.onAudit,
    // Events seen by `--role broker` nodes of the cluster; with several full nodes, the one whose ingest
    // partition the source falls in takes each, so an attack is counted once.
    onForwardedSecurityEvent: (e) => {
      const p = config.mqtt.ingestPartition;
      if (!p || partitionOf(e.source ?? e.username ?? e.type, p.count) === p.index) o.onSecurityEvent(e);
    },
    onClient: o.onClient,
    // Not on Redis: a clustered node's subscription gets the packet back from Redis, not the one held here.
    holdAck: config.mqtt.persistence === 'redis' || o.durableAcks === false ? undefined : (packet, ack, publisher) => (ingestNow ? ingestNow(packet, ack, publisher) : ack()),
  });
  // Collectors publish onto the broker like any device would: the embedded one with an account made for
  // them, an external one as the account configured for collectors (else the link's own).
  const collectorTarget: CollectorPublishTarget = ext
    ? { external: { url: ext.url, ...(ext.collector ?? { username: ext.username, password: ext.password }) } }
    : { embedded: { accounts: o.accounts, port: (broker as Broker).port } };
  return {
    broker,
    external,
    bus: external ?? (broker as Broker).aedes,
    port: broker?.port ?? Number(new URL(ext?.url ?? 'mqtt://x').port || 1883),
    collectorTarget,
    holdAcksFor(ingest) {
      ingestNow = ingest.holdAck;
    },
    connected: () => (external ? external.connected : !broker?.aedes.closed),
    async close() {
      await broker?.close();
      await external?.close();
    },
  };
}

/**
 * MQTT logins for the ops server's audit log (broker/login-gate.ts says which). The broker starts
 * first and the collectors log in before the ops server exists: those wait here, then are written.
 */
export class MqttAuditRelay {
  private readonly backlog: MqttAuditEntry[] = [];
  private log: OpsServer['parts']['auditLog'] | undefined;

  constructor(private readonly clock: Clock) {}

  readonly append = (entry: MqttAuditEntry): void => {
    if (this.log) this.log.append(entry);
    else if (this.backlog.length < 1000) this.backlog.push({ ...entry, detail: { ...entry.detail, at: this.clock.now() } });
  };

  /** From now on entries go straight to the audit log; the backlog first. */
  attach(log: OpsServer['parts']['auditLog']): void {
    this.log = log;
    for (const entry of this.backlog.splice(0)) log.append(entry);
  }
}
