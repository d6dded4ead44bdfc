import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Alert, Logger } from '../../../core/index.ts';
import { matchesAll } from '../../silences.ts';
import type { EscalationPolicy, EscalationTarget } from './schema.ts';

/** One page of an escalation: which level of which round, counted from 0 across rounds. */
export interface EscalationStep {
  /** round * levels + level: a step is sent once, and a later one supersedes those skipped. */
  index: number;
  round: number;
  level: number;
  target: EscalationTarget;
  /** When it became due. */
  dueAt: number;
}

/** True when the policy takes the alert (its kinds, severities and matchers, as a route's). */
export function policyMatches(policy: EscalationPolicy, alert: Alert): boolean {
  if (policy.kinds && !policy.kinds.includes(alert.kind)) return false;
  if (!policy.severities.includes(alert.severity)) return false;
  return matchesAll(policy.matchers, alert);
}

/** Silenced and suppressed alerts are on the console, never paged (as the routes do not send them). */
const quiet = (a: Alert): boolean => (a.silencedBy?.length ?? 0) > 0 || Boolean(a.suppressedBy);

/**
 * The step of `policy` due at `now` for `alert`, its clock started at `since` (when it fired, or was
 * unacknowledged again): the latest level whose wait has passed, or undefined when nothing is due,
 * the policy does not take the alert, or it is resolved, acknowledged, silenced or suppressed. Pure.
 */
export function escalationStep(policy: EscalationPolicy, alert: Alert, now: number, since = alert.startsAt): EscalationStep | undefined {
  if (alert.state !== 'firing' || alert.acknowledged || quiet(alert) || !policyMatches(policy, alert)) return undefined;
  const elapsed = now - since;
  if (elapsed < 0) return undefined;
  const levels = policy.levels;
  const last = (levels[levels.length - 1] as { after: number }).after;
  const cycle = policy.repeat ? last + policy.repeat.every : Number.POSITIVE_INFINITY;
  const round = policy.repeat ? Math.min(Math.floor(elapsed / cycle), policy.repeat.times) : 0;
  const within = elapsed - (round > 0 ? round * cycle : 0);
  let level = -1;
  levels.forEach((l, i) => (l.after <= within ? (level = i) : undefined));
  if (level < 0) {
    // Between rounds: the previous round's last level is still the latest step due.
    if (round === 0) return undefined;
    return step(policy, round - 1, levels.length - 1, since);
  }
  return step(policy, round, level, since);
}

function step(policy: EscalationPolicy, round: number, level: number, since: number): EscalationStep {
  const l = policy.levels[level] as EscalationPolicy['levels'][number];
  const last = (policy.levels[policy.levels.length - 1] as { after: number }).after;
  const cycle = policy.repeat ? last + policy.repeat.every : 0;
  return { index: round * policy.levels.length + level, round, level, target: l.notify, dueAt: since + round * cycle + l.after };
}

interface Track {
  /** When this alert's escalation clock started. */
  since: number;
  /** The index of the last step sent; -1 before the first. */
  sent: number;
}

/** A step to send now: the policy, the alert and the step. */
export interface DueStep {
  policy: EscalationPolicy;
  alert: Alert;
  step: EscalationStep;
}

/**
 * Where each firing alert is in each policy, kept in a file beside the outbox, so a restart neither
 * pages again the levels already paged nor forgets to page the next. An alert no longer firing is
 * forgotten: a resolved alert escalates no further.
 */
export class EscalationBook {
  private tracks = new Map<string, Track>();

  constructor(
    private readonly file: string,
    private readonly policies: readonly EscalationPolicy[],
    private readonly logger: Logger,
  ) {
    if (!existsSync(file)) return;
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (typeof saved !== 'object' || saved === null || Array.isArray(saved)) throw new Error('not an object');
      for (const [key, t] of Object.entries(saved as Record<string, Partial<Track>>)) {
        if (typeof t?.since === 'number' && typeof t.sent === 'number') this.tracks.set(key, { since: t.since, sent: t.sent });
      }
    } catch (err) {
      this.logger.warn({ file, err: (err as Error).message }, 'notify: escalation state unreadable; starting afresh (levels already due are paged once)');
    }
  }

  /** The steps due at `now` among the firing alerts; each is marked sent (and saved) as it is returned. */
  due(now: number, firing: Iterable<Alert>): DueStep[] {
    const out: DueStep[] = [];
    const live = new Set<string>();
    let changed = false;
    for (const alert of firing) {
      for (const policy of this.policies) {
        if (!policyMatches(policy, alert)) continue;
        const key = `${policy.name}\u0000${alert.id}`;
        live.add(key);
        let t = this.tracks.get(key);
        if (!t) {
          this.tracks.set(key, (t = { since: alert.startsAt, sent: -1 }));
          changed = true;
        }
        const s = escalationStep(policy, alert, now, t.since);
        if (!s || s.index <= t.sent) continue;
        t.sent = s.index;
        changed = true;
        out.push({ policy, alert, step: s });
      }
    }
    for (const key of this.tracks.keys()) {
      if (!live.has(key)) {
        this.tracks.delete(key);
        changed = true;
      }
    }
    if (changed) this.save();
    return out;
  }

  /** The alert was unacknowledged or reopened: its escalation starts over from `at`, level 1 first. */
  restart(alertId: string, at: number): void {
    // Set for every policy; the next due() forgets those that do not take the alert.
    for (const policy of this.policies) this.tracks.set(`${policy.name}\u0000${alertId}`, { since: at, sent: -1 });
    this.save();
  }

  private save(): void {
    try {
      writeFileSync(`${this.file}.tmp`, JSON.stringify(Object.fromEntries(this.tracks)));
      renameSync(`${this.file}.tmp`, this.file);
    } catch (err) {
      this.logger.error({ file: this.file, err: (err as Error).message }, 'notify: could not save the escalation state');
    }
  }
}
