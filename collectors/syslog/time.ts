/*
 * Timestamps as senders write them. RFC 3164 §4.1.2 `Mmm dd hh:mm:ss` has no year and no zone: the
 * year is the receive time's, or the one before when that would put the line more than 31 days in
 * the future (a December line received in January), as rsyslog and syslog-ng do; the zone is the
 * receiver's configured one (UTC by default), since the sender's is unknowable.
 */
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const FUTURE_SLACK_MS = 31 * 24 * 3600_000;

/** `Mmm dd [yyyy] hh:mm:ss[.fff]`, the BSD form (a year as Cisco's `service timestamps log datetime year` writes it). */
const BSD = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (?:(\d{4}) )?(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/;
/** RFC 3339 (RFC 5424 §6.2.3), also what rsyslog's high-precision RFC 3164 template sends. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?/i;

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of an IANA zone from UTC at `utcMs`, in ms (Intl, so the zone's own rules). */
function zoneOffsetMs(utcMs: number, timezone: string): number {
  let f = offsetFormatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    offsetFormatters.set(timezone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(utcMs)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** Epoch ms of a wall-clock time in `timezone` (UTC when absent). */
function wallToEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, timezone?: string): number {
  const naive = Date.UTC(y, mo, d, h, mi, s, ms);
  if (!timezone || timezone === 'UTC') return naive;
  // Two passes settle the offset across a DST change.
  let t = naive - zoneOffsetMs(naive, timezone);
  t = naive - zoneOffsetMs(t, timezone);
  return t;
}

const fraction = (f: string | undefined): number => (f ? Math.floor(Number(`0.${f}`) * 1000) : 0);

export interface ParsedTime {
  ts: number;
  /** Characters of the input the timestamp took. */
  length: number;
}

/** Reads a BSD timestamp at the start of `s`, inferring the year from `receivedAt`. */
export function readBsdTime(s: string, receivedAt: number, timezone?: string): ParsedTime | undefined {
  const m = BSD.exec(s);
  if (!m) return undefined;
  const month = MONTHS[m[1] as string];
  const day = Number(m[2]);
  if (month === undefined || day < 1 || day > 31) return undefined;
  const [h, mi, sec] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (h > 23 || mi > 59 || sec > 60) return undefined;
  const ms = fraction(m[7]);
  if (m[3]) return { ts: wallToEpoch(Number(m[3]), month, day, h, mi, sec, ms, timezone), length: m[0].length };
  const year = new Date(receivedAt).getUTCFullYear();
  let ts = wallToEpoch(year, month, day, h, mi, sec, ms, timezone);
  if (ts - receivedAt > FUTURE_SLACK_MS) ts = wallToEpoch(year - 1, month, day, h, mi, sec, ms, timezone);
  return { ts, length: m[0].length };
}

/** Reads an RFC 3339 timestamp at the start of `s` (a missing zone is `timezone`, else UTC). */
export function readIsoTime(s: string, timezone?: string): ParsedTime | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || sec! > 60) return undefined;
  const ms = fraction(m[7]);
  const zone = m[8];
  let ts: number;
  if (!zone) ts = wallToEpoch(y!, mo! - 1, d!, h!, mi!, sec!, ms, timezone);
  else {
    ts = Date.UTC(y!, mo! - 1, d!, h!, mi!, sec!, ms);
    if (zone.toUpperCase() !== 'Z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      ts -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
    }
  }
  return Number.isFinite(ts) ? { ts, length: m[0].length } : undefined;
}
