// The floor plan page: log in, load the estate, draw the chosen room, keep it live over socket.io,
// and say so plainly when something is not current (stale sensor, lost connection, failed fetch).
import { api, ApiError } from './api.js';
import { AlertBoard } from './alerts.js';
import { createFloorView } from './floorview.js';
import { Readings } from './readings.js';

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
const view = createFloorView(state, serverNow);

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
  view.renderTabs();
  view.selectRoom(view.roomFromHash() ?? state.rooms[0]?.id ?? null);
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
      view.paintAll();
      view.drawAlerts();
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
    for (const id of changed) view.paintDevice(id);
    if (changed.size > 0) view.afterChange(changed);
  });
  socket.on('alert', (alert) => {
    if (state.alerts.upsert(alert)) {
      view.drawAlerts();
      view.markAlerts();
      view.refreshTooltip();
    }
  });
  socket.on('device-status', (s) => {
    if (s && state.readings.setPresence(s.device, s.status, s.ts)) {
      view.paintDevice(s.device);
      view.afterChange(new Set([s.device]));
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
  view.hideTooltip();
}

const CLOCK_CHECK_EVERY_S = 300;
let ticks = 0;

function tick() {
  view.paintAll();
  view.refreshAlertTimes();
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

// A fault in the page itself is said on screen too, not only in the console.
function reportFault(message) {
  if ($('app-view').hidden) {
    showView('boot');
    $('boot-text').textContent = `Watchfloor hit an error: ${message}`;
    $('boot-retry').hidden = false;
  } else {
    showBanner(`The page hit an error (${message}); reload if the plan stops updating.`, () => location.reload());
  }
}
window.addEventListener('error', (ev) => reportFault(ev.message));
window.addEventListener('unhandledrejection', (ev) => reportFault(explain(ev.reason)));

view.drawLegend();
boot();
