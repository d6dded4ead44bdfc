import type { Alert, Clock, Device, DeviceEvent, Estate, Logger, SecurityEvent } from '../core/index.ts';
import type { AlertDesk, ServiceBook } from '../rules/index.ts';
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

/**
 * The ops server's dependencies: what it reads and does in the rest of the product. The composition
 * root (cli/app.ts) wires the real ones in; tests may hand in their own.
 */
export interface OpsContext {
  clock: Clock;
  logger: Logger;
  estate: Estate;
  users: UserBook;
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
  /** The product's Prometheus registry: the ops server adds HTTP latency and socket.io figures to it. */
  metricsRegistry?: Registry;
}
