import { holidayOn, IsoDay, type Holiday } from './holidays.ts';
import { civilOf, dayNumber, instantAt, isoDate, wallTime } from './local-time.ts';
import type { OnCallSchedule } from './schema.ts';

/** Who is on call at an instant, and why. */
export interface OnCallNow {
  person: string;
  /** `override` and `holiday` win over the rotation, in that order. */
  source: 'rotation' | 'override' | 'holiday';
  /** The local date of the running day of duty, from its hand-over time ("2027-02-06"; the day before until the hand-over). */
  shiftDate: string;
  /** The holiday of that date, when the schedule's calendar has one (whoever covers it). */
  holiday?: Holiday;
}

const mod = (a: number, n: number): number => ((a % n) + n) % n;
const dayOfIso = (iso: string): number => {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  return dayNumber({ y, m, d });
};
const lengthDays = (s: OnCallSchedule): number => (s.rotation.length === 'daily' ? 1 : s.rotation.length === 'weekly' ? 7 : Number(s.rotation.length.slice(0, -1)));
const isDate = (s: string): boolean => IsoDay.safeParse(s).success;

/** The instant the shift of local day `day` begins: the hand-over time that day, in the schedule's zone. */
export const handoverAt = (s: OnCallSchedule, day: number): number => instantAt(civilOf(day), s.rotation.handover.time, s.timeZone);

/** The local day whose shift is running at `at`: today after today's hand-over, yesterday before it. */
function shiftDayAt(s: OnCallSchedule, at: number): number {
  const day = dayNumber(wallTime(at, s.timeZone));
  return at < handoverAt(s, day) ? day - 1 : day;
}

/** The rotation's person for the shift of local day `day` (before `start` too: the rotation runs both ways). */
function rotationPerson(s: OnCallSchedule, day: number): string {
  const { people, start } = s.rotation;
  return people[mod(Math.floor((day - dayOfIso(start)) / lengthDays(s)), people.length)] as string;
}

/**
 * Who is on call in `schedule` at `at` (epoch ms): an override covering that moment, else the
 * holiday people on a holiday's shift (taking the holiday days in turn), else the rotation. Shifts
 * change exactly at the hand-over time on the zone's wall clock (08:00:00 is the new shift,
 * 07:59:59.999 the old one), whatever the zone's daylight saving does.
 */
export function onCallAt(schedule: OnCallSchedule, at: number): OnCallNow {
  const day = shiftDayAt(schedule, at);
  const shiftDate = isoDate(civilOf(day));
  const holiday = schedule.holidays ? holidayOn(schedule.holidays.calendar, shiftDate) : undefined;
  const extra = holiday ? { holiday } : {};
  for (let i = schedule.overrides.length - 1; i >= 0; i--) {
    const o = schedule.overrides[i];
    if (!o) continue;
    const covers = isDate(o.from) ? day >= dayOfIso(o.from) && day <= dayOfIso(o.to) : at >= Date.parse(o.from) && at < Date.parse(o.to);
    if (covers) return { person: o.person, source: 'override', shiftDate, ...extra };
  }
  if (holiday && schedule.holidays) {
    const people = schedule.holidays.people;
    return { person: people[mod(day - dayOfIso(schedule.rotation.start), people.length)] as string, source: 'holiday', shiftDate, holiday };
  }
  return { person: rotationPerson(schedule, day), source: 'rotation', shiftDate, ...extra };
}

/**
 * The next time someone else takes over after `at` (a rotation hand-over, an override or a
 * holiday starting or ending), within `horizonDays`; undefined when nobody else comes in that time.
 */
export function nextHandover(schedule: OnCallSchedule, at: number, horizonDays = 400): { at: number; person: string } | undefined {
  const current = onCallAt(schedule, at).person;
  const first = shiftDayAt(schedule, at);
  const instants = schedule.overrides
    .filter((o) => !isDate(o.from))
    .flatMap((o) => [Date.parse(o.from), Date.parse(o.to)])
    .filter((t) => t > at)
    .sort((a, b) => a - b);
  let k = 0;
  for (let day = first + 1; day <= first + horizonDays; day++) {
    const t = handoverAt(schedule, day);
    // Override instants before this hand-over come first.
    for (; k < instants.length && (instants[k] as number) < t; k++) {
      const who = onCallAt(schedule, instants[k] as number).person;
      if (who !== current) return { at: instants[k] as number, person: who };
    }
    const who = onCallAt(schedule, t).person;
    if (who !== current) return { at: t, person: who };
  }
  return undefined;
}

/**
 * The next person of the rotation after whoever is on call at `at`: the rotation's own person when
 * an override or a holiday covers instead of them, else the one after them in `rotation.people`.
 * Undefined when the rotation has nobody else.
 */
export function nextInRotation(schedule: OnCallSchedule, at: number): string | undefined {
  const now = onCallAt(schedule, at);
  const day = shiftDayAt(schedule, at);
  const regular = rotationPerson(schedule, day);
  if (regular !== now.person) return regular;
  const people = schedule.rotation.people;
  const i = people.indexOf(regular);
  for (let step = 1; step < people.length; step++) {
    const p = people[mod(i + step, people.length)] as string;
    if (p !== now.person) return p;
  }
  return undefined;
}
