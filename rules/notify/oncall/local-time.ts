/**
 * Wall-clock dates and times in an IANA zone, read with Intl, so a zone's daylight saving (and any
 * change of its rules) is the zone database's business, never an offset assumed here. Vietnam has
 * had no daylight saving since 1975, but a schedule may be written for any zone.
 */

/** A civil date: year, month 1-12, day 1-31. */
export interface CivilDate {
  y: number;
  m: number;
  d: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatOf(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' });
    formats.set(zone, f);
  }
  return f;
}

/** True when Intl knows the zone ("Asia/Ho_Chi_Minh", "UTC"). */
export function isTimeZone(zone: string): boolean {
  try {
    formatOf(zone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock at `at` in `zone`: the date, and the minute and second of the day. */
export function wallTime(at: number, zone: string): CivilDate & { minute: number; second: number } {
  const p: Record<string, number> = {};
  for (const part of formatOf(zone).formatToParts(at)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { y: p.year ?? 0, m: p.month ?? 0, d: p.day ?? 0, minute: (p.hour ?? 0) * 60 + (p.minute ?? 0), second: p.second ?? 0 };
}

/** How far the zone's wall clock is ahead of UTC at `at`, in ms. */
function offsetAt(at: number, zone: string): number {
  const w = wallTime(at, zone);
  const asUtc = Date.UTC(w.y, w.m - 1, w.d, Math.floor(w.minute / 60), w.minute % 60, w.second);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** Days since 1970-01-01 of a civil date: consecutive dates are consecutive numbers, whatever the zone. */
export const dayNumber = (c: CivilDate): number => Math.round(Date.UTC(c.y, c.m - 1, c.d) / 86_400_000);

/** The civil date of a day number. */
export function civilOf(day: number): CivilDate {
  const t = new Date(day * 86_400_000);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** "2027-02-06". */
export const isoDate = (c: CivilDate): string => `${c.y}-${String(c.m).padStart(2, '0')}-${String(c.d).padStart(2, '0')}`;

/** 0 = Sunday ... 6 = Saturday, of a day number (1970-01-01 was a Thursday). */
export const weekdayOf = (day: number): number => (((day + 4) % 7) + 7) % 7;

/**
 * The instant the zone's clocks show `minute` of the day on `date`. A wall time that happens twice
 * (clocks set back) is its first occurrence; one skipped (clocks set forward) is moved forward by
 * the gap, as Temporal's "compatible" disambiguation does: a 02:30 hand-over on a spring-forward
 * night happens at 03:30, never not at all.
 */
export function instantAt(date: CivilDate, minute: number, zone: string): number {
  const wall = Date.UTC(date.y, date.m - 1, date.d, Math.floor(minute / 60), minute % 60);
  // The zone's offsets either side of that wall time (a day away spans any transition near it).
  const offsets = [...new Set([offsetAt(wall - 86_400_000, zone), offsetAt(wall, zone), offsetAt(wall + 86_400_000, zone)])];
  const valid = offsets.map((o) => wall - o).filter((t) => offsetAt(t, zone) === wall - t);
  if (valid.length > 0) return Math.min(...valid);
  return wall - Math.min(...offsets);
}
