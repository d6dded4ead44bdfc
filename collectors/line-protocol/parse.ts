/*
 * InfluxDB line protocol (https://docs.influxdata.com/influxdb/v1.8/write_protocols/line_protocol_reference/):
 *   <measurement>[,<tag_key>=<tag_value>...] <field_key>=<field_value>[,...] [<timestamp>]
 * One line, one point; `#` starts a comment line; blank lines are skipped. A bad line is reported with
 * its number and reason (InfluxDB 1.x's words) and the others are kept (its "partial write").
 */

export type FieldValue =
  | { type: 'float'; value: number }
  | { type: 'integer'; value: number }
  | { type: 'unsigned'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'string'; value: string };

/** One parsed line. `ts` is epoch milliseconds (sub-millisecond parts are floored). */
export interface LinePoint {
  /** 1-based line number in the body. */
  line: number;
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  ts: number;
}

export interface LineError {
  line: number;
  /** The line as sent (cut at 200 characters). */
  text: string;
  /** InfluxDB's reason: `missing field value`, `invalid boolean`, ... */
  reason: string;
}

/** `precision`: InfluxDB 1.x takes n/ns, u/us/µ, ms, s, m, h; 2.x takes ns, us, ms, s. */
export type Precision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

const NS_PER: Record<Precision, bigint> = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
const PRECISION_ALIASES: Record<string, Precision> = { n: 'ns', ns: 'ns', u: 'us', us: 'us', 'µ': 'us', ms: 'ms', s: 's', m: 'm', h: 'h' };
const V2_PRECISIONS = new Set(['ns', 'us', 'ms', 's']);

/** The precision named by a request's `precision` parameter (ns when absent), or undefined when the API does not know it. */
export function parsePrecision(value: string | undefined, api: 'v1' | 'v2'): Precision | undefined {
  if (value === undefined || value === '') return 'ns';
  if (api === 'v2') return V2_PRECISIONS.has(value) ? (value as Precision) : undefined;
  return PRECISION_ALIASES[value];
}

// models.MinNanoTime / MaxNanoTime: int64 nanoseconds less the two values InfluxDB reserves.
const MIN_NANO = -9223372036854775806n;
const MAX_NANO = 9223372036854775806n;
const MAX_INT64 = 9223372036854775807n;
const MIN_INT64 = -9223372036854775808n;
const MAX_UINT64 = 18446744073709551615n;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
const TRUE = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE = new Set(['f', 'F', 'false', 'False', 'FALSE']);

class LineSyntaxError extends Error {}

/** Parses a body of line protocol; `now` (epoch ms) stamps lines without a timestamp. */
export function parseLineProtocol(body: string, precision: Precision, now: number): { points: LinePoint[]; errors: LineError[] } {
  const points: LinePoint[] = [];
  const errors: LineError[] = [];
  let start = 0;
  let n = 0;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    n++;
    let text = body.slice(start, end);
    start = end + 1;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const trimmed = text.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    try {
      points.push(parseLine(trimmed, n, precision, now));
    } catch (err) {
      if (!(err instanceof LineSyntaxError)) throw err;
      errors.push({ line: n, text: trimmed.length > 200 ? `${trimmed.slice(0, 200)}...` : trimmed, reason: err.message });
    }
  }
  return { points, errors };
}

/** Reads an unquoted key or value up to one of `stops` (unescaped); `\` escapes the characters the spec lists for it. */
function scan(line: string, i: number, stops: string, escapable: string): { text: string; end: number } {
  let out = '';
  let from = i;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === '\\' && i + 1 < line.length && escapable.includes(line[i + 1] as string)) {
      out += line.slice(from, i) + line[i + 1];
      i += 2;
      from = i;
      continue;
    }
    if (stops.includes(c)) break;
    i++;
  }
  return { text: out + line.slice(from, i), end: i };
}

function parseLine(line: string, lineNo: number, precision: Precision, now: number): LinePoint {
  // Measurement: `,` and ` ` are escaped (the spec's "Special characters").
  const m = scan(line, 0, ', ', ', \\');
  if (m.text === '') throw new LineSyntaxError('missing measurement');
  let i = m.end;
  const tags: Record<string, string> = {};
  while (line[i] === ',') {
    const k = scan(line, i + 1, ',= ', ',= \\');
    if (k.text === '') throw new LineSyntaxError('missing tag key');
    if (line[k.end] !== '=') throw new LineSyntaxError('missing tag value');
    const v = scan(line, k.end + 1, ', ', ',= \\');
    if (v.text === '') throw new LineSyntaxError('missing tag value');
    tags[k.text] = v.text;
    i = v.end;
  }
  if (line[i] !== ' ') throw new LineSyntaxError('missing fields');
  while (line[i] === ' ') i++;
  const fields: Record<string, FieldValue> = {};
  for (;;) {
    const k = scan(line, i, ',= ', ',= \\');
    if (k.text === '' && (k.end >= line.length || line[k.end] === ' ')) throw new LineSyntaxError('missing fields');
    if (line[k.end] !== '=') throw new LineSyntaxError('invalid field format');
    if (k.text === '') throw new LineSyntaxError('missing field key');
    i = k.end + 1;
    let value: FieldValue;
    if (line[i] === '"') {
      // String field: `"` and `\` are escaped inside the quotes.
      let out = '';
      let j = i + 1;
      let from = j;
      for (;;) {
        if (j >= line.length) throw new LineSyntaxError('unbalanced quotes');
        const c = line[j];
        if (c === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) {
          out += line.slice(from, j) + line[j + 1];
          j += 2;
          from = j;
        } else if (c === '"') break;
        else j++;
      }
      value = { type: 'string', value: out + line.slice(from, j) };
      i = j + 1;
      if (i < line.length && line[i] !== ',' && line[i] !== ' ') throw new LineSyntaxError('invalid field format');
    } else {
      let j = i;
      while (j < line.length && line[j] !== ',' && line[j] !== ' ') j++;
      const raw = line.slice(i, j);
      if (raw === '') throw new LineSyntaxError('missing field value');
      value = fieldValue(raw);
      i = j;
    }
    fields[k.text] = value;
    if (line[i] !== ',') break;
    i++;
  }
  while (line[i] === ' ') i++;
  let ts = now;
  if (i < line.length) {
    let j = i;
    while (j < line.length && line[j] !== ' ') j++;
    const raw = line.slice(i, j);
    while (line[j] === ' ') j++;
    if (j < line.length) throw new LineSyntaxError('invalid timestamp');
    if (!INTEGER.test(raw)) throw new LineSyntaxError(`bad timestamp`);
    const t = BigInt(raw);
    if (t > MAX_INT64 || t < MIN_INT64) throw new LineSyntaxError(`strconv.ParseInt: parsing "${raw}": value out of range`);
    const ns = t * NS_PER[precision];
    if (ns > MAX_NANO || ns < MIN_NANO) throw new LineSyntaxError('time outside range');
    // Floor division towards -infinity, so -1 ns is in the millisecond before the epoch.
    const q = ns / 1_000_000n;
    ts = Number(ns < 0n && q * 1_000_000n !== ns ? q - 1n : q);
  }
  return { line: lineNo, measurement: m.text, tags, fields, ts };
}

function fieldValue(raw: string): FieldValue {
  const last = raw[raw.length - 1];
  if (last === 'i' && INTEGER.test(raw.slice(0, -1))) {
    const v = BigInt(raw.slice(0, -1));
    if (v > MAX_INT64 || v < MIN_INT64) throw new LineSyntaxError(`unable to parse integer ${raw.slice(0, -1)}: strconv.ParseInt: parsing "${raw.slice(0, -1)}": value out of range`);
    return { type: 'integer', value: Number(v) };
  }
  if (last === 'u' && /^\d+$/.test(raw.slice(0, -1))) {
    const v = BigInt(raw.slice(0, -1));
    if (v > MAX_UINT64) throw new LineSyntaxError(`unable to parse unsigned ${raw.slice(0, -1)}: strconv.ParseUint: parsing "${raw.slice(0, -1)}": value out of range`);
    return { type: 'unsigned', value: Number(v) };
  }
  if (TRUE.has(raw)) return { type: 'boolean', value: true };
  if (FALSE.has(raw)) return { type: 'boolean', value: false };
  const c = raw[0] as string;
  if (c === '-' || c === '+' || c === '.' || (c >= '0' && c <= '9')) {
    if (!FLOAT.test(raw)) throw new LineSyntaxError('invalid number');
    const v = Number(raw);
    if (!Number.isFinite(v)) throw new LineSyntaxError(`invalid number`);
    return { type: 'float', value: v };
  }
  throw new LineSyntaxError('invalid boolean');
}
