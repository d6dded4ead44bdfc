/** Time as an argument: everything that needs "now" takes a Clock, so tests can drive it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; for tests. */
export class FakeClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

/** Days of the week as rules and schedules name them. */
export type Weekday = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';

const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const SHORT_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Weekday and minute of the day at `epochMs` in an IANA time zone (Intl, so the zone's own offset
 * rules): what rules' working hours and the simulated hosts' working day are measured in.
 */
export function wallClock(epochMs: number, timezone: string): { day: Weekday; minute: number } {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timezone, f);
  }
  let day: Weekday = 'sun';
  let hour = 0;
  let minute = 0;
  for (const part of f.formatToParts(epochMs)) {
    if (part.type === 'weekday') day = WEEKDAYS[SHORT_NAMES.indexOf(part.value)] ?? 'sun';
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}
