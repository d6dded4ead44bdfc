import type { Alert, Logger } from '../../../core/index.ts';
import type { Notification } from '../grouping.ts';
import { EscalationBook, type DueStep } from './escalation.ts';
import { holidayOn, type Holiday } from './holidays.ts';
import { isoDate, wallTime } from './local-time.ts';
import { nextHandover, nextInRotation, onCallAt, type OnCallNow } from './schedule.ts';
import { ONCALL_RECEIVER, type EscalationPolicy, type EscalationTarget, type OnCallConfig, type OnCallPerson, type OnCallSchedule } from './schema.ts';

export { OnCallConfig, OnCallSchedule, OnCallPerson, EscalationPolicy, EscalationTarget, onCallIssues, ONCALL_RECEIVER } from './schema.ts';
export { onCallAt, nextHandover, nextInRotation, handoverAt, type OnCallNow } from './schedule.ts';
export { isHoliday, holidayOn, compileCalendar, HolidayFile, CalendarConfig, BUILTIN_CALENDARS, type Holiday, type HolidayCalendar } from './holidays.ts';
export { escalationStep, policyMatches, EscalationBook, type EscalationStep, type DueStep } from './escalation.ts';
export { instantAt, wallTime, isTimeZone } from './local-time.ts';

/** One schedule as `GET /api/v1/oncall` shows it. */
export interface OnCallStatus {
  schedule: string;
  timeZone: string;
  person: string;
  /** The person's language; null when they name none (their messages are in notify.language). */
  language: 'vi' | 'en' | null;
  source: OnCallNow['source'];
  /** The local date of the running day of duty (the day before, until that day's hand-over time). */
  shiftDate: string;
  /** The schedule's local date now, and its holiday (null on a working day or without a calendar). */
  today: { date: string; holiday: Holiday | null };
  next: { at: number; person: string } | null;
  /** The last year the schedule's holiday calendar lists dates for (lunar holidays after it are unknown). */
  calendarUntil: number | null;
}

/** Who is paged for a target at a moment: a person (and their receivers), or a receiver alone. */
export interface Paged {
  person?: OnCallPerson;
  receivers: string[];
}

/** The people, schedules and calendars of `notify.oncall`, asked at a moment. */
export class OnCallRoster {
  private readonly people: Map<string, OnCallPerson>;
  private readonly schedules: Map<string, OnCallSchedule>;

  constructor(readonly config: OnCallConfig) {
    this.people = new Map(config.people.map((p) => [p.name, p]));
    this.schedules = new Map(config.schedules.map((s) => [s.name, s]));
  }

  schedule(name: string): OnCallSchedule | undefined {
    return this.schedules.get(name);
  }

  /** Who a level's target pages at `at`; undefined when `next` has nobody else to go to. */
  resolve(target: EscalationTarget, at: number): Paged | undefined {
    if ('receiver' in target) return { receivers: [target.receiver] };
    let name: string | undefined;
    if ('person' in target) name = target.person;
    else {
      const s = this.schedules.get('oncall' in target ? target.oncall : target.next);
      if (!s) return undefined;
      name = 'oncall' in target ? onCallAt(s, at).person : nextInRotation(s, at);
    }
    const person = name === undefined ? undefined : this.people.get(name);
    return person ? { person, receivers: person.receivers } : undefined;
  }

  /** A route's receiver `oncall:<schedule>` as whoever is on call at `at`; undefined for any other receiver. */
  resolveReceiver(receiver: string, at: number): Paged | undefined {
    const m = ONCALL_RECEIVER.exec(receiver);
    return m ? this.resolve({ oncall: m[1] as string }, at) : undefined;
  }

  /** The language of the one person whose contact the receiver is; undefined for a shared or nobody's receiver. */
  languageOf(receiver: string): 'vi' | 'en' | undefined {
    const owners = this.config.people.filter((p) => p.receivers.includes(receiver));
    return owners.length === 1 ? owners[0]?.language : undefined;
  }

  /** True when the receiver is some person's contact. */
  owns(receiver: string): boolean {
    return this.config.people.some((p) => p.receivers.includes(receiver));
  }

  /**
   * The Watchfloor user a receiver's chat buttons act as at `at`: the person whose contact it is; for
   * a receiver several people share (a team chat), the one of them on call then. Pure over the
   * config, as the buttons' tokens need (rules/notify/acting-user.ts).
   */
  actingUserFor(receiver: string, at: number): string | undefined {
    const owners = this.config.people.filter((p) => p.receivers.includes(receiver)).map((p) => p.name);
    if (owners.length <= 1) return owners[0];
    for (const s of this.config.schedules) {
      const who = onCallAt(s, at).person;
      if (owners.includes(who)) return who;
    }
    return undefined;
  }

  /** Every schedule: who is on call at `at`, since which shift, the next hand-over, today's holiday. */
  status(at: number): OnCallStatus[] {
    return this.config.schedules.map((s) => {
      const now = onCallAt(s, at);
      const today = isoDate(wallTime(at, s.timeZone));
      const holiday = s.holidays ? holidayOn(s.holidays.calendar, today) : undefined;
      return {
        schedule: s.name,
        timeZone: s.timeZone,
        person: now.person,
        language: this.people.get(now.person)?.language ?? null,
        source: now.source,
        shiftDate: now.shiftDate,
        today: { date: today, holiday: holiday ?? null },
        next: nextHandover(s, at) ?? null,
        calendarUntil: s.holidays?.calendar.lastYear ?? null,
      };
    });
  }
}

/**
 * True when a click on the receiver's buttons can be checked (Telegram's secret token, Slack's signing
 * secret): a person's contact gets buttons acting as them only then, the rule `actAs` has in schema.ts.
 */
export const buttonsVerifiable = (r: { telegram?: { secretToken?: string | undefined } | undefined; slack?: { signingSecret?: string | undefined } | undefined }): boolean =>
  !(r.telegram && !r.telegram.secretToken) && !(r.slack && !r.slack.signingSecret);

/** The single `notify.escalation` of before on-call, as a policy of one level (critical alerts, any route). */
const LEGACY = 'notify.escalation';
export function legacyPolicy(e: { after: number; receiver: string }): EscalationPolicy {
  return { name: LEGACY, severities: ['critical'], matchers: [], levels: [{ after: e.after, notify: { receiver: e.receiver } }] };
}

/**
 * Escalation over the firing alerts: each policy's due steps as notifications, one per receiver and
 * level, the alerts of one tick together. State in `file` (beside the outbox).
 */
export class Escalations {
  private readonly book: EscalationBook;

  constructor(
    private readonly o: { policies: readonly EscalationPolicy[]; roster: OnCallRoster | undefined; file: string; logger: Logger },
  ) {
    this.book = new EscalationBook(o.file, o.policies, o.logger);
  }

  /** An alert's history entry: unacknowledging (or reopening) starts its escalation over. */
  onEntry(alert: Alert, entry: { action: string; ts: number }): void {
    if (entry.action === 'unack' || entry.action === 'reopen') this.book.restart(alert.id, entry.ts);
  }

  /** The notifications due at `now`. */
  due(now: number, firing: Iterable<Alert>): Notification[] {
    const batches = new Map<string, Notification>();
    for (const d of this.book.due(now, firing)) {
      const paged = this.page(d, now);
      if (!paged) continue;
      for (const receiver of paged.receivers) {
        const legacy = d.policy.name === LEGACY;
        const key = `${d.policy.name}\u0000${d.step.level}\u0000${receiver}`;
        let n = batches.get(key);
        if (!n) {
          const groupLabels: Record<string, string> = legacy ? {} : { policy: d.policy.name, level: String(d.step.level + 1), ...(paged.person ? { person: paged.person.name } : {}) };
          batches.set(key, (n = { receiver, groupKey: legacy ? 'escalation' : `oncall:${d.policy.name}:${d.step.level + 1}`, groupLabels, status: 'escalated', alerts: [] }));
        }
        n.alerts.push(d.alert);
      }
    }
    return [...batches.values()];
  }

  private page(d: DueStep, now: number): Paged | undefined {
    const paged = this.o.roster ? this.o.roster.resolve(d.step.target, now) : 'receiver' in d.step.target ? { receivers: [d.step.target.receiver] } : undefined;
    if (!paged) this.o.logger.warn({ policy: d.policy.name, level: d.step.level + 1, alert: d.alert.id, target: d.step.target }, 'notify: escalation level has nobody to page (the rotation has no one else); the next level follows at its time');
    return paged;
  }
}
