// What the SOC's parts share (soc-view.ts, soc-logs.ts, soc-entity.ts, soc-incidents.ts): the shapes
// the server answers (ops-server/routes/soc.ts), a table of log lines, the entity links of an alert.
import { formatClock } from './dom.ts';
import { named, t } from './i18n.ts';
import { html } from './ui.ts';
import type { Alert } from './page.ts';
import type { StoredLog } from '../../../store/index.ts';
import type { Entity, EntityType, Incident } from '../../../ops-server/index.ts';

export type { StoredLog };

// The shapes are the server's (ops-server/incidents.ts); the list is repeated here because the page
// bundles no server code; `satisfies` refuses a type the server does not know.
export type { Entity, EntityType, Incident };
export const ENTITY_TYPES = ['source', 'user', 'host'] as const satisfies readonly EntityType[];

/** The syslog severities, the most severe first (core LOG_SEVERITIES). */
export const LOG_SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

/** Time windows a person picks from, in ms. */
export const WINDOWS: Record<string, number> = { '15m': 900_000, '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000, '7d': 604_800_000 };

/** The labels naming each entity, as the server reads them (ops-server/incidents.ts). */
const ENTITY_LABELS: Record<EntityType, readonly string[]> = { source: ['source', 'ip', 'src_ip'], user: ['user', 'username'], host: ['host'] };

/** The entities an alert's labels name: its source address, user and host. */
export function alertEntities(a: Alert): Entity[] {
  const out: Entity[] = [];
  for (const type of ENTITY_TYPES) {
    const key = ENTITY_LABELS[type].find((k) => a.labels?.[k]);
    if (key) out.push({ type, value: a.labels[key] as string });
  }
  return out;
}

/** A date and clock time: "2026-12-01 08:00:03" in the browser's zone. */
export function formatStamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${formatClock(ms)}`;
}

/** A button that opens the entity view: "source 218.188.2.4". */
export function EntityLink({ entity, onOpen }: { entity: Entity; onOpen: (e: Entity) => void }) {
  return html`<button type="button" class="entity-link linkish" data-entity-type=${entity.type} data-entity-value=${entity.value}
    title=${t('entity.open', { type: named('entity', entity.type), value: entity.value })} onClick=${() => onOpen(entity)}>${named('entity', entity.type)} ${entity.value}</button>`;
}

/** Log lines as a table, in the order given; `id` names the table for tests and for people. */
export function LogTable({ lines, id }: { lines: StoredLog[]; id?: string }) {
  return html`<table class="data-table log-table" id=${id}>
    <thead><tr><th>${t('logs.col.time')}</th><th>${t('logs.col.host')}</th><th>${t('logs.col.program')}</th><th>${t('logs.col.severity')}</th><th>${t('logs.col.message')}</th></tr></thead>
    <tbody>${lines.map((l) => html`<tr class="log-line" data-log-id=${l.id} data-severity=${l.severity}>
      <td><time datetime=${new Date(l.ts).toISOString()}>${formatStamp(l.ts)}</time></td>
      <td>${l.host}${l.device && l.device !== l.host ? html` <small class="muted">(${l.device})</small>` : ''}</td>
      <td>${l.program}${l.pid !== undefined ? `[${l.pid}]` : ''}</td>
      <td class=${`logsev logsev-${l.severity}`}>${named('logsev', l.severity)}</td>
      <td class="log-message"><code>${l.message}</code></td></tr>`)}</tbody></table>`;
}
