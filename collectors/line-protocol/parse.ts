/*
 * InfluxDB line protocol (https://docs.influxdata.com/influxdb/v1.8/write_protocols/line_protocol_reference/):
 *   <measurement>[,<tag_key>=<tag_value>...] <field_key>=<field_value>[,...] [<timestamp>]
 * One line, one point; `#` starts a comment line; blank lines are skipped. A bad line is reported with
 * its number and reason (InfluxDB 1.x's words) and the others are kept (its "partial write").
 *
 * Two doors, one parser: parseLineProtocol gives LinePoint objects; readLineProtocol (the collector's)
 * hands each line to a visitor without making any: its series key (measurement and tags, the text up to
 * the first unescaped space) is parsed once per distinct text through the caller's cache (Telegraf
 * repeats the same few series every interval), its fields land in one reused LineFields, and numbers
 * and timestamps that fit a double exactly skip BigInt.
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
const TRUE = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE = new Set(['f', 'F', 'false', 'False', 'FALSE']);

class LineSyntaxError extends Error {}

/** A line's series: its measurement and tags (the text before its first unescaped space). */
export interface SeriesKey {
  measurement: string;
  tags: Record<string, string>;
}

/**
 * One line's fields and timestamp, reused from line to line. A key written twice keeps its first place
 * and takes the last value, as assigning to an object would. `numbers` holds booleans as 1/0 and NaN for
 * strings, whose text is in `strings`.
 */
export class LineFields {
  count = 0;
  ts = 0;
  readonly keys: string[] = [];
  readonly types: FieldValue['type'][] = [];
  readonly numbers: number[] = [];
  readonly strings: string[] = [];
  /** Past a few fields, a key's place is found by a map, not a scan (a line of 10,000 fields stays linear). */
  private index: Map<string, number> | undefined;

  reset(): void {
    this.count = 0;
    this.index = undefined;
  }

  set(key: string, type: FieldValue['type'], num: number, str: string): void {
    let at = -1;
    if (this.index) at = this.index.get(key) ?? -1;
    else for (let i = 0; i < this.count; i++) if (this.keys[i] === key) at = i;
    if (at < 0) {
      at = this.count++;
      if (this.index) this.index.set(key, at);
      else if (this.count > 16) this.index = new Map(this.keys.slice(0, this.count).map((k, i) => [k, i]));
    }
    this.keys[at] = key;
    this.types[at] = type;
    this.numbers[at] = num;
    this.strings[at] = str;
  }

  value(i: number): FieldValue {
    const type = this.types[i] as FieldValue['type'];
    if (type === 'string') return { type, value: this.strings[i] as string };
    if (type === 'boolean') return { type, value: this.numbers[i] === 1 };
    return { type, value: this.numbers[i] as number };
  }
}

/** Where readLineProtocol hands what it reads. */
export interface LineVisitor<S> {
  /** The series the caller kept for `text`, if any. */
  known(text: string): S | undefined;
  /** A series read for the first time (or not kept): the caller makes (and may keep) its own of it. */
  series(text: string, key: SeriesKey): S;
  /** One good line. false: stop before it; readLineProtocol answers where, to be called again from there. */
  line(series: S, fields: LineFields, lineNo: number): boolean;
  error(e: LineError): void;
}

/** Where a read stopped: the offset of the line in the body and the number of the line before it. */
export interface ReadPosition {
  offset: number;
  line: number;
}

/** Parses a body of line protocol; `now` (epoch ms) stamps lines without a timestamp. */
export function parseLineProtocol(body: string, precision: Precision, now: number): { points: LinePoint[]; errors: LineError[] } {
  const points: LinePoint[] = [];
  const errors: LineError[] = [];
  readLineProtocol<SeriesKey>(body, precision, now, {
    known: () => undefined,
    series: (_text, key) => key,
    line(series, f, line) {
      const fields: Record<string, FieldValue> = {};
      for (let i = 0; i < f.count; i++) fields[f.keys[i] as string] = f.value(i);
      points.push({ line, measurement: series.measurement, tags: series.tags, fields, ts: f.ts });
      return true;
    },
    error: (e) => errors.push(e),
  });
  return { points, errors };
}

/** Reads a body line by line into `visitor` (see the file comment); undefined once every line is read, else where it stopped. */
export function readLineProtocol<S>(body: string, precision: Precision, now: number, visitor: LineVisitor<S>, from: ReadPosition = { offset: 0, line: 0 }): ReadPosition | undefined {
  const fields = new LineFields();
  let start = from.offset;
  let n = from.line;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    const at = start;
    n++;
    // Without the `\r` of a CRLF end, and leading blanks (only looked for when the line starts with one).
    const cut = end > at && body.charCodeAt(end - 1) === 13 ? end - 1 : end;
    start = end + 1;
    const first = body.charCodeAt(at);
    const trimmed = first > SPACE && first < 127 ? body.slice(at, cut) : body.slice(at, cut).trimStart();
    if (trimmed === '' || trimmed.charCodeAt(0) === 35 /* # */) continue;
    let series: S;
    try {
      series = readLine(trimmed, precision, now, visitor, fields);
    } catch (err) {
      if (!(err instanceof LineSyntaxError)) throw err;
      visitor.error({ line: n, text: trimmed.length > 200 ? `${trimmed.slice(0, 200)}...` : trimmed, reason: err.message });
      continue;
    }
    if (!visitor.line(series, fields, n)) return { offset: at, line: n - 1 };
  }
  return undefined;
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

const BACKSLASH = 92;
const SPACE = 32;
const COMMA = 44;
const EQUALS = 61;
const QUOTE = 34;
/** `\` escapes these in tag keys and values and field keys (and, of them, `,`, ` `, `\` in a measurement). */
const isEscapable = (c: number): boolean => c === COMMA || c === EQUALS || c === SPACE || c === BACKSLASH;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** The series text of a line: measurement and tags (no unescaped space is in either). */
function parseSeries(line: string): SeriesKey {
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
  return { measurement: m.text, tags };
}

/** One line into `fields` (its timestamp in fields.ts); answers its series. */
function readLine<S>(line: string, precision: Precision, now: number, visitor: LineVisitor<S>, fields: LineFields): S {
  const len = line.length;
  // The series ends at the first unescaped space.
  let i = 0;
  while (i < len) {
    const c = line.charCodeAt(i);
    if (c === BACKSLASH && i + 1 < len && isEscapable(line.charCodeAt(i + 1))) i += 2;
    else if (c === SPACE) break;
    else i++;
  }
  if (i >= len) {
    parseSeries(line);
    throw new LineSyntaxError('missing fields');
  }
  const seriesText = line.slice(0, i);
  const series = visitor.known(seriesText) ?? visitor.series(seriesText, parseSeries(seriesText));
  while (line.charCodeAt(i) === SPACE) i++;
  fields.reset();
  for (;;) {
    // Field key, up to an unescaped `=` (`,` or ` ` there is an error).
    let j = i;
    let escaped = false;
    while (j < len) {
      const c = line.charCodeAt(j);
      if (c === BACKSLASH && j + 1 < len && isEscapable(line.charCodeAt(j + 1))) {
        escaped = true;
        j += 2;
      } else if (c === COMMA || c === EQUALS || c === SPACE) break;
      else j++;
    }
    const key = escaped ? scan(line, i, ',= ', ',= \\').text : line.slice(i, j);
    if (key === '' && (j >= len || line.charCodeAt(j) === SPACE)) throw new LineSyntaxError('missing fields');
    if (line.charCodeAt(j) !== EQUALS) throw new LineSyntaxError('invalid field format');
    if (key === '') throw new LineSyntaxError('missing field key');
    i = j + 1;
    if (line.charCodeAt(i) === QUOTE) {
      // String field: `"` and `\` are escaped inside the quotes.
      let out = '';
      let k = i + 1;
      let from = k;
      for (;;) {
        if (k >= len) throw new LineSyntaxError('unbalanced quotes');
        const c = line[k];
        if (c === '\\' && (line[k + 1] === '"' || line[k + 1] === '\\')) {
          out += line.slice(from, k) + line[k + 1];
          k += 2;
          from = k;
        } else if (c === '"') break;
        else k++;
      }
      fields.set(key, 'string', NaN, out + line.slice(from, k));
      i = k + 1;
      if (i < len && line.charCodeAt(i) !== COMMA && line.charCodeAt(i) !== SPACE) throw new LineSyntaxError('invalid field format');
    } else {
      let k = i;
      while (k < len) {
        const c = line.charCodeAt(k);
        if (c === COMMA || c === SPACE) break;
        k++;
      }
      if (k === i) throw new LineSyntaxError('missing field value');
      fieldValue(line.slice(i, k), key, fields);
      i = k;
    }
    if (line.charCodeAt(i) !== COMMA) break;
    i++;
  }
  while (line.charCodeAt(i) === SPACE) i++;
  fields.ts = now;
  if (i < len) {
    let j = i;
    while (j < len && line.charCodeAt(j) !== SPACE) j++;
    const raw = line.slice(i, j);
    while (line.charCodeAt(j) === SPACE) j++;
    if (j < len) throw new LineSyntaxError('invalid timestamp');
    fields.ts = timestamp(raw, precision);
  }
  return series;
}

/** The largest non-negative timestamp of each precision inside the int64 nanosecond range, as digits. */
const MAX_DIGITS: Record<Precision, string> = Object.fromEntries(Object.entries(NS_PER).map(([p, per]) => [p, (MAX_NANO / per).toString()])) as Record<Precision, string>;
/** Digits to drop for milliseconds (ns, us), or the factor to them (ms and coarser). */
const MS_DROP: Partial<Record<Precision, number>> = { ns: 6, us: 3 };
const MS_TIMES: Partial<Record<Precision, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Unsigned digits only (a leading `+` or `-` is not). */
function allDigits(s: string, from = 0, to = s.length): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** `[+-]?\d+` */
function isInteger(s: string, to = s.length): boolean {
  const c = s.charCodeAt(0);
  return allDigits(s, c === 43 || c === 45 ? 1 : 0, to);
}

/** `[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?`, the whole string. */
function isFloat(s: string): boolean {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 43 || c === 45) i++;
  let whole = 0;
  while (i < n && isDigit(s.charCodeAt(i))) {
    i++;
    whole++;
  }
  let fraction = 0;
  let dot = false;
  if (i < n && s.charCodeAt(i) === 46) {
    dot = true;
    i++;
    while (i < n && isDigit(s.charCodeAt(i))) {
      i++;
      fraction++;
    }
  }
  if (whole === 0 && !(dot && fraction > 0)) return false;
  if (i === n) return true;
  c = s.charCodeAt(i);
  if (c !== 101 && c !== 69) return false;
  i++;
  c = s.charCodeAt(i);
  if (c === 43 || c === 45) i++;
  return allDigits(s, i, n);
}

/** A timestamp in `precision` as epoch ms, floored. Plain digits that fit a double go without BigInt. */
function timestamp(raw: string, precision: Precision): number {
  const max = MAX_DIGITS[precision];
  if (allDigits(raw) && (raw.length < max.length || (raw.length === max.length && raw <= max))) {
    const drop = MS_DROP[precision];
    if (drop !== undefined) return raw.length > drop ? Number(raw.slice(0, raw.length - drop)) : 0;
    return Number(raw) * (MS_TIMES[precision] as number);
  }
  if (!isInteger(raw)) throw new LineSyntaxError(`bad timestamp`);
  const t = BigInt(raw);
  if (t > MAX_INT64 || t < MIN_INT64) throw new LineSyntaxError(`strconv.ParseInt: parsing "${raw}": value out of range`);
  const ns = t * NS_PER[precision];
  if (ns > MAX_NANO || ns < MIN_NANO) throw new LineSyntaxError('time outside range');
  // Floor division towards -infinity, so -1 ns is in the millisecond before the epoch.
  const q = ns / 1_000_000n;
  return Number(ns < 0n && q * 1_000_000n !== ns ? q - 1n : q);
}

/** Integers of at most 15 digits are exact as doubles; longer ones are checked against int64/uint64 by BigInt. */
const EXACT_DIGITS = 15;

function fieldValue(raw: string, key: string, fields: LineFields): void {
  const n = raw.length;
  const last = raw.charCodeAt(n - 1);
  if (last === 105 /* i */ && isInteger(raw, n - 1)) {
    const digits = raw.slice(0, -1);
    const signed = digits.charCodeAt(0) === 43 || digits.charCodeAt(0) === 45;
    if (digits.length - (signed ? 1 : 0) <= EXACT_DIGITS) return fields.set(key, 'integer', Number(digits) + 0, '');
    const v = BigInt(digits);
    if (v > MAX_INT64 || v < MIN_INT64) throw new LineSyntaxError(`unable to parse integer ${digits}: strconv.ParseInt: parsing "${digits}": value out of range`);
    return fields.set(key, 'integer', Number(v), '');
  }
  if (last === 117 /* u */ && allDigits(raw, 0, n - 1)) {
    const digits = raw.slice(0, -1);
    if (digits.length <= EXACT_DIGITS) return fields.set(key, 'unsigned', Number(digits), '');
    const v = BigInt(digits);
    if (v > MAX_UINT64) throw new LineSyntaxError(`unable to parse unsigned ${digits}: strconv.ParseUint: parsing "${digits}": value out of range`);
    return fields.set(key, 'unsigned', Number(v), '');
  }
  const c = raw.charCodeAt(0);
  // t T f F: the booleans' first letters.
  if (c === 116 || c === 84 || c === 102 || c === 70) {
    if (TRUE.has(raw)) return fields.set(key, 'boolean', 1, '');
    if (FALSE.has(raw)) return fields.set(key, 'boolean', 0, '');
  }
  if (c === 45 || c === 43 || c === 46 || isDigit(c)) {
    if (!isFloat(raw)) throw new LineSyntaxError('invalid number');
    const v = Number(raw);
    if (!Number.isFinite(v)) throw new LineSyntaxError(`invalid number`);
    return fields.set(key, 'float', v, '');
  }
  throw new LineSyntaxError('invalid boolean');
}
