import type { Clock, Config, Device, DeviceStatus, Estate, EventPayload, Logger, SecurityEvent } from '../core/index.ts';
import type { CheckConfigBase } from './checks/index.ts';
import type { IngestPartition } from './mqtt/index.ts';

/**
 * Where a collector hands what it gathered (Telegraf's Accumulator): it never writes to the store
 * itself; the MQTT accumulator publishes onto the broker like any sensor.
 */
export interface Accumulator {
  /** `devices/{id}/telemetry` */
  telemetry(device: string, ts: number, metrics: Record<string, number>): void;
  /** `devices/{id}/events` */
  event(device: string, event: EventPayload & { ts: number }): void;
  /** `devices/{id}/status` (retained) */
  status(device: string, status: DeviceStatus): void;
}

/** The one shape every collector has: started and stopped by the composition root, errors reported, never thrown. */
export interface Collector {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A device registered at run time (POST /api/v1/devices); a collector with nothing to gather from it ignores it. */
  onDeviceAdded?(device: Device): void;
}

/**
 * Where the collectors publish: the embedded broker, where they get an account of their own, or an
 * external broker (Mosquitto, EMQX), as an account it knows that may publish under `devices/+/`.
 */
export type CollectorPublishTarget =
  | { embedded: { accounts: CollectorAccounts; port: number } }
  | { external: { url: string; username?: string; password?: string } };

/** The collector account's credential book entry (broker/accounts.ts `setCollector`). */
export interface CollectorAccounts {
  setCollector(username: string, password: string, devices: '*' | string[]): Promise<void>;
  /** The checks collector's account: service check results only (broker/acl.ts). */
  setServiceChecker?(username: string, password: string): Promise<void>;
  /** The syslog collector's account: log lines on `logs/{username}` only (broker/acl.ts). */
  setLogPublisher?(username: string, password: string): Promise<void>;
  /** The line protocol collector's account: telemetry batches on `telemetry/{username}` only (broker/acl.ts). */
  setTelemetryBatchPublisher?(username: string, password: string): Promise<void>;
}

/** A service's checks as the checks collector schedules them: each parsed (collectors/checks `parseCheck`) with its key. */
export interface ServiceChecksEntry {
  id: string;
  checks: readonly ({ key: string } & CheckConfigBase)[];
}

/** The services whose checks run (rules/services' ServiceBook, structurally: collectors/ does not depend on rules/). */
export interface ServiceChecks {
  list(): readonly ServiceChecksEntry[];
  /** Told of every service added, changed or removed; returns the unsubscribe. */
  onChange(listener: (c: { kind: 'added' | 'changed' | 'removed'; service: ServiceChecksEntry; previous?: ServiceChecksEntry }) => void): () => void;
}

/** What the composition root hands every collector's factory; each reads its own section of `config`. */
export interface CollectorContext {
  config: Config;
  estate: Estate;
  publishTo: CollectorPublishTarget;
  /** Gather only this partition's devices: the full nodes of a scale-out share the estate, each takes its part. */
  partition?: IngestPartition;
  logger: Logger;
  clock: Clock;
  onSecurityEvent(e: SecurityEvent): void;
  /** The services whose checks the `checks` collector runs; without it, it runs none. */
  services?: ServiceChecks;
}

export type CollectorFactory = (context: CollectorContext) => Collector;
const factories = new Map<string, CollectorFactory>();

/** Registers a collector factory under a name (`snmp`); a second registration of a name is a bug. */
export function registerCollector(name: string, factory: CollectorFactory): void {
  if (factories.has(name)) throw new Error(`collector "${name}" is already registered`);
  factories.set(name, factory);
}

/** Builds a registered collector (not started yet) from the product's context. */
export function createCollector(name: string, context: CollectorContext): Collector {
  const f = factories.get(name);
  if (!f) throw new Error(`unknown collector "${name}" (known: ${[...factories.keys()].join(', ') || 'none'})`);
  return f(context);
}

/** The names of the registered collectors, in registration order. */
export function collectorNames(): string[] {
  return [...factories.keys()];
}
