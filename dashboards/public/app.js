// The floor plan page: log in, load the estate, draw the chosen room, keep it live over socket.io,
// and say so plainly when something is not current (stale sensor, lost connection, failed fetch).
import { api, ApiError } from './api.js';
import { AlertBoard, refreshAlertTimes, renderAlerts } from './alerts.js';
import { TEMP_MAX, TEMP_MIN, legendGradient } from './colors.js';
import { formatAge, html } from './dom.js';
import { FloorPlan } from './floorplan.js';
import { Readings, STALE_AFTER_MS } from './readings.js';
import { Tooltip, deviceCard, rackCard } from './tooltip.js';

const $ = (id) => document.getElementById(id);

const state = {
  user: null,
  rooms: [],
  roomNames: new Map(),
  racksById: new Map(),
  devicesById: new Map(),
  /** rack id -> its temperature sensors, and how many other devices it holds */
  rackSensors: new Map(),
  rackEquipment: new Map(),
  roomId: null,
  clockOffsetMs: 0,
  readings: new Readings(),
  alerts: new AlertBoard(),
  socket: null,
  ticker: null,
  resyncing: null,
};

const serverNow = () => Date.now() + state.clockOffsetMs;
const plan = new FloorPlan($('plan'));
const tooltip = new Tooltip($('tooltip'));

// ---- views and messages ----

function showView(name) {
  for (const v of ['boot', 'login-view', 'app-view']) $(v).hidden = v !== name;
}

function showBanner(message, retry) {
  $('banner-text').textContent = message;
  $('banner-retry').hidden = !retry;
  $('banner-retry').onclick = retry ?? null;
  $('banner').hidden = false;
}

function clearBanner() {
  $('banner').hidden = true;
}

function setLive(status, detail) {
  const el = $('live');
  el.dataset.state = status;
  el.textContent = { live: 'LIVE', connecting: 'CONNECTING…', offline: 'DISCONNECTED' }[status];
  el.title = detail ?? '';
  document.body.dataset.live = status;
}

function showLogin(message) {
  stopLive();
  state.user = null;
  showView('login-view');
  const msg = $('login-message');
  msg.textContent = message ?? '';
  msg.hidden = !message;
  $('password').value = '';
  $('username').focus();
}

const explain = (err) => (err instanceof ApiError ? err.message : String(err && err.message ? err.message : err));

// ---- login ----

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const button = $('login-submit');
  const username = $('username').value.trim();
  const password = $('password').value;
  $('password').value = '';
  button.disabled = true;
  $('login-message').hidden = true;
  try {
    await api.login(username, password);
    await enter();
  } catch (err) {
    $('login-message').textContent =
      err instanceof ApiError && err.status === 401 ? 'Wrong username or password.' : `Could not log in: ${explain(err)}`;
    $('login-message').hidden = false;
    $('password').focus();
  } finally {
    button.disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  stopLive();
  try {
    await api.logout();
    showLogin('You are logged out.');
  } catch (err) {
    showLogin(`Logged out here; the server did not confirm (${explain(err)}).`);
  }
});

// ---- loading ----

async function boot() {
  try {
    await enter();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showLogin();
    showView('boot');
    $('boot-text').textContent = `Watchfloor cannot start: ${explain(err)}.`;
    $('boot-retry').hidden = false;
  }
}

$('boot-retry').addEventListener('click', () => {
  $('boot-retry').hidden = true;
  $('boot-text').textContent = 'Loading Watchfloor…';
  boot();
});

/** After a login (or with a live session): who am I, the estate, then live data. */
async function enter() {
  const me = await api.me();
  state.user = me.user;
  state.clockOffsetMs = me.clockOffsetMs;
  const inventory = await api.inventory();
  indexInventory(inventory);
  showView('app-view');
  $('who').textContent = `${me.user.username} (${me.user.role})`;
  clearBanner();
  renderTabs();
  selectRoom(roomFromHash() ?? state.rooms[0]?.id ?? null);
  connect();
  await resync();
  state.ticker = setInterval(tick, 1000);
}

function indexInventory(inv) {
  state.rooms = (inv.rooms ?? []).filter((r) => r.serverRoom !== false);
  state.roomNames = new Map((inv.rooms ?? []).map((r) => [r.id, r.name]));
  state.racksById = new Map((inv.racks ?? []).map((r) => [r.id, r]));
  state.devicesById = new Map((inv.devices ?? []).map((d) => [d.id, d]));
  state.rackSensors = new Map();
  state.rackEquipment = new Map();
  for (const d of state.devicesById.values()) {
    const rack = d.location?.rack;
    if (rack === undefined) continue;
    if (d.location.position) {
      const list = state.rackSensors.get(rack) ?? [];
      list.push(d);
      state.rackSensors.set(rack, list);
    } else {
      state.rackEquipment.set(rack, (state.rackEquipment.get(rack) ?? 0) + 1);
    }
  }
  const order = { 'front-top': 0, 'front-middle': 1, 'front-bottom': 2, rear: 3 };
  for (const list of state.rackSensors.values()) list.sort((a, b) => (order[a.location.position] ?? 9) - (order[b.location.position] ?? 9));
}

/** Latest values, alerts, presence and the server clock, fetched again after every (re)connect. */
function resync() {
  state.resyncing ??= (async () => {
    try {
      const [me, latest, alerts, devices] = await Promise.all([api.me(), api.latest(), api.alerts(), api.devices()]);
      state.clockOffsetMs = me.clockOffsetMs;
      state.readings.apply(latest);
      for (const d of devices) if (d.presence) state.readings.setPresence(d.id, d.presence.status, d.presence.since);
      state.alerts.merge(alerts);
      clearBanner();
      paintAll();
      drawAlerts();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return showLogin('Your session has ended. Log in again.');
      showBanner(`Could not load live data: ${explain(err)}. What you see may be out of date.`, () => resync());
    } finally {
      state.resyncing = null;
    }
  })();
  return state.resyncing;
}

// ---- live updates ----

function connect() {
  if (typeof io !== 'function') {
    setLive('offline', 'the socket.io client did not load');
    showBanner('Live updates are unavailable: /socket.io/socket.io.js did not load. Values will go stale.', () => location.reload());
    return;
  }
  setLive('connecting');
  const socket = io({ reconnectionDelayMax: 10_000 });
  state.socket = socket;
  let connectedBefore = false;
  socket.on('connect', () => {
    setLive('live');
    // The first connect comes while enter() is loading; later ones are reconnects: catch up.
    if (connectedBefore) resync();
    connectedBefore = true;
  });
  socket.on('disconnect', (reason) => {
    setLive('offline', reason);
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 2000);
  });
  socket.on('connect_error', (err) => {
    if (err && err.message === 'unauthorized') return showLogin('Your session has ended. Log in again.');
    setLive('offline', err && err.message);
  });
  socket.on('telemetry', (batch) => {
    if (!Array.isArray(batch)) return;
    const changed = state.readings.apply(batch);
    for (const id of changed) paintDevice(id);
    if (changed.size > 0) afterChange(changed);
  });
  socket.on('alert', (alert) => {
    if (state.alerts.upsert(alert)) {
      drawAlerts();
      markAlerts();
      refreshTooltip();
    }
  });
  socket.on('device-status', (s) => {
    if (s && state.readings.setPresence(s.device, s.status, s.ts)) {
      paintDevice(s.device);
      afterChange(new Set([s.device]));
    }
  });
}

function stopLive() {
  if (state.socket) {
    state.socket.removeAllListeners();
    state.socket.close();
    state.socket = null;
  }
  window.clearInterval(state.ticker);
  state.ticker = null;
  tooltip.hide();
}

const CLOCK_CHECK_EVERY_S = 300;
let ticks = 0;

function tick() {
  paintAll();
  refreshAlertTimes(state.alerts, $('alert-list'), serverNow());
  // A wall screen runs for days: follow the server clock (staleness is judged by it) and notice an ended session.
  if (++ticks % CLOCK_CHECK_EVERY_S === 0) {
    api.me().then(
      (me) => {
        state.clockOffsetMs = me.clockOffsetMs;
      },
      (err) => {
        if (err instanceof ApiError && err.status === 401) showLogin('Your session has ended. Log in again.');
      },
    );
  }
}

// ---- rooms ----

function roomFromHash() {
  const id = new window.URLSearchParams(location.hash.slice(1)).get('room');
  return state.rooms.some((r) => r.id === id) ? id : undefined;
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

function selectRoom(id) {
  tooltip.hide();
  state.roomId = id;
  const room = state.rooms.find((r) => r.id === id);
  for (const t of $('room-tabs').querySelectorAll('[role=tab]')) {
    const selected = t.dataset.room === id;
    t.setAttribute('aria-selected', String(selected));
    t.tabIndex = selected ? 0 : -1;
  }
  if (!room) {
    $('room-title').textContent = 'No server room';
    $('room-summary').textContent = 'The inventory has no server rooms to draw. Add rooms and racks to the inventory file.';
    $('plan').replaceChildren();
    return;
  }
  if (location.hash !== `#room=${encodeURIComponent(id)}`) window.history.replaceState(null, '', `#room=${encodeURIComponent(id)}`);
  $('room-title').textContent = `${room.name}`;
  plan.show(room, [...state.racksById.values()], [...state.devicesById.values()]);
  paintAll();
}

// ---- painting ----

function deviceState(id, now) {
  const last = state.readings.lastSeen(id);
  const presence = state.readings.presence(id);
  if (presence?.status === 'offline' && (last === undefined || presence.since >= last)) return 'offline';
  if (last === undefined) return presence?.status === 'online' ? 'current' : 'nodata';
  return now - last > STALE_AFTER_MS ? 'stale' : 'current';
}

function paintDevice(id, now = serverNow()) {
  plan.paintSensor(id, state.readings.sensor(id, now));
  plan.paintDevice(id, deviceState(id, now));
}

function paintAll() {
  if (!state.roomId) return;
  const now = serverNow();
  for (const id of plan.sensorIds) plan.paintSensor(id, state.readings.sensor(id, now));
  for (const id of plan.deviceIds) plan.paintDevice(id, deviceState(id, now));
  markAlerts();
  summarizeRoom(now);
  refreshTooltip();
}

function afterChange(changed) {
  summarizeRoom(serverNow());
  const a = tooltip.anchor;
  if (a && (changed.has(a.dataset.device) || (a.dataset.rack && (state.rackSensors.get(a.dataset.rack) ?? []).some((d) => changed.has(d.id))))) refreshTooltip();
}

function markAlerts() {
  plan.markAlerts(state.alerts.worstBy('rack'), state.alerts.worstBy('device'));
  const byRoom = state.alerts.worstBy('room');
  const counts = new Map();
  for (const a of state.alerts.firing()) if (a.labels?.room) counts.set(a.labels.room, (counts.get(a.labels.room) ?? 0) + 1);
  for (const t of $('room-tabs').querySelectorAll('[role=tab]')) {
    const badge = t.querySelector('.tab-badge');
    const n = counts.get(t.dataset.room) ?? 0;
    badge.hidden = n === 0;
    badge.textContent = n ? `${n} firing` : '';
    badge.dataset.severity = byRoom.get(t.dataset.room) ?? 'none';
  }
}

function summarizeRoom(now) {
  const room = state.rooms.find((r) => r.id === state.roomId);
  if (!room) return;
  let current = 0;
  let stale = 0;
  let nodata = 0;
  let hottestInlet;
  let hottestExhaust;
  for (const id of plan.sensorIds) {
    const v = state.readings.sensor(id, now);
    if (v.state === 'current') current++;
    else if (v.state === 'stale') stale++;
    else nodata++;
    if (v.state !== 'current') continue;
    const pos = state.devicesById.get(id)?.location?.position;
    if (pos === 'rear') {
      if (!hottestExhaust || v.temperature > hottestExhaust.t) hottestExhaust = { t: v.temperature, id };
    } else if (!hottestInlet || v.temperature > hottestInlet.t) hottestInlet = { t: v.temperature, id };
  }
  const racks = [...state.racksById.values()].filter((r) => r.room === room.id).length;
  const parts = [`${room.width} × ${room.depth} m`, `${racks} racks`, `${plan.sensorIds.length} temperature sensors: ${current} current`];
  if (stale) parts.push(`${stale} STALE`);
  if (nodata) parts.push(`${nodata} without data`);
  if (hottestInlet) parts.push(`hottest inlet ${hottestInlet.t.toFixed(1)} °C (${hottestInlet.id})`);
  if (hottestExhaust) parts.push(`hottest exhaust ${hottestExhaust.t.toFixed(1)} °C (${hottestExhaust.id})`);
  const el = $('room-summary');
  el.textContent = parts.join(' · ');
  el.dataset.stale = String(stale);
}

function drawAlerts() {
  renderAlerts(state.alerts, {
    container: $('alert-list'),
    summary: $('alert-summary'),
    now: serverNow(),
    roomNames: state.roomNames,
    onLocate(room, id) {
      if (room !== state.roomId && state.rooms.some((r) => r.id === room)) selectRoom(room);
      plan.flash(id);
    },
  });
}

// ---- tooltip ----

function cardFor(el) {
  const now = serverNow();
  const firing = state.alerts.firing();
  if (el.classList.contains('rack')) {
    const rack = state.racksById.get(el.dataset.rack);
    if (!rack) return undefined;
    const alerts = firing.filter((a) => a.labels?.rack === rack.id);
    return rackCard(rack, state.rackSensors.get(rack.id) ?? [], state.readings, alerts, now, state.rackEquipment.get(rack.id) ?? 0);
  }
  const device = state.devicesById.get(el.dataset.device);
  if (!device) return undefined;
  return deviceCard(device, state.readings, firing.filter((a) => a.labels?.device === device.id), now);
}

const hoverTarget = (node) => node?.closest?.('[data-device], .rack');

function refreshTooltip() {
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
$('plan').addEventListener('focusin', (ev) => {
  const target = hoverTarget(ev.target);
  const rows = target && cardFor(target);
  if (!rows) return;
  const r = target.getBoundingClientRect();
  tooltip.show(target, rows, r.right, r.top);
});
$('plan').addEventListener('focusout', () => tooltip.hide());
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') tooltip.hide();
});

// ---- legend ----

function drawLegend() {
  $('legend-bar').style.backgroundImage = legendGradient();
  const ticks = [];
  for (let t = TEMP_MIN; t <= TEMP_MAX; t += 5) ticks.push(html('span', { style: `left: ${((t - TEMP_MIN) / (TEMP_MAX - TEMP_MIN)) * 100}%`, text: `${t}` }));
  $('legend-ticks').replaceChildren(...ticks);
  $('legend-stale-text').textContent = `stale: no value for ${formatAge(STALE_AFTER_MS)}, or no data yet`;
}

drawLegend();
boot();
