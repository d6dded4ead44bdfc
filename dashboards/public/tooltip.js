// The hover (and keyboard focus) card: the numbers behind a marker, a rack or a room device.
import { formatAge, formatClock, html } from './dom.js';
import { STALE_AFTER_MS } from './readings.js';

const UNIT = { temperature: '°C', humidity: '%RH', power: 'W', current: 'A', voltage: 'V', airflow: 'm³/h' };
const POSITION_TEXT = {
  'front-top': 'front, top (cold aisle inlet)',
  'front-middle': 'front, middle (cold aisle inlet)',
  'front-bottom': 'front, bottom (cold aisle inlet)',
  rear: 'rear (hot aisle exhaust)',
};

const ONE_DECIMAL = new Set(['temperature', 'humidity']);
const fmt = (metric, v) => `${ONE_DECIMAL.has(metric) || !Number.isInteger(v) ? v.toFixed(1) : v}${UNIT[metric] ? ` ${UNIT[metric]}` : ''}`;
const row = (k, v, cls) => html('div', { class: `tip-row ${cls ?? ''}` }, html('span', { class: 'tip-key', text: k }), html('span', { class: 'tip-val', text: v }));

function freshness(ts, now, presence) {
  if (ts === undefined) return row('state', 'no data received yet', 'tip-stale');
  const age = now - ts;
  if (presence?.status === 'offline' && presence.since >= ts) {
    return row('state', `OFFLINE since ${formatClock(presence.since)}; last value ${formatAge(age)} ago`, 'tip-stale');
  }
  if (age > STALE_AFTER_MS) return row('state', `STALE: last value ${formatAge(age)} ago (${formatClock(ts)})`, 'tip-stale');
  return row('updated', `${formatAge(age)} ago`);
}

function alertRows(alerts) {
  return alerts.map((a) => row(a.severity.toUpperCase(), a.summary, `tip-alert sev-${a.severity}`));
}

/** What the tooltip says about a device (sensor, CRAC, door...). */
export function deviceCard(device, readings, alerts, now) {
  const loc = device.location ?? {};
  const metrics = readings.all(device.id);
  const temp = readings.get(device.id, 'temperature');
  const lastTs = temp ? temp.ts : readings.lastSeen(device.id);
  const rows = [html('div', { class: 'tip-title', text: device.id })];
  if (device.name && device.name !== device.id) rows.push(html('div', { class: 'tip-sub', text: device.name }));
  if (loc.rack) rows.push(row('position', `rack ${loc.rack}, ${POSITION_TEXT[loc.position] ?? loc.position ?? '—'}`));
  else rows.push(row('kind', device.sensorType ? `${device.kind} (${device.sensorType})` : device.kind));
  const stale = temp ? now - temp.ts > STALE_AFTER_MS : false;
  for (const [metric, v] of metrics) rows.push(row(metric, stale ? `${fmt(metric, v.value)} (old)` : fmt(metric, v.value), stale ? 'tip-old' : ''));
  if (metrics.length === 0) rows.push(row('values', '—'));
  rows.push(freshness(lastTs, now, readings.presence(device.id)));
  rows.push(...alertRows(alerts));
  return rows;
}

/** What the tooltip says about a rack: its sensors in one table, its alerts. */
export function rackCard(rack, sensors, readings, alerts, now, deviceCount) {
  const rows = [
    html('div', { class: 'tip-title', text: `Rack ${rack.id}` }),
    html('div', { class: 'tip-sub', text: `row ${rack.row} · front faces ${rack.facing}${rack.cooledBy.length ? ` · cooled by ${rack.cooledBy.join(', ')}` : ''}` }),
  ];
  for (const s of sensors) {
    const v = readings.sensor(s.id, now);
    const text = v.state === 'nodata' ? 'no data' : `${v.temperature.toFixed(1)} °C${v.humidity === undefined ? '' : ` · ${v.humidity.toFixed(0)} %RH`}${v.state === 'stale' ? ` · STALE ${formatAge(v.age)}` : ''}`;
    rows.push(row(s.location.position, text, v.state === 'current' ? '' : 'tip-stale'));
  }
  if (deviceCount > 0) rows.push(row('equipment', `${deviceCount} device${deviceCount === 1 ? '' : 's'}`));
  rows.push(...alertRows(alerts));
  return rows;
}

/** A floating card that follows the pointer or sits next to the focused element. */
export class Tooltip {
  #el;
  #anchor = null;

  constructor(el) {
    this.#el = el;
  }

  get anchor() {
    return this.#anchor;
  }

  show(anchor, rows, x, y) {
    this.#anchor = anchor;
    this.#el.replaceChildren(...rows);
    this.#el.hidden = false;
    if (x !== undefined) this.move(x, y);
  }

  /** Replaces the content for the same anchor (a new value arrived while hovering). */
  update(rows) {
    if (this.#anchor) this.#el.replaceChildren(...rows);
  }

  move(x, y) {
    const pad = 14;
    const r = this.#el.getBoundingClientRect();
    const left = x + pad + r.width > window.innerWidth ? x - pad - r.width : x + pad;
    const top = y + pad + r.height > window.innerHeight ? y - pad - r.height : y + pad;
    this.#el.style.left = `${Math.max(4, left)}px`;
    this.#el.style.top = `${Math.max(4, top)}px`;
  }

  hide() {
    this.#anchor = null;
    this.#el.hidden = true;
  }
}
