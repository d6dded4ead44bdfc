// The views beside the floor plan: power and cooling, cloud, the SOC queue (network.js and
// dashboards.js hold the other two). Each reads the page state; controls appear only for roles that may use them.
import { useState } from 'preact/hooks';
import { ApiError, http } from './api.js';
import { act, mayActOn } from './alertpane.js';
import { formatAge, formatClock } from './dom.js';
import { t } from './i18n.js';
import { html, useStore } from './ui.js';

const num = (page, id, metric, digits = 1) => {
  const v = page.readings.get(id, metric);
  return v ? v.value.toFixed(digits) : '—';
};

/** current / stale / offline / nodata, from the newest value and presence, as the plan judges it. */
function liveness(page, id) {
  const last = page.readings.lastSeen(id);
  const p = page.readings.presence(id);
  if (p?.status === 'offline' && (last === undefined || p.since >= last)) return 'offline';
  if (last === undefined) return p?.status === 'online' ? 'current' : 'nodata';
  return page.now() - last > 30_000 ? 'stale' : 'current';
}
const STATUS_TEXT = { current: 'OK', stale: 'common.stale', offline: 'common.offline', nodata: 'common.noData' };
const Status = ({ page, id }) => {
  const s = liveness(page, id);
  const worst = page.alerts.worstBy('device').get(id);
  return html`<span class="status status-${s}" data-status=${s}>${s === 'current' ? 'OK' : t(STATUS_TEXT[s])}${worst ? html` · <b class="sev-text sev-${worst}">${worst.toUpperCase()}</b>` : ''}</span>`;
};

function CracControl({ crac }) {
  const [setpoint, setSetpoint] = useState('');
  const [fan, setFan] = useState('');
  const [pending, setPending] = useState(null);
  const [result, setResult] = useState('');
  const send = async () => {
    const { command, value } = pending;
    setPending(null);
    const body = command === 'set_setpoint' ? { command, setpointC: value } : { command, percent: value, ...(value < 20 ? { confirm: crac.id } : {}) };
    try {
      const r = await http.post(`/devices/${encodeURIComponent(crac.id)}/commands`, body);
      setResult(t('power.sent', { command, device: crac.id, status: r?.status ?? 'ok' }));
    } catch (err) {
      setResult(`${command}: ${err instanceof ApiError ? err.message : String(err)}`);
    }
  };
  const ask = (command, raw) => {
    const value = Number(raw);
    if (raw === '' || !Number.isFinite(value)) return;
    setPending({ command, value });
  };
  return html`<div class="crac-control" data-device=${crac.id}>
    <label>${t('power.setpoint')} <input class="in-setpoint" type="number" min="14" max="27" step="0.5" value=${setpoint} onInput=${(e) => setSetpoint(e.currentTarget.value)} /></label>
    <button type="button" class="apply-setpoint" onClick=${() => ask('set_setpoint', setpoint)}>${t('power.apply')}</button>
    <label>${t('power.fan')} <input class="in-fan" type="number" min="0" max="100" step="5" value=${fan} onInput=${(e) => setFan(e.currentTarget.value)} /></label>
    <button type="button" class="apply-fan" onClick=${() => ask('set_fan_speed', fan)}>${t('power.apply')}</button>
    ${pending && html`<div class="confirm" role="alertdialog" aria-label=${t('power.confirm', { command: pending.command, value: pending.value, device: crac.id })}>
      <span>${t('power.confirm', { command: pending.command, value: pending.value, device: crac.id })}</span>
      <button type="button" class="confirm-yes" onClick=${send}>${t('common.yes')}</button>
      <button type="button" class="confirm-no" onClick=${() => setPending(null)}>${t('common.cancel')}</button>
    </div>`}
    ${result && html`<p class="command-result" role="status">${result}</p>`}
  </div>`;
}

export function PowerView({ page }) {
  useStore(page.store, 'readings', 'alerts', 'lang');
  const devices = [...page.devicesById.values()];
  const ups = devices.filter((d) => d.kind === 'ups');
  const pdus = devices.filter((d) => d.kind === 'pdu');
  const cracs = devices.filter((d) => d.kind === 'crac');
  const feeds = new Map();
  for (const p of pdus) {
    const feed = p.labels?.feed ?? '?';
    const kw = page.readings.get(p.id, 'power_kw')?.value ?? 0;
    const f = feeds.get(feed) ?? { n: 0, kw: 0 };
    feeds.set(feed, { n: f.n + 1, kw: f.kw + kw });
  }
  // The command API (POST /devices/{id}/commands) takes admin and noc; the server checks again.
  const control = page.user?.role === 'noc' || page.user?.role === 'admin'; // no user while a session has just ended
  return html`<div class="view-body">
    <h2>${t('power.ups')}</h2>
    <div class="cards">${ups.map((u) => {
      const onBattery = page.readings.get(u.id, 'on_battery')?.value === 1;
      return html`<article class="card ups-card" data-device=${u.id} data-on-battery=${String(onBattery)}>
        <h3>${u.name ?? u.id}</h3><${Status} page=${page} id=${u.id} />
        <p class=${onBattery ? 'sev-text sev-critical' : ''}>${onBattery ? t('power.battery') : t('power.mains')}</p>
        <dl><dt>${t('power.load')}</dt><dd>${num(page, u.id, 'load_pct')} %</dd>
        <dt>${t('power.runtime')}</dt><dd>${num(page, u.id, 'runtime_min', 0)} min</dd>
        <dt>${t('power.charge')}</dt><dd>${num(page, u.id, 'battery_charge_pct')} %</dd></dl>
      </article>`;
    })}</div>
    <h2>${t('power.pdus')}</h2>
    <p class="muted">${t('power.phases')}</p>
    <table class="data-table" id="pdu-feeds"><thead><tr><th>feed</th><th>PDUs</th><th>kW</th></tr></thead>
      <tbody>${[...feeds].map(([feed, f]) => html`<tr data-feed=${feed}><td>${feed}</td><td>${f.n}</td><td>${f.kw.toFixed(1)}</td></tr>`)}</tbody></table>
    <h2>${t('power.cracs')}</h2>
    <table class="data-table" id="crac-table"><thead><tr><th>${t('common.device')}</th><th>${t('common.status')}</th><th>supply °C</th><th>return °C</th><th>${t('power.fan')}</th><th>${t('power.setpoint')}</th>${control && html`<th></th>`}</tr></thead>
      <tbody>${cracs.map((c) => html`<tr data-device=${c.id}><td>${c.id}</td><td><${Status} page=${page} id=${c.id} /></td>
        <td>${num(page, c.id, 'supply_temp')}</td><td>${num(page, c.id, 'return_temp')}</td><td>${num(page, c.id, 'fan_speed_pct')}</td><td class="setpoint">${num(page, c.id, 'setpoint')}</td>
        ${control && html`<td><${CracControl} crac=${c} /></td>`}</tr>`)}</tbody></table>
  </div>`;
}

export function CloudView({ page }) {
  useStore(page.store, 'readings', 'alerts', 'lang');
  const items = [...page.devicesById.values()].filter((d) => d.kind === 'host' || d.kind === 'vm' || d.kind === 'storage');
  return html`<div class="view-body">
    <h2>${t('cloud.hosts')}</h2>
    <table class="data-table" id="cloud-table"><thead><tr><th>${t('common.device')}</th><th>kind</th><th>on</th><th>${t('common.status')}</th><th>${t('common.value')}</th></tr></thead>
      <tbody>${items.map((d) => html`<tr data-device=${d.id}><td>${d.name ?? d.id}</td><td>${d.kind}</td><td>${d.parents.join(', ')}</td>
        <td><${Status} page=${page} id=${d.id} /></td>
        <td>${page.readings.all(d.id).slice(0, 4).map(([m, v]) => `${m} ${Number.isInteger(v.value) ? v.value : v.value.toFixed(1)}`).join(' · ') || '—'}</td></tr>`)}</tbody></table>
  </div>`;
}

const DISPOSITIONS = ['true_positive', 'false_positive', 'benign', 'duplicate'];

function History({ id }) {
  const [rows, setRows] = useState(null);
  if (rows === null) {
    http.get(`/alerts/${encodeURIComponent(id)}/history`).then((r) => setRows(Array.isArray(r) ? r : []), () => setRows([]));
    return html`<p class="muted">…</p>`;
  }
  return html`<ol class="history">${rows.map((h) => html`<li>${formatClock(h.at ?? h.ts ?? 0)} ${h.actor?.username ?? h.by ?? ''} ${h.action ?? h.type ?? ''} ${h.text ?? ''}</li>`)}</ol>`;
}

export function SocView({ page }) {
  useStore(page.store, 'alerts', 'lang');
  const [open, setOpen] = useState(null);
  const [disp, setDisp] = useState({});
  const queue = page.alerts.sorted().filter((a) => a.kind === 'security');
  const can = !!page.user && mayActOn(page.user.role, 'security') && !page.unsupported.has('triage');
  return html`<div class="view-body">
    <h2>${t('soc.title')}</h2>
    ${queue.length === 0 && html`<p class="muted">${t('soc.empty')}</p>`}
    ${page.unsupported.has('triage') && html`<p class="muted">${t('soc.noTriage')}</p>`}
    <table class="data-table" id="soc-table"><thead><tr><th></th><th>alert</th><th>where</th><th>since</th><th>triage</th><th>disposition</th><th></th></tr></thead>
      <tbody>${queue.map((a) => html`<tr data-alert-id=${a.id} data-triage=${a.triage ?? 'new'} data-disposition=${a.disposition ?? ''}>
        <td><span class="sev-text sev-${a.severity}">${a.severity.toUpperCase()}</span></td>
        <td>${a.name}<br /><small>${a.summary}</small>${a.related?.length ? html`<br /><small>related: ${a.related.join(', ')}</small>` : ''}</td>
        <td>${Object.entries(a.labels ?? {}).filter(([k]) => ['device', 'source', 'ip', 'username', 'room'].includes(k)).map(([k, v]) => `${k}=${v}`).join(' ')}</td>
        <td>${formatClock(a.startsAt)} (${formatAge(page.now() - a.startsAt)})</td>
        <td class="triage-status">${a.triage ?? 'new'}</td><td>${a.disposition ?? '—'}</td>
        <td>${can && html`<span class="triage-actions">
          ${(a.triage ?? 'new') === 'new' && html`<button type="button" class="triage-start" onClick=${() => act(page, a, 'triage', { status: 'in_progress' })}>${t('action.triage')}</button>`}
          <label class="sr-only" for=${`disp-${a.id}`}>disposition</label>
          <select id=${`disp-${a.id}`} class="triage-disposition" value=${disp[a.id] ?? ''} onChange=${(e) => setDisp({ ...disp, [a.id]: e.currentTarget.value })}>
            <option value="">disposition…</option>${DISPOSITIONS.map((d) => html`<option value=${d}>${d}</option>`)}</select>
          <button type="button" class="triage-close" disabled=${!disp[a.id]} onClick=${() => act(page, a, 'triage', { status: 'closed', disposition: disp[a.id] })}>close</button>
        </span>`}
        <button type="button" class="show-history" onClick=${() => setOpen(open === a.id ? null : a.id)}>${t('action.history')}</button>
        ${open === a.id && html`<${History} id=${a.id} />`}</td></tr>`)}</tbody></table>
  </div>`;
}
