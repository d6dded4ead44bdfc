import { z } from 'zod';
import { AlertKind, Id, type Alert } from '../../core/index.ts';
import { renderSummary } from '../alert-book.ts';
import { Duration, formatDuration, PositiveDuration, ruleSchema, type AlertPort, type RuleKind, type Tracker } from './base.ts';

/**
 * Alerts of every rule in `rules` sharing the value of the `by` label within `within` become one
 * incident linking them (a door opened on a rack, a port of its switch coming up, an unknown device).
 */
export const CorrelationRule = ruleSchema('correlation', AlertKind.default('security'), {
  rules: z.array(Id).min(2),
  by: z.string().min(1),
  within: PositiveDuration,
  resolve_after: Duration.default(30 * 60_000),
});
export type CorrelationRule = z.output<typeof CorrelationRule>;

/** One correlation rule for one value of its `by` label: the latest alert of each constituent rule. */
export interface CorrelationCase {
  readonly rule: CorrelationRule;
  readonly value: string;
  readonly seen: Map<string, { alert: Alert; at: number }>;
  alert: Alert | undefined;
  openedAt: number;
}

/** Forgets the constituent alerts older than `within`. */
function forget(c: CorrelationCase, now: number): void {
  for (const [r, s] of c.seen) if (s.at < now - c.rule.within) c.seen.delete(r);
}

/** A new alert of one of the rule's constituents at `now`: true when every constituent now has one within `within`. */
export function evaluate(rule: CorrelationRule, c: CorrelationCase, alert: Alert, now: number): boolean {
  c.seen.set(alert.rule, { alert, at: now });
  forget(c, now);
  return c.seen.size >= rule.rules.length;
}

/** The correlation of alerts across domains into one incident. */
class CorrelationTracker implements Tracker {
  private readonly cases = new Map<string, CorrelationCase>();

  constructor(private readonly rules: readonly CorrelationRule[], private readonly port: AlertPort) {}

  /** A new alert of any rule: it may complete a correlation case. */
  onAlert(alert: Alert, now: number): void {
    for (const rule of this.rules) {
      if (!rule.rules.includes(alert.rule)) continue;
      const value = alert.labels[rule.by];
      if (value === undefined) continue;
      const key = `${rule.id}\0${value}`;
      let c = this.cases.get(key);
      if (!c) this.cases.set(key, (c = { rule, value, seen: new Map(), alert: undefined, openedAt: now }));
      if (!evaluate(rule, c, alert, now) || this.port.live(c.alert)) continue;
      const evidence = rule.rules.map((r) => c.seen.get(r)?.alert).filter((a): a is Alert => a !== undefined);
      const labels: Record<string, string> = { ...rule.labels, [rule.by]: value };
      const devices = [...new Set(evidence.map((a) => a.labels.device).filter((d): d is string => d !== undefined))];
      const ifaces = evidence.map((a) => a.labels.interface ?? a.labels.ifName).filter((i): i is string => i !== undefined);
      const vars = { ...labels, rule: rule.id, name: rule.name, devices: devices.join(', '), interfaces: ifaces.join(', '), within: formatDuration(rule.within), evidence: evidence.map((a) => a.summary).join('; ') };
      c.openedAt = now;
      c.alert = this.port.raise({
        rule: rule.id, name: rule.name, kind: rule.kind, severity: rule.severity, labels, value: null, startsAt: now,
        summary: renderSummary(rule.summary ?? `${rule.name}: {{evidence}}`, vars),
        ...(rule.summary_vi ? { summaryVi: renderSummary(rule.summary_vi, vars) } : {}),
        description: renderSummary(rule.description ?? `Within {{within}} on ${rule.by} {{${rule.by}}}: {{evidence}}. Devices: {{devices}}.`, vars),
        ...(rule.runbook ? { runbook: rule.runbook } : {}),
        related: evidence.map((a) => a.id),
      }, now);
    }
  }

  /** Time passing: an incident resolves `resolve_after` after it opened; cases with nothing left are forgotten. */
  tick(now: number): void {
    for (const [key, c] of this.cases) {
      if (c.alert && now - c.openedAt >= c.rule.resolve_after) {
        this.port.settle(c.alert, now);
        c.alert = undefined;
      }
      forget(c, now);
      if (!c.alert && c.seen.size === 0) this.cases.delete(key);
    }
  }
}

export const correlation = {
  schema: CorrelationRule,
  evaluate,
  track: (rules, port) => new CorrelationTracker(rules, port),
  orphans: { quiet: (rule) => rule.resolve_after },
  refs: (rule) => rule.rules.map((id, j) => ({ path: ['rules', j], id })),
} satisfies RuleKind<CorrelationRule>;
