import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { readDataFile, type ConfigError } from '../../../core/index.ts';
import { civilOf, dayNumber, isoDate, type CivilDate } from './local-time.ts';

/** The calendars that ship with Watchfloor, by the name a config gives in `builtin`. */
export const BUILTIN_CALENDARS = { vn: fileURLToPath(new URL('./holidays-vn.yaml', import.meta.url)) } as const;

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real civil date written "YYYY-MM-DD" (2027-02-30 is refused). */
export const IsoDay = z.string().refine((s) => {
  const m = ISO_DAY.exec(s);
  if (!m) return false;
  const c = { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
  return isoDate(civilOf(dayNumber(c))) === s;
}, 'expected a date "YYYY-MM-DD"');

const MonthDay = z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'expected a day of the year "MM-DD"');

const Named = { name: z.string().min(1), name_en: z.string().min(1).optional(), note: z.string().optional() };

/** A holiday on one date, or on every date from `from` to `to` (both included; at most 31 days). */
const HolidayDays = z
  .strictObject({ date: IsoDay.optional(), from: IsoDay.optional(), to: IsoDay.optional(), ...Named })
  .superRefine((h, ctx) => {
    if ((h.date === undefined) === (h.from === undefined && h.to === undefined)) ctx.addIssue({ code: 'custom', path: ['date'], message: 'give "date", or "from" and "to"' });
    else if (h.date === undefined && (h.from === undefined || h.to === undefined)) ctx.addIssue({ code: 'custom', path: [h.from === undefined ? 'from' : 'to'], message: 'a range needs both "from" and "to"' });
    else if (h.from !== undefined && h.to !== undefined) {
      const span = dayOf(h.to) - dayOf(h.from);
      if (span < 0) ctx.addIssue({ code: 'custom', path: ['to'], message: '"to" is before "from"' });
      else if (span > 30) ctx.addIssue({ code: 'custom', path: ['to'], message: 'a holiday range is at most 31 days' });
    }
  });

/** What a holiday file holds, and what a calendar in the config may hold inline. */
const HolidayEntries = {
  /** Solar dates that are holidays every year (01-01). */
  fixed: z.array(z.strictObject({ date: MonthDay, ...Named })).default([]),
  /** Dates of one year: lunar holidays as their solar dates, the days off announced each year. */
  days: z.array(HolidayDays).default([]),
};

/** A holiday file (rules/notify/oncall/holidays-vn.yaml is one). */
export const HolidayFile = z.strictObject({ name: z.string().min(1), description: z.string().optional(), ...HolidayEntries });
export type HolidayFile = z.output<typeof HolidayFile>;

export interface Holiday {
  name: string;
  name_en?: string;
}

/** A calendar ready to ask: holidays by "YYYY-MM-DD" and by "MM-DD" (every year). */
export interface HolidayCalendar {
  readonly name: string;
  readonly dates: ReadonlyMap<string, Holiday>;
  readonly fixed: ReadonlyMap<string, Holiday>;
  /** The last year any dated holiday is listed for: lunar holidays after it are unknown to the calendar. */
  readonly lastYear: number | undefined;
}

function dayOf(iso: string): number {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  return dayNumber({ y, m, d });
}

const holidayOf = (h: { name: string; name_en?: string | undefined }): Holiday => ({ name: h.name, ...(h.name_en ? { name_en: h.name_en } : {}) });

/** Builds a calendar from entries (files first, inline last: a later entry for a date names it). */
export function compileCalendar(name: string, parts: readonly Pick<HolidayFile, 'fixed' | 'days'>[]): HolidayCalendar {
  const dates = new Map<string, Holiday>();
  const fixed = new Map<string, Holiday>();
  let lastYear: number | undefined;
  for (const part of parts) {
    for (const f of part.fixed) fixed.set(f.date, holidayOf(f));
    for (const h of part.days) {
      const from = dayOf(h.date ?? (h.from as string));
      const to = dayOf(h.date ?? (h.to as string));
      for (let day = from; day <= to; day++) {
        const c = civilOf(day);
        dates.set(isoDate(c), holidayOf(h));
        lastYear = Math.max(lastYear ?? c.y, c.y);
      }
    }
  }
  return { name, dates, fixed, lastYear };
}

/** The holiday on a civil date ("2027-02-06" or {y, m, d}), or undefined on a working day. */
export function holidayOn(calendar: HolidayCalendar, date: string | CivilDate): Holiday | undefined {
  const iso = typeof date === 'string' ? date : isoDate(date);
  return calendar.dates.get(iso) ?? calendar.fixed.get(iso.slice(5));
}

/** True when the civil date is a holiday in the calendar. */
export const isHoliday = (calendar: HolidayCalendar, date: string | CivilDate): boolean => holidayOn(calendar, date) !== undefined;

/**
 * `notify.oncall.calendars[]`: a built-in calendar, holiday files (paths absolute or, in a config file,
 * from its folder: core's loadConfig resolves them before this reads them) and dates inline, merged; each file is validated when the config is read, and a bad one
 * is an error naming the file and its field.
 */
export const CalendarConfig = z
  .strictObject({
    name: z.string().min(1),
    builtin: z.enum(Object.keys(BUILTIN_CALENDARS) as [keyof typeof BUILTIN_CALENDARS]).optional(),
    files: z.array(z.string().min(1)).default([]),
    ...HolidayEntries,
  })
  .transform((c, ctx): HolidayCalendar => {
    const parts: Pick<HolidayFile, 'fixed' | 'days'>[] = [];
    const files = [...(c.builtin ? [BUILTIN_CALENDARS[c.builtin]] : []), ...c.files];
    files.forEach((file, i) => {
      try {
        parts.push(readDataFile(file, HolidayFile));
      } catch (err) {
        const e = err as ConfigError;
        const path = c.builtin && i === 0 ? ['builtin'] : ['files', c.builtin ? i - 1 : i];
        ctx.addIssue({ code: 'custom', path, message: `${file}: ${e.issues ? e.issues.join('; ') : e.message}` });
      }
    });
    parts.push({ fixed: c.fixed, days: c.days });
    return compileCalendar(c.name, parts);
  });
