/*
 * The time part of an InfluxQL WHERE clause, and times as InfluxDB writes them (RFC3339, or an integer
 * count of the `epoch` unit, truncated as InfluxDB's integer division does).
 */
import type { SafeRegex } from '../../core/index.ts';
import type { Expr } from './parse.ts';

/** A statement that parses but that this store cannot answer; reported in the statement's `error`. */
export class Unsupported extends Error {}

const EPOCH_MS: Record<string, number> = { ns: 1e-6, u: 1e-3, µ: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The time bounds of a WHERE clause: only `time` comparisons joined by AND at the top level count, as in InfluxDB. */
export function timeBounds(where: Expr | undefined, now: number): { from?: number; to?: number } {
  const b: { from?: number; to?: number } = {};
  const visit = (e: Expr): void => {
    if (e.kind !== 'binary') return;
    if (e.op === 'AND') return visit(e.left), visit(e.right);
    const [ref, other, flipped] = isTime(e.left) ? [e.left, e.right, false] : isTime(e.right) ? [e.right, e.left, true] : [];
    if (!ref || !other) return;
    const t = timeValue(other, now);
    const op = flipped ? ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as Record<string, string>)[e.op] ?? e.op : e.op;
    if (op === '>' || op === '>=') b.from = Math.max(b.from ?? -Infinity, op === '>' ? Math.floor(t) + 1 : Math.ceil(t));
    else if (op === '<' || op === '<=') b.to = Math.min(b.to ?? Infinity, op === '<' ? Math.ceil(t) - 1 : Math.floor(t));
    else if (op === '=') {
      b.from = t;
      b.to = t;
    }
    else throw new Unsupported(`time ${e.op} is not supported; use >, >=, < or <=`);
  };
  if (where) visit(where);
  return b;
}

export const isTime = (e: Expr): boolean => e.kind === 'ref' && e.name.toLowerCase() === 'time';

/** A time literal: 1700000000000ms, now() - 2m, an RFC3339 string, or a bare number of nanoseconds. */
function timeValue(e: Expr, now: number): number {
  switch (e.kind) {
    case 'duration':
      return e.ms;
    case 'num':
      return e.value / 1e6;
    case 'str': {
      const t = Date.parse(e.value);
      if (Number.isNaN(t)) throw new Unsupported(`invalid time "${e.value}"`);
      return t;
    }
    case 'call':
      if (e.name === 'now') return now;
      break;
    case 'binary':
      if (e.op === '+') return timeValue(e.left, now) + timeValue(e.right, now);
      if (e.op === '-') return timeValue(e.left, now) - timeValue(e.right, now);
      break;
  }
  throw new Unsupported('invalid time expression');
}

/** A time in the answer: RFC3339 (whole seconds without a fraction, as InfluxDB), or an integer of the epoch unit. */
export function formatTime(t: number, epoch: string | undefined): number | string {
  // Go's RFC3339Nano, as InfluxDB writes it: the fraction without trailing zeros (.23Z, not .230Z).
  if (epoch === undefined) return new Date(t).toISOString().replace(/\.?0*Z$/, 'Z');
  const unit = EPOCH_MS[epoch] ?? 1;
  // InfluxDB divides nanoseconds by the unit, an integer division: 90 s at epoch=m is 1, not 1.5.
  return unit >= 1 ? Math.floor(t / unit) : Math.round(t / unit);
}

/** One row of a series: a time and the fields that have a value there. */
export interface Row {
  t: number;
  f: Record<string, number>;
}


type Tri = boolean | undefined;

/** The WHERE clause over one row of a series (tags and fields); undefined where a field is not known (series prefilter). */
export function condition(e: Expr, tags: Record<string, string>, row: Row | undefined, fieldKeys: Set<string>): Tri {
  if (e.kind !== 'binary') throw new Unsupported('a WHERE condition must compare a tag or field with a value');
  if (e.op === 'AND' || e.op === 'OR') {
    const l = condition(e.left, tags, row, fieldKeys);
    const r = condition(e.right, tags, row, fieldKeys);
    if (e.op === 'AND') return l === false || r === false ? false : l === undefined || r === undefined ? undefined : true;
    return l === true || r === true ? true : l === undefined || r === undefined ? undefined : false;
  }
  if (isTime(e.left) || isTime(e.right)) return true;
  const side = (x: Expr): number | string | SafeRegex | undefined | null => {
    if (x.kind === 'num') return x.value;
    if (x.kind === 'str') return x.value;
    if (x.kind === 'regex') return x.re;
    if (x.kind === 'ref') {
      if (fieldKeys.has(x.name)) return row ? (row.f[x.name] ?? null) : undefined;
      return tags[x.name] ?? '';
    }
    if (x.kind === 'binary' && ['+', '-', '*', '/'].includes(x.op)) {
      const a = side(x.left);
      const b = side(x.right);
      if (a === undefined || b === undefined) return undefined;
      if (typeof a !== 'number' || typeof b !== 'number') return null;
      return arith(x.op, a, b);
    }
    throw new Unsupported('unsupported expression in WHERE');
  };
  const a = side(e.left);
  const b = side(e.right);
  if (a === undefined || b === undefined) return undefined;
  if (a === null || b === null) return false;
  if (typeof b === 'object') {
    if (typeof a !== 'string') return false;
    return e.op === '=~' ? b.test(a) : e.op === '!~' ? !b.test(a) : false;
  }
  if (typeof a === 'object') return false;
  // A tag compared with a number compares as text in InfluxDB only for = and !=.
  const [x, y] = typeof a === typeof b ? [a, b] : [String(a), String(b)];
  switch (e.op) {
    case '=':
      return x === y;
    case '!=':
      return x !== y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
  throw new Unsupported(`operator ${e.op} is not supported in WHERE`);
}

export function arith(op: string, a: number, b: number): number | null {
  if (op === '+') return a + b;
  if (op === '-') return a - b;
  if (op === '*') return a * b;
  return b === 0 ? null : a / b;
}

/** The UTC offset of an IANA zone at `t`, in ms (+07:00 is 25,200,000); an unknown zone is InfluxDB's error. */
export function zoneOffsetMs(zone: string, t: number): number {
  let name: string | undefined;
  try {
    name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')?.value;
  } catch {
    throw new Unsupported(`unable to find time zone ${zone}`);
  }
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3_600_000 + Number(m[3]) * 60_000) : 0;
}
