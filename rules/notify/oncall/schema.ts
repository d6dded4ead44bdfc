import { z } from 'zod';
import { AlertKind, Severity } from '../../../core/index.ts';
import { Duration } from '../../kinds/index.ts';
import { Matcher } from '../../silences.ts';
import { CalendarConfig, IsoDay, type HolidayCalendar } from './holidays.ts';
import { dayNumber, isTimeZone, weekdayOf } from './local-time.ts';

const TimeZone = z.string().refine(isTimeZone, 'not an IANA time zone like "Asia/Ho_Chi_Minh"');

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** "08:00" as the minute of the day. */
const TimeOfDay = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day "HH:MM", e.g. "08:00"')
  .transform((s) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3)));

/** A person who takes shifts: `name` is their Watchfloor username (chat buttons act as them). */
export const OnCallPerson = z.strictObject({
  name: z.string().min(1).max(64),
  /** Where they are paged: names of `notify.receivers` (their Telegram, e-mail...). */
  receivers: z.array(z.string().min(1)).min(1),
  /** The language of messages to their receivers (unless a receiver names its own); notify.language when absent. */
  language: z.enum(['vi', 'en']).optional(),
});
export type OnCallPerson = z.output<typeof OnCallPerson>;

const LENGTH = /^(daily|weekly|[1-9]\d{0,2}d)$/;

/**
 * Who is on call, from the rotation, its overrides and the holidays. A shift starts at `handover.time`
 * local time and lasts `length` (daily, weekly, or "N d"); `start` is the date `people[0]` takes the
 * first shift (a weekly rotation with `handover.weekday` must start on that weekday).
 */
export const OnCallSchedule = z
  .strictObject({
    name: z.string().min(1),
    timeZone: TimeZone.default('Asia/Ho_Chi_Minh'),
    rotation: z.strictObject({
      people: z.array(z.string().min(1)).min(1),
      length: z.string().regex(LENGTH, 'expected "daily", "weekly" or a number of days like "3d"').default('weekly'),
      handover: z.strictObject({ time: TimeOfDay.default(8 * 60), weekday: z.enum(WEEKDAYS).optional() }).prefault({}),
      start: IsoDay,
    }),
    /**
     * Someone covering instead of the rotation: `from`/`to` are dates (the shifts of those days,
     * both included, from the hand-over time on `from`) or instants with an offset
     * ("2026-12-24T18:00:00+07:00", `to` excluded). A later override wins over an earlier one.
     */
    overrides: z
      .array(z.strictObject({ person: z.string().min(1), from: z.union([IsoDay, z.iso.datetime({ offset: true })]), to: z.union([IsoDay, z.iso.datetime({ offset: true })]), reason: z.string().optional() }))
      .default([]),
    /** On the calendar's holidays (the shift that starts on a holiday), `people` take the shifts in turn, one day each. */
    holidays: z.strictObject({ calendar: z.string().min(1), people: z.array(z.string().min(1)).min(1) }).optional(),
  })
  .superRefine((s, ctx) => {
    const { start, handover } = s.rotation;
    if (handover.weekday !== undefined) {
      const [y, m, d] = start.split('-').map(Number) as [number, number, number];
      const wd = WEEKDAYS[weekdayOf(dayNumber({ y, m, d }))];
      if (wd !== handover.weekday) ctx.addIssue({ code: 'custom', path: ['rotation', 'start'], message: `${start} is a ${wd}, not the hand-over weekday (${handover.weekday})` });
      if (s.rotation.length !== 'weekly') ctx.addIssue({ code: 'custom', path: ['rotation', 'handover', 'weekday'], message: 'a hand-over weekday is for a weekly rotation' });
    }
    s.overrides.forEach((o, i) => {
      if (IsoDay.safeParse(o.from).success !== IsoDay.safeParse(o.to).success) ctx.addIssue({ code: 'custom', path: ['overrides', i, 'to'], message: '"from" and "to" are both dates or both instants' });
      else if (o.to < o.from && IsoDay.safeParse(o.to).success) ctx.addIssue({ code: 'custom', path: ['overrides', i, 'to'], message: '"to" is before "from"' });
      else if (!IsoDay.safeParse(o.to).success && Date.parse(o.to) <= Date.parse(o.from)) ctx.addIssue({ code: 'custom', path: ['overrides', i, 'to'], message: '"to" is not after "from"' });
    });
  });
export type OnCallSchedule = Omit<z.output<typeof OnCallSchedule>, 'holidays'> & { holidays?: { calendar: HolidayCalendar; people: string[] } };

/**
 * Who a level pages: the person on call of a schedule, the next one of its rotation, a named person,
 * or a receiver.
 */
export const EscalationTarget = z.union([
  z.strictObject({ oncall: z.string().min(1) }),
  z.strictObject({ next: z.string().min(1) }),
  z.strictObject({ person: z.string().min(1) }),
  z.strictObject({ receiver: z.string().min(1) }),
]);
export type EscalationTarget = z.output<typeof EscalationTarget>;

/**
 * An escalation policy: which alerts (a route's fields; critical only unless `severities` says
 * otherwise), and levels paged in turn while the alert is firing and unacknowledged, each `after`
 * that long since it fired (or since it was unacknowledged again). `repeat` runs the levels again,
 * `every` after the last one, that many more times.
 */
export const EscalationPolicy = z
  .strictObject({
    name: z.string().min(1),
    kinds: z.array(AlertKind).optional(),
    severities: z.array(Severity).min(1).default(['critical']),
    matchers: z.array(Matcher).default([]),
    levels: z.array(z.strictObject({ after: Duration, notify: EscalationTarget })).min(1),
    repeat: z.strictObject({ times: z.number().int().min(1).max(100), every: Duration }).optional(),
  })
  .superRefine((p, ctx) => {
    p.levels.forEach((l, i) => {
      const before = p.levels[i - 1];
      if (before && l.after <= before.after) ctx.addIssue({ code: 'custom', path: ['levels', i, 'after'], message: 'each level waits longer than the one before (times are from when the alert fired)' });
    });
  });
export type EscalationPolicy = z.output<typeof EscalationPolicy>;

/** `notify.oncall`. */
export const OnCallConfig = z
  .strictObject({
    people: z.array(OnCallPerson).default([]),
    calendars: z.array(CalendarConfig).default([]),
    schedules: z.array(OnCallSchedule).default([]),
    policies: z.array(EscalationPolicy).default([]),
  })
  .superRefine((c, ctx) => {
    const people = new Set(c.people.map((p) => p.name));
    const unique = (names: string[], path: string) => {
      const seen = new Set<string>();
      names.forEach((n, i) => (seen.has(n) ? ctx.addIssue({ code: 'custom', path: [path, i, 'name'], message: `"${n}" is named twice` }) : seen.add(n)));
    };
    unique(c.people.map((p) => p.name), 'people');
    unique(c.calendars.map((p) => p.name), 'calendars');
    unique(c.schedules.map((p) => p.name), 'schedules');
    unique(c.policies.map((p) => p.name), 'policies');
    const person = (name: string, path: (string | number)[]) => people.has(name) || ctx.addIssue({ code: 'custom', path, message: `unknown person "${name}" (not in oncall.people)` });
    const calendars = new Set(c.calendars.map((k) => k.name));
    const schedules = new Set(c.schedules.map((s) => s.name));
    c.schedules.forEach((s, i) => {
      s.rotation.people.forEach((p, j) => person(p, ['schedules', i, 'rotation', 'people', j]));
      s.overrides.forEach((o, j) => person(o.person, ['schedules', i, 'overrides', j, 'person']));
      if (s.holidays) {
        if (!calendars.has(s.holidays.calendar)) ctx.addIssue({ code: 'custom', path: ['schedules', i, 'holidays', 'calendar'], message: `unknown calendar "${s.holidays.calendar}"` });
        s.holidays.people.forEach((p, j) => person(p, ['schedules', i, 'holidays', 'people', j]));
      }
    });
    c.policies.forEach((p, i) =>
      p.levels.forEach((l, j) => {
        const path = ['policies', i, 'levels', j, 'notify'];
        const t = l.notify;
        if ('person' in t) person(t.person, [...path, 'person']);
        const schedule = 'oncall' in t ? t.oncall : 'next' in t ? t.next : undefined;
        if (schedule !== undefined && !schedules.has(schedule)) ctx.addIssue({ code: 'custom', path: [...path, 'oncall' in t ? 'oncall' : 'next'], message: `unknown schedule "${schedule}"` });
      }),
    );
  })
  .transform((c) => {
    // The schedules' holiday calendars by reference, so a schedule alone answers who is on call.
    const byName = new Map(c.calendars.map((k) => [k.name, k]));
    const schedules = c.schedules.map((s): OnCallSchedule => {
      const { holidays, ...rest } = s;
      const calendar = holidays && byName.get(holidays.calendar);
      return calendar && holidays ? { ...rest, holidays: { calendar, people: holidays.people } } : rest;
    });
    return { ...c, schedules };
  });
export type OnCallConfig = z.output<typeof OnCallConfig>;

/** The receiver a route names to send to whoever is on call in a schedule: `oncall:<schedule>`. */
export const ONCALL_RECEIVER = /^oncall:(.+)$/;

/**
 * What `notify` must hold for `oncall` to make sense: the receivers people and levels name, the
 * schedules `oncall:` routes name. Issues with their path under `notify`.
 */
export function onCallIssues(c: OnCallConfig | undefined, receivers: ReadonlySet<string>, routeReceivers: readonly string[]): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const schedules = new Set(c?.schedules.map((s) => s.name));
  routeReceivers.forEach((r, i) => {
    const m = ONCALL_RECEIVER.exec(r);
    if (m && !schedules.has(m[1] as string)) out.push({ path: ['routes', i, 'receiver'], message: `unknown on-call schedule "${m[1]}" (oncall.schedules)` });
  });
  c?.people.forEach((p, i) => p.receivers.forEach((r, j) => receivers.has(r) || out.push({ path: ['oncall', 'people', i, 'receivers', j], message: `unknown receiver "${r}"` })));
  c?.policies.forEach((p, i) =>
    p.levels.forEach((l, j) => {
      if ('receiver' in l.notify && !receivers.has(l.notify.receiver)) out.push({ path: ['oncall', 'policies', i, 'levels', j, 'notify', 'receiver'], message: `unknown receiver "${l.notify.receiver}"` });
    }),
  );
  return out;
}
