// The SOC queue, one of the views beside the floor plan (power.ts, network.ts, cloud.ts and
// dashboards.ts hold the others). It reads the page state; controls appear only for roles that may use them.
import { useState } from 'preact/hooks';
import { http } from './api.ts';
import { act, mayActOn } from './alertpane.ts';
import { formatAge, formatClock } from './dom.ts';
import { named, t } from './i18n.ts';
import { html, useStore } from './ui.ts';
import type { ViewProps } from './page.ts';

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

function History({ id }: { id: string }) {
  const [rows, setRows] = useState<HistoryRow[] | null>(null);
  if (rows === null) {
    http.get(`/alerts/${encodeURIComponent(id)}/history`).then((r) => setRows(Array.isArray(r) ? r : []), () => setRows([]));
    return html`<p class="muted">…</p>`;
  }
  return html`<ol class="history">${rows.map((h) => html`<li>${formatClock(h.at ?? h.ts ?? 0)} ${h.actor?.username ?? h.by ?? h.who ?? ''} ${named('history', h.action ?? h.type ?? '')} ${h.text ?? ''}</li>`)}</ol>`;
}

export function SocView({ page }: ViewProps) {
  useStore(page.store, 'alerts', 'lang');
  const [open, setOpen] = useState<string | null>(null);
  const [disp, setDisp] = useState<Record<string, string>>({});
  const queue = page.alerts.sorted().filter((a) => a.kind === 'security');
  const can = !!page.user && mayActOn(page.user.role, 'security') && !page.unsupported.has('triage');
  return html`<div class="view-body">
    <h2>${t('soc.title')}</h2>
    ${queue.length === 0 && html`<p class="muted">${t('soc.empty')}</p>`}
    ${page.unsupported.has('triage') && html`<p class="muted">${t('soc.noTriage')}</p>`}
    <table class="data-table" id="soc-table"><thead><tr><th></th><th>${t('soc.alert')}</th><th>${t('soc.where')}</th><th>${t('soc.since')}</th><th>${t('soc.triage')}</th><th>${t('soc.disposition')}</th><th></th></tr></thead>
      <tbody>${queue.map((a) => html`<tr data-alert-id=${a.id} data-triage=${a.triage ?? 'new'} data-disposition=${a.disposition ?? ''}>
        <td><span class="sev-text sev-${a.severity}">${named('sev', a.severity).toUpperCase()}</span></td>
        <td>${a.name}<br /><small>${a.summary}</small>${a.related?.length ? html`<br /><small>${t('soc.related', { list: a.related.join(', ') })}</small>` : ''}</td>
        <td>${Object.entries(a.labels ?? {}).filter(([k]) => ['device', 'source', 'ip', 'username', 'room'].includes(k)).map(([k, v]) => `${k}=${v}`).join(' ')}</td>
        <td>${formatClock(a.startsAt)} (${formatAge(page.now() - a.startsAt)})</td>
        <td class="triage-status">${named('triage', a.triage ?? 'new')}</td><td>${a.disposition ? named('disposition', a.disposition) : '—'}</td>
        <td>${can && html`<span class="triage-actions">
          ${(a.triage ?? 'new') === 'new' && html`<button type="button" class="triage-start" onClick=${() => act(page, a, 'triage', { status: 'in_progress' })}>${t('action.triage')}</button>`}
          <label class="sr-only" for=${`disp-${a.id}`}>${t('soc.disposition')}</label>
          <select id=${`disp-${a.id}`} class="triage-disposition" value=${disp[a.id] ?? ''} onChange=${(e: Event) => setDisp({ ...disp, [a.id]: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">${t('soc.pick')}</option>${DISPOSITIONS.map((d) => html`<option value=${d}>${named('disposition', d)}</option>`)}</select>
          <button type="button" class="triage-close" disabled=${!disp[a.id]} onClick=${() => act(page, a, 'triage', { status: 'closed', disposition: disp[a.id] })}>${t('soc.close')}</button>
        </span>`}
        <button type="button" class="show-history" onClick=${() => setOpen(open === a.id ? null : a.id)}>${t('action.history')}</button>
        ${open === a.id && html`<${History} id=${a.id} />`}</td></tr>`)}</tbody></table>
  </div>`;
}
