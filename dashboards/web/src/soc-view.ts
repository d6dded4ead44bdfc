// The SOC view, one of the views beside the floor plan (power.ts, network.ts, cloud.ts and
// dashboards.ts hold the others): the security queue, its alerts grouped into incidents
// (soc-incidents.ts), each alert's evidence lines and entity links, the entity view (soc-entity.ts)
// and the log search (soc-logs.ts). It reads the page state; controls appear only for roles that may use them.
import { useState } from 'preact/hooks';
import { http } from './api.ts';
import { act, mayActOn } from './alertpane.ts';
import { formatAge, formatClock } from './dom.ts';
import { named, t } from './i18n.ts';
import { html, useStore } from './ui.ts';
import { EntityLink, LogTable, alertEntities, type Entity, type StoredLog } from './soc-common.ts';
import { EntityView } from './soc-entity.ts';
import { IncidentRow, queueEntries, useIncidents } from './soc-incidents.ts';
import { LogSearch } from './soc-logs.ts';
import type { Alert, Page, ViewProps } from './page.ts';

/** One entry of an alert's history as /alerts/{id}/history lists it (older servers named the fields differently). */
interface HistoryRow {
  at?: number;
  ts?: number;
  actor?: { username?: string };
  by?: string;
  who?: string;
  action?: string;
  type?: string;
  text?: string;
}

const DISPOSITIONS = ['true_positive', 'false_positive', 'benign', 'duplicate'];
/** Labels shown as text in the "where" column (the entities are links). */
const PLACE_LABELS = ['device', 'room'];

function History({ id }: { id: string }) {
  const [rows, setRows] = useState<HistoryRow[] | null>(null);
  if (rows === null) {
    http.get(`/alerts/${encodeURIComponent(id)}/history`).then((r) => setRows(Array.isArray(r) ? r : []), () => setRows([]));
    return html`<p class="muted">…</p>`;
  }
  return html`<ol class="history">${rows.map((h) => html`<li>${formatClock(h.at ?? h.ts ?? 0)} ${h.actor?.username ?? h.by ?? h.who ?? ''} ${named('history', h.action ?? h.type ?? '')} ${h.text ?? ''}</li>`)}</ol>`;
}

/** The alert's evidence: the stored log lines its detection matched, oldest first. */
function Evidence({ id }: { id: string }) {
  const [lines, setLines] = useState<StoredLog[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (lines === null && error === null) {
    http.get<{ logs: StoredLog[] }>(`/alerts/${encodeURIComponent(id)}/evidence`).then(
      (r) => setLines(Array.isArray(r?.logs) ? r.logs : []),
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
    return html`<p class="muted">…</p>`;
  }
  if (error) return html`<p class="error" role="alert">${t('soc.evidenceFailed', { error })}</p>`;
  if (!lines || lines.length === 0) return html`<p class="muted">${t('soc.evidenceNone')}</p>`;
  return html`<${LogTable} lines=${lines} id=${`evidence-${id}`} />`;
}

/** Ack, assign to me and a comment: the rest of the lifecycle, beside the triage controls of the row. */
function MoreActions({ page, a }: { page: Page; a: Alert }) {
  const [text, setText] = useState('');
  const user = page.user;
  if (!user || !mayActOn(user.role, a.kind)) return null;
  const can = (name: string): boolean => !page.unsupported.has(name);
  const send = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    if (text.trim() && (await act(page, a, 'comment', { text: text.trim() }))) setText('');
  };
  return html`<div class="alert-actions">
    ${a.state === 'firing' && !a.acknowledged && can('ack') && html`<button type="button" class="triage-ack" onClick=${() => act(page, a, 'ack')}>${t('action.ack')}</button>`}
    ${a.assignee !== user.username && can('assign') && html`<button type="button" class="triage-assign" onClick=${() => act(page, a, 'assign', { assignee: user.username })}>${t('action.assign')}</button>`}
    ${a.assignee && html`<span class="badge badge-assignee">${t('badge.assigned', { who: a.assignee })}</span>`}
    ${can('comment') && html`<form class="comment-form" onSubmit=${send}>
      <label class="sr-only" for=${`soc-c-${a.id}`}>${t('action.comment')}</label>
      <input id=${`soc-c-${a.id}`} class="comment-text" value=${text} onInput=${(e: Event) => setText((e.currentTarget as HTMLInputElement).value)} maxlength="10000" placeholder=${t('action.comment')} />
      <button type="submit" class="triage-comment">${t('action.send')}</button></form>`}
  </div>`;
}

interface RowProps {
  page: Page;
  a: Alert;
  can: boolean;
  member?: string;
  onEntity: (e: Entity) => void;
}

/** One alert of the queue: the row, and under it its evidence when opened. */
function AlertRow({ page, a, can, member, onEntity }: RowProps) {
  const [open, setOpen] = useState(false);
  const [evidence, setEvidence] = useState(false);
  const [disp, setDisp] = useState('');
  const places = Object.entries(a.labels ?? {}).filter(([k]) => PLACE_LABELS.includes(k)).map(([k, v]) => `${k}=${v}`).join(' ');
  return html`<tr data-alert-id=${a.id} data-triage=${a.triage ?? 'new'} data-disposition=${a.disposition ?? ''} data-incident=${member} class=${member ? 'incident-member' : undefined}>
      <td><span class="sev-text sev-${a.severity}">${named('sev', a.severity).toUpperCase()}</span></td>
      <td>${a.name}<br /><small>${a.summary}</small>${a.related?.length ? html`<br /><small>${t('soc.related', { list: a.related.join(', ') })}</small>` : ''}</td>
      <td>${alertEntities(a).map((e) => html`<${EntityLink} entity=${e} onOpen=${onEntity} /> `)}${places}</td>
      <td>${formatClock(a.startsAt)} (${formatAge(page.now() - a.startsAt)})</td>
      <td class="triage-status">${named('triage', a.triage ?? 'new')}</td><td>${a.disposition ? named('disposition', a.disposition) : '—'}</td>
      <td>${can && html`<span class="triage-actions">
        ${(a.triage ?? 'new') === 'new' && html`<button type="button" class="triage-start" onClick=${() => act(page, a, 'triage', { status: 'in_progress' })}>${t('action.triage')}</button>`}
        <label class="sr-only" for=${`disp-${a.id}`}>${t('soc.disposition')}</label>
        <select id=${`disp-${a.id}`} class="triage-disposition" value=${disp} onChange=${(e: Event) => setDisp((e.currentTarget as HTMLSelectElement).value)}>
          <option value="">${t('soc.pick')}</option>${DISPOSITIONS.map((d) => html`<option value=${d}>${named('disposition', d)}</option>`)}</select>
        <button type="button" class="triage-close" disabled=${!disp} onClick=${() => act(page, a, 'triage', { status: 'closed', disposition: disp })}>${t('soc.close')}</button>
      </span>`}
      ${(a.evidence?.length ?? 0) > 0 && html`<button type="button" class="show-evidence" aria-expanded=${evidence} onClick=${() => setEvidence(!evidence)}>${t('soc.evidence', { n: a.evidence?.length ?? 0 })}</button>`}
      <button type="button" class="show-history" onClick=${() => setOpen(!open)}>${t('action.history')}</button>
      ${open && html`<${History} id=${a.id} /><${MoreActions} page=${page} a=${a} />`}</td></tr>
    ${evidence && html`<tr class="evidence-row" data-evidence-of=${a.id}><td></td><td colspan="6"><${Evidence} id=${a.id} /></td></tr>`}`;
}

/** The security queue, incidents grouped. */
function Queue({ page, onEntity }: { page: Page; onEntity: (e: Entity) => void }) {
  useStore(page.store, 'alerts', 'lang');
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const [grouped, setGrouped] = useState(true);
  const queue = page.alerts.sorted().filter((a) => a.kind === 'security');
  const incidents = useIncidents(page, queue);
  const entries = queueEntries(queue, grouped ? incidents : null);
  const can = !!page.user && mayActOn(page.user.role, 'security') && !page.unsupported.has('triage');
  return html`
    ${queue.length === 0 && html`<p class="muted">${t('soc.empty')}</p>`}
    ${page.unsupported.has('triage') && html`<p class="muted">${t('soc.noTriage')}</p>`}
    ${incidents !== null && html`<label class="incident-grouping"><input type="checkbox" id="soc-group" checked=${grouped} onChange=${(e: Event) => setGrouped((e.currentTarget as HTMLInputElement).checked)} /> ${t('soc.group')}</label>`}
    <table class="data-table" id="soc-table"><thead><tr><th></th><th>${t('soc.alert')}</th><th>${t('soc.where')}</th><th>${t('soc.since')}</th><th>${t('soc.triage')}</th><th>${t('soc.disposition')}</th><th></th></tr></thead>
      <tbody>${entries.map((e) =>
        'alert' in e
          ? html`<${AlertRow} key=${e.alert.id} page=${page} a=${e.alert} can=${can} onEntity=${onEntity} />`
          : html`<${IncidentRow} key=${e.incident.id} incident=${e.incident} alerts=${e.alerts} open=${!!open[e.incident.id]} onEntity=${onEntity}
              onToggle=${() => setOpen({ ...open, [e.incident.id]: !open[e.incident.id] })} />
            ${open[e.incident.id] && e.alerts.map((a) => html`<${AlertRow} key=${a.id} page=${page} a=${a} can=${can} member=${e.incident.id} onEntity=${onEntity} />`)}`,
      )}</tbody></table>`;
}

export function SocView({ page }: ViewProps) {
  useStore(page.store, 'lang');
  const [tab, setTab] = useState<'queue' | 'logs'>('queue');
  const [entity, setEntity] = useState<Entity | null>(null);
  const tabButton = (id: 'queue' | 'logs') =>
    html`<button type="button" role="tab" id=${`soc-tab-${id}`} aria-selected=${tab === id} style=${tab === id ? 'font-weight: bold; border-bottom: 2px solid currentColor' : ''} onClick=${() => setTab(id)}>${t(`soc.tab.${id}`)}</button>`;
  return html`<div class="view-body">
    <h2>${t('soc.title')}</h2>
    <div class="soc-tabs" role="tablist" aria-label=${t('soc.title')}>${tabButton('queue')} ${tabButton('logs')}</div>
    ${entity && html`<${EntityView} key=${`${entity.type}:${entity.value}`} page=${page} entity=${entity} onClose=${() => setEntity(null)} />`}
    ${tab === 'queue' ? html`<${Queue} page=${page} onEntity=${setEntity} />` : html`<${LogSearch} page=${page} />`}
  </div>`;
}
