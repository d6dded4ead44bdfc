/*
 * Incidents (issue 15): the security alerts about one entity (its source address first, else its
 * user, else its host) that follow each other within an hour form one incident, so the SOC queue
 * shows one card instead of fifty. Pure: the alerts in, the incidents out.
 */
import { createHash } from 'node:crypto';
import type { Alert, Severity, TriageStatus } from '../core/index.ts';

export const ENTITY_TYPES = ['source', 'user', 'host'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

export interface Entity {
  type: EntityType;
  value: string;
}

export interface Incident {
  /** Stable: derived from the entity and the incident's first alert. */
  id: string;
  entity: Entity;
  /** The first alert's start and the last alert's start, epoch ms. */
  from: number;
  to: number;
  /** The most severe of its alerts. */
  severity: Severity;
  /** Alert ids, oldest first. */
  alerts: string[];
  /** new while one alert is new, closed when all are, else in_progress. */
  triage: TriageStatus;
}

/** Alerts this close together (start to start) about one entity are one incident. */
export const INCIDENT_GAP_MS = 3_600_000;

/** The labels that name each entity type, in order (the broker's own security alerts say `ip` and `username`). */
const ENTITY_LABELS: Record<EntityType, readonly string[]> = {
  source: ['source', 'ip', 'src_ip'],
  user: ['user', 'username'],
  host: ['host'],
};

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, major: 1, minor: 2, warning: 3, info: 4 };

/** The value the alert's labels give for an entity type, if any. */
export function entityValue(alert: Alert, type: EntityType): string | undefined {
  for (const k of ENTITY_LABELS[type]) {
    const v = alert.labels?.[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/** Whether the alert's labels name this entity (a host also by the device id). */
export function alertNames(alert: Alert, e: Entity): boolean {
  const v = e.value.toLowerCase();
  const labels = e.type === 'host' ? [...ENTITY_LABELS.host, 'device'] : ENTITY_LABELS[e.type];
  return labels.some((k) => alert.labels?.[k]?.toLowerCase() === v);
}

/** The entity an alert is grouped by: source first, else user, else host. */
export function groupingEntity(alert: Alert): Entity | undefined {
  for (const type of ENTITY_TYPES) {
    const value = entityValue(alert, type);
    if (value !== undefined) return { type, value };
  }
  return undefined;
}

export const incidentId = (e: Entity, firstAlertId: string): string =>
  `inc-${createHash('sha256').update(`${e.type}\u0000${e.value}\u0000${firstAlertId}`).digest('hex').slice(0, 16)}`;

/** The incidents of these alerts (security ones with an entity), newest first; `since` keeps those that last to or past it. */
export function groupIncidents(alerts: readonly Alert[], since?: number): Incident[] {
  const byEntity = new Map<string, { entity: Entity; alerts: Alert[] }>();
  for (const a of alerts) {
    if (a.kind !== 'security') continue;
    const entity = groupingEntity(a);
    if (!entity) continue;
    const key = `${entity.type}\u0000${entity.value}`;
    const g = byEntity.get(key) ?? { entity, alerts: [] };
    g.alerts.push(a);
    byEntity.set(key, g);
  }
  const out: Incident[] = [];
  for (const { entity, alerts: list } of byEntity.values()) {
    list.sort((x, y) => x.startsAt - y.startsAt || x.id.localeCompare(y.id));
    let current: Alert[] = [];
    const close = (): void => {
      if (current.length > 0) out.push(incidentOf(entity, current));
      current = [];
    };
    for (const a of list) {
      const last = current.at(-1);
      if (last && a.startsAt - last.startsAt > INCIDENT_GAP_MS) close();
      current.push(a);
    }
    close();
  }
  return out.filter((i) => since === undefined || i.to >= since).sort((x, y) => y.to - x.to || x.id.localeCompare(y.id));
}

function incidentOf(entity: Entity, alerts: Alert[]): Incident {
  const first = alerts[0] as Alert;
  const severity = alerts.reduce<Severity>((s, a) => (SEVERITY_RANK[a.severity] < SEVERITY_RANK[s] ? a.severity : s), first.severity);
  const triages = alerts.map((a) => a.triage ?? 'new');
  const triage: TriageStatus = triages.includes('new') ? 'new' : triages.every((t) => t === 'closed') ? 'closed' : 'in_progress';
  return { id: incidentId(entity, first.id), entity, from: first.startsAt, to: (alerts.at(-1) as Alert).startsAt, severity, alerts: alerts.map((a) => a.id), triage };
}
