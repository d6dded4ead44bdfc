import type { PublishPacket } from 'aedes';
import { MqttConfig, systemClock, type Clock, type Logger, type SecurityEvent } from '../core/index.ts';
import type { MqttAccounts } from './accounts.ts';
import type { KindOf } from './acl.ts';
import type { FrontDoorLimits } from './front-door.ts';
import type { BruteForceLimits, MqttAuditEntry } from './login-gate.ts';
import type { ClientEvent } from './presence.ts';

export interface BrokerOptions {
  /** The config's `mqtt` section (defaults apply to what is left out). */
  mqtt?: Partial<MqttConfig>;
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
   * `publisher`: the client id of the connection it came over (ingest serves connections in turn).
   */
  holdAck?: (packet: PublishPacket, ack: (err?: Error) => void, publisher: string) => void;
}

/** The options with every default applied: `startBroker` reads these, never the raw options' gaps. */
export interface BrokerSettings {
  /** The `mqtt` section parsed, its defaults (core/mqtt-config.ts) filled in. */
  cfg: MqttConfig;
  clock: Clock;
  kindOf: KindOf;
  presence: boolean;
}

/**
 * The broker's defaults, in one place: the config schema's for every limit, the system clock, no
 * inventory (no device has a kind, so no collector is granted by kind and no certificate names an
 * unknown device), and presence published.
 */
export function brokerSettings(options: BrokerOptions): BrokerSettings {
  const cfg = MqttConfig.parse(options.mqtt ?? {});
  return { cfg, clock: options.clock ?? systemClock, kindOf: options.kindOf ?? (() => undefined), presence: options.presence ?? true };
}

/** The front door's limits from the config, seconds made milliseconds. */
export function frontDoorLimits(cfg: MqttConfig): FrontDoorLimits {
  return {
    maxConnectionsPerSource: cfg.maxConnectionsPerSource,
    connectionRate: { max: cfg.connectionRate.max, windowMs: cfg.connectionRate.windowSeconds * 1000 },
    denials: { max: cfg.denials.max, windowMs: cfg.denials.windowSeconds * 1000, banMs: cfg.denials.banSeconds * 1000, slowdownMs: cfg.denials.slowdownMs },
    allowedSources: cfg.allowedSources,
  };
}

/** `mqtt.bruteForce` in milliseconds, for the login gate. */
export function bruteForceLimits(cfg: MqttConfig): BruteForceLimits {
  return { failures: cfg.bruteForce.failures, windowMs: cfg.bruteForce.windowSeconds * 1000, lockoutMs: cfg.bruteForce.lockoutSeconds * 1000 };
}
