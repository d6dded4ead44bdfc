import { createHash } from 'node:crypto';
import { conflict, type Alert, type AlertKind, type AlertState, type Severity } from '../core/index.ts';
import { actionDetail, applyAction, type AlertAction, type HistoryEntry } from './lifecycle.ts';

/** An alert as it is after a change: created (firing) or resolved. */
export type AlertChange = Alert;

export interface AlertFilter {
  state?: AlertState;
  kind?: AlertKind;
  severity?: Severity;
}

/** Stable across restarts and processes: a hash of the rule id and the labels, in key order. */
export function fingerprintOf(rule: string, labels: Record<string, string>): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]]);
  return createHash('sha256').update(JSON.stringify([rule, pairs])).digest('hex').slice(0, 16);
}

/** Fills `{{name}}` from `vars`; an unknown name stays as written so a typo shows on the console. */
export function renderSummary(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g, (whole, name: string) => vars[name] ?? whole);
}

/** A number as an operator reads it: at most two decimals, no trailing zeros. */
export const formatValue = (value: number): string => String(Number(value.toFixed(2)));

/** What a rule knows when its condition starts to hold. */
export interface Opening {
  rule: string;
  name: string;
  kind: AlertKind;
  severity: Severity;
  labels: Record<string, string>;
  summary: string;
  summaryVi?: string;
  description?: string;
  runbook?: string;
  value: number | null;
  startsAt: number;
  related?: string[];
  /** A detection on logs: the stored ids of the lines that matched. */
  evidence?: number[];
}

export interface Retention {
  /** How long a resolved alert stays listed. */
  keepResolvedMs: number;
  /** At most this many resolved alerts are kept, so a flapping storm cannot grow memory without end. */
  maxResolved: number;
  /** A listener (journal, notifier) that threw; the change itself stands and the other listeners still run. */
  onListenerError?: (err: unknown) => void;
}

/** Told of every change: the alert as it is now and the history line that explains it. */
export type BookListener = (alert: Alert, entry: HistoryEntry) => void;

/**
 * The firing alerts and the recently resolved ones. Alerts are frozen snapshots: a change makes a
 * new object, so a consumer holding the previous one never sees it move under it.
 */
export class AlertBook {
  private readonly firing = new Map<string, Alert>();
  private readonly firingByFingerprint = new Map<string, Alert>();
  /** In order of resolution, oldest first, so pruning takes from the front. */
  private readonly resolved = new Map<string, Alert>();
  private readonly listeners: BookListener[] = [];

  constructor(private readonly retention: Retention) {}

  /** Calls `fn` on every change (persistence, notifications). */
  listen(fn: BookListener): void {
    this.listeners.push(fn);
  }

  /** Puts back alerts kept from before a restart, without history lines (they were written then). */
  restore(alerts: Iterable<Alert>): void {
    for (const a of alerts) {
      const frozen = freeze(a);
      if (a.state === 'firing') {
        this.firing.set(a.id, frozen);
        this.firingByFingerprint.set(a.fingerprint, frozen);
      } else this.resolved.set(a.id, frozen);
    }
  }

  /** The firing alert of a fingerprint: one condition is one alert, across restarts and reloads. */
  firingOf(fingerprint: string): Alert | undefined {
    return this.firingByFingerprint.get(fingerprint);
  }

  /** Creates a firing alert, or returns the one already firing for the same fingerprint. */
  open(o: Opening, now: number, extra: Partial<Alert> = {}): Alert {
    const fingerprint = fingerprintOf(o.rule, o.labels);
    const existing = this.firingByFingerprint.get(fingerprint);
    if (existing) return existing;
    const base = `${fingerprint.slice(0, 12)}-${o.startsAt.toString(36)}`;
    let id = base;
    // Resolve and re-fire within one millisecond would reuse the id; count on instead.
    for (let n = 2; this.firing.has(id) || this.resolved.has(id); n++) id = `${base}-${n}`;
    const alert = freeze({
      id,
      fingerprint,
      rule: o.rule,
      name: o.name,
      kind: o.kind,
      severity: o.severity,
      state: 'firing' as const,
      labels: { ...o.labels },
      summary: o.summary,
      value: o.value,
      startsAt: o.startsAt,
      endsAt: null,
      updatedAt: now,
      acknowledged: false,
      ackedBy: null,
      assignee: null,
      triage: 'new' as const,
      disposition: null,
      comments: 0,
      suppressedBy: null,
      silencedBy: [],
      flapping: false,
      ...(o.summaryVi !== undefined ? { summaryVi: o.summaryVi } : {}),
      ...(o.description !== undefined ? { description: o.description } : {}),
      ...(o.runbook !== undefined ? { runbook: o.runbook } : {}),
      ...(o.related !== undefined ? { related: o.related } : {}),
      ...(o.evidence !== undefined ? { evidence: o.evidence } : {}),
      ...extra,
    });
    this.put(alert);
    this.tell(alert, { ts: now, alert: id, who: 'system', action: 'fired', detail: { summary: alert.summary, value: alert.value } });
    return alert;
  }

  /** Resolves a firing alert (its condition cleared); a resolved one is returned as is. */
  close(alert: Alert, now: number, reason?: string): Alert {
    const current = this.get(alert.id);
    if (!current || current.state !== 'firing') return current ?? alert;
    const resolved = freeze({ ...current, state: 'resolved' as const, endsAt: now, updatedAt: now });
    this.put(resolved);
    this.tell(resolved, { ts: now, alert: alert.id, who: 'system', action: 'resolved', ...(reason ? { detail: { reason } } : {}) });
    return resolved;
  }

  /** A machine change to a live alert (suppressed, silenced, flapping); undefined when nothing differs. */
  update(id: string, patch: Partial<Alert>, now: number, why: string): Alert | undefined {
    const current = this.get(id);
    if (!current) return undefined;
    let differs = false;
    for (const k of Object.keys(patch) as (keyof Alert)[]) {
      if (JSON.stringify(current[k]) !== JSON.stringify(patch[k])) differs = true;
    }
    if (!differs) return undefined;
    const next = freeze({ ...current, ...patch, updatedAt: now });
    this.put(next);
    this.tell(next, { ts: now, alert: id, who: 'system', action: why, detail: patch as Record<string, unknown> });
    return next;
  }

  /** A person's action; throws a 404-free conflict (409) when the transition is illegal. */
  act(id: string, action: AlertAction, who: string, now: number): Alert | undefined {
    const current = this.get(id);
    if (!current) return undefined;
    const newer = action.action === 'reopen' ? this.firingByFingerprint.get(current.fingerprint) : undefined;
    if (newer) throw conflict(`cannot reopen alert ${id}: alert ${newer.id} is firing for the same condition`);
    const next = freeze(applyAction(current, action, now, who));
    this.put(next);
    const detail = actionDetail(action);
    this.tell(next, { ts: now, alert: id, who, action: action.action, ...(detail ? { detail } : {}) });
    return next;
  }

  /** Forgets resolved alerts past the retention time or beyond the cap. */
  prune(now: number): void {
    const cutoff = now - this.retention.keepResolvedMs;
    for (const [id, alert] of this.resolved) {
      if (this.resolved.size <= this.retention.maxResolved && (alert.endsAt ?? now) >= cutoff) break;
      this.resolved.delete(id);
    }
  }

  get(id: string): Alert | undefined {
    return this.firing.get(id) ?? this.resolved.get(id);
  }

  /** Every alert kept, firing first: what the journal snapshots. */
  all(): Alert[] {
    return [...this.firing.values(), ...this.resolved.values()];
  }

  /** Firing alerts only, in no particular order. */
  firingAlerts(): IterableIterator<Alert> {
    return this.firing.values();
  }

  /** Firing and recently resolved alerts matching the filter, newest first. */
  list(filter: AlertFilter = {}): Alert[] {
    const out: Alert[] = [];
    const add = (alerts: Map<string, Alert>): void => {
      for (const a of alerts.values()) {
        if (filter.kind !== undefined && a.kind !== filter.kind) continue;
        if (filter.severity !== undefined && a.severity !== filter.severity) continue;
        out.push(a);
      }
    };
    if (filter.state !== 'resolved') add(this.firing);
    if (filter.state !== 'firing') add(this.resolved);
    return out.sort((a, b) => b.startsAt - a.startsAt || b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : -1));
  }

  private put(alert: Alert): void {
    if (alert.state === 'firing') {
      this.resolved.delete(alert.id);
      this.firing.set(alert.id, alert);
      this.firingByFingerprint.set(alert.fingerprint, alert);
    } else {
      this.firing.delete(alert.id);
      if (this.firingByFingerprint.get(alert.fingerprint)?.id === alert.id) this.firingByFingerprint.delete(alert.fingerprint);
      // Re-inserting moves it to the end: resolution order is what pruning follows.
      this.resolved.delete(alert.id);
      this.resolved.set(alert.id, alert);
      if (this.resolved.size > this.retention.maxResolved) this.prune(alert.updatedAt);
    }
  }

  private tell(alert: Alert, entry: HistoryEntry): void {
    for (const fn of this.listeners) {
      try {
        fn(alert, entry);
      } catch (err) {
        // A full disk under the journal or a bad route must not undo the change or stop evaluation.
        this.retention.onListenerError?.(err);
      }
    }
  }
}

const freeze = (a: Alert): Alert => Object.freeze({ ...a, labels: Object.freeze({ ...a.labels }) }) as Alert;
