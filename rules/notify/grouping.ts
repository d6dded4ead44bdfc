import type { Alert } from '../../core/index.ts';
import { matchesAll } from '../silences.ts';
import type { Route } from './schema.ts';

/** What goes to a receiver: one group's alerts, Alertmanager-style. */
export interface Notification {
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  status: 'firing' | 'resolved' | 'escalated';
  alerts: Alert[];
}

interface Group {
  readonly route: Route;
  readonly key: string;
  readonly labels: Record<string, string>;
  readonly alerts: Map<string, Alert>;
  nextAt: number;
  lastSentAt: number | undefined;
  /** Something changed since the last send. */
  dirty: boolean;
}

/** True when the route takes the alert. */
export function routeMatches(route: Route, alert: Alert): boolean {
  if (route.kinds && !route.kinds.includes(alert.kind)) return false;
  if (route.severities && !route.severities.includes(alert.severity)) return false;
  return matchesAll(route.matchers, alert);
}

/** Silenced and suppressed alerts are shown on the console but not sent. */
const quiet = (a: Alert): boolean => (a.silencedBy?.length ?? 0) > 0 || Boolean(a.suppressedBy);

/**
 * Alertmanager's grouping: a new group waits `group_wait` to gather its first batch; later changes
 * go out at most every `group_interval`; an unchanged firing group is sent again after
 * `repeat_interval`. Pure over time: `onChange` and `due` take `now`.
 */
export class Grouper {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly routes: readonly Route[]) {}

  /** An alert fired, resolved or started/stopped flapping. */
  onChange(alert: Alert, now: number): void {
    this.routes.forEach((route, i) => {
      if (!routeMatches(route, alert)) return;
      const labels: Record<string, string> = {};
      for (const k of route.group_by) labels[k] = k === 'rule' || k === 'alertname' ? alert.rule : (alert.labels[k] ?? '');
      const key = `${i}:${route.receiver}:${JSON.stringify(labels)}`;
      let g = this.groups.get(key);
      if (!g) this.groups.set(key, (g = { route, key, labels, alerts: new Map(), nextAt: now + route.group_wait, lastSentAt: undefined, dirty: true }));
      else if (!g.dirty && g.lastSentAt !== undefined) g.nextAt = Math.max(now, g.lastSentAt + route.group_interval);
      g.alerts.set(alert.fingerprint, alert);
      g.dirty = true;
    });
  }

  /** The notifications due at `now`; groups left with nothing firing are forgotten once sent. */
  due(now: number): Notification[] {
    const out: Notification[] = [];
    for (const [key, g] of this.groups) {
      if (now < g.nextAt) continue;
      const all = [...g.alerts.values()];
      const send = all.filter((a) => !quiet(a));
      if (send.length > 0) {
        out.push({ receiver: g.route.receiver, groupKey: g.key, groupLabels: g.labels, status: send.some((a) => a.state === 'firing') ? 'firing' : 'resolved', alerts: send });
      }
      for (const a of all) if (a.state === 'resolved') g.alerts.delete(a.fingerprint);
      g.lastSentAt = now;
      g.dirty = false;
      g.nextAt = now + g.route.repeat_interval;
      if (g.alerts.size === 0) this.groups.delete(key);
    }
    return out;
  }
}
