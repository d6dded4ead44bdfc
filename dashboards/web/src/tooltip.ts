// The hover (and keyboard focus) card: the numbers behind a marker, a rack or a room device.
import { formatAge, formatClock, html } from './dom.ts';
import { named, t } from './i18n.ts';
import type { Alert, Device, DevicePresence, Rack } from './page.ts';
import { STALE_AFTER_MS, type Readings } from './readings.ts';

const UNIT: Record<string, string> = { temperature: '°C', humidity: '%RH', power: 'W', current: 'A', voltage: 'V', airflow: 'm³/h' };

const ONE_DECIMAL = new Set(['temperature', 'humidity']);
const fmt = (metric: string, v: number): string => `${ONE_DECIMAL.has(metric) || !Number.isInteger(v) ? v.toFixed(1) : v}${UNIT[metric] ? ` ${UNIT[metric]}` : ''}`;
const row = (k: string, v: string, cls?: string): HTMLDivElement => html('div', { class: `tip-row ${cls ?? ''}` }, html('span', { class: 'tip-key', text: k }), html('span', { class: 'tip-val', text: v }));

function freshness(ts: number | undefined, now: number, presence: DevicePresence | undefined): HTMLDivElement {
  if (ts === undefined) return row(t('tip.state'), t('tip.noDataYet'), 'tip-stale');
  const age = now - ts;
  if (presence?.status === 'offline' && presence.since >= ts) {
    return row(t('tip.state'), t('tip.offline', { since: formatClock(presence.since), age: formatAge(age) }), 'tip-stale');
  }
  if (age > STALE_AFTER_MS) return row(t('tip.state'), t('tip.stale', { age: formatAge(age), clock: formatClock(ts) }), 'tip-stale');
  return row(t('tip.updated'), t('tip.ago', { age: formatAge(age) }));
}

function alertRows(alerts: readonly Alert[]): HTMLDivElement[] {
  return alerts.map((a) => row(named('sev', a.severity).toUpperCase(), a.summary, `tip-alert sev-${a.severity}`));
}

/** What the tooltip says about a device (sensor, CRAC, door...). */
export function deviceCard(device: Device, readings: Readings, alerts: readonly Alert[], now: number): HTMLDivElement[] {
  const loc = device.location ?? {};
  const metrics = readings.all(device.id);
  const temp = readings.get(device.id, 'temperature');
  const lastTs = temp ? temp.ts : readings.lastSeen(device.id);
  const rows = [html('div', { class: 'tip-title', text: device.id })];
  if (device.name && device.name !== device.id) rows.push(html('div', { class: 'tip-sub', text: device.name }));
  if (loc.rack) rows.push(row(t('tip.position'), t('tip.rackPos', { rack: loc.rack, position: loc.position ? named('pos', loc.position) : '—' })));
  else rows.push(row(t('tip.kind'), device.sensorType ? `${named('kind', device.kind)} (${named('sensorType', device.sensorType)})` : named('kind', device.kind)));
  const stale = temp ? now - temp.ts > STALE_AFTER_MS : false;
  for (const [metric, v] of metrics) rows.push(row(named('metric', metric), stale ? `${fmt(metric, v.value)} ${t('tip.old')}` : fmt(metric, v.value), stale ? 'tip-old' : ''));
  if (metrics.length === 0) rows.push(row(t('tip.values'), '—'));
  rows.push(freshness(lastTs, now, readings.presence(device.id)));
  rows.push(...alertRows(alerts));
  return rows;
}

/** What the tooltip says about a rack: its sensors in one table, its alerts. */
export function rackCard(rack: Rack, sensors: readonly Device[], readings: Readings, alerts: readonly Alert[], now: number, deviceCount: number): HTMLDivElement[] {
  const rows = [
    html('div', { class: 'tip-title', text: t('rack.title', { id: rack.id }) }),
    html('div', { class: 'tip-sub', text: `${t('tip.rackSub', { row: rack.row, facing: named('dir', rack.facing) })}${rack.cooledBy.length ? t('tip.cooledBy', { list: rack.cooledBy.join(', ') }) : ''}` }),
  ];
  for (const s of sensors) {
    const v = readings.sensor(s.id, now);
    const text = v.state === 'nodata' ? t('common.noData') : `${v.temperature!.toFixed(1)} °C${v.humidity === undefined ? '' : ` · ${v.humidity.toFixed(0)} %RH`}${v.state === 'stale' ? ` · ${t('tip.staleAge', { age: formatAge(v.age!) })}` : ''}`;
    rows.push(row(named('posShort', s.location.position), text, v.state === 'current' ? '' : 'tip-stale'));
  }
  if (deviceCount > 0) rows.push(row(t('tip.equipment'), deviceCount === 1 ? t('tip.device') : t('tip.devices', { n: deviceCount })));
  rows.push(...alertRows(alerts));
  return rows;
}

/** A floating card that follows the pointer or sits next to the focused element. */
export class Tooltip {
  #el: HTMLElement;
  #anchor: HTMLElement | null = null;

  constructor(el: HTMLElement) {
    this.#el = el;
  }

  get anchor(): HTMLElement | null {
    return this.#anchor;
  }

  show(anchor: HTMLElement, rows: readonly Node[], x?: number, y?: number): void {
    this.#anchor = anchor;
    this.#el.replaceChildren(...rows);
    this.#el.hidden = false;
    if (x !== undefined) this.move(x, y ?? 0);
  }

  /** Replaces the content for the same anchor (a new value arrived while hovering). */
  update(rows: readonly Node[]): void {
    if (this.#anchor) this.#el.replaceChildren(...rows);
  }

  move(x: number, y: number): void {
    const pad = 14;
    const r = this.#el.getBoundingClientRect();
    const left = x + pad + r.width > window.innerWidth ? x - pad - r.width : x + pad;
    const top = y + pad + r.height > window.innerHeight ? y - pad - r.height : y + pad;
    this.#el.style.left = `${Math.max(4, left)}px`;
    this.#el.style.top = `${Math.max(4, top)}px`;
  }

  hide(): void {
    this.#anchor = null;
    this.#el.hidden = true;
  }
}
