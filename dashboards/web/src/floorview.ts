// The floor view: room tabs, the plan painted from the readings and alerts, the alert list, the
// hover card and the legend. It reads the page state and never fetches; main.ts feeds it.
import { RH_MAX, RH_MIN, TEMP_MAX, TEMP_MIN, layerGradient } from './colors.ts';
import { t } from './i18n.ts';
import { formatAge, html } from './dom.ts';
import { FloorPlan } from './floorplan.ts';
import { STALE_AFTER_MS } from './readings.ts';
import { Tooltip, deviceCard, rackCard } from './tooltip.ts';
import type { Page } from './page.ts';
import type { HeatPoint } from './heatmap.ts';

// The page's fixed elements (index.html): there whenever this runs.
const $ = <E extends HTMLElement = HTMLElement>(id: string): E => document.getElementById(id) as E;

/** What main.ts drives the floor view with (createFloorView). */
export type FloorView = ReturnType<typeof createFloorView>;

/** Wires the floor view to the page `state`; `serverNow()` is the server's clock as the page best knows it. */
export function createFloorView(state: Page, serverNow: () => number, { onRackOpen }: { onRackOpen?: (rackId: string) => void } = {}) {
  const plan = new FloorPlan($('plan'));
  const tooltip = new Tooltip($('tooltip'));
  let heatLayer = 'temperature';
  let heatDue = 0;
  let heatTimer: ReturnType<typeof setTimeout> | null = null;
  let heatDirty = true;

  // ---- rooms ----

  function roomFromHash(): string | undefined {
    const id = new window.URLSearchParams(location.hash.slice(1)).get('room');
    return id !== null && state.rooms.some((r) => r.id === id) ? id : undefined;
  }

  window.addEventListener('hashchange', () => {
    const id = roomFromHash();
    if (state.user && id && id !== state.roomId) selectRoom(id);
  });

  function renderTabs() {
    const tabs = $('room-tabs');
    tabs.replaceChildren(
      ...state.rooms.map((r) =>
        html(
          'button',
          { type: 'button', role: 'tab', id: `tab-${r.id}`, 'data-room': r.id, 'aria-controls': 'plan', onclick: () => selectRoom(r.id) },
          html('span', { class: 'tab-name', text: r.name }),
          html('span', { class: 'tab-badge', hidden: true }),
        ),
      ),
    );
  }

  $('room-tabs').addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
    const i = state.rooms.findIndex((r) => r.id === state.roomId);
    const next = state.rooms[(i + (ev.key === 'ArrowRight' ? 1 : -1) + state.rooms.length) % state.rooms.length];
    if (next) {
      selectRoom(next.id);
      $(`tab-${next.id}`)?.focus();
    }
  });

  function selectRoom(id: string | null): void {
    tooltip.hide();
    state.roomId = id;
    const room = state.rooms.find((r) => r.id === id);
    for (const tab of $('room-tabs').querySelectorAll<HTMLElement>('[role=tab]')) {
      const selected = tab.dataset.room === id;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    if (!room) {
      $('room-title').textContent = t('room.none');
      $('room-summary').textContent = t('room.noneHelp');
      $('plan').replaceChildren();
      return;
    }
    if (location.hash !== `#room=${encodeURIComponent(room.id)}`) window.history.replaceState(null, '', `#room=${encodeURIComponent(room.id)}`);
    $('room-title').textContent = `${room.name}`;
    plan.show(room, [...state.racksById.values()], [...state.devicesById.values()]);
    heatDirty = true;
    paintAll({ alerts: true });
  }

  // ---- painting ----

  function deviceState(id: string, now: number): string {
    const last = state.readings.lastSeen(id);
    const presence = state.readings.presence(id);
    if (presence?.status === 'offline' && (last === undefined || presence.since >= last)) return 'offline';
    if (last === undefined) return presence?.status === 'online' ? 'current' : 'nodata';
    return now - last > STALE_AFTER_MS ? 'stale' : 'current';
  }

  function paintDevice(id: string, now = serverNow()): void {
    if (plan.paintSensor(id, state.readings.sensor(id, now))) heatDirty = true;
    plan.paintDevice(id, deviceState(id, now));
  }

  /**
   * Repaints every marker from the readings (after a room change, a resync, and each second for
   * staleness); only markers whose look changed are written. `{ alerts: true }` redoes the alert marks too.
   */
  function paintAll({ alerts = false }: { alerts?: boolean } = {}): void {
    if (!state.roomId) return;
    const now = serverNow();
    for (const id of plan.sensorIds) if (plan.paintSensor(id, state.readings.sensor(id, now))) heatDirty = true;
    for (const id of plan.deviceIds) plan.paintDevice(id, deviceState(id, now));
    if (alerts) markAlerts();
    summarizeRoom(now);
    refreshTooltip();
    scheduleHeat(alerts);
  }

  /** The heat map and the racks' numbers: redrawn only when a marker changed, at most every HEAT_EVERY_MS. */
  const HEAT_EVERY_MS = 2000;
  function scheduleHeat(now: boolean): void {
    if (heatTimer !== null || !heatDirty) return;
    const wait = now ? 0 : Math.max(0, heatDue - performance.now());
    heatTimer = setTimeout(() => {
      heatTimer = null;
      heatDue = performance.now() + HEAT_EVERY_MS;
      paintHeat();
    }, wait);
  }

  function paintHeat() {
    heatDirty = false;
    if (!state.roomId) return;
    const now = serverNow();
    const points: HeatPoint[] = [];
    const hottest = new Map<string, number>();
    for (const [id, p] of plan.positions) {
      const v = state.readings.sensor(id, now);
      if (v.state !== 'current') continue;
      const value = heatLayer === 'humidity' ? v.humidity : v.temperature;
      if (typeof value === 'number') points.push({ x: p.x, y: p.y, value });
      if (p.rack && p.position !== 'rear' && (hottest.get(p.rack) ?? -Infinity) < v.temperature!) hottest.set(p.rack, v.temperature!);
    }
    plan.paintHeat(points, heatLayer);
    for (const rack of state.racksById.values()) if (rack.room === state.roomId) plan.paintRackReading(rack.id, hottest.get(rack.id));
  }

  function setHeatLayer(layer: string): void {
    heatLayer = layer;
    heatDirty = true;
    drawLegend();
    paintHeat();
  }

  /** After a batch of `changed` devices was painted: the heat map when due, the summary, and the hover card if it shows one of them. */
  function afterChange(changed: Set<string>): void {
    scheduleHeat(false);
    summarizeRoom(serverNow());
    const a = tooltip.anchor;
    if (a && (changed.has(a.dataset.device!) || (a.dataset.rack && (state.rackSensors.get(a.dataset.rack) ?? []).some((d) => changed.has(d.id))))) refreshTooltip();
  }

  function markAlerts() {
    plan.markAlerts(state.alerts.worstBy('rack'), state.alerts.worstBy('device'));
    const byRoom = state.alerts.worstBy('room');
    const counts = new Map<string, number>();
    for (const a of state.alerts.firing()) if (a.labels?.room) counts.set(a.labels.room, (counts.get(a.labels.room) ?? 0) + 1);
    for (const tab of $('room-tabs').querySelectorAll<HTMLElement>('[role=tab]')) {
      const badge = tab.querySelector<HTMLElement>('.tab-badge')!;
      const n = counts.get(tab.dataset.room!) ?? 0;
      badge.hidden = n === 0;
      badge.textContent = n ? t('room.firing', { n }) : '';
      badge.dataset.severity = byRoom.get(tab.dataset.room!) ?? 'none';
    }
  }

  function summarizeRoom(now: number): void {
    const room = state.rooms.find((r) => r.id === state.roomId);
    if (!room) return;
    let current = 0;
    let stale = 0;
    let nodata = 0;
    let hottestInlet: { t: number; id: string } | undefined;
    let hottestExhaust: { t: number; id: string } | undefined;
    for (const id of plan.sensorIds) {
      const v = state.readings.sensor(id, now);
      if (v.state === 'current') current++;
      else if (v.state === 'stale') stale++;
      else nodata++;
      if (v.state !== 'current') continue;
      const pos = state.devicesById.get(id)?.location?.position;
      const temperature = v.temperature!;
      if (pos === 'rear') {
        if (!hottestExhaust || temperature > hottestExhaust.t) hottestExhaust = { t: temperature, id };
      } else if (!hottestInlet || temperature > hottestInlet.t) hottestInlet = { t: temperature, id };
    }
    const racks = [...state.racksById.values()].filter((r) => r.room === room.id).length;
    const parts = [t('summary.size', { w: room.width, d: room.depth }), t('summary.racks', { n: racks }), t('summary.sensors', { n: plan.sensorIds.length, c: current })];
    if (stale) parts.push(t('summary.stale', { n: stale }));
    if (nodata) parts.push(t('summary.nodata', { n: nodata }));
    if (hottestInlet) parts.push(t('summary.hotInlet', { t: hottestInlet.t.toFixed(1), id: hottestInlet.id }));
    if (hottestExhaust) parts.push(t('summary.hotExhaust', { t: hottestExhaust.t.toFixed(1), id: hottestExhaust.id }));
    const el = $('room-summary');
    const text = parts.join(' · ');
    if (el.textContent !== text) el.textContent = el.title = text;
    el.dataset.stale = String(stale);
  }

  /** Brings a rack or device into view (from an alert): its room, then a flash. */
  function locate(room: string, id: string): void {
    if (room !== state.roomId && state.rooms.some((r) => r.id === room)) selectRoom(room);
    plan.flash(id);
  }

  // ---- tooltip ----

  function cardFor(el: HTMLElement): HTMLDivElement[] | undefined {
    const now = serverNow();
    const firing = state.alerts.firing();
    if (el.classList.contains('rack')) {
      const rack = state.racksById.get(el.dataset.rack!);
      if (!rack) return undefined;
      const alerts = firing.filter((a) => a.labels?.rack === rack.id);
      return rackCard(rack, state.rackSensors.get(rack.id) ?? [], state.readings, alerts, now, state.rackEquipment.get(rack.id) ?? 0);
    }
    const device = state.devicesById.get(el.dataset.device!);
    if (!device) return undefined;
    return deviceCard(device, state.readings, firing.filter((a) => a.labels?.device === device.id), now);
  }

  const hoverTarget = (node: EventTarget | null): HTMLElement | null | undefined => (node as Element | null)?.closest?.<HTMLElement>('[data-device], .rack');

  function refreshTooltip(): void {
    const a = tooltip.anchor;
    if (!a) return;
    if (!a.isConnected) return tooltip.hide();
    const rows = cardFor(a);
    if (rows) tooltip.update(rows);
  }

  $('plan').addEventListener('pointermove', (ev) => {
    const target = hoverTarget(ev.target);
    if (!target) return tooltip.hide();
    if (target !== tooltip.anchor) {
      const rows = cardFor(target);
      if (rows) tooltip.show(target, rows, ev.clientX, ev.clientY);
    } else tooltip.move(ev.clientX, ev.clientY);
  });
  $('plan').addEventListener('pointerleave', () => tooltip.hide());
  // A click or Enter on a rack opens its elevation and the reasons it is red.
  $('plan').addEventListener('click', (ev) => {
    const rack = (ev.target as Element | null)?.closest?.<HTMLElement>('.rack');
    if (rack && onRackOpen) onRackOpen(rack.dataset.rack!);
  });
  $('plan').addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    const rack = (ev.target as Element | null)?.closest?.<HTMLElement>('.rack');
    if (!rack || !onRackOpen) return;
    ev.preventDefault();
    onRackOpen(rack.dataset.rack!);
  });
  $('plan').addEventListener('focusin', (ev) => {
    const target = hoverTarget(ev.target);
    const rows = target && cardFor(target);
    if (!rows) return;
    const r = target!.getBoundingClientRect();
    tooltip.show(target!, rows, r.right, r.top);
  });
  $('plan').addEventListener('focusout', () => tooltip.hide());
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') tooltip.hide();
  });

  // ---- legend ----

  function drawLegend(): void {
    const humidity = heatLayer === 'humidity';
    $('legend-bar').style.backgroundImage = layerGradient(heatLayer);
    $('legend-title').textContent = t(humidity ? 'legend.humidity' : 'legend.temperature');
    const [lo, hi, step] = humidity ? [RH_MIN, RH_MAX, 10] : [TEMP_MIN, TEMP_MAX, 5];
    const ticks: HTMLSpanElement[] = [];
    for (let v = lo; v <= hi; v += step) ticks.push(html('span', { style: `left: ${((v - lo) / (hi - lo)) * 100}%`, text: `${v}` }));
    $('legend-ticks').replaceChildren(...ticks);
    $('legend-stale-text').textContent = t('legend.staleNote', { age: formatAge(STALE_AFTER_MS) });
  }

  return {
    renderTabs,
    selectRoom,
    roomFromHash,
    paintDevice,
    paintAll,
    afterChange,
    markAlerts,
    locate,
    setHeatLayer,
    summarize: () => summarizeRoom(serverNow()),
    refreshTooltip,
    hideTooltip: () => tooltip.hide(),
    drawLegend,
  };
}
