import { z } from 'zod';
import { AlertKind, type Alert, type Severity } from '../../core/index.ts';
import type { Detection } from '../sigma/index.ts';
import { SIGMA_LEVELS, type SigmaLevel } from '../sigma/index.ts';
import { Duration, openingOf, ruleSchema, type AlertPort, type RuleKind, type Tracker } from './base.ts';

/**
 * Sigma detections on log lines (rules/sigma, run by the product on every stored line) as security
 * alerts: one alert per Sigma rule and entities (source, user, host, device), rule `<this id>:<Sigma id>`
 * (`sigma:<id>` for the built-in entry), severity from the Sigma level, and the ids of the stored lines
 * that matched as `evidence`. A detection has no end: the alert resolves after `resolve_after` without one.
 */
export const SigmaAlertRule = ruleSchema('sigma', AlertKind.default('security'), {
  /** Detections below this level raise nothing (correlation building blocks never reach here: rules/sigma keeps them). */
  min_level: z.enum(SIGMA_LEVELS).default('low'),
  resolve_after: Duration.default(15 * 60_000),
  /** Evidence ids one alert keeps: the first half and the latest half when there are more. */
  max_evidence: z.number().int().min(2).max(10_000).default(200),
});
export type SigmaAlertRule = z.output<typeof SigmaAlertRule>;

/** The Sigma level as the product's severity (SOC contract): critical, high -> major, medium -> minor, low -> warning, informational -> info. */
export const SEVERITY_OF_LEVEL: Record<SigmaLevel, Severity> = { critical: 'critical', high: 'major', medium: 'minor', low: 'warning', informational: 'info' };

/** The alert labels of a detection: the Sigma facts, then the entities it is about. */
export function labelsOf(d: Detection, fixed: Record<string, string> | undefined): Record<string, string> {
  const labels: Record<string, string> = { ...fixed, sigma_id: d.ruleId, sigma_level: d.level };
  if (d.attack.length > 0) labels.attack = d.attack.join(',');
  if (d.tags.length > 0) labels.tags = d.tags.join(',');
  if (d.entities.source) labels.source = d.entities.source;
  if (d.entities.user) labels.user = d.entities.user;
  if (d.entities.host) labels.host = d.entities.host;
  const device = d.lines.findLast((l) => l.device !== undefined)?.device;
  if (device) labels.device = device;
  return labels;
}

/** The stored ids of a detection's lines (store/logs gives each line its id when it is appended). */
export function evidenceOf(d: Detection): number[] {
  const ids: number[] = [];
  for (const l of d.lines) {
    const id = (l as { id?: unknown }).id;
    if (typeof id === 'number') ids.push(id);
  }
  return ids;
}

/** `previous` and `more` as one list without repeats, at most `max`: the first half and the latest half. */
export function evaluate(rule: SigmaAlertRule, previous: readonly number[], more: readonly number[]): number[] {
  const all = [...new Set([...previous, ...more])];
  if (all.length <= rule.max_evidence) return all;
  const head = Math.floor(rule.max_evidence / 2);
  return [...all.slice(0, head), ...all.slice(all.length - (rule.max_evidence - head))];
}

const rank = (level: SigmaLevel): number => SIGMA_LEVELS.indexOf(level);

interface Open {
  rule: SigmaAlertRule;
  alert: Alert;
  evidence: number[];
  lastAt: number;
  /** When the alert last got its evidence; newer ids wait up to EVIDENCE_EVERY_MS (a noisy rule must not write a history line per line). */
  sentAt: number;
  dirty: boolean;
}

/** A firing alert's evidence is brought up to date at most this often. */
const EVIDENCE_EVERY_MS = 5_000;

class SigmaTracker implements Tracker {
  private readonly open = new Map<string, Open>();

  constructor(private readonly rules: readonly SigmaAlertRule[], private readonly port: AlertPort) {}

  onDetection(d: Detection, now: number): void {
    for (const rule of this.rules) {
      if (rank(d.level) < rank(rule.min_level)) continue;
      const labels = labelsOf(d, rule.labels);
      const ruleId = `${rule.id}:${d.ruleId}`;
      const key = `${ruleId}\0${JSON.stringify(labels)}`;
      const ids = evidenceOf(d);
      const o = this.open.get(key);
      if (o && this.port.live(o.alert)) {
        o.lastAt = now;
        const evidence = evaluate(rule, o.evidence, ids);
        if (evidence.length !== o.evidence.length || evidence.some((id, i) => id !== o.evidence[i])) {
          o.evidence = evidence;
          o.dirty = true;
          if (now - o.sentAt >= EVIDENCE_EVERY_MS) this.send(o, now);
        }
        continue;
      }
      const adopted = this.port.adopt(ruleId, labels);
      const evidence = evaluate(rule, adopted?.evidence ?? [], ids);
      const vars: Record<string, string> = { ...labels, rule: ruleId, name: d.title, title: d.title, level: d.level, count: String(d.count ?? d.lines.length) };
      const about = [labels.source && 'from {{source}}', labels.user && 'user {{user}}', labels.host && 'on {{host}}'].filter(Boolean).join(', ');
      const template = rule.summary ?? `{{title}}${about ? `: ${about}` : ''}`;
      const opening = { ...openingOf({ ...rule, id: ruleId, name: d.title, severity: SEVERITY_OF_LEVEL[d.level] }, labels, vars, template, d.count ?? null, now), evidence };
      let alert = this.port.raise(opening, now);
      if (adopted) alert = this.port.update(alert.id, { evidence }, now, 'evidence') ?? alert;
      this.open.set(key, { rule, alert, evidence, lastAt: now, sentAt: now, dirty: false });
    }
  }

  private send(o: Open, now: number): void {
    o.alert = this.port.update(o.alert.id, { evidence: o.evidence }, now, 'evidence') ?? o.alert;
    o.sentAt = now;
    o.dirty = false;
  }

  /** Alerts whose detections went quiet for `resolve_after` resolve. */
  tick(now: number): void {
    for (const [key, o] of this.open) {
      if (o.dirty && now - o.sentAt >= EVIDENCE_EVERY_MS && this.port.live(o.alert)) this.send(o, now);
      if (now - o.lastAt < o.rule.resolve_after) continue;
      this.port.settle(o.alert, now);
      this.open.delete(key);
    }
  }
}

export const sigma = {
  schema: SigmaAlertRule,
  evaluate,
  track: (rules, port) => new SigmaTracker(rules, port),
  orphans: { quiet: (rule) => rule.resolve_after },
} satisfies RuleKind<SigmaAlertRule>;
