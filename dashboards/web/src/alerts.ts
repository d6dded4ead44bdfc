// The live alert list: alerts by id, merged from `/alerts` and `alert` events (the newer `updatedAt`
// wins), firing first and worst first; resolved ones stay a while, greyed.
import type { Alert } from '../../../core/index.ts';

/** An alert's severity, worst first in SEVERITIES. */
export type Severity = Alert['severity'];

export const SEVERITIES: readonly Severity[] = ['critical', 'major', 'minor', 'warning', 'info'];
const RANK = new Map(SEVERITIES.map((s, i) => [s, i]));
const rank = (s: string | undefined): number => RANK.get(s as Severity) ?? SEVERITIES.length;
const KEEP_RESOLVED = 50;

/** The worse of two severities (undefined counts as none). */
export const worse = (a: Severity | undefined, b: Severity | undefined): Severity | undefined => (a === undefined ? b : b === undefined ? a : rank(a) <= rank(b) ? a : b);

/** The alerts the page knows about. */
export class AlertBoard {
  #byId = new Map<string, Alert>();

  /** Adds or updates one alert; returns false when it is older than what is known. */
  upsert(alert: Alert): boolean {
    if (!alert || typeof alert.id !== 'string') return false;
    const prev = this.#byId.get(alert.id);
    if (prev && prev.updatedAt > alert.updatedAt) return false;
    this.#byId.set(alert.id, alert);
    this.#trim();
    return true;
  }

  merge(alerts: readonly Alert[]): void {
    for (const a of alerts) this.upsert(a);
  }

  /** Firing first, then by severity, then newest first; resolved by when they ended. */
  sorted(): Alert[] {
    return [...this.#byId.values()].sort((a, b) => {
      if (a.state !== b.state) return a.state === 'firing' ? -1 : 1;
      if (a.state === 'firing') return rank(a.severity) - rank(b.severity) || b.startsAt - a.startsAt;
      return (b.endsAt ?? b.updatedAt) - (a.endsAt ?? a.updatedAt);
    });
  }

  firing(): Alert[] {
    return [...this.#byId.values()].filter((a) => a.state === 'firing');
  }

  /** Worst firing severity per value of a label (`rack`, `device`, `room`). */
  worstBy(label: string): Map<string, Severity> {
    const out = new Map<string, Severity>();
    for (const a of this.firing()) {
      const key = a.labels?.[label];
      if (key !== undefined) out.set(key, worse(out.get(key), a.severity) ?? a.severity);
    }
    return out;
  }

  #trim(): void {
    const resolved = [...this.#byId.values()].filter((a) => a.state === 'resolved');
    if (resolved.length <= KEEP_RESOLVED) return;
    resolved.sort((a, b) => (a.endsAt ?? a.updatedAt) - (b.endsAt ?? b.updatedAt));
    for (const a of resolved.slice(0, resolved.length - KEEP_RESOLVED)) this.#byId.delete(a.id);
  }
}
