import type { Day, Schedule } from './schema.ts';

const DAYS: readonly Day[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Weekday and minute of the day at `epochMs` in an IANA time zone (Intl, so the zone's own offset rules). */
export function wallClock(epochMs: number, timezone: string): { day: Day; minute: number } {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timezone, f);
  }
  let day: Day = 'sun';
  let hour = 0;
  let minute = 0;
  for (const part of f.formatToParts(epochMs)) {
    if (part.type === 'weekday') day = DAYS[['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(part.value)] ?? 'sun';
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

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
