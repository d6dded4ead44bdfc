import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { startBroker, MqttAccounts, type Broker } from '../broker/index.ts';
import { startMqttIngest, type MqttIngest } from '../collectors/index.ts';
import {
  Estate,
  randomSecret,
  systemClock,
  type Alert,
  type Clock,
  type Config,
  type DeviceStatus,
  type Inventory,
  type Logger,
  type DeviceEvent,
  type Point,
  type SecurityEvent,
} from '../core/index.ts';
import { startOpsServer, SessionBook, UserBook, type DevicePresence, type OpsServer } from '../ops-server/index.ts';
import { RuleEngine, loadRulesFile, loadRules, builtinRulesPath, type RuleDef } from '../rules/index.ts';
import { startFleet, type Fleet, type ScenarioName } from '../simulators/index.ts';
import { openEmbeddedStore, type TimeSeriesStore } from '../store/index.ts';
import { DemoFleet } from './demo-fleet.ts';
import { EventLog } from './event-log.ts';
import { RegisteredDevices } from './registered-devices.ts';

export interface WatchfloorOptions {
  config: Config;
  inventory: Inventory;
  /** Rule definitions already loaded; default: the config's rules, else the built-in ones. */
  rules?: RuleDef[];
  logger: Logger;
  clock?: Clock;
  adminPassword?: string;
}

/** The running product: every part in one process, as `watchfloor start` runs it. */
export interface Watchfloor {
  readonly httpPort: number;
  readonly mqttPort: number;
  readonly broker: Broker;
  readonly store: TimeSeriesStore;
  readonly rules: RuleEngine;
  readonly ingest: MqttIngest;
  readonly ops: OpsServer;
  readonly estate: Estate;
  readonly accounts: MqttAccounts;
  /** The admin password when this start generated it (print it once), else undefined. */
  readonly generatedAdminPassword?: string;
  readonly fleet?: Fleet;
  /** Starts the bundled sensor fleet against this broker (what `--simulate` does). */
  startSimulation(options?: { scenario?: ScenarioName; speed?: number; intervalMs?: number }): Promise<Fleet>;
  stop(): Promise<void>;
}

const SIMULATOR_ACCOUNT = 'simulator';

/** Loads the rules named by the config, or the built-in ones. */
export function rulesFor(config: Config, baseDir: string): RuleDef[] {
  if (config.rules === undefined) return loadRulesFile(builtinRulesPath);
  if (typeof config.rules === 'string') return loadRulesFile(join(baseDir, config.rules));
  return loadRules(config.rules, 'config: rules');
}

/** Starts the product: store, rules, broker, ingest and ops server, wired as the design brief draws them. */
export async function startWatchfloor(options: WatchfloorOptions): Promise<Watchfloor> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  mkdirSync(config.dataDir, { recursive: true });

  const estate = new Estate(options.inventory);
  const registered = new RegisteredDevices(join(config.dataDir, 'devices.json'));
  for (const d of registered.all()) {
    if (estate.devices.has(d.id)) logger.warn({ device: d.id }, 'a registered device is now in the inventory file; the file wins');
    else estate.add(d);
  }

  const users = new UserBook(join(config.dataDir, 'users.json'));
  const admin = await users.ensureAdmin(options.adminPassword, clock.now());
  const accounts = new MqttAccounts(join(config.dataDir, 'mqtt-accounts.json'));
  const store = await openEmbeddedStore({ dir: join(config.dataDir, 'tsdb'), flushIntervalMs: config.store.flushIntervalMs, logger });
  const rules = new RuleEngine({ rules: options.rules ?? loadRulesFile(builtinRulesPath), clock, tagsOf: (d) => estate.tagsOf(d) });
  const events = new EventLog<DeviceEvent>();
  const securityEvents = new EventLog<SecurityEvent>();
  const presence = new Map<string, DevicePresence>();

  // Filled in once the ops server and broker exist; the sink below only runs after both are up.
  let ops: OpsServer | undefined;
  let broker: Broker | undefined;
  let demo: DemoFleet | undefined;

  const publishAlerts = (changes: readonly Alert[]): void => {
    for (const alert of changes) {
      ops?.realtime.alert(alert);
      broker?.aedes.publish(
        { cmd: 'publish', topic: `alerts/${alert.id}`, payload: Buffer.from(JSON.stringify(alert)), qos: 0, retain: false, dup: false },
        () => undefined,
      );
    }
  };
  const setPresence = (device: string, status: DeviceStatus, ts: number): void => {
    const current = presence.get(device);
    if (current?.status === status) return;
    if (status === 'offline' && demo?.takesBack(device)) return;
    presence.set(device, { status, since: ts });
    ops?.realtime.deviceStatus(device, status, ts);
    const changes = rules.onStatus(device, status, ts);
    if (changes.length > 0) publishAlerts(changes);
  };

  /** Every source of security events (broker, trap receiver, ops server) reports here. */
  const reportSecurityEvent = (e: SecurityEvent): void => {
    securityEvents.add(e);
    ops?.realtime.securityEvent(e);
  };

  const sink = {
    write(points: Point[]): void {
      // decode -> validate -> enrich happened in ingest; here: write -> evaluate -> publish.
      store.write(points);
      for (const p of points) {
        const changes = rules.onPoint(p);
        if (changes.length > 0) publishAlerts(changes);
      }
      ops?.realtime.telemetry(points);
      const device = points[0]?.device;
      if (device !== undefined && presence.get(device)?.status !== 'online') setPresence(device, 'online', clock.now());
    },
    status: setPresence,
    event(e: DeviceEvent): void {
      events.add(e);
    },
  };

  const mqttBroker = await startBroker({
    host: config.mqtt.host,
    port: config.mqtt.port,
    maxPayloadBytes: config.mqtt.maxPayloadBytes,
    accounts,
    logger,
    onSecurityEvent: (e) => reportSecurityEvent(e),
    onClient: (event) => {
      if (event.role === 'device' && estate.devices.has(event.username)) setPresence(event.username, event.status, clock.now());
      demo?.onClient(event);
    },
  });
  broker = mqttBroker;
  const ingest = await startMqttIngest({ aedes: mqttBroker.aedes, estate, sink, clock, logger });

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'watchfloor_' });
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [metrics], collect() { this.set(read()); } });
  };
  new Counter({
    name: 'watchfloor_ingest_dropped_total', help: 'MQTT messages dropped by ingest, by reason', labelNames: ['reason'], registers: [metrics],
    collect() {
      this.reset();
      for (const [reason, n] of ingest.stats.dropped) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: 'watchfloor_mqtt_refused_total', help: 'MQTT connections, publishes and subscribes refused by the broker, by reason', labelNames: ['reason'], registers: [metrics],
    collect() {
      this.reset();
      for (const [reason, n] of mqttBroker.refusals) this.inc({ reason }, n);
    },
  });
  gauge('watchfloor_ingest_messages_total', 'MQTT messages seen by ingest', () => ingest.stats.messages);
  gauge('watchfloor_ingest_values_total', 'metric values accepted by ingest', () => ingest.stats.values);
  gauge('watchfloor_store_written_total', 'points written to the time-series store', () => store.stats().written);
  gauge('watchfloor_store_pending', 'points queued for the next store flush', () => store.stats().pending);
  gauge('watchfloor_alerts_firing', 'alerts firing now', () => rules.alerts({ state: 'firing' }).length);
  gauge('watchfloor_socketio_clients', 'connected socket.io clients', () => ops?.realtime.clients ?? 0);

  const sessions = new SessionBook(clock);
  ops = await startOpsServer(
    {
      clock,
      logger,
      estate,
      users,
      sessions,
      latest: (sel) => store.latest(sel),
      range: (q) => store.range(q),
      alerts: (f) => rules.alerts(f),
      alert: (id) => rules.get(id),
      events: (f) => events.query((e) => (!f.device || e.device === f.device) && (!f.type || e.type === f.type), f.since),
      securityEvents: (f) => securityEvents.query(() => true, f.since),
      presence: (d) => presence.get(d),
      async registerDevice(device, password) {
        if (password) await accounts.setDevicePassword(device.id, password);
        registered.add(device);
        estate.add(device);
        logger.info({ device: device.id, kind: device.kind }, 'device registered');
      },
      metricsText: () => metrics.metrics(),
      ready: () => true,
    },
    { host: config.http.host, port: config.http.port },
  );

  const ticker = setInterval(() => {
    const changes = rules.tick(clock.now());
    if (changes.length > 0) publishAlerts(changes);
  }, 1000);
  ticker.unref();

  const app: Watchfloor = {
    httpPort: ops.port,
    mqttPort: broker.port,
    broker,
    store,
    rules,
    ingest,
    ops,
    estate,
    accounts,
    generatedAdminPassword: admin.generatedPassword,
    get fleet() {
      return demo?.current;
    },
    async startSimulation(sim = {}) {
      const password = await simulatorPassword(config.dataDir, accounts);
      const launch = (clientId: string): Promise<Fleet> =>
        startFleet({
          clientId,
          brokerUrl: `mqtt://127.0.0.1:${mqttBroker.port}`,
          username: SIMULATOR_ACCOUNT,
          password,
          inventory: estate.inventory,
          scenario: sim.scenario,
          speed: sim.speed,
          intervalMs: sim.intervalMs,
          logger,
        });
      demo = new DemoFleet(SIMULATOR_ACCOUNT, launch, logger);
      await demo.start();
      return demo.current as Fleet;
    },
    async stop() {
      clearInterval(ticker);
      await demo?.stop().catch(() => undefined);
      await ops.close();
      await ingest.stop();
      await broker.close();
      await store.close();
    },
  };
  return app;
}

/**
 * The simulator's MQTT password: generated on first use and kept in `simulator.secret` (mode 0600)
 * under the data directory, so `watchfloor simulate` run by hand can log in as the same account.
 */
export async function simulatorPassword(dataDir: string, accounts: MqttAccounts): Promise<string> {
  const file = join(dataDir, 'simulator.secret');
  let password = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (!password) {
    password = randomSecret();
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
  }
  if (!(await accounts.authenticate(SIMULATOR_ACCOUNT, password))) await accounts.setCollector(SIMULATOR_ACCOUNT, password, '*');
  return password;
}
