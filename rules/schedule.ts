import { wallClock } from '../core/index.ts';
import type { Schedule } from './schema.ts';

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
