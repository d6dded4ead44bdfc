import { z } from 'zod';
import { Id } from '../../core/index.ts';

/**
 * Which unknown hosts become devices (Zabbix's auto-registration actions): a writer token's name
 * (`*` for any) and a host pattern (`*` any characters, `?` one), and what the new device is.
 */
export const AutoRegisterRule = z.strictObject({
  token: z.string().min(1).default('*'),
  hosts: z.string().min(1).max(256),
  kind: z.enum(['server', 'workstation', 'host', 'vm']).default('server'),
  layer: z.enum(['enduser', 'server']).default('server'),
  /** The site the new device is placed on (an inventory site id). */
  site: Id,
});
export type AutoRegisterRule = z.infer<typeof AutoRegisterRule>;

/** The Telegraf inputs whose lines carry an instance (a core, a mount, an interface): that tag's value goes into the metric name. */
export const DEFAULT_INSTANCE_TAGS: Record<string, string[]> = {
  cpu: ['cpu'], disk: ['path'], diskio: ['name'], net: ['interface'], netstat: [], mem: [], swap: [], system: [], processes: [], kernel: [],
  docker_container_cpu: ['container_name'], docker_container_mem: ['container_name'], nvidia_smi: ['index'], sensors: ['feature'],
};

/** The `lineProtocol` section of the config (core/config.ts keeps it as unknown; this is its schema). */
export const LineProtocolConfig = z.strictObject({
  /** The tags that name the device, first present wins (Telegraf sets `host`). */
  deviceTags: z.array(z.string().min(1)).min(1).default(['host', 'device']),
  /** Largest body, compressed or not (InfluxDB 1.x's max-body-size default: 25 MB); over it is a 413. */
  maxBodyBytes: z.number().int().min(1024).default(25_000_000),
  /** Points handed to the broker and not yet acknowledged; a write that would pass it is a 429 (Telegraf retries). */
  maxQueuedPoints: z.number().int().min(1000).default(1_000_000),
  /**
   * Points older than this many days, or more than `futureMinutes` ahead of the clock, are refused as
   * InfluxDB refuses points outside its retention ("points beyond retention policy"); the default is
   * what the store keeps (store.retention.hourDays) and accepts ahead (an hour), so nothing answered 204 is dropped behind.
   */
  pastDays: z.number().positive().optional(),
  futureMinutes: z.number().positive().default(60),
  /** MQTT connections to the broker, a device's messages always on the same one. */
  connections: z.number().int().min(1).max(64).default(8),
  /** Per measurement, the tags whose value names an instance in the metric (README "Metric names"); added to DEFAULT_INSTANCE_TAGS, a measurement named here replaces its default. */
  instanceTags: z.record(z.string(), z.array(z.string())).default({}),
  autoRegister: z.array(AutoRegisterRule).default([]),
});
export type LineProtocolConfig = z.infer<typeof LineProtocolConfig>;
export type LineProtocolConfigInput = z.input<typeof LineProtocolConfig>;

/** A host pattern as a matcher: `*` any run of characters, `?` one; the rest literal, the whole name. */
export function hostMatcher(pattern: string): (host: string) => boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return (host) => re.test(host);
}
