import { createHash } from 'node:crypto';
import type { Alert, AlertKind, AlertState, Severity } from '../core/index.ts';

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
  value: number | null;
  startsAt: number;
}

export interface Retention {
  /** How long a resolved alert stays listed. */
  keepResolvedMs: number;
  /** At most this many resolved alerts are kept, so a flapping storm cannot grow memory without end. */
  maxResolved: number;
}

/**
 * The firing alerts and the recently resolved ones. Alerts are frozen snapshots: a change makes a
 * new object, so a consumer holding the previous one never sees it move under it.
 */
export class AlertBook {
  private readonly firing = new Map<string, Alert>();
  /** In order of resolution, oldest first, so pruning takes from the front. */
  private readonly resolved = new Map<string, Alert>();

  constructor(private readonly retention: Retention) {}

  /** Creates a firing alert; a new occurrence of the same fingerprint gets a new id. */
  open(o: Opening, now: number): Alert {
    const fingerprint = fingerprintOf(o.rule, o.labels);
    const base = `${fingerprint.slice(0, 12)}-${o.startsAt.toString(36)}`;
    let id = base;
    // Resolve and re-fire within one millisecond would reuse the id; count on instead.
    for (let n = 2; this.firing.has(id) || this.resolved.has(id); n++) id = `${base}-${n}`;
    const alert = Object.freeze({
      id,
      fingerprint,
      rule: o.rule,
      name: o.name,
      kind: o.kind,
      severity: o.severity,
      state: 'firing' as const,
      labels: Object.freeze({ ...o.labels }),
      summary: o.summary,
      value: o.value,
      startsAt: o.startsAt,
      endsAt: null,
      updatedAt: now,
    });
    this.firing.set(id, alert);
    return alert;
  }

  /** Resolves a firing alert; it stays listed for the retention time with its `endsAt`. */
  close(alert: Alert, now: number): Alert {
    const resolved = Object.freeze({ ...alert, state: 'resolved' as const, endsAt: now, updatedAt: now });
    this.firing.delete(alert.id);
    this.resolved.set(alert.id, resolved);
    if (this.resolved.size > this.retention.maxResolved) this.prune(now);
    return resolved;
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
}
