import { z } from 'zod';
import { ConfigError, issueLines } from '../../core/index.ts';
import { DEFAULT_ALLOWED_CIDRS, parseCidr } from './cidr.ts';

const CidrText = z.string().superRefine((s, ctx) => {
  const c = parseCidr(s);
  if (typeof c === 'string') ctx.addIssue({ code: 'custom', message: c });
});

/** The `discovery` section of the config: which ranges a sweep may reach and how hard it may knock. Defaults stated once. */
export const DiscoveryConfig = z.strictObject({
  /** Ranges an admin may sweep; anything else is refused with the reason. Default: private ranges and loopback. */
  allowedCidrs: z.array(CidrText).default([...DEFAULT_ALLOWED_CIDRS]),
  /** The largest range swept without `force: true`, as a prefix length (16: a /16, 65,534 hosts). */
  maxPrefixWithoutForce: z.number().int().min(8).max(32).default(16),
  /** SNMP requests started per second by one sweep (the rate limit), and at most this many in flight. */
  ratePerSecond: z.number().positive().max(10_000).default(50),
  concurrency: z.number().int().min(1).max(256).default(16),
  /** Per request: a sweep meets many silent addresses, so it waits less than the poller (5 s, 3 retries). */
  timeoutMs: z.number().int().min(50).max(30_000).default(1500),
  retries: z.number().int().min(0).max(5).default(0),
  /** Sweeps running at once; another is refused until one ends. */
  maxRunning: z.number().int().min(1).max(16).default(2),
  /** Finished sweeps kept for GET (the oldest forgotten first), and devices kept per sweep. */
  keep: z.number().int().min(1).max(1000).default(20),
  maxFound: z.number().int().min(1).max(100_000).default(5000),
  /** Neighbour rows read per table per device (a core switch with thousands of LLDP peers is cut there). */
  maxNeighbours: z.number().int().min(1).max(10_000).default(1000),
});
export type DiscoveryConfig = z.infer<typeof DiscoveryConfig>;
export type DiscoveryConfigInput = z.input<typeof DiscoveryConfig>;

/** Validates the config's `discovery` section (absent: the defaults), or throws a ConfigError naming the path. */
export function parseDiscoveryConfig(raw: unknown, source = 'config: discovery'): DiscoveryConfig {
  const r = DiscoveryConfig.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(source, issueLines(r.error).map((l) => `discovery.${l}`));
  return r.data;
}
