import { readFileSync } from 'node:fs';
import snmp from 'net-snmp';
import { bigintToCounter64 } from '../../collectors/index.ts';

const T = snmp.ObjectType;

/** A value served by an agent: fixed, or computed at each request (advancing counters, variation modules). */
export type RecordValue = unknown | (() => unknown);

export interface SnmpRecord {
  oid: string;
  type: number;
  value: RecordValue;
}

export interface ParsedRecording {
  records: SnmpRecord[];
  /** One line per refused line: "line 12: ...". The rest of the file is still served. */
  problems: string[];
}

const OID = /^\d+(\.\d+)*$/;
const MAX_U32 = 4294967295;

/**
 * Parses snmpsim's `.snmprec` format (`OID|TAG|VALUE`, see reference/snmp/SOURCE.md): hex values (`4x`),
 * Counter64, Opaque; the `numeric` variation module is simulated (a value wandering between min and max),
 * `writecache` serves its value, and any other module or broken line is refused with its line number.
 */
export function parseSnmprec(text: string, now: () => number = Date.now): ParsedRecording {
  const records: SnmpRecord[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, n) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const r = parseLine(line, now);
    if (typeof r === 'string') problems.push(`line ${n + 1}: ${r}`);
    else records.push(r);
  });
  return { records, problems };
}

/** Reads a recording file. */
export function readSnmprec(file: string, now?: () => number): ParsedRecording {
  return parseSnmprec(readFileSync(file, 'utf8'), now);
}

function parseLine(line: string, now: () => number): SnmpRecord | string {
  const first = line.indexOf('|');
  const second = first < 0 ? -1 : line.indexOf('|', first + 1);
  if (first < 0 || second < 0) return 'expected OID|TAG|VALUE';
  const oid = line.slice(0, first).replace(/^\./, '');
  const tagField = line.slice(first + 1, second);
  const raw = line.slice(second + 1);
  if (!OID.test(oid) || oid.split('.').length < 2) return `"${oid.slice(0, 40)}" is not an OID`;
  const m = /^(\d+)(x?)(?::([A-Za-z_]+))?$/.exec(tagField);
  if (!m) return `"${tagField}" is not a tag (e.g. 2, 4x, 2:numeric)`;
  const tag = Number(m[1]);
  const hex = m[2] === 'x';
  const module = m[3];
  if (module) return variation(oid, tag, module, raw, now);
  const value = decodeValue(tag, hex, raw);
  return typeof value === 'string' && value.startsWith('!') ? value.slice(1) : { oid, type: tag, value };
}

/** Decodes a literal value; an error comes back as a string starting with "!". */
function decodeValue(tag: number, hex: boolean, raw: string): unknown {
  const bytes = (): Buffer | string => {
    if (!hex) return Buffer.from(raw, 'utf8');
    return /^([0-9a-fA-F]{2})*$/.test(raw) ? Buffer.from(raw, 'hex') : `!"${raw.slice(0, 20)}" is not hex`;
  };
  const uint = (max: number): number | string => {
    const n = Number(raw);
    return /^\d+$/.test(raw) && n <= max ? n : `!"${raw.slice(0, 20)}" is not an unsigned integer up to ${max}`;
  };
  switch (tag) {
    case T.Integer: {
      const n = Number(raw);
      return /^-?\d+$/.test(raw) && n >= -2147483648 && n <= 2147483647 ? n : `!"${raw.slice(0, 20)}" is not an Integer32`;
    }
    case T.OctetString:
    case T.Opaque:
      return bytes();
    case T.Null:
      return null;
    case T.OID:
      return OID.test(raw) ? raw : `!"${raw.slice(0, 40)}" is not an OID value`;
    case T.IpAddress: {
      if (hex) {
        const b = bytes();
        return typeof b === 'string' ? b : b.length === 4 ? [...b].join('.') : '!an IpAddress has 4 bytes';
      }
      if (/^\d{1,3}(\.\d{1,3}){3}$/.test(raw)) return raw;
      // snmpsim also writes an address as its 4 raw octets.
      return raw.length === 4 ? [...Buffer.from(raw, 'latin1')].join('.') : `!"${raw.slice(0, 20)}" is not an IpAddress`;
    }
    case T.Counter:
    case T.Gauge:
    case T.TimeTicks:
      return uint(MAX_U32);
    case T.Counter64:
      if (!/^\d+$/.test(raw) || BigInt(raw) > 0xffffffffffffffffn) return `!"${raw.slice(0, 24)}" is not a Counter64`;
      return bigintToCounter64(BigInt(raw));
    default:
      return `!tag ${tag} is not an SMIv2 type`;
  }
}

function variation(oid: string, tag: number, module: string, raw: string, now: () => number): SnmpRecord | string {
  const params = new Map(raw.split(',').map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)] as [string, string]; }));
  if (module === 'writecache') {
    const v = decodeValue(tag, false, params.get('value') ?? '');
    return typeof v === 'string' && v.startsWith('!') ? v.slice(1) : { oid, type: tag, value: v };
  }
  if (module === 'numeric') {
    const min = Number(params.get('min') ?? 0);
    const max = Number(params.get('max') ?? 100);
    const initial = Number(params.get('initial') ?? min);
    if (![min, max, initial].every(Number.isFinite) || max < min) return `numeric variation needs min <= max (got "${raw}")`;
    if (![T.Integer, T.Gauge, T.Counter, T.TimeTicks].includes(tag)) return `numeric variation on tag ${tag} is not simulated`;
    const t0 = now();
    const span = max - min;
    // A slow wander around the initial value within [min, max], different per OID.
    const phase = [...oid].reduce((a, c) => a + c.charCodeAt(0), 0);
    const value = (): number => {
      const t = (now() - t0) / 1000;
      const v = initial + (span / 10) * Math.sin(t / 300 + phase);
      return Math.round(Math.min(max, Math.max(min, v)));
    };
    return { oid, type: tag, value };
  }
  return `variation module "${module}" is not simulated; record refused (simulated: numeric, writecache)`;
}

export const SYS_UPTIME_OID = '1.3.6.1.2.1.1.3.0';
