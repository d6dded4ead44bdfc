import type { DeviceStatus, EventPayload } from '../core/index.ts';

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
}

type Factory = (options: never) => Collector;
const factories = new Map<string, Factory>();

/** Registers a collector factory under a name (`snmp`, `snmp_trap`); a second registration of a name is a bug. */
export function registerCollector<O>(name: string, factory: (options: O) => Collector): void {
  if (factories.has(name)) throw new Error(`collector "${name}" is already registered`);
  factories.set(name, factory as Factory);
}

/** Builds a registered collector; the options are the factory's own (validated there). */
export function createCollector<O>(name: string, options: O): Collector {
  const f = factories.get(name) as ((o: O) => Collector) | undefined;
  if (!f) throw new Error(`unknown collector "${name}" (known: ${[...factories.keys()].join(', ') || 'none'})`);
  return f(options);
}

/** The names of the registered collectors. */
export function collectorNames(): string[] {
  return [...factories.keys()];
}
