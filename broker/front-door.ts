import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Clock } from '../core/index.ts';

/** The limits the front door enforces; every one of them is in the config's `mqtt` section. */
export interface FrontDoorLimits {
  /** Open connections one source address may hold; 0 = no limit. */
  maxConnectionsPerSource: number;
  /** New connections one source may open per window; 0 = no limit. */
  connectionRate: { max: number; windowMs: number };
  /** Denied publishes/subscribes by one identity within `windowMs` that ban it for `banMs`; each denial waits `slowdownMs` more. */
  denials: { max: number; windowMs: number; banMs: number; slowdownMs: number };
  /** Addresses or CIDR blocks allowed to connect; empty = everyone. */
  allowedSources: string[];
}

/** Timestamps per key inside a sliding window; keys with nothing left in the window are forgotten. */
class WindowCounter {
  private readonly hits = new Map<string, number[]>();
  constructor(private readonly windowMs: () => number) {}

  /** Records a hit at `now` and answers how many hits the key has in the window. */
  add(key: string, now: number): number {
    const list = this.prune(key, now) ?? [];
    list.push(now);
    this.hits.set(key, list);
    if (this.hits.size > 50_000) for (const k of [...this.hits.keys()]) this.prune(k, now);
    return list.length;
  }

  clear(key: string): void {
    this.hits.delete(key);
  }

  private prune(key: string, now: number): number[] | undefined {
    const list = this.hits.get(key);
    if (!list) return undefined;
    const from = now - this.windowMs();
    while (list.length > 0 && (list[0] as number) <= from) list.shift();
    if (list.length === 0) {
      this.hits.delete(key);
      return undefined;
    }
    return list;
  }
}

/** Deadlines per key (bans); an expired deadline is forgotten when read. */
class Deadlines {
  private readonly until = new Map<string, number>();
  set(key: string, until: number): void {
    this.until.set(key, until);
  }
  /** The deadline when `key` is still barred at `now`. */
  active(key: string, now: number): number | undefined {
    const t = this.until.get(key);
    if (t === undefined) return undefined;
    if (t > now) return t;
    this.until.delete(key);
    return undefined;
  }
}

/** Normalises `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) to `10.0.0.1`. */
export function plainAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function allowList(entries: string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [addr = '', bits] = entry.split('/');
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

/** Why the front door turned a connection away, or undefined to let it in. */
export type ConnectionVerdict = 'source_not_allowed' | 'too_many_connections' | 'connection_rate' | undefined;

/**
 * The broker's memory of who knocked: open connections and connection rate per source, denials per
 * identity (ban). Pure bookkeeping with the clock passed in; the broker decides what to do with each
 * verdict. Failed passwords are not counted here but by the login gate (login-gate.ts), on the lock
 * model the ops server's logins share (core/login-guard.ts).
 */
export class FrontDoor {
  private readonly open = new Map<string, number>();
  private readonly connects: WindowCounter;
  private readonly denials: WindowCounter;
  private readonly bans = new Deadlines();
  private readonly allowed: BlockList | undefined;

  constructor(
    readonly limits: FrontDoorLimits,
    private readonly clock: Clock,
  ) {
    this.connects = new WindowCounter(() => limits.connectionRate.windowMs);
    this.denials = new WindowCounter(() => limits.denials.windowMs);
    this.allowed = allowList(limits.allowedSources);
  }

  /** A TCP connection arrived from `source`: let it in (and count it open) or say why not. */
  admit(source: string): ConnectionVerdict {
    const now = this.clock.now();
    if (this.allowed && !this.allowed.check(source, isIPv6(source) ? 'ipv6' : 'ipv4')) return 'source_not_allowed';
    const { maxConnectionsPerSource, connectionRate } = this.limits;
    if (connectionRate.max > 0 && this.connects.add(source, now) > connectionRate.max) return 'connection_rate';
    const open = this.open.get(source) ?? 0;
    if (maxConnectionsPerSource > 0 && open >= maxConnectionsPerSource) return 'too_many_connections';
    this.open.set(source, open + 1);
    return undefined;
  }

  /** An admitted connection closed. */
  release(source: string): void {
    const open = (this.open.get(source) ?? 1) - 1;
    if (open <= 0) this.open.delete(source);
    else this.open.set(source, open);
  }

  /** Open connections from `source` now. */
  openFrom(source: string): number {
    return this.open.get(source) ?? 0;
  }

  /** Is this identity (`username@source`) banned for its denials? Returns the time the ban ends. */
  banned(identity: string): number | undefined {
    return this.bans.active(identity, this.clock.now());
  }

  /** One more denied publish or subscribe: how long to hold the answer, and the ban deadline when this one starts a ban. */
  denied(identity: string): { delayMs: number; bannedUntil?: number } {
    const now = this.clock.now();
    const { max, banMs, slowdownMs } = this.limits.denials;
    const n = this.denials.add(identity, now);
    const delayMs = Math.min(n * slowdownMs, 2000);
    if (max <= 0 || n < max) return { delayMs };
    this.denials.clear(identity);
    const until = now + banMs;
    this.bans.set(identity, until);
    return { delayMs, bannedUntil: until };
  }
}
