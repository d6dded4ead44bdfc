import type { Alert, Clock, Device, DeviceEvent, Estate, Logger, SecurityEvent } from '../core/index.ts';
import type { LatestValue, RangeBucket, RangeQuery } from '../store/index.ts';
import type { SessionBook } from './sessions.ts';
import type { UserBook } from './users.ts';

export interface AlertFilter {
  state?: Alert['state'];
  kind?: Alert['kind'];
  severity?: Alert['severity'];
}

export interface DevicePresence {
  status: 'online' | 'offline';
  since: number;
}

/** What the ops server reads and does; the application wires the real parts in. */
export interface OpsContext {
  clock: Clock;
  logger: Logger;
  estate: Estate;
  users: UserBook;
  sessions: SessionBook;
  latest(selector: { device?: string; metric?: string }): LatestValue[];
  range(query: RangeQuery): Promise<RangeBucket[]>;
  alerts(filter: AlertFilter): Alert[];
  alert(id: string): Alert | undefined;
  events(filter: { device?: string; type?: string; since?: number }): DeviceEvent[];
  /** Security events (failed logins, denied publishes, probes), newest first. */
  securityEvents(filter: { since?: number }): SecurityEvent[];
  presence(deviceId: string): DevicePresence | undefined;
  /** Adds a device to the inventory (persisted) and, with a password, gives it an MQTT identity. */
  registerDevice(device: Device, mqttPassword: string | undefined): Promise<void>;
  /** Prometheus text exposition of the product's own counters. */
  metricsText(): Promise<string>;
  /** Ready when the store, broker and rules are up. */
  ready(): boolean;
}
