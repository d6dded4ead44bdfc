// Incidents in the SOC queue: the security alerts about one entity within an hour of each other
// (GET /incidents, ops-server/incidents.ts) shown as one card with its count, entity and time span,
// which expands to its alerts; triage stays on each alert.
import { useEffect, useState } from 'preact/hooks';
import { http } from './api.ts';
import { formatAge } from './dom.ts';
import { named, t } from './i18n.ts';
import { html } from './ui.ts';
import { EntityLink, alertEntities, formatStamp, type Entity, type Incident } from './soc-common.ts';
import type { Alert, Page } from './page.ts';

/** How far back incidents are asked for: the queue's alerts are this recent or still firing. */
const INCIDENTS_SINCE_MS = 7 * 86_400_000;
/** Alert changes come in bursts: incidents are fetched again at most this often. */
const REFRESH_MS = 1500;

/**
 * The incidents of the queue's alerts, fetched again when the alerts change; null while there is no
 * answer (a server without the route groups nothing).
 */
export function useIncidents(page: Page, queue: readonly Alert[]): Incident[] | null {
  const [incidents, setIncidents] = useState<Incident[] | null>(null);
  const key = queue.map((a) => `${a.id}:${a.triage ?? ''}`).join(',');
  useEffect(() => {
    let gone = false;
    const timer = setTimeout(() => {
      http.get<{ incidents: Incident[] }>('/incidents', { since: String(Math.floor(page.now() - INCIDENTS_SINCE_MS)) }).then(
        (r) => !gone && setIncidents(Array.isArray(r?.incidents) ? r.incidents : []),
        () => !gone && setIncidents(null),
      );
    }, incidents === null ? 0 : REFRESH_MS);
    return () => {
      gone = true;
      clearTimeout(timer);
    };
  }, [key]);
  return incidents;
}

/** One entry of the queue: an alert on its own, or an incident of several. */
export type QueueEntry = { alert: Alert } | { incident: Incident; alerts: Alert[] };

/** The queue in its order (the board's), each incident of two or more alerts at the place of its first alert there. */
export function queueEntries(queue: readonly Alert[], incidents: readonly Incident[] | null): QueueEntry[] {
  const byAlert = new Map<string, Incident>();
  for (const i of incidents ?? []) if (i.alerts.length > 1) for (const id of i.alerts) byAlert.set(id, i);
  const seen = new Set<string>();
  const out: QueueEntry[] = [];
  for (const a of queue) {
    const inc = byAlert.get(a.id);
    if (!inc) {
      out.push({ alert: a });
      continue;
    }
    if (seen.has(inc.id)) continue;
    seen.add(inc.id);
    const members = queue.filter((x) => byAlert.get(x.id)?.id === inc.id);
    if (members.length > 1) out.push({ incident: inc, alerts: members });
    else out.push({ alert: a });
  }
  return out;
}

/** The other entities its alerts name (the users tried, the hosts attacked), as text. */
function others(incident: Incident, alerts: readonly Alert[]): string {
  const seen = new Set<string>();
  for (const a of alerts) for (const e of alertEntities(a)) if (e.type !== incident.entity.type || e.value !== incident.entity.value) seen.add(`${named('entity', e.type)} ${e.value}`);
  return [...seen].join(' · ');
}

/** The card of an incident in the queue table: severity, count and entity, span, triage, and its toggle. */
export function IncidentRow({ incident, alerts, open, onToggle, onEntity }: { incident: Incident; alerts: Alert[]; open: boolean; onToggle: () => void; onEntity: (e: Entity) => void }) {
  const from = Math.min(...alerts.map((a) => a.startsAt));
  const to = Math.max(...alerts.map((a) => a.startsAt));
  return html`<tr class="incident-row" data-incident-id=${incident.id} data-count=${alerts.length} data-open=${open ? '1' : '0'}>
    <td><span class=${`sev-text sev-${incident.severity}`}>${named('sev', incident.severity).toUpperCase()}</span></td>
    <td><strong>${t('incident.title', { n: alerts.length })}</strong> <${EntityLink} entity=${incident.entity} onOpen=${onEntity} /><br />
      <small>${[...new Set(alerts.map((a) => a.name))].join(' · ')}</small></td>
    <td>${others(incident, alerts)}</td>
    <td>${t('incident.span', { from: formatStamp(from), to: formatStamp(to), duration: formatAge(to - from) })}</td>
    <td class="triage-status">${named('triage', incident.triage)}</td><td>—</td>
    <td><button type="button" class="incident-toggle" aria-expanded=${open} onClick=${onToggle}>${t(open ? 'incident.collapse' : 'incident.expand')}</button></td></tr>`;
}
