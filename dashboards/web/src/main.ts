// The floor plan page: log in, load the estate, draw the chosen room, keep it live over socket.io,
// and say so plainly when something is not current (stale sensor, lost connection, failed fetch).
import './style.css';
import { api, ApiError, http } from './api.ts';
import { AlertBoard } from './alerts.ts';
import { AlertPane } from './alertpane.ts';
import { beep, onSoundChange, soundState, toggleSound } from './cue.ts';
import { createFloorView } from './floorview.ts';
import { refreshOnCall, showOnCall } from './oncall.ts';
import { currentLang, named, onLangChange, setLang, t, translatePage } from './i18n.ts';
import { RackPanel } from './rackpanel.ts';
import { Readings } from './readings.ts';
import { html, render, Store } from './ui.ts';
import { DashboardsView } from './dashboards.ts';
import { NetworkView } from './network.ts';
import { PowerView } from './power.ts';
import { CloudView } from './cloud.ts';
import { EndUserView } from './enduser-view.ts';
import { SocView } from './soc-view.ts';
import { ServicesView } from './services-view.ts';
import { DiscoveryView } from './discovery-view.ts';
import { AdminView } from './admin-view.ts';
import type { Alert, Device, InventoryAnswer, Page, RuleDef, TelemetryUpdate, ViewProps } from './page.ts';
import type { FunctionComponent } from 'preact';

// The page's fixed elements (index.html): there whenever this runs.
const $ = <E extends HTMLElement = HTMLElement>(id: string): E => document.getElementById(id) as E;

const serverNow = () => Date.now() + state.clockOffsetMs;

const state: Page = {
  user: null,
  rooms: [],
  roomNamesMap: new Map(),
  racksById: new Map(),
  devicesById: new Map(),
  rackSensors: new Map(),
  rackEquipment: new Map(),
  roomId: null,
  clockOffsetMs: 0,
  readings: new Readings(),
  alerts: new AlertBoard(),
  socket: null,
  ticker: null,
  resyncing: null,
  store: new Store(),
  links: [],
  rules: new Map(),
  unsupported: new Set(),
  openRack: null,
  view: 'floor',
  criticalSeen: new Set(),
  beeps: 0,
  now: serverNow,
  notify: (message) => showBanner(message),
  openRackPanel: (id) => {
    state.openRack = id;
    state.store.changed('rack');
  },
  get roomNames() {
    return state.roomNamesMap;
  },
  locate: (room, id) => {
    showMainView('floor');
    view.locate(room, id);
  },
};

const view = createFloorView(state, serverNow, { onRackOpen: (id) => state.openRackPanel(id) });

// ---- kiosk mode and language ----

const params = new window.URLSearchParams(location.search);
const KIOSK = params.get('kiosk') === '1';
if (KIOSK) document.body.dataset.kiosk = '1';
translatePage();
$('live').textContent = t('live.connecting');
// The login page has its own: the first person at a wall screen may not read English.
for (const id of ['lang-switch', 'login-lang']) $(id).addEventListener('click', () => setLang(currentLang() === 'vi' ? 'en' : 'vi'));
onLangChange(() => {
  setLive(document.body.dataset.live ?? 'connecting', $('live').title || undefined);
  renderNav();
  showWho();
  showOnCall($('oncall'));
  // The plan's SVG is built once per room with its words (aisles, scale, labels): built again in the new language,
  // then painted from the readings as after any room change.
  if (state.user) view.selectRoom(state.roomId);
  view.drawLegend();
  view.summarize();
  if (typeof bannerText === 'function') $('banner-text').textContent = bannerText();
  if (cueText) $('critical-cue-text').textContent = cueText();
  showSound();
  state.store.changed('lang');
});

// The sound button says whether a new critical alert will be heard; a click allows, mutes or unmutes it.
function showSound(s = soundState()) {
  const b = $('sound');
  b.dataset.state = s;
  b.textContent = t(`sound.${s}`);
  b.title = t('sound.title');
  b.setAttribute('aria-pressed', String(s === 'on'));
}
$('sound').addEventListener('click', () => toggleSound());
onSoundChange(showSound);
showSound();
$('heat-layer').addEventListener('change', (ev) => view.setHeatLayer((ev.currentTarget as HTMLSelectElement).value));

// ---- views (tabs along the top) ----

/** A tab along the top: who sees it, and its component (the floor view is not one). */
interface MainView {
  id: string;
  roles: string[];
  component?: FunctionComponent<ViewProps>;
}

const VIEWS: MainView[] = [
  { id: 'floor', roles: ['admin', 'noc', 'soc', 'viewer'] },
  { id: 'power', roles: ['admin', 'noc', 'viewer'], component: PowerView },
  { id: 'network', roles: ['admin', 'noc', 'soc', 'viewer'], component: NetworkView },
  { id: 'cloud', roles: ['admin', 'noc', 'viewer'], component: CloudView },
  { id: 'enduser', roles: ['admin', 'noc', 'viewer'], component: EndUserView },
  { id: 'services', roles: ['admin', 'noc', 'soc', 'viewer'], component: ServicesView },
  { id: 'soc', roles: ['admin', 'soc'], component: SocView },
  { id: 'dashboards', roles: ['admin', 'noc', 'soc', 'viewer'], component: DashboardsView },
  { id: 'discovery', roles: ['admin'], component: DiscoveryView },
  // Users, tokens, MQTT accounts, the audit log and security events (admin-view.ts); the API refuses the others too.
  { id: 'admin', roles: ['admin'], component: AdminView },
];
const allowedViews = () => VIEWS.filter((v) => state.user && v.roles.includes(state.user.role));

function renderNav() {
  const nav = $('main-nav');
  nav.replaceChildren(
    ...allowedViews().map((v) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.id = `nav-${v.id}`;
      b.setAttribute('role', 'tab');
      b.setAttribute('aria-selected', String(state.view === v.id));
      b.tabIndex = state.view === v.id ? 0 : -1;
      b.dataset.view = v.id;
      b.textContent = t(`nav.${v.id}`);
      b.addEventListener('click', () => showMainView(v.id));
      return b;
    }),
  );
}

$('main-nav').addEventListener('keydown', (ev) => {
  if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
  const views = allowedViews();
  const i = views.findIndex((v) => v.id === state.view);
  const next = views[(i + (ev.key === 'ArrowRight' ? 1 : -1) + views.length) % views.length];
  if (next) {
    showMainView(next.id);
    $(`nav-${next.id}`)?.focus();
  }
});

function showMainView(id: string): void {
  const v = allowedViews().find((x) => x.id === id) ?? allowedViews()[0];
  if (!v) return;
  state.view = v.id;
  $('view-floor').hidden = v.id !== 'floor';
  $('view-main').hidden = v.id === 'floor';
  document.body.dataset.view = v.id;
  if (v.component) render(html`<${v.component} page=${state} />`, $('view-main'));
  else render(null, $('view-main'));
  renderNav();
  if (v.id === 'floor') view.paintAll({ alerts: true });
}

/** The critical cue's text, written again when the language changes. */
let cueText: (() => string) | null = null;

/** A new critical alert (firing, not silenced or suppressed) is shown and heard once. */
function cue(alert: Alert): void {
  if (alert.state !== 'firing' || alert.severity !== 'critical' || alert.suppressedBy || alert.silencedBy?.length || alert.acknowledged) return;
  if (state.criticalSeen.has(alert.id)) return;
  state.criticalSeen.add(alert.id);
  const el = $('critical-cue');
  const name = `${alert.name} · ${alert.labels?.rack ?? alert.labels?.device ?? ''}`;
  cueText = () => t('cue.critical', { name });
  $('critical-cue-text').textContent = cueText();
  el.hidden = false;
  el.dataset.alertId = alert.id;
  if (beep()) state.beeps++;
  el.dataset.beeps = String(state.beeps);
}
$('critical-cue-dismiss').addEventListener('click', () => {
  $('critical-cue').hidden = true;
});

// ---- views and messages ----

function showView(name: 'boot' | 'login-view' | 'app-view'): void {
  for (const v of ['boot', 'login-view', 'app-view']) $(v).hidden = v !== name;
}

/** The banner's message: a string, or a function giving it in the page's language (written again on a language change). */
let bannerText: string | (() => string) = '';

function showBanner(message: string | (() => string), retry?: () => void): void {
  bannerText = message;
  $('banner-text').textContent = typeof message === 'function' ? message() : message;
  $('banner-retry').hidden = !retry;
  $('banner-retry').onclick = retry ?? null;
  $('banner').hidden = false;
}

function clearBanner() {
  $('banner').hidden = true;
}

function setLive(status: string, detail?: string): void {
  const el = $('live');
  el.dataset.state = status;
  el.textContent = t(`live.${status}`);
  el.title = detail ?? '';
  document.body.dataset.live = status;
}

/** Who is logged in, with the role's name in the page's language. */
function showWho() {
  if (state.user) $('who').textContent = t('who', { user: state.user.username, role: named('role', state.user.role) });
}

function showLogin(message?: string): void {
  stopLive();
  state.user = null;
  showView('login-view');
  const msg = $('login-message');
  msg.textContent = message ?? '';
  msg.hidden = !message;
  $<HTMLInputElement>('password').value = '';
  $('username').focus();
}

const explain = (err: unknown): string => (err instanceof ApiError ? err.message : String((err as Error | null)?.message ? (err as Error).message : err));

// ---- login ----

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const button = $<HTMLButtonElement>('login-submit');
  const username = $<HTMLInputElement>('username').value.trim();
  const password = $<HTMLInputElement>('password').value;
  $<HTMLInputElement>('password').value = '';
  button.disabled = true;
  $('login-message').hidden = true;
  try {
    await api.login(username, password);
    await enter();
  } catch (err) {
    $('login-message').textContent =
      err instanceof ApiError && err.status === 401 ? t('login.wrong') : t('login.failed', { error: explain(err) });
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
    showLogin(t('logout.done'));
  } catch (err) {
    showLogin(t('logout.unconfirmed', { error: explain(err) }));
  }
});

// ---- loading ----

async function boot(): Promise<void> {
  try {
    await enter();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showLogin();
    showView('boot');
    $('boot-text').textContent = t('boot.failed', { error: explain(err) });
    $('boot-retry').hidden = false;
  }
}

$('boot-retry').addEventListener('click', () => {
  $('boot-retry').hidden = true;
  $('boot-text').textContent = t('boot.loading');
  boot();
});

/** After a login (or with a live session): who am I, the estate, then live data. */
async function enter(): Promise<void> {
  const me = await api.me();
  state.user = me.user;
  state.clockOffsetMs = me.clockOffsetMs;
  const inventory = await api.inventory();
  indexInventory(inventory);
  // /rules lists each rule with its status ({rule, ...}); an older server listed bare rules.
  const rules = await http.get<({ rule?: RuleDef } & Partial<RuleDef>)[]>('/rules').catch(() => []);
  state.rules = new Map((Array.isArray(rules) ? rules : []).map((r) => [(r.rule?.id ?? r.id) as string, (r.rule ?? r) as RuleDef]));
  showView('app-view');
  document.body.dataset.role = me.user.role;
  showWho();
  void refreshOnCall($('oncall'), me.user.role);
  clearBanner();
  view.renderTabs();
  view.selectRoom(view.roomFromHash() ?? state.rooms[0]?.id ?? null);
  render(html`<${AlertPane} page=${state} />`, $('alerts-pane'));
  render(html`<${RackPanel} page=${state} />`, $('rack-panel-host'));
  showMainView(params.get('view') ?? state.view);
  connect();
  await resync();
  state.ticker = setInterval(tick, 1000);
}

function indexInventory(inv: InventoryAnswer): void {
  state.rooms = (inv.rooms ?? []).filter((r) => r.serverRoom !== false);
  state.roomNamesMap = new Map((inv.rooms ?? []).map((r) => [r.id, r.name]));
  state.links = inv.links ?? [];
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
  const order: Record<string, number> = { 'front-top': 0, 'front-middle': 1, 'front-bottom': 2, rear: 3 };
  const rank = (d: Device): number => order[d.location.position ?? ''] ?? 9;
  for (const list of state.rackSensors.values()) list.sort((a, b) => rank(a) - rank(b));
}

/** Latest values, alerts, presence and the server clock, fetched again after every (re)connect. */
function resync(): Promise<void> {
  state.resyncing ??= (async () => {
    try {
      const [me, latest, alerts, devices] = await Promise.all([api.me(), api.latest(), api.alerts(), api.devices()]);
      state.clockOffsetMs = me.clockOffsetMs;
      state.readings.apply(latest);
      for (const d of devices) if (d.presence) state.readings.setPresence(d.id, d.presence.status, d.presence.since);
      state.alerts.merge(alerts);
      for (const a of alerts) if (a.state === 'firing') state.criticalSeen.add(a.id);
      clearBanner();
      view.paintAll({ alerts: true });
      state.store.changed('alerts');
      state.store.changed('readings');
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return showLogin(t('session.ended'));
      const error = explain(err);
      showBanner(() => t('banner.loadFailed', { error }), () => resync());
    } finally {
      state.resyncing = null;
    }
  })();
  return state.resyncing;
}

// ---- live updates ----

function connect(): void {
  if (typeof io !== 'function') {
    setLive('offline', t('live.noSocket'));
    showBanner(() => t('banner.noSocket'), () => location.reload());
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
    if (err && err.message === 'unauthorized') return showLogin(t('session.ended'));
    setLive('offline', err && err.message);
  });
  socket.on('telemetry', (batch: TelemetryUpdate[]) => {
    if (!Array.isArray(batch)) return;
    const changed = state.readings.apply(batch);
    if (changed.size > 0) paintSoon(changed);
  });
  socket.on('alert', (alert: Alert) => {
    if (state.alerts.upsert(alert)) {
      cue(alert);
      state.store.changed('alerts');
      markAlertsSoon();
    }
  });
  socket.on('device-status', (s: { device: string; status: 'online' | 'offline'; ts: number } | null) => {
    if (s && state.readings.setPresence(s.device, s.status, s.ts)) paintSoon([s.device]);
  });
}

// Telemetry comes in many small batches a second; the readings take each at once, and the plan is
// painted once a frame for every device changed since the last one. The Preact views (tables, the
// rack panel) hear of new readings at most once a second: a wall screen reads them at that pace.
const toPaint = new Set<string>();
let paintFrame = 0;
let readingsNote: ReturnType<typeof setTimeout> | null = null;
const READINGS_NOTE_MS = 1000;

function paintSoon(devices: Iterable<string>): void {
  for (const id of devices) toPaint.add(id);
  if (!paintFrame) paintFrame = window.requestAnimationFrame(paintChanged);
  readingsNote ??= setTimeout(() => {
    readingsNote = null;
    state.store.changed('readings');
  }, READINGS_NOTE_MS);
}

function paintChanged() {
  paintFrame = 0;
  if (state.view === 'floor' && toPaint.size > 0) {
    const now = serverNow();
    for (const id of toPaint) view.paintDevice(id, now);
    view.afterChange(toPaint);
  }
  toPaint.clear();
}

// Alerts come in bursts (a hot aisle fires many rules at once): the plan's marks are redone once a frame.
let alertFrame = 0;
function markAlertsSoon() {
  alertFrame ||= window.requestAnimationFrame(() => {
    alertFrame = 0;
    view.markAlerts();
    view.refreshTooltip();
  });
}

function stopLive() {
  if (state.socket) {
    state.socket.removeAllListeners();
    state.socket.close();
    state.socket = null;
  }
  window.clearInterval(state.ticker ?? undefined);
  state.ticker = null;
  view.hideTooltip();
}

const CLOCK_CHECK_EVERY_S = 300;
let ticks = 0;

function tick() {
  if (state.view === 'floor') view.paintAll();
  state.store.changed('clock');
  // Who is on call changes at hand-overs: asked again every minute.
  if (ticks % 60 === 59 && state.user) void refreshOnCall($('oncall'), state.user.role);
  // A wall screen runs for days: follow the server clock (staleness is judged by it) and notice an ended session.
  if (++ticks % CLOCK_CHECK_EVERY_S === 0) {
    api.me().then(
      (me) => {
        state.clockOffsetMs = me.clockOffsetMs;
      },
      (err) => {
        if (err instanceof ApiError && err.status === 401) showLogin(t('session.ended'));
      },
    );
  }
}

// A fault in the page itself is said on screen too, not only in the console.
function reportFault(message: string): void {
  if ($('app-view').hidden) {
    showView('boot');
    $('boot-text').textContent = t('boot.fault', { error: message });
    $('boot-retry').hidden = false;
  } else {
    showBanner(() => t('banner.fault', { error: message }), () => location.reload());
  }
}
window.addEventListener('error', (ev) => reportFault(ev.message));
window.addEventListener('unhandledrejection', (ev) => reportFault(explain(ev.reason)));

view.drawLegend();
boot();
