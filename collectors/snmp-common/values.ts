import snmp, { type Varbind } from 'net-snmp';

/** A varbind value as the poller and the trap receiver read it: numbers (bigint for Counter64), text, OIDs. */
export type SnmpValue = { kind: 'number'; value: number } | { kind: 'big'; value: bigint } | { kind: 'text'; value: string } | { kind: 'none' };

const T = snmp.ObjectType;

/** Reads a BER unsigned integer of any length (Counter64 arrives as raw bytes, RFC 2578 §7.1.10). */
export function bufferToBigint(b: Buffer): bigint {
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  return v;
}

/** Encodes an unsigned 64-bit value for net-snmp's Counter64 writer: minimal bytes, a leading 0 when the top bit is set. */
export function bigintToCounter64(v: bigint): Buffer {
  const clamped = BigInt.asUintN(64, v);
  let hex = clamped.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return b;
}

/** Converts one varbind to a value; exceptions (noSuchObject, endOfMibView...) become `none`. */
export function readVarbind(vb: Varbind): SnmpValue {
  if (snmp.isVarbindError(vb)) return { kind: 'none' };
  const v = vb.value;
  switch (vb.type) {
    case T.Integer:
    case T.Counter:
    case T.Gauge:
    case T.TimeTicks:
      return typeof v === 'number' && Number.isFinite(v) ? { kind: 'number', value: v } : { kind: 'none' };
    case T.Counter64:
      return Buffer.isBuffer(v) ? { kind: 'big', value: bufferToBigint(v) } : typeof v === 'number' ? { kind: 'big', value: BigInt(Math.trunc(v)) } : { kind: 'none' };
    case T.OctetString:
      return { kind: 'text', value: Buffer.isBuffer(v) ? printable(v) : String(v) };
    case T.OID:
    case T.IpAddress:
      return { kind: 'text', value: String(v) };
    default:
      return { kind: 'none' };
  }
}

/** Octet strings are text when printable, else hex (MAC addresses, engine ids). */
function printable(b: Buffer): string {
  const s = b.toString('utf8');
  // eslint-disable-next-line no-control-regex
  return /^[\x09\x0a\x0d\x20-\x7e\u00a0-\uffff]*$/.test(s) && !s.includes('\ufffd') ? s.replace(/\0+$/, '') : b.toString('hex');
}

/** A number from a value: Integer/Gauge as is, text holding a decimal (some agents) parsed, else undefined. */
export function asNumber(v: SnmpValue | undefined): number | undefined {
  if (!v) return undefined;
  if (v.kind === 'number') return v.value;
  if (v.kind === 'big') return Number(v.value);
  if (v.kind === 'text' && /^-?\d+(\.\d+)?$/.test(v.value.trim())) return Number(v.value.trim());
  return undefined;
}

/** Text from a value: text as is, numbers in decimal, else undefined. */
export function asText(v: SnmpValue | undefined): string | undefined {
  if (!v) return undefined;
  if (v.kind === 'text') return v.value;
  if (v.kind === 'number') return String(v.value);
  if (v.kind === 'big') return v.value.toString();
  return undefined;
}

/** Is `oid` inside the subtree rooted at `root` (strictly below it)? */
export function isUnder(oid: string, root: string): boolean {
  return oid.startsWith(`${root}.`);
}

/** Compares two dotted OIDs arc by arc (lexicographic order of RFC 3416 §4.2.2). */
export function compareOids(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return x.length - y.length < 0 ? -1 : x.length === y.length ? 0 : 1;
}
