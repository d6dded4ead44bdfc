/** IPv4 ranges in CIDR notation (RFC 4632): parsing, containment and the hosts a sweep visits. */

export interface Cidr {
  /** The range as written back canonically, e.g. `10.0.0.0/24`. */
  readonly text: string;
  /** First address of the range, as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefix: number;
}

const QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** An IPv4 address as an unsigned 32-bit number, or undefined when it is not one. */
export function ipToNumber(ip: string): number | undefined {
  const m = QUAD.exec(ip.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0] as number) << 24) >>> 0) + ((parts[1] as number) << 16) + ((parts[2] as number) << 8) + (parts[3] as number);
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses `a.b.c.d/n` (a bare address is a /32), or says why it is not a range; host bits set are refused. */
export function parseCidr(text: string): Cidr | string {
  if (typeof text !== 'string' || text.length > 64) return 'not a CIDR range';
  if (text.includes(':')) return `"${text}": IPv6 ranges are not swept (a /64 alone holds 2^64 addresses); give IPv4 ranges`;
  const [addr, bits, extra] = text.trim().split('/');
  if (extra !== undefined) return `"${text}" is not a CIDR range (a.b.c.d/n)`;
  const ip = ipToNumber(addr ?? '');
  if (ip === undefined) return `"${text}" is not a CIDR range (a.b.c.d/n)`;
  const prefix = bits === undefined ? 32 : /^\d{1,2}$/.test(bits) ? Number(bits) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) return `"${text}": the prefix length is 0 to 32`;
  const mask = maskOf(prefix);
  if ((ip & mask) >>> 0 !== ip) return `"${text}" has host bits set; the range is ${numberToIp((ip & mask) >>> 0)}/${prefix}`;
  return { text: `${numberToIp(ip)}/${prefix}`, base: ip, prefix };
}

const maskOf = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** How many addresses the range holds. */
export const sizeOf = (c: Cidr): number => 2 ** (32 - c.prefix);

/** True when `inner` lies wholly inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix >= outer.prefix && (inner.base & maskOf(outer.prefix)) >>> 0 === outer.base;
}

/** True when the address lies in the range. */
export function addressIn(ip: number, c: Cidr): boolean {
  return (ip & maskOf(c.prefix)) >>> 0 === c.base;
}

/** The hosts of a range a sweep probes: all but the network and broadcast addresses, except in a /31 or /32 (RFC 3021). */
export function hostCount(c: Cidr): number {
  return c.prefix >= 31 ? sizeOf(c) : sizeOf(c) - 2;
}

/** The range's hosts in order, lazily: a /8 is never held in memory. */
export function* hostsOf(c: Cidr): Generator<string> {
  const first = c.prefix >= 31 ? c.base : c.base + 1;
  const last = c.prefix >= 31 ? c.base + sizeOf(c) - 1 : c.base + sizeOf(c) - 2;
  for (let n = first; n <= last; n++) yield numberToIp(n >>> 0);
}

/** RFC 1918 private ranges, loopback (RFC 1122 §3.2.1.3) and RFC 6598 shared address space: the default allowed list. */
export const DEFAULT_ALLOWED_CIDRS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8'] as const;

/** Ranges no sweep needs to reach, private or not (RFC 6890): this-network, link-local, multicast, reserved. */
const NEVER = ['0.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4'].map((t) => parseCidr(t) as Cidr);
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8'].map((t) => parseCidr(t) as Cidr);

/** Whether the range is private (RFC 1918, RFC 6598 or loopback) as a refusal reason words it. */
export function isPrivate(c: Cidr): boolean {
  return PRIVATE.some((p) => cidrWithin(c, p));
}

/** Why a range may not be swept under this allowed list, or undefined when it may. */
export function refusal(c: Cidr, allowed: readonly Cidr[]): string | undefined {
  const never = NEVER.find((n) => cidrWithin(c, n) || cidrWithin(n, c));
  if (never) return `${c.text} overlaps ${never.text} (reserved, link-local or multicast: RFC 6890), which is never swept`;
  if (allowed.some((a) => cidrWithin(c, a))) return undefined;
  const list = allowed.map((a) => a.text).join(', ') || 'none';
  if (!isPrivate(c)) return `${c.text} is a public range, not in discovery.allowedCidrs (${list}); sweeping other people's networks is refused unless an admin allows the range in the config`;
  return `${c.text} is not in discovery.allowedCidrs (${list})`;
}
