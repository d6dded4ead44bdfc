// Power and cooling: UPSes (mains or battery, runtime, load), PDUs per feed, the CRACs with setpoint
// and fan control for the roles that may send device commands, then every PDU per phase.
import { useState } from 'preact/hooks';
import { ApiError, http } from './api.ts';
import { Status, num } from './status.ts';
import { t } from './i18n.ts';
import { html, useStore } from './ui.ts';
import type { Device, ViewProps } from './page.ts';
import type { Readings } from './readings.ts';

/** One phase of a PDU as the SNMP phase table gives it. */
export interface PduPhase {
  phase: string;
  amps?: number;
  volts?: number;
  kw?: number;
}

/** The sample's rack PDUs are 32 A per phase (IEC 60309); a PDU may say otherwise with labels.ratedA. */
const DEFAULT_RATED_A = 32;
/** Above this share of its rating a phase is near overload (APC's default near-overload threshold is 80 %). */
const NEAR_OVERLOAD = 0.8;

/** A PDU's phases from the SNMP phase table: [{phase, amps, volts, kw}], ordered L1, L2, L3. */
export function pduPhases(readings: Readings, id: string): PduPhase[] {
  const byPhase = new Map<string, PduPhase>();
  for (const [metric, v] of readings.all(id)) {
    const m = /^pdu_phase_(current_a|voltage_v|power_kw)\.(.+)$/.exec(metric);
    if (!m) continue;
    const row = byPhase.get(m[2]!) ?? { phase: m[2]! };
    row[({ current_a: 'amps', voltage_v: 'volts', power_kw: 'kw' } as const)[m[1] as 'current_a' | 'voltage_v' | 'power_kw']] = v.value;
    byPhase.set(m[2]!, row);
  }
  return [...byPhase.values()].sort((a, b) => a.phase.localeCompare(b.phase, undefined, { numeric: true }));
}

const phaseName = (phase: string): string => `L${phase.replace(/^phase/, '')}`;

function PhaseCell({ p, rated }: { p: PduPhase; rated: number }) {
  if (p.amps === undefined) return html`<span>${phaseName(p.phase)} —</span>`;
  const share = p.amps / rated;
  const level = share >= 1 ? 'critical' : share >= NEAR_OVERLOAD ? 'major' : 'ok';
  return html`<span class="phase phase-${level}" data-phase=${p.phase} data-amps=${String(p.amps)}>
    <b>${phaseName(p.phase)}</b> ${p.amps.toFixed(1)} A / ${rated} A${p.volts === undefined ? '' : ` · ${p.volts.toFixed(0)} V`}${p.kw === undefined ? '' : ` · ${p.kw.toFixed(2)} kW`}
    ${level !== 'ok' && html` <b class=${`sev-text sev-${level}`}>${t(level === 'critical' ? 'power.overload' : 'power.nearOverload')}</b>`}
  </span>`;
}

function CracControl({ crac }: { crac: Device }) {
  const [setpoint, setSetpoint] = useState('');
  const [fan, setFan] = useState('');
  const [pending, setPending] = useState<{ command: string; value: number } | null>(null);
  const [result, setResult] = useState('');
  const send = async () => {
    const { command, value } = pending!;
    setPending(null);
    const body = command === 'set_setpoint' ? { command, setpointC: value } : { command, percent: value, ...(value < 20 ? { confirm: crac.id } : {}) };
    try {
      const r = await http.post<{ status?: string } | undefined>(`/devices/${encodeURIComponent(crac.id)}/commands`, body);
      setResult(t('power.sent', { command, device: crac.id, status: r?.status ?? 'ok' }));
    } catch (err) {
      setResult(`${command}: ${err instanceof ApiError ? err.message : String(err)}`);
    }
  };
  const ask = (command: string, raw: string) => {
    const value = Number(raw);
    if (raw === '' || !Number.isFinite(value)) return;
    setPending({ command, value });
  };
  return html`<div class="crac-control" data-device=${crac.id}>
    <label>${t('power.setpoint')} <input class="in-setpoint" type="number" min="14" max="27" step="0.5" value=${setpoint} onInput=${(e: InputEvent) => setSetpoint((e.currentTarget as HTMLInputElement).value)} /></label>
    <button type="button" class="apply-setpoint" onClick=${() => ask('set_setpoint', setpoint)}>${t('power.apply')}</button>
    <label>${t('power.fan')} <input class="in-fan" type="number" min="0" max="100" step="5" value=${fan} onInput=${(e: InputEvent) => setFan((e.currentTarget as HTMLInputElement).value)} /></label>
    <button type="button" class="apply-fan" onClick=${() => ask('set_fan_speed', fan)}>${t('power.apply')}</button>
    ${pending && html`<div class="confirm" role="alertdialog" aria-label=${t('power.confirm', { command: pending.command, value: pending.value, device: crac.id })}>
      <span>${t('power.confirm', { command: pending.command, value: pending.value, device: crac.id })}</span>
      <button type="button" class="confirm-yes" onClick=${send}>${t('common.yes')}</button>
      <button type="button" class="confirm-no" onClick=${() => setPending(null)}>${t('common.cancel')}</button>
    </div>`}
    ${result && html`<p class="command-result" role="status">${result}</p>`}
  </div>`;
}

export function PowerView({ page }: ViewProps) {
  useStore(page.store, 'readings', 'alerts', 'lang');
  const devices = [...page.devicesById.values()];
  const ups = devices.filter((d) => d.kind === 'ups');
  const pdus = devices.filter((d) => d.kind === 'pdu');
  const cracs = devices.filter((d) => d.kind === 'crac');
  const feeds = new Map<string, { n: number; kw: number }>();
  for (const p of pdus) {
    const feed = p.labels?.feed ?? '?';
    const kw = page.readings.get(p.id, 'power_kw')?.value ?? page.readings.get(p.id, 'pdu_power_kw')?.value ?? 0;
    const f = feeds.get(feed) ?? { n: 0, kw: 0 };
    feeds.set(feed, { n: f.n + 1, kw: f.kw + kw });
  }
  // The most loaded phase first: the PDU a technician must look at before it trips is at the top.
  const rated = (p: Device): number => Number(p.labels?.ratedA) || DEFAULT_RATED_A;
  const phaseRows = pdus
    .map((p) => {
      const phases = pduPhases(page.readings, p.id);
      return { p, phases, worst: Math.max(-1, ...phases.map((x) => (x.amps ?? 0) / rated(p))) };
    })
    .sort((a, b) => b.worst - a.worst || a.p.id.localeCompare(b.p.id));
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
    <table class="data-table" id="pdu-feeds"><thead><tr><th>${t('power.feed')}</th><th>PDU</th><th>kW</th></tr></thead>
      <tbody>${[...feeds].map(([feed, f]) => html`<tr data-feed=${feed}><td>${feed}</td><td>${f.n}</td><td>${f.kw.toFixed(1)}</td></tr>`)}</tbody></table>
    <h2>${t('power.cracs')}</h2>
    <table class="data-table" id="crac-table"><thead><tr><th>${t('common.device')}</th><th>${t('common.status')}</th><th>${t('power.supply')}</th><th>${t('power.return')}</th><th>${t('power.fan')}</th><th>${t('power.setpoint')}</th>${control && html`<th></th>`}</tr></thead>
      <tbody>${cracs.map((c) => html`<tr data-device=${c.id}><td>${c.id}</td><td><${Status} page=${page} id=${c.id} /></td>
        <td>${num(page, c.id, 'supply_temp')}</td><td>${num(page, c.id, 'return_temp')}</td><td>${num(page, c.id, 'fan_speed_pct')}</td><td class="setpoint">${num(page, c.id, 'setpoint')}</td>
        ${control && html`<td><${CracControl} crac=${c} /></td>`}</tr>`)}</tbody></table>
    <h2>${t('power.pduPhases')}</h2>
    <p class="muted">${t('power.phaseNote', { pct: NEAR_OVERLOAD * 100 })}</p>
    <table class="data-table" id="pdu-phases"><thead><tr><th>PDU</th><th>${t('power.rack')}</th><th>${t('power.feed')}</th><th>${t('common.status')}</th><th>${t('power.phase')}</th></tr></thead>
      <tbody>${phaseRows.map(({ p, phases }) => html`<tr data-device=${p.id} data-phases=${String(phases.length)}>
        <td>${p.id}</td><td>${p.location?.rack ?? '—'}</td><td>${p.labels?.feed ?? '—'}</td><td><${Status} page=${page} id=${p.id} /></td>
        <td class="phases">${phases.length === 0 ? t('power.noPhases') : phases.map((x) => html`<${PhaseCell} p=${x} rated=${rated(p)} />`)}</td></tr>`)}</tbody></table>
  </div>`;
}
