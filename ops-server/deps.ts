import type { Alert, Clock, Device, DeviceEvent, Estate, LdapConfig, Link, Logger, SecurityEvent } from '../core/index.ts';
import type { AlertDesk, NotifyDoor, ServiceBook } from '../rules/index.ts';
import type { LatestValue, LogStore, QueryLimits, RangeBucket, RangeQuery, TimeSeriesStore } from '../store/index.ts';
import type { SessionBook } from './sessions.ts';
import type { UserBook } from './users.ts';
import type { CommandBus } from './command-bus.ts';
import type { Registry } from 'prom-client';

export interface AlertFilter {
  state?: Alert['state'];
  kind?: Alert['kind'];
  severity?: Alert['severity'];
}

export interface DevicePresence {
  status: 'online' | 'offline';
  since: number;
}

/** What the MQTT credential routes (routes/mqtt-credentials.ts) need of the broker's credential book (broker/accounts.ts MqttAccounts). */
export interface MqttCredentialBook {
  list(): { username: string; role: 'device' | 'collector' | 'admin'; devices?: '*' | string[]; kinds?: string[] }[];
  get(username: string): object | undefined;
  setDevicePassword(deviceId: string, password: string): Promise<void>;
  setCollector(username: string, password: string, devices: '*' | string[], kinds?: string[]): Promise<void>;
  setAdmin(username: string, password: string): Promise<void>;
  remove(username: string): boolean;
}

/** A line protocol write as the collector (collectors/line-protocol) answers it; routes/write.ts turns it into InfluxDB's answer. */
export interface LineProtocolAnswer {
  accepted: number;
  values: number;
  errors: { line: number; text: string; reason: string }[];
  dropped: number;
  dropReasons: string[];
  refused: Partial<Record<string, number>>;
  busy?: true;
  unavailable?: true;
}

/** Where /write and /api/v2/write hand their bodies: the line protocol collector. */
export interface LineProtocolDoor {
  readonly maxBodyBytes: number;
  write(w: { body: string; precision: 'ns' | 'us' | 'ms' | 's' | 'm' | 'h'; writer: string }): Promise<LineProtocolAnswer>;
}

/** A discovery sweep request as routes/discovery.ts validated its shape (collectors/discovery SweepRequest). */
export interface DiscoveryRequest {
  cidrs: string[];
  snmp: {
    versions: ('1' | '2c' | '3')[];
    communities?: string[];
    v3?: { user: string; authProtocol?: 'sha' | 'sha256' | 'sha512' | 'md5'; authKey: string; privProtocol?: 'aes' | 'des' | 'none'; privKey?: string }[];
    port?: number;
    timeoutMs?: number;
  };
  ports?: number[];
  force?: boolean;
}

/** Network discovery (collectors/discovery NetworkDiscovery): sweeps as proposals; accepting goes through registerDevice. */
export interface DiscoveryDoor {
  /** Starts a sweep or throws a 400 naming the field (bad or too large range, range not allowed). */
  start(request: DiscoveryRequest, by: string): { id: string };
  get(id: string): { id: string; state: 'running' | 'done' | 'cancelled'; progress: object; found: object[] } | undefined;
  list(): object[];
  cancel(id: string): boolean;
  /** What accepting a found (or heard-of) address registers: kind, name and the SNMP block that answered. */
  candidate(id: string, address: string): { address: string; name: string; kind: Device['kind']; sensorType?: Device['sensorType']; snmp?: { host: string; port: number; version: '1' | '2c' | '3'; community?: string; v3?: NonNullable<DiscoveryRequest['snmp']['v3']>[number] }; known?: string } | undefined;
  /** Reads the LLDP/CDP neighbours of the inventory's SNMP devices (all, or those named) with their own credentials; 400 naming the field. */
  startInventory(request: { devices?: string[]; timeoutMs?: number }, by: string): { id: string };
  /** A device the sweep proposes, by the id it suggested. */
  proposedDevice(id: string, proposed: string): { id: string; name: string; address?: string; kind: Device['kind'] } | undefined;
  /** A proposed LAN link between two ports (either way round), `in-inventory` when the inventory has it, `unknown` when not proposed; undefined for an unknown sweep. */
  linkProposal(id: string, a: DiscoveryLinkEnd, b: DiscoveryLinkEnd): { kind: 'lan'; a: DiscoveryLinkEnd & { known: boolean }; b: DiscoveryLinkEnd & { known: boolean }; via: string[] } | 'in-inventory' | 'unknown' | undefined;
}

/** One end of a proposed link: a device (of the inventory, or the id a proposed device would get) and its port. */
export interface DiscoveryLinkEnd {
  device: string;
  interface: string;
}

/**
 * The ops server's dependencies: what it reads and does in the rest of the product. The composition
 * root (cli/app.ts) wires the real ones in; tests may hand in their own.
 */
export interface OpsContext {
  clock: Clock;
  logger: Logger;
  estate: Estate;
  users: UserBook;
  /** Directory sign-in (config auth.ldap, ops-server/directory) for names that are not local accounts; off when absent. */
  ldap?: LdapConfig;
  sessions: SessionBook;
  latest(selector: { device?: string; metric?: string }): LatestValue[];
  range(query: RangeQuery): Promise<RangeBucket[]>;
  /** The time-series store itself, for the InfluxDB /query API (series listing, grouped ranges). */
  timeseries?: TimeSeriesStore;
  alerts(filter: AlertFilter): Alert[];
  alert(id: string): Alert | undefined;
  /** Alert actions, history, silences and rules (rules/triage-desk.ts). */
  alertDesk: AlertDesk;
  events(filter: { device?: string; type?: string; since?: number }): DeviceEvent[];
  /** Security events (failed logins, denied publishes, probes), newest first. */
  securityEvents(filter: { since?: number }): SecurityEvent[];
  presence(deviceId: string): DevicePresence | undefined;
  /** The broker's credential book; absent when no embedded broker runs. */
  mqttAccounts?: MqttCredentialBook;
  /** Adds a device to the inventory (persisted) and, with a password, gives it an MQTT identity. */
  registerDevice(device: Device, mqttPassword: string | undefined): Promise<void>;
  /** Replaces a device registered through the API (PUT/PATCH /devices/{id}, an import's changes): persisted, collectors told. */
  updateDevice?(device: Device): Promise<void>;
  /** Removes a device registered through the API: persisted, polled no more, its MQTT account removed. */
  removeDevice?(deviceId: string): Promise<void>;
  /** Adds a link to the running inventory (an accepted discovery proposal), persisted beside devices.json and in the inventory export. */
  addLink?(link: Link): Promise<void>;
  /** Prometheus text exposition of the product's own counters. */
  metricsText(): Promise<string>;
  /** When set, /metrics answers only `Authorization: Bearer <this>` (config http.metricsToken). */
  metricsToken?: string;
  /** Bounds on one /query request (config store.query; store/influxql/limits.ts); the defaults when absent. */
  queryLimits?: QueryLimits;
  /** Ready when the store, broker and rules are up. */
  ready(): boolean;
  /** Per-part readiness for /readyz (store, broker, rules); `ready()` alone when absent. */
  readiness?(): Record<string, boolean>;
  /** Where the ops server keeps API tokens and the audit log; in memory when absent. */
  dataDir?: string;
  /** Reports a security event (failed login, lockout) into the product's pipeline. */
  onSecurityEvent?(e: SecurityEvent): void;
  /** Device commands over the broker (ops-server/command-bus.ts); the command route answers 503 without it. */
  commandBus?: CommandBus;
  /** The log store (store/logs/): /api/v1/logs is mounted only when it is set. */
  logs?: LogStore;
  /** The services (rules/services/): /api/v1/services and the public /status are mounted only when it is set. */
  services?: ServiceBook;
  /** The line protocol collector: /write and /api/v2/write are mounted only when it is set. */
  lineProtocol?: LineProtocolDoor;
  /** Network discovery: /api/v1/discovery is mounted only when it is set. */
  discovery?: DiscoveryDoor;
  /** The product's Prometheus registry: the ops server adds HTTP latency and socket.io figures to it. */
  metricsRegistry?: Registry;
  /** The notifier: the Telegram and Slack button callbacks (/api/v1/notify/...) are mounted only when it is set. */
  notify?: NotifyDoor;
}
