import { z } from 'zod';
import { AlertKind, type Alert, type DeviceEvent, type SecurityEvent } from '../../core/index.ts';
import { fieldOf, FieldCondition, matchesFields } from './fields.ts';
import { inSchedule, Schedule } from './schedule.ts';
import { Duration, formatDuration, matchesTags, openingOf, PositiveDuration, ruleSchema, TagMatch, type AlertPort, type RuleKind, type Tracker } from './base.ts';

/**
 * Device events (door_open, traps such as linkDown) or security events (bad_credentials), matched
 * by type and field conditions (`attributes.ifIndex`, `source`, `username`); with `count`, N of
 * them within `window` for one value of `by` (N failed logins from one source in 5 minutes).
 * An event has no end, so the alert resolves after `resolve_after` without a matching event.
 */
export const EventRule = ruleSchema('event', AlertKind, {
  source: z.enum(['device', 'security']).default('device'),
  match: z.strictObject({
    type: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    tags: TagMatch.optional(),
    where: z.record(z.string().min(1), FieldCondition).optional(),
  }),
  count: z.strictObject({ min: z.number().int().min(1), window: PositiveDuration, by: z.string().min(1).optional() }).optional(),
  schedule: Schedule.optional(),
  resolve_after: Duration.default(5 * 60_000),
});
export type EventRule = z.output<typeof EventRule>;

/**
 * One matching event at `now` for a rule's group: the arrival times inside the count window
 * (oldest first, trimmed in place) and whether the rule's condition holds, N of them or, without
 * `count`, the event itself.
 */
export function evaluate(rule: EventRule, times: number[], now: number): boolean {
  const count = rule.count;
  if (!count) return true;
  times.push(now);
  trim(rule, times, now);
  return times.length >= count.min;
}

/** Drops the arrival times that fell out of the count window. */
function trim(rule: EventRule, times: number[], now: number): void {
  const count = rule.count;
  if (count) while (times.length > 0 && (times[0] as number) <= now - count.window) times.shift();
}

/** One event rule for one value of its grouping: the recent matching events and the alert. */
interface EventGroup {
  readonly rule: EventRule;
  readonly labels: Record<string, string>;
  /** Arrival times of matching events inside the count window, oldest first. */
  times: number[];
  lastAt: number;
  alert: Alert | undefined;
}

const DEFAULT_SUMMARY = {
  device: '{{event}} on {{device}}',
  security: '{{event}} from {{origin}}',
  count: '{{count}} × {{event}} in {{window}}',
} as const;

const typesOf = (rule: EventRule): readonly string[] => (typeof rule.match.type === 'string' ? [rule.match.type] : rule.match.type);

/**
 * Event-match and windowed-count rules over device and security events. Events have no end: an
 * alert resolves after the rule's `resolve_after` without a matching event (Alertmanager's
 * resolve_timeout, per rule).
 */
class EventTracker implements Tracker {
  private readonly byType = new Map<string, EventRule[]>();
  private readonly groups = new Map<string, EventGroup>();

  constructor(rules: readonly EventRule[], private readonly port: AlertPort) {
    for (const r of rules) {
      for (const t of typesOf(r)) {
        const key = `${r.source}:${t}`;
        this.byType.set(key, [...(this.byType.get(key) ?? []), r]);
      }
    }
  }

  onEvent(event: DeviceEvent | SecurityEvent, source: 'device' | 'security', now: number): void {
    const rules = this.byType.get(`${source}:${event.type}`);
    if (!rules) return;
    const device = 'device' in event ? event.device : undefined;
    const tags = device !== undefined ? this.port.tagsOf(device) : undefined;
    for (const rule of rules) {
      if (rule.match.tags && (device === undefined || !matchesTags(rule.match.tags, device, tags))) continue;
      if (!matchesFields(event, rule.match.where)) continue;
      if (rule.schedule && !inSchedule(rule.schedule, now)) continue;
      const labels: Record<string, string> = { ...(source === 'device' ? tags : { origin: (event as SecurityEvent).origin }), ...rule.labels, event: event.type };
      if (device !== undefined) labels.device = device;
      const by = rule.count?.by;
      if (by !== undefined) labels[by.split('.').pop() as string] = String(fieldOf(event, by) ?? '');
      this.record(rule, labels, event, now);
    }
  }

  private record(rule: EventRule, labels: Record<string, string>, event: DeviceEvent | SecurityEvent, now: number): void {
    const key = `${rule.id}\0${JSON.stringify(labels)}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { rule, labels, times: [], lastAt: now, alert: this.port.adopt(rule.id, labels) };
      this.groups.set(key, g);
    }
    g.lastAt = now;
    if (!evaluate(rule, g.times, now) || this.port.live(g.alert)) return;
    const count = rule.count;
    const vars: Record<string, string> = {
      ...labels, rule: rule.id, name: rule.name, count: String(g.times.length), window: count ? formatDuration(count.window) : '',
    };
    for (const [k, v] of Object.entries(event)) if (typeof v === 'string' || typeof v === 'number') vars[k] ??= String(v);
    if ('attributes' in event && event.attributes) for (const [k, v] of Object.entries(event.attributes)) vars[`attributes.${k}`] = String(v);
    const template = rule.summary ?? (count ? DEFAULT_SUMMARY.count : DEFAULT_SUMMARY[rule.source]);
    g.alert = this.port.raise(openingOf(rule, labels, vars, template, count ? g.times.length : null, now), now);
  }

  /** Time passing: alerts whose events went quiet resolve; groups with nothing left are forgotten. */
  tick(now: number): void {
    for (const [key, g] of this.groups) {
      trim(g.rule, g.times, now);
      if (now - g.lastAt < g.rule.resolve_after) continue;
      if (g.alert) this.port.settle(g.alert, now);
      g.alert = undefined;
      if (g.times.length === 0) this.groups.delete(key);
    }
  }
}

export const event = {
  schema: EventRule,
  evaluate,
  track: (rules, port) => new EventTracker(rules, port),
  orphans: { quiet: (rule) => rule.resolve_after },
} satisfies RuleKind<EventRule>;
