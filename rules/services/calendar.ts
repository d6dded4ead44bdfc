/** Days and months in a site's time zone (IANA name), without a date library: Intl gives the offset. */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Milliseconds the zone is ahead of UTC at instant `ts`. */
export function zoneOffsetMs(ts: number, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ts).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return asUtc - Math.floor(ts / 1000) * 1000;
}

/** The instant local midnight begins on that date in the zone (month is 1-12; day may overflow, as Date.UTC allows). */
export function zonedMidnight(year: number, month: number, day: number, timeZone: string): number {
  const guess = Date.UTC(year, month - 1, day);
  let t = guess - zoneOffsetMs(guess, timeZone);
  // Once more: the offset at the guess and at the answer differ across a DST change.
  t = guess - zoneOffsetMs(t, timeZone);
  return t;
}

/** "2026-11" -> [start, end) of that month in the zone; undefined for a malformed month. */
export function monthBounds(month: string, timeZone: string): { from: number; to: number } | undefined {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  return { from: zonedMidnight(y, mo, 1, timeZone), to: zonedMidnight(y, mo + 1, 1, timeZone) };
}

/** The local date "YYYY-MM-DD" of an instant in the zone. */
export function localDate(ts: number, timeZone: string): string {
  return new Date(ts + zoneOffsetMs(ts, timeZone)).toISOString().slice(0, 10);
}

/** The `days` local days that end with today (the one holding `now`): their bounds, oldest first (days + 1 numbers). */
export function lastDays(now: number, days: number, timeZone: string): number[] {
  const [y, m, d] = localDate(now, timeZone).split('-').map(Number) as [number, number, number];
  const out: number[] = [];
  for (let i = days - 1; i >= -1; i--) out.push(zonedMidnight(y, m, d - i, timeZone));
  return out;
}

/** Whether the zone is one Intl knows. */
export function validTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
