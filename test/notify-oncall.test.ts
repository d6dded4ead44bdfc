import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { startWatchfloor } from '../cli/index.ts';
import { freeUdpPort } from '../collectors/index.ts';
import { Config, FakeClock, Inventory, loadConfig, readDataFile, silentLogger, type Alert } from '../core/index.ts';
import { checkConfig } from '../cli/config-check.ts';
import { loadRules, NotifyConfig, parseNotifyConfig, RuleEngine, startNotifier, type NotifyReceiver } from '../rules/index.ts';
import {
  BUILTIN_CALENDARS, CalendarConfig, EscalationBook, EscalationPolicy, escalationStep, HolidayFile, holidayOn, isHoliday, nextHandover, nextInRotation, onCallAt, OnCallConfig, OnCallRoster,
} from '../rules/notify/oncall/index.ts';
import { eventually } from './support/net.ts';
import { ADMIN_PASSWORD, api, login, smallInventory } from './support/start-product.ts';
import { artifactsDir, ensureUiBuilt, launchChromium } from './support/ui.ts';

const at = (iso: string): number => Date.parse(iso);

/** Three NOC people, weekly, handing over Monday 08:00 in Hà Nội time; the VN holidays with a holiday rotation. */
const sample = {
  people: [
    { name: 'an', receivers: ['an-hook'] },
    { name: 'binh', receivers: ['binh-hook'] },
    { name: 'chi', receivers: ['chi-hook'], language: 'en' },
    { name: 'dung', receivers: ['dung-hook'] },
    { name: 'manager', receivers: ['manager-hook'] },
  ],
  calendars: [{ name: 'vn', builtin: 'vn' }],
  schedules: [
    {
      name: 'noc',
      timeZone: 'Asia/Ho_Chi_Minh',
      rotation: { people: ['an', 'binh', 'chi'], length: 'weekly', handover: { weekday: 'monday', time: '08:00' }, start: '2026-11-30' },
      holidays: { calendar: 'vn', people: ['dung', 'manager'] },
    },
  ],
};
const oncall = (extra: Record<string, unknown> = {}) => OnCallConfig.parse({ ...sample, schedules: [{ ...sample.schedules[0], ...extra }] });
const noc = (extra: Record<string, unknown> = {}) => oncall(extra).schedules[0] as NonNullable<ReturnType<typeof oncall>['schedules'][number]>;
const issuesOf = (schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } } }, v: unknown): string[] =>
  (schema.safeParse(v).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('on-call rotation', () => {
  it('hands over exactly at 08:00:00 local time on the hand-over Monday, round the rotation', () => {
    const s = noc();
    expect(onCallAt(s, at('2026-12-07T07:59:59.999+07:00')).person).toBe('an');
    expect(onCallAt(s, at('2026-12-07T08:00:00+07:00')).person).toBe('binh');
    // 08:00 in Hà Nội is 01:00 UTC: the zone's wall clock decides, not the machine's or UTC's.
    expect(onCallAt(s, at('2026-12-07T00:59:59Z')).person).toBe('an');
    expect(onCallAt(s, at('2026-12-07T01:00:00Z')).person).toBe('binh');
    expect(onCallAt(s, at('2026-12-14T08:00:00+07:00')).person).toBe('chi');
    expect(onCallAt(s, at('2026-12-21T08:00:00+07:00')).person).toBe('an');
    // Before its start the rotation runs backwards the same way.
    expect(onCallAt(s, at('2026-11-30T07:59:59+07:00')).person).toBe('chi');
    expect(onCallAt(s, at('2026-12-03T15:00:00+07:00'))).toMatchObject({ person: 'an', source: 'rotation', shiftDate: '2026-12-03' });
    expect(onCallAt(s, at('2026-12-03T07:00:00+07:00')).shiftDate).toBe('2026-12-02');
  });

  it('daily and N-day rotations hand over every day or every N days at their time', () => {
    const daily = noc({ rotation: { people: ['an', 'binh'], length: 'daily', handover: { time: '19:30' }, start: '2026-12-01' } });
    expect(onCallAt(daily, at('2026-12-01T19:29:59+07:00')).person).toBe('binh');
    expect(onCallAt(daily, at('2026-12-01T19:30:00+07:00')).person).toBe('an');
    expect(onCallAt(daily, at('2026-12-02T19:30:00+07:00')).person).toBe('binh');
    const three = noc({ rotation: { people: ['an', 'binh', 'chi'], length: '3d', handover: { time: '08:00' }, start: '2026-12-01' } });
    expect(['2026-12-01', '2026-12-03', '2026-12-04', '2026-12-06', '2026-12-07', '2026-12-10'].map((d) => onCallAt(three, at(`${d}T09:00:00+07:00`)).person)).toEqual(['an', 'an', 'binh', 'binh', 'chi', 'an']);
  });

  it('in a zone with daylight saving, the hand-over follows the wall clock: 08:00 is 06:00 UTC in summer, 07:00 in winter, and a skipped 02:30 happens at 03:30', () => {
    const berlin = noc({ timeZone: 'Europe/Berlin', rotation: { people: ['an', 'binh'], length: 'daily', handover: { time: '08:00' }, start: '2026-03-01' } });
    // 2026-03-29: clocks go from 02:00 to 03:00 in Berlin.
    expect(onCallAt(berlin, at('2026-03-28T06:59:59Z')).person).not.toBe(onCallAt(berlin, at('2026-03-28T07:00:00Z')).person);
    expect(onCallAt(berlin, at('2026-03-29T05:59:59Z')).person).not.toBe(onCallAt(berlin, at('2026-03-29T06:00:00Z')).person);
    const night = noc({ timeZone: 'Europe/Berlin', rotation: { people: ['an', 'binh'], length: 'daily', handover: { time: '02:30' }, start: '2026-03-01' } });
    const before = onCallAt(night, at('2026-03-29T01:29:59Z')).person;
    expect(onCallAt(night, at('2026-03-29T01:30:00Z')).person).not.toBe(before); // 03:30 CEST
    expect(onCallAt(night, at('2026-03-29T00:45:00Z')).person).toBe(before); // 01:45 CET, before the gap
    // 2026-10-25: 02:30 happens twice; the hand-over is the first, 00:30 UTC.
    const first = onCallAt(night, at('2026-10-25T00:29:59Z')).person;
    expect(onCallAt(night, at('2026-10-25T00:30:00Z')).person).not.toBe(first);
    expect(onCallAt(night, at('2026-10-25T01:30:00Z')).person).toBe(onCallAt(night, at('2026-10-25T00:30:00Z')).person);
  });

  it('an override covers its dates from hand-over to hand-over, an instant override to the minute; the later one wins', () => {
    const s = noc({
      overrides: [
        { person: 'chi', from: '2026-12-02', to: '2026-12-03', reason: 'an ở đám cưới' },
        { person: 'manager', from: '2026-12-03T18:00:00+07:00', to: '2026-12-03T22:00:00+07:00' },
      ],
    });
    expect(onCallAt(s, at('2026-12-02T07:59:59+07:00')).person).toBe('an');
    expect(onCallAt(s, at('2026-12-02T08:00:00+07:00'))).toMatchObject({ person: 'chi', source: 'override' });
    expect(onCallAt(s, at('2026-12-03T17:59:59+07:00')).person).toBe('chi');
    expect(onCallAt(s, at('2026-12-03T18:00:00+07:00')).person).toBe('manager');
    expect(onCallAt(s, at('2026-12-03T22:00:00+07:00')).person).toBe('chi');
    expect(onCallAt(s, at('2026-12-04T07:59:59+07:00')).person).toBe('chi');
    expect(onCallAt(s, at('2026-12-04T08:00:00+07:00')).person).toBe('an');
    // The next hand-overs, in order: each time someone else comes in.
    expect(nextHandover(s, at('2026-12-01T12:00:00+07:00'))).toEqual({ at: at('2026-12-02T08:00:00+07:00'), person: 'chi' });
    expect(nextHandover(s, at('2026-12-03T12:00:00+07:00'))).toEqual({ at: at('2026-12-03T18:00:00+07:00'), person: 'manager' });
    expect(nextHandover(s, at('2026-12-04T12:00:00+07:00'))).toEqual({ at: at('2026-12-07T08:00:00+07:00'), person: 'binh' });
    // "The next of the rotation": the rotation's own person while someone covers for them.
    expect(nextInRotation(s, at('2026-12-02T12:00:00+07:00'))).toBe('an');
    expect(nextInRotation(s, at('2026-12-05T12:00:00+07:00'))).toBe('binh');
  });

  it('refuses a bad schedule with the field named', () => {
    const bad = { ...sample, schedules: [{ name: 'noc', timeZone: 'Asia/Saigon_Typo', rotation: { people: ['an', 'nobody'], handover: { weekday: 'monday', time: '8:00' }, start: '2026-12-01' }, overrides: [{ person: 'an', from: '2026-12-05', to: '2026-12-04' }] }] };
    expect(issuesOf(OnCallConfig, bad)).toEqual(expect.arrayContaining([
      'schedules.0.timeZone: not an IANA time zone like "Asia/Ho_Chi_Minh"',
      'schedules.0.rotation.handover.time: expected a time of day "HH:MM", e.g. "08:00"',
    ]));
    const bad2 = { ...sample, schedules: [{ name: 'noc', rotation: { people: ['an', 'nobody'], handover: { weekday: 'monday' }, start: '2026-12-01' }, overrides: [{ person: 'an', from: '2026-12-05', to: '2026-12-04' }] }] };
    expect(issuesOf(OnCallConfig, bad2)).toEqual(expect.arrayContaining([
      'schedules.0.rotation.start: 2026-12-01 is a tuesday, not the hand-over weekday (monday)',
      'schedules.0.overrides.0.to: "to" is before "from"',
    ]));
    const bad3 = { ...sample, schedules: [{ ...sample.schedules[0], rotation: { ...sample.schedules[0]?.rotation, people: ['an', 'nobody'] } }] };
    expect(issuesOf(OnCallConfig, bad3)).toEqual(['schedules.0.rotation.people.1: unknown person "nobody" (not in oncall.people)']);
    // Through notify: a person's receiver must exist; a route to `oncall:` must name a schedule.
    expect(issuesOf(NotifyConfig, { receivers: [{ name: 'an-hook', webhook: { url: 'http://127.0.0.1:1/' } }], routes: [{ receiver: 'oncall:soc' }], oncall: { people: [{ name: 'an', receivers: ['an-hook', 'an-mail'] }] } })).toEqual([
      'routes.0.receiver: unknown on-call schedule "soc" (oncall.schedules)',
      'oncall.people.0.receivers.1: unknown receiver "an-mail"',
    ]);
  });
});

/**
 * Hồ Ngọc Đức's algorithm for the Vietnamese lunar calendar (the one Vietnamese calendars use:
 * Meeus' new moons and sun longitude, reckoned at UTC+7), as an oracle for the file's lunar dates.
 * ICU's Chinese calendar is no oracle here: it reckons at UTC+8 (Tết 2030 is 03/02 in China) and
 * its approximation puts Tết 2027 on 07/02.
 */
function lunarDate(dd: number, mm: number, yy: number, tz = 7): { day: number; month: number; leap: boolean } {
  const INT = Math.floor;
  const dr = Math.PI / 180;
  const jd = (d: number, m: number, y: number) => {
    const a = INT((14 - m) / 12), yr = y + 4800 - a, mo = m + 12 * a - 3;
    return d + INT((153 * mo + 2) / 5) + 365 * yr + INT(yr / 4) - INT(yr / 100) + INT(yr / 400) - 32045;
  };
  const newMoonDay = (k: number) => {
    const T = k / 1236.85, T2 = T * T, T3 = T2 * T;
    const M = 359.2242 + 29.10535608 * k - 0.0000333 * T2 - 0.00000347 * T3;
    const Mpr = 306.0253 + 385.81691806 * k + 0.0107306 * T2 + 0.00001236 * T3;
    const F = 21.2964 + 390.67050646 * k - 0.0016528 * T2 - 0.00000239 * T3;
    const s = (x: number) => Math.sin(x * dr);
    const C1 = (0.1734 - 0.000393 * T) * s(M) + 0.0021 * s(2 * M) - 0.4068 * s(Mpr) + 0.0161 * s(2 * Mpr) - 0.0004 * s(3 * Mpr) + 0.0104 * s(2 * F) - 0.0051 * s(M + Mpr) - 0.0074 * s(M - Mpr) + 0.0004 * s(2 * F + M) - 0.0004 * s(2 * F - M) - 0.0006 * s(2 * F + Mpr) + 0.001 * s(2 * F - Mpr) + 0.0005 * s(2 * Mpr + M);
    const jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * T2 - 0.000000155 * T3 + 0.00033 * s(166.56 + 132.87 * T - 0.009173 * T2);
    const deltat = -0.000278 + 0.000265 * T + 0.000262 * T2;
    return INT(jd1 + C1 - deltat + 0.5 + tz / 24);
  };
  const sunLongitude = (jdn: number) => {
    const T = (jdn - 2451545.5 - tz / 24) / 36525, T2 = T * T;
    const M = 357.5291 + 35999.0503 * T - 0.0001559 * T2 - 0.00000048 * T * T2;
    const L0 = 280.46645 + 36000.76983 * T + 0.0003032 * T2;
    const DL = (1.9146 - 0.004817 * T - 0.000014 * T2) * Math.sin(dr * M) + (0.019993 - 0.000101 * T) * Math.sin(dr * 2 * M) + 0.00029 * Math.sin(dr * 3 * M);
    let L = (L0 + DL) * dr;
    L -= Math.PI * 2 * INT(L / (Math.PI * 2));
    return INT((L / Math.PI) * 6);
  };
  const month11 = (y: number) => {
    const k = INT((jd(31, 12, y) - 2415021) / 29.530588853);
    const nm = newMoonDay(k);
    return sunLongitude(nm) >= 9 ? newMoonDay(k - 1) : nm;
  };
  const leapOffset = (a11: number) => {
    const k = INT((a11 - 2415021.076998695) / 29.530588853 + 0.5);
    let i = 1, arc = sunLongitude(newMoonDay(k + i)), last: number;
    do {
      last = arc;
      i++;
      arc = sunLongitude(newMoonDay(k + i));
    } while (arc !== last && i < 14);
    return i - 1;
  };
  const day = jd(dd, mm, yy);
  const k = INT((day - 2415021.076998695) / 29.530588853);
  let start = newMoonDay(k + 1);
  if (start > day) start = newMoonDay(k);
  let a11 = month11(yy), b11 = a11;
  if (a11 >= start) a11 = month11(yy - 1);
  else b11 = month11(yy + 1);
  const diff = INT((start - a11) / 29);
  let month = diff + 11, leap = false;
  if (b11 - a11 > 365) {
    const lm = leapOffset(a11);
    if (diff >= lm) {
      month = diff + 10;
      leap = diff === lm;
    }
  }
  return { day: day - start + 1, month: month > 12 ? month - 12 : month, leap };
}

describe('holiday calendar (Vietnam, as data)', () => {
  const vn = CalendarConfig.parse({ name: 'vn', builtin: 'vn' });

  it('has Tết 2027 (05/02 to 09/02), Quốc khánh 02/09 every year and 01/09/2025 as decreed, and no holiday the days around them', () => {
    for (const d of ['2027-02-05', '2027-02-06', '2027-02-07', '2027-02-08', '2027-02-09']) expect(holidayOn(vn, d)?.name).toBe('Tết Nguyên Đán');
    expect(isHoliday(vn, '2027-02-04')).toBe(false);
    expect(isHoliday(vn, '2027-02-10')).toBe(false);
    for (const y of [2025, 2026, 2027, 2028, 2029, 2030, 2031]) expect(holidayOn(vn, `${y}-09-02`)?.name_en).toBe('National Day');
    expect(isHoliday(vn, '2025-09-01')).toBe(true);
    expect(isHoliday(vn, '2025-09-03')).toBe(false);
    expect(isHoliday(vn, { y: 2026, m: 4, d: 30 })).toBe(true);
    expect(isHoliday(vn, { y: 2026, m: 5, d: 1 })).toBe(true);
    expect(isHoliday(vn, { y: 2026, m: 5, d: 4 })).toBe(false);
    // Vietnam's Tết 2030 is a day before China's.
    expect(isHoliday(vn, '2030-02-01')).toBe(true);
    expect(isHoliday(vn, '2030-02-06')).toBe(false);
    expect(vn.lastYear).toBe(2030);
  });

  it('each year lists Tết around lunar 1/1 and Giỗ Tổ on lunar 10/3, as the Vietnamese lunar calendar reckons them', () => {
    const file = readDataFile(BUILTIN_CALENDARS.vn, HolidayFile);
    const days = file.days.flatMap((h) => {
      if (h.date) return [{ date: h.date, name: h.name }];
      const out: { date: string; name: string }[] = [];
      for (let t = at(`${h.from}T00:00:00Z`); t <= at(`${h.to}T00:00:00Z`); t += 86_400_000) out.push({ date: new Date(t).toISOString().slice(0, 10), name: h.name });
      return out;
    });
    for (let y = 2025; y <= 2030; y++) {
      const lunar = (iso: string) => {
        const [yy, mm, dd] = iso.split('-').map(Number) as [number, number, number];
        return lunarDate(dd, mm, yy);
      };
      const tet = days.filter((d) => d.name === 'Tết Nguyên Đán' && d.date.startsWith(String(y)));
      expect(tet, `Tết ${y}`).toHaveLength(5);
      // Mùng 1 is among them, and all 5 are within the last days of the old year and the first of the new.
      expect(tet.some((d) => lunar(d.date).month === 1 && lunar(d.date).day === 1), `mùng 1 of ${y}`).toBe(true);
      for (const d of tet) expect([1, 12], d.date).toContain(lunar(d.date).month);
      const hung = days.filter((d) => d.name === 'Giỗ Tổ Hùng Vương' && d.date.startsWith(String(y)));
      expect(hung, `Giỗ Tổ ${y}`).toHaveLength(1);
      expect(lunar(hung[0]?.date as string), `Giỗ Tổ ${y}`).toEqual({ day: 10, month: 3, leap: false });
    }
    // The oracle itself: the published dates of Tết it must agree with, and the 2030 split with China (UTC+8).
    expect(lunarDate(29, 1, 2025)).toEqual({ day: 1, month: 1, leap: false });
    expect(lunarDate(17, 2, 2026)).toEqual({ day: 1, month: 1, leap: false });
    expect(lunarDate(2, 2, 2030)).toEqual({ day: 1, month: 1, leap: false });
    expect(lunarDate(3, 2, 2030, 8)).toEqual({ day: 1, month: 1, leap: false });
  });

  it('takes a file of the user\'s own (validated) and days inline; a bad file is an error naming the file and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-holidays-'));
    const extra = join(dir, 'extra.yaml');
    writeFileSync(extra, 'name: vn-2027\ndays:\n  - { date: "2027-09-03", name: Quốc khánh (ngày liền kề) }\n');
    const c = CalendarConfig.parse({ name: 'vn', builtin: 'vn', files: [extra], days: [{ from: '2027-04-30', to: '2027-05-02', name: 'Nghỉ lễ' }] });
    expect(isHoliday(c, '2027-09-03')).toBe(true);
    expect(isHoliday(c, '2027-05-02')).toBe(true);
    expect(isHoliday(c, '2027-02-06')).toBe(true);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'name: x\ndays:\n  - { date: "2027-02-30", name: nope }\n');
    const issues = issuesOf(CalendarConfig, { name: 'vn', files: [broken] });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toContain('files.0: ');
    expect(issues[0]).toContain(broken);
    expect(issues[0]).toContain('days.0.date: expected a date "YYYY-MM-DD"');
  });

  it('reads a calendar file named relative to the config file from its folder, not the working directory', () => {
    const etc = join(mkdtempSync(join(tmpdir(), 'wf-holidays-cfg-')), 'etc');
    mkdirSync(join(etc, 'holidays'), { recursive: true });
    writeFileSync(join(etc, 'holidays', 'extra.yaml'), 'name: vn-2027\ndays:\n  - { date: "2027-09-03", name: Quốc khánh (ngày liền kề) }\n');
    const raw = parseYaml(readFileSync(join(import.meta.dirname, '..', 'config', 'notify-oncall.sample.yaml'), 'utf8')) as { notify: { oncall: { calendars: unknown[] } } };
    raw.notify.oncall.calendars = [{ name: 'vn', builtin: 'vn', files: ['holidays/extra.yaml'] }];
    const file = join(etc, 'watchfloor.yaml');
    writeFileSync(file, JSON.stringify({ inventory: smallInventory, notify: raw.notify }));
    expect(process.cwd()).not.toBe(etc);
    const notify = parseNotifyConfig(loadConfig(file, {}).config.notify);
    const calendar = notify.oncall?.schedules[0]?.holidays?.calendar;
    expect(calendar && isHoliday(calendar, '2027-09-03')).toBe(true);
    // A missing one is named by its path in the config's folder.
    raw.notify.oncall.calendars = [{ name: 'vn', builtin: 'vn', files: ['holidays/missing.yaml'] }];
    writeFileSync(file, JSON.stringify({ inventory: smallInventory, notify: raw.notify }));
    expect(checkConfig(file, {}).problems.join('\n')).toContain(join(etc, 'holidays', 'missing.yaml'));
  });

  it('on a holiday the shift goes to the holiday people, one day each, from the hand-over that day', () => {
    // Tết 2027 is in chi's week (the rotation from 2026-11-30: an, binh, chi ...; 2027-02-01 is week 9).
    const s = noc({ rotation: { ...sample.schedules[0]?.rotation, length: 'daily', handover: { time: '08:00' } } });
    expect(onCallAt(s, at('2027-02-05T07:59:59+07:00')).source).toBe('rotation');
    const first = onCallAt(s, at('2027-02-05T08:00:00+07:00'));
    expect(first).toMatchObject({ source: 'holiday', shiftDate: '2027-02-05', holiday: { name: 'Tết Nguyên Đán' } });
    const second = onCallAt(s, at('2027-02-06T08:00:00+07:00'));
    expect(new Set([first.person, second.person])).toEqual(new Set(['dung', 'manager']));
    expect(onCallAt(s, at('2027-02-10T08:00:00+07:00')).source).toBe('rotation');
    const roster = new OnCallRoster(oncall());
    const [status] = roster.status(at('2027-02-06T10:00:00+07:00'));
    expect(status).toMatchObject({ schedule: 'noc', source: 'holiday', today: { date: '2027-02-06', holiday: { name: 'Tết Nguyên Đán' } }, calendarUntil: 2030 });
    expect(status?.next?.at).toBe(at('2027-02-07T08:00:00+07:00'));
  });
});

describe('escalation steps (pure)', () => {
  const policy = EscalationPolicy.parse({
    name: 'noc-critical',
    kinds: ['environment'],
    levels: [{ after: '0s', notify: { oncall: 'noc' } }, { after: '10m', notify: { next: 'noc' } }, { after: '20m', notify: { person: 'manager' } }],
    repeat: { times: 1, every: '30m' },
  });
  const alert = (extra: Partial<Alert> = {}): Alert => ({
    id: 'a1', fingerprint: 'f1', rule: 'hot', name: 'Hot', kind: 'environment', severity: 'critical', state: 'firing', labels: {}, summary: 's', value: 31, startsAt: 0, endsAt: null, updatedAt: 0, ...extra,
  });
  it('is the latest level whose wait has passed, in rounds; nothing for acknowledged, resolved, silenced, suppressed, non-critical or other kinds', () => {
    const m = 60_000;
    expect(escalationStep(policy, alert(), 0)).toMatchObject({ index: 0, level: 0, target: { oncall: 'noc' } });
    expect(escalationStep(policy, alert(), 10 * m - 1)?.index).toBe(0);
    expect(escalationStep(policy, alert(), 10 * m)).toMatchObject({ index: 1, target: { next: 'noc' } });
    expect(escalationStep(policy, alert(), 49 * m)).toMatchObject({ index: 2, round: 0 });
    expect(escalationStep(policy, alert(), 50 * m)).toMatchObject({ index: 3, round: 1, level: 0, dueAt: 50 * m });
    expect(escalationStep(policy, alert(), 500 * m)).toMatchObject({ index: 5, round: 1, level: 2 });
    expect(escalationStep(policy, alert(), -1)).toBeUndefined();
    for (const quiet of [{ acknowledged: true }, { state: 'resolved' as const }, { silencedBy: ['s1'] }, { suppressedBy: 'p1' }, { severity: 'major' as const }, { kind: 'security' as const }]) {
      expect(escalationStep(policy, alert(quiet), 15 * m), JSON.stringify(quiet)).toBeUndefined();
    }
    // Unacknowledged again: the clock starts over from then, level 1 first (the state is a file).
    const book = new EscalationBook(join(mkdtempSync(join(tmpdir(), 'wf-esc-')), 'escalations.json'), [policy], silentLogger);
    expect(book.due(25 * m, [alert()]).map((d) => d.step.index)).toEqual([2]);
    expect(book.due(26 * m, [alert()])).toEqual([]);
    book.restart('a1', 30 * m);
    expect(book.due(30 * m, [alert()]).map((d) => d.step.index)).toEqual([0]);
    expect(book.due(39 * m, [alert()])).toEqual([]);
    expect(book.due(40 * m, [alert()]).map((d) => d.step.index)).toEqual([1]);
    // Resolved: forgotten, nothing more.
    expect(book.due(60 * m, [])).toEqual([]);
    expect(issuesOf(EscalationPolicy, { name: 'x', levels: [{ after: '10m', notify: { oncall: 'noc' } }, { after: '5m', notify: { person: 'm' } }] })).toEqual([
      'levels.1.after: each level waits longer than the one before (times are from when the alert fired)',
    ]);
  });
});

interface Hit {
  path: string;
  body: { status: string; escalated?: true; groupKey: string; groupLabels: Record<string, string>; alerts: { labels: Record<string, string>; id: string }[] };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

describe('paging the on-call and escalating, through real webhook receivers', () => {
  const rules = loadRules(
    [
      { id: 'hot', type: 'threshold', name: 'Hot', kind: 'environment', severity: 'critical', match: { metric: 'temperature' }, when: { above: 30 } },
      { id: 'humid', type: 'threshold', name: 'Humid', kind: 'environment', severity: 'major', match: { metric: 'humidity' }, when: { above: 80 } },
      { id: 'ups-load', type: 'threshold', name: 'UPS load', kind: 'power', severity: 'critical', match: { metric: 'load' }, when: { above: 90 } },
    ],
    't',
  );

  it('pages who is on call, escalates to the next person after the wait, then the manager; ack, resolve and a restart do what a person expects; no false pages', async () => {
    const hits: Hit[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hits.push({ path: req.url ?? '', body: JSON.parse(body) as Hit['body'] });
        res.end('ok');
      });
    });
    const port = await listen(server);
    const hook = (name: string) => ({ name: `${name}-hook`, webhook: { url: `http://127.0.0.1:${port}/${name}` } });
    const config = NotifyConfig.parse({
      receivers: [...['an', 'binh', 'chi', 'dung', 'manager'].map(hook), { name: 'noc-team', webhook: { url: `http://127.0.0.1:${port}/team` } }],
      routes: [{ receiver: 'oncall:noc', kinds: ['environment', 'power'], group_wait: '0s' }],
      oncall: {
        ...sample,
        people: sample.people.map((p) => ({ ...p, receivers: [...p.receivers, ...(['an', 'binh', 'chi'].includes(p.name) ? ['noc-team'] : [])] })),
        policies: [{ name: 'noc-critical', kinds: ['environment'], levels: [{ after: '10m', notify: { next: 'noc' } }, { after: '20m', notify: { person: 'manager' } }] }],
      },
    });
    // Wednesday 10:00 in Hà Nội: an's week; binh is next.
    const clock = new FakeClock(at('2026-12-02T10:00:00+07:00'));
    const engine = new RuleEngine({ rules, clock });
    const dir = mkdtempSync(join(tmpdir(), 'wf-oncall-'));
    let notifier = startNotifier({ config, book: engine.book, clock, logger: silentLogger, dir });
    const point = (device: string, metric: string, value: number) => engine.onPoint({ device, metric, value, ts: clock.now() });
    const idOf = (device: string): string => (engine.alerts().find((a) => a.labels.device === device) as Alert).id;
    const devicesIn = (h: Hit | undefined) => h?.body.alerts.map((a) => a.labels.device).sort();
    // An escalation is Alertmanager's `firing` with Watchfloor's `escalated: true` (transports/webhook.ts).
    const kindOf = (h: Hit) => (h.body.escalated ? 'escalated' : h.body.status);
    const to = (path: string, kind?: string) => hits.filter((h) => h.path === path && (!kind || kindOf(h) === kind));
    try {
      point('s-ack', 'temperature', 35); // acknowledged after level 1
      point('s-open', 'temperature', 35); // nobody answers
      point('s-fixed', 'temperature', 35); // resolved before the wait
      point('s-humid', 'humidity', 90); // major: paged, never escalated
      point('s-ups', 'load', 95); // critical but power: not this policy's
      // The route pages the on-call person (an), on her own receiver, at once.
      const paged = () => to('/an', 'firing').flatMap(devicesIn).sort();
      await eventually(() => (paged().length === 5 ? true : undefined), 10_000);
      expect(paged()).toEqual(['s-ack', 's-fixed', 's-humid', 's-open', 's-ups']);
      expect(to('/binh')).toEqual([]);

      point('s-fixed', 'temperature', 20);
      clock.advance(10 * 60_000 - 1);
      await new Promise((r) => setTimeout(r, 500));
      expect(hits.filter((h) => kindOf(h) === 'escalated')).toEqual([]);
      clock.advance(1);
      // Level 1: the next person of the rotation, binh, for the critical environment alerts still firing.
      const level1 = await eventually(() => to('/binh', 'escalated')[0], 10_000);
      expect(level1.body.groupLabels).toEqual({ policy: 'noc-critical', level: '1', person: 'binh' });
      expect(devicesIn(level1)).toEqual(['s-ack', 's-open']);

      engine.act(idOf('s-ack'), { action: 'ack' }, 'binh');
      // A restart in between: the escalation state is in the data directory like the outbox. (Once the
      // outbox is empty: a delivery in flight at a stop is delivered again after it, at least once.)
      await eventually(() => (notifier.outbox.pending === 0 ? true : undefined), 10_000);
      notifier.stop();
      notifier = startNotifier({ config, book: engine.book, clock, logger: silentLogger, dir });
      // Ticks of the new notifier at the same moment: level 1 is not paged again.
      await new Promise((r) => setTimeout(r, 600));
      expect(to('/binh', 'escalated')).toHaveLength(1);
      clock.advance(10 * 60_000);
      const level2 = await eventually(() => to('/manager', 'escalated')[0], 10_000);
      expect(level2.body.groupLabels).toMatchObject({ level: '2', person: 'manager' });
      expect(devicesIn(level2)).toEqual(['s-open']);
      await new Promise((r) => setTimeout(r, 500));
      // Level 1 was not paged again after the restart, and nothing escalated what must not.
      expect(to('/binh', 'escalated')).toHaveLength(1);
      const escalated = hits.filter((h) => kindOf(h) === 'escalated');
      expect(escalated.flatMap((h) => h.body.alerts.map((a) => a.labels.device))).not.toEqual(expect.arrayContaining(['s-humid']));
      expect(escalated.flatMap(devicesIn)).not.toContain('s-ups');
      expect(escalated.flatMap(devicesIn)).not.toContain('s-fixed');
      expect(to('/chi')).toEqual([]);

      // Chat buttons on the team's shared receiver act as whoever is on call when they were issued.
      const open = engine.get(idOf('s-open')) as Alert;
      const token = notifier.tokens.issue('noc-team', open, 'ack', clock.now());
      expect(notifier.tokens.redeem('noc-team', token as string, clock.now(), (id) => engine.get(id))).toMatchObject({ ok: true, user: 'an' });
      clock.set(at('2026-12-07T08:00:00+07:00'));
      const later = notifier.tokens.issue('noc-team', open, 'ack', clock.now());
      expect(notifier.tokens.redeem('noc-team', later as string, clock.now(), (id) => engine.get(id))).toMatchObject({ ok: true, user: 'binh' });
      expect(notifier.oncall?.actingUserFor('chi-hook', clock.now())).toBe('chi');
      // A person's contact speaks their language (chi: en) unless the receiver names one; others notify.language.
      expect(notifier.localeOf(notifier.receiver('chi-hook') as NotifyReceiver).language).toBe('en');
      expect(notifier.localeOf(notifier.receiver('an-hook') as NotifyReceiver).language).toBe(config.language);
      expect(notifier.oncall?.status(clock.now())[0]).toMatchObject({ person: 'binh', next: { at: at('2026-12-14T08:00:00+07:00'), person: 'chi' } });
    } finally {
      notifier.stop();
      await new Promise((r) => server.close(r));
    }
  }, 60_000);

  it('the sample notify config of config/ parses: 3 NOC people, Monday 08:00 Asia/Ho_Chi_Minh, the VN calendar', () => {
    const raw = parseYaml(readFileSync(join(import.meta.dirname, '..', 'config', 'notify-oncall.sample.yaml'), 'utf8')) as { notify: unknown };
    const c = NotifyConfig.parse(raw.notify);
    const s = c.oncall?.schedules[0];
    expect(s?.rotation.people).toHaveLength(3);
    expect(s?.rotation.handover).toEqual({ time: 8 * 60, weekday: 'monday' });
    expect(s?.timeZone).toBe('Asia/Ho_Chi_Minh');
    expect(s && isHoliday(s.holidays?.calendar ?? { name: '', dates: new Map(), fixed: new Map(), lastYear: undefined }, '2027-02-06')).toBe(true);
  });
});

describe('GET /api/v1/oncall', () => {
  it('tells noc, soc and admin who is on call per schedule, the next hand-over and the holiday; a viewer is refused; a bad `at` is a 400 naming it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wf-oncall-api-'));
    const trapPort = await freeUdpPort();
    const notify = {
      receivers: sample.people.map((p) => ({ name: `${p.name}-hook`, webhook: { url: 'http://127.0.0.1:9/' } })),
      oncall: sample,
    };
    const config = Config.parse({ dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, snmp: { trapPort }, store: { flushIntervalMs: 50 }, notify });
    const clock = new FakeClock(at('2026-12-02T10:00:00+07:00'));
    const app = await startWatchfloor({ config, inventory: Inventory.parse(smallInventory), logger: silentLogger, adminPassword: ADMIN_PASSWORD, clock });
    const base = `http://127.0.0.1:${app.httpPort}`;
    try {
      const admin = await login(base);
      for (const role of ['noc', 'viewer'] as const) expect((await api(base, admin, '/api/v1/users', { method: 'POST', body: { username: `${role}-1`, role, password: `${role}-password-1` } })).status).toBe(201);
      const noc = await login(base, 'noc-1', 'noc-password-1');
      const now = await api(base, noc, '/api/v1/oncall');
      expect(now.status).toBe(200);
      expect(now.body).toEqual({
        at: '2026-12-02T03:00:00.000Z',
        configured: true,
        schedules: [{
          schedule: 'noc', timeZone: 'Asia/Ho_Chi_Minh', person: 'an', language: null, source: 'rotation', shiftDate: '2026-12-02',
          today: { date: '2026-12-02', holiday: null }, next: { at: '2026-12-07T01:00:00.000Z', person: 'binh' }, calendarUntil: 2030,
        }],
      });
      const tet = await api(base, noc, `/api/v1/oncall?at=${encodeURIComponent('2027-02-06T10:00:00+07:00')}`);
      expect(tet.body).toMatchObject({ schedules: [{ source: 'holiday', today: { date: '2027-02-06', holiday: { name: 'Tết Nguyên Đán', name_en: 'Lunar New Year (Tết)' } } }] });
      const bad = await api(base, noc, '/api/v1/oncall?at=tomorrow');
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ error: { field: 'at' } });
      expect(JSON.stringify(bad.body)).not.toMatch(/at .*\.ts:\d+/);
      const viewer = await login(base, 'viewer-1', 'viewer-password-1');
      expect((await api(base, viewer, '/api/v1/oncall')).status).toBe(403);
      expect((await api(base, undefined, '/api/v1/oncall')).status).toBe(401);

      // The top bar shows it to the NOC, in the page's language, and not to a viewer.
      ensureUiBuilt();
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const signIn = async (username: string, password: string) => {
          await page.goto(base);
          await page.fill('#username', username);
          await page.fill('#password', password);
          await page.click('#login-submit');
          await page.locator('#app-view').waitFor({ state: 'visible' });
        };
        await signIn('noc-1', 'noc-password-1');
        const badge = page.locator('#oncall');
        await expect.poll(() => badge.textContent(), { timeout: 10_000 }).toMatch(/^(On call|Trực): an \(noc\)$/);
        const before = await badge.textContent();
        await page.click('#lang-switch');
        await expect.poll(() => badge.textContent()).not.toBe(before);
        expect(await badge.textContent()).toMatch(/^(On call|Trực): an \(noc\)$/);
        expect(await badge.getAttribute('title')).toMatch(/binh/);
        await page.locator('header.topbar').screenshot({ path: join(artifactsDir, 'oncall-header.png') });
        await page.click('#logout');
        await signIn('viewer-1', 'viewer-password-1');
        await page.waitForTimeout(500);
        expect(await badge.isVisible()).toBe(false);
      } finally {
        await browser.close();
      }
    } finally {
      await app.stop();
    }
  }, 60_000);
});
