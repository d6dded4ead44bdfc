import { z } from 'zod';
import { wallClock } from '../../core/index.ts';

const Day = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Day = z.infer<typeof Day>;
const HOURS = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;

/**
 * Wall-clock hours in a time zone (IANA name, read with Intl, so daylight saving is the zone's):
 * `days` and `hours` "08:00-18:00" are the working hours; `outside: true` means the rule applies
 * outside them (a door opened after hours).
 */
export const Schedule = z.strictObject({
  timezone: z.string().refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'not an IANA time zone like "Asia/Ho_Chi_Minh"'),
  days: z.array(Day).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
  hours: z.string().regex(HOURS, 'expected "HH:MM-HH:MM", e.g. "08:00-17:30"').default('00:00-24:00'),
  outside: z.boolean().default(false),
});
export type Schedule = z.output<typeof Schedule>;

/** True when the rule applies at `epochMs`: inside the working hours, or outside them with `outside: true`. */
export function inSchedule(schedule: Schedule, epochMs: number): boolean {
  const { day, minute } = wallClock(epochMs, schedule.timezone);
  const [from, to] = schedule.hours.split('-').map((hm) => {
    const [h, m] = hm.split(':');
    return Number(h) * 60 + Number(m);
  }) as [number, number];
  const working = schedule.days.includes(day) && minute >= from && minute < to;
  return schedule.outside ? !working : working;
}
