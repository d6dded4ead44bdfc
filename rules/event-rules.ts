import type { Alert, DeviceEvent, DeviceTags, SecurityEvent } from '../core/index.ts';
import { renderSummary, type Opening } from './alert-book.ts';
import { matchesTags } from './tags.ts';
import { fieldOf, matchesFields } from './fields.ts';
import { inSchedule } from './schedule.ts';
import { formatDuration, type CorrelationRule, type EventRule, type RuleDef } from './schema.ts';

/** What the engine lends the event rules: opening and closing alerts with noise control applied. */
export interface AlertPort {
  tagsOf(device: string): DeviceTags | undefined;
  raise(o: Opening, now: number): Alert;
  settle(alert: Alert, now: number): void;
  live(alert: Alert | undefined): boolean;
  /** A firing alert from before a restart or reload with this rule and labels. */
  orphan(rule: string, labels: Record<string, string>): Alert | undefined;
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

/** One correlation rule for one value of its `by` label: the latest alert of each constituent rule. */
interface Case {
  readonly rule: CorrelationRule;
  readonly value: string;
  readonly seen: Map<string, { alert: Alert; at: number }>;
  alert: Alert | undefined;
  openedAt: number;
}

const DEFAULT_SUMMARY = {
  device: '{{event}} on {{device}}',
  security: '{{event}} from {{origin}}',
  count: '{{count}} × {{event}} in {{window}}',
} as const;

const typesOf = (rule: EventRule): readonly string[] => (typeof rule.match.type === 'string' ? [rule.match.type] : rule.match.type);

/**
 * Event-match and windowed-count rules over device and security events, and the correlation of
 * alerts across domains into one incident. Events have no end: an alert resolves after the rule's
 * `resolve_after` without a matching event (Alertmanager's resolve_timeout, per rule).
 */
export class EventRules {
  private readonly byType = new Map<string, EventRule[]>();
  private readonly groups = new Map<string, EventGroup>();
  private readonly correlations: CorrelationRule[];
  private readonly cases = new Map<string, Case>();

  constructor(rules: readonly RuleDef[], private readonly port: AlertPort) {
    for (const r of rules) {
      if (r.type !== 'event') continue;
      for (const t of typesOf(r)) {
        const key = `${r.source}:${t}`;
        this.byType.set(key, [...(this.byType.get(key) ?? []), r]);
      }
    }
    this.correlations = rules.filter((r): r is CorrelationRule => r.type === 'correlation');
  }

  /** One event at arrival time `now`. */
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
      g = { rule, labels, times: [], lastAt: now, alert: this.port.orphan(rule.id, labels) };
      this.groups.set(key, g);
    }
    g.lastAt = now;
    const count = rule.count;
    if (count) {
      g.times.push(now);
      while (g.times.length > 0 && (g.times[0] as number) <= now - count.window) g.times.shift();
      if (g.times.length < count.min) return;
    }
    if (this.port.live(g.alert)) return;
    const vars: Record<string, string> = {
      ...labels, rule: rule.id, name: rule.name, count: String(g.times.length), window: count ? formatDuration(count.window) : '',
    };
    for (const [k, v] of Object.entries(event)) if (typeof v === 'string' || typeof v === 'number') vars[k] ??= String(v);
    if ('attributes' in event && event.attributes) for (const [k, v] of Object.entries(event.attributes)) vars[`attributes.${k}`] = String(v);
    const template = rule.summary ?? (count ? DEFAULT_SUMMARY.count : DEFAULT_SUMMARY[rule.source]);
    g.alert = this.port.raise({
      rule: rule.id, name: rule.name, kind: rule.kind, severity: rule.severity, labels, value: count ? g.times.length : null, startsAt: now,
      summary: renderSummary(template, vars),
      ...(rule.description ? { description: renderSummary(rule.description, vars) } : {}),
      ...(rule.runbook ? { runbook: rule.runbook } : {}),
    }, now);
  }

  /** A new alert of any rule: it may complete a correlation case. */
  onAlert(alert: Alert, now: number): void {
    for (const rule of this.correlations) {
      if (!rule.rules.includes(alert.rule)) continue;
      const value = alert.labels[rule.by];
      if (value === undefined) continue;
      const key = `${rule.id}\0${value}`;
      let c = this.cases.get(key);
      if (!c) this.cases.set(key, (c = { rule, value, seen: new Map(), alert: undefined, openedAt: now }));
      c.seen.set(alert.rule, { alert, at: now });
      for (const [r, s] of c.seen) if (s.at < now - rule.within) c.seen.delete(r);
      if (c.seen.size < rule.rules.length || this.port.live(c.alert)) continue;
      const evidence = rule.rules.map((r) => c.seen.get(r)?.alert).filter((a): a is Alert => a !== undefined);
      const labels: Record<string, string> = { ...rule.labels, [rule.by]: value };
      const devices = [...new Set(evidence.map((a) => a.labels.device).filter((d): d is string => d !== undefined))];
      const ifaces = evidence.map((a) => a.labels.interface ?? a.labels.ifName).filter((i): i is string => i !== undefined);
      const vars = { ...labels, rule: rule.id, name: rule.name, devices: devices.join(', '), interfaces: ifaces.join(', '), within: formatDuration(rule.within), evidence: evidence.map((a) => a.summary).join('; ') };
      c.openedAt = now;
      c.alert = this.port.raise({
        rule: rule.id, name: rule.name, kind: rule.kind, severity: rule.severity, labels, value: null, startsAt: now,
        summary: renderSummary(rule.summary ?? `${rule.name}: {{evidence}}`, vars),
        description: renderSummary(rule.description ?? `Within {{within}} on ${rule.by} {{${rule.by}}}: {{evidence}}. Devices: {{devices}}.`, vars),
        ...(rule.runbook ? { runbook: rule.runbook } : {}),
        related: evidence.map((a) => a.id),
      }, now);
    }
  }

  /** Time passing: alerts whose events went quiet resolve; groups with nothing left are forgotten. */
  tick(now: number): void {
    for (const [key, g] of this.groups) {
      const count = g.rule.count;
      if (count) while (g.times.length > 0 && (g.times[0] as number) <= now - count.window) g.times.shift();
      if (now - g.lastAt < g.rule.resolve_after) continue;
      if (g.alert) this.port.settle(g.alert, now);
      g.alert = undefined;
      if (g.times.length === 0) this.groups.delete(key);
    }
    for (const [key, c] of this.cases) {
      if (c.alert && now - c.openedAt >= c.rule.resolve_after) {
        this.port.settle(c.alert, now);
        c.alert = undefined;
      }
      for (const [r, s] of c.seen) if (s.at < now - c.rule.within) c.seen.delete(r);
      if (!c.alert && c.seen.size === 0) this.cases.delete(key);
    }
  }
}
