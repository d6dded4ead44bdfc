import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectExternalBroker, startBroker, MqttAccounts, type Broker, type ExternalBroker, type MqttAuditEntry, type MqttBus } from '../broker/index.ts';
import { partitionOf, startMqttIngest, startSnmpCollectors, type MqttIngest, type SnmpCollectors } from '../collectors/index.ts';
import {
  Estate,
  randomSecret,
  systemClock,
  tightenSecretFile,
  writeSecretFile,
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
import { aedesCommandBus, startOpsServer, SessionBook, UserBook, type DevicePresence, type OpsServer } from '../ops-server/index.ts';
import { RuleEngine, loadRulesFile, loadRules, builtinRulesPath, openRules, type RuleDef } from '../rules/index.ts';
import { startFleet, startSnmpEstate, type Fleet, type ScenarioName, type SnmpEstate } from '../simulators/index.ts';
import { openStore, openWriteAheadLog, type TimeSeriesStore } from '../store/index.ts';
import { DemoFleet } from './demo-fleet.ts';
import { EventLog } from './event-log.ts';
import { productMetrics } from './metrics.ts';
import { RegisteredDevices } from './registered-devices.ts';

export interface WatchfloorOptions {
  config: Config;
  inventory: Inventory;
  /** Rule definitions already loaded; default: the config's rules, else the built-in ones. */
  rules?: RuleDef[];
  /** Where `POST /api/v1/rules/reload` reads the rules again (the config's rules file). */
  rulesSource?: () => RuleDef[];
  logger: Logger;
  clock?: Clock;
  adminPassword?: string;
  /** false: QoS 1 is acknowledged on receipt, before its points are durable (only for `npm run bench -- e2e` to measure the difference). */
  durableAcks?: boolean;
}

/** The running product: every part in one process, as `watchfloor start` runs it. */
export interface Watchfloor {
  readonly httpPort: number;
  readonly mqttPort: number;
  /** The embedded broker; undefined when `mqtt.external` names an external one. */
  readonly broker?: Broker;
  /** The link to the external broker when `mqtt.external` is set. */
  readonly externalBroker?: ExternalBroker;
  readonly store: TimeSeriesStore;
  readonly rules: RuleEngine;
  readonly ingest: MqttIngest;
  /** The SNMP poller and trap receiver (collectors/snmp, collectors/traps), publishing onto the embedded or the external broker. */
  readonly snmp: SnmpCollectors;
  readonly ops: OpsServer;
  readonly estate: Estate;
  readonly accounts: MqttAccounts;
  /** The admin password when this start generated it (print it once), else undefined. */
  readonly generatedAdminPassword?: string;
  readonly fleet?: Fleet;
  /** The simulated SNMP agents of the inventory's loopback `snmp` devices, once startSimulation ran. */
  readonly snmpEstate?: SnmpEstate;
  /**
   * Starts the bundled sensor fleet against this broker (embedded or external) and the simulated SNMP
   * agents (what `--simulate` does); `snmpPorts` binds agents elsewhere than their inventory ports (the
   * poller follows them).
   */
  startSimulation(options?: { scenario?: ScenarioName; speed?: number; intervalMs?: number; snmp?: boolean; snmpPorts?: ReadonlyMap<string, number> }): Promise<Fleet>;
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
  const store = await openStore(config.store, {
    dir: join(config.dataDir, 'tsdb'), logger, clock,
    // A cardinality explosion becomes a device event of the device that caused it; the rule series-limit-reached alerts on it.
    onSeriesLimit: (e) => sink.event({ device: e.device, ts: e.ts, type: 'series_limit_reached', severity: 'major', attributes: { metric: e.metric, series: e.series, maxSeries: e.maxSeries, refused: e.refused } }),
  });
  // QoS 1 telemetry is acknowledged once its points are in this fsynced log; what a crash left in it goes back into the store now.
  const wal = await openWriteAheadLog(store, { dir: join(config.dataDir, 'tsdb', 'ingest-wal'), logger });
  const alertRules = openRules({
    rules: options.rules ?? loadRulesFile(builtinRulesPath), source: options.rulesSource ?? (options.rules ? undefined : () => loadRulesFile(builtinRulesPath)),
    dataDir: config.dataDir, estate, clock, logger, notify: config.notify, publish: (changes) => publishAlerts(changes),
  });
  const rules: RuleEngine = alertRules.engine;
  // Device and security events outlive a restart: the last 10,000 of each under DATA_DIR/events/.
  const events = new EventLog<DeviceEvent>(10_000, join(config.dataDir, 'events', 'device-events.jsonl'), logger);
  const securityEvents = new EventLog<SecurityEvent>(10_000, join(config.dataDir, 'events', 'security-events.jsonl'), logger);
  const presence = new Map<string, DevicePresence>();

  // Filled in once the ops server and broker exist; the sink below only runs after both are up.
  let ops: OpsServer | undefined;
  let bus: MqttBus | undefined;
  let demo: DemoFleet | undefined;
  let snmpEstate: SnmpEstate | undefined;
  let ingestNow: MqttIngest['holdAck'] | undefined;

  const publishAlerts = (changes: readonly Alert[]): void => {
    for (const alert of changes) {
      ops?.realtime.alert(alert);
      bus?.publish(
        { cmd: 'publish', topic: `alerts/${alert.id}`, payload: Buffer.from(JSON.stringify(alert)), qos: 0, retain: false, dup: false },
        () => undefined,
      );
    }
  };
  /** Set as stop() begins: from then on the goodbyes of the fleet and of devices are the product leaving, not outages. */
  let stopping = false;
  const setPresence = (device: string, status: DeviceStatus, ts: number): void => {
    if (stopping) return;
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
    publishAlerts(rules.onEvent(e, 'security'));
  };

  /**
   * MQTT logins for the ops server's audit log (broker/login-gate.ts says which). The broker starts
   * first and the collectors log in before the ops server exists: those wait here, then are written.
   */
  const mqttAuditBacklog: MqttAuditEntry[] = [];
  const auditMqtt = (entry: MqttAuditEntry): void => {
    if (ops) ops.parts.auditLog.append(entry);
    else if (mqttAuditBacklog.length < 1000) mqttAuditBacklog.push({ ...entry, detail: { ...entry.detail, at: clock.now() } });
  };

  /** Time spent evaluating rules on incoming values, exposed on /metrics as two counters. */
  const ruleTime = { seconds: 0, values: 0 };

  const sink = {
    write(points: Point[]): void {
      // decode -> validate -> enrich happened in ingest; here: write -> evaluate -> publish.
      store.write(points);
      // Timed per message, not per value: two clock reads per message cost little at 25,000 messages/s.
      const started = performance.now();
      for (const p of points) {
        const changes = rules.onPoint(p);
        if (changes.length > 0) publishAlerts(changes);
      }
      ruleTime.seconds += (performance.now() - started) / 1000;
      ruleTime.values += points.length;
      ops?.realtime.telemetry(points);
      const device = points[0]?.device;
      if (device !== undefined && presence.get(device)?.status !== 'online') setPresence(device, 'online', clock.now());
    },
    status: setPresence,
    event(e: DeviceEvent): void {
      events.add(e);
      publishAlerts(rules.onEvent(e, 'device'));
    },
  };

  // An external broker (Mosquitto, EMQX) stands in for the embedded one: ingest, alerts and commands go
  // through one MQTT client; the embedded broker's accounts, ACLs and limits do not apply there.
  const external = config.mqtt.external ? await connectExternalBroker(config.mqtt.external, logger) : undefined;
  const mqttBroker = external ? undefined : await startBroker({
    mqtt: config.mqtt,
    dataDir: config.dataDir,
    kindOf: (id) => estate.devices.get(id)?.kind,
    accounts,
    logger,
    onSecurityEvent: (e) => reportSecurityEvent(e),
    onAudit: auditMqtt,
    // Events seen by `--role broker` nodes of the cluster; with several full nodes, the one whose ingest
    // partition the source falls in takes each, so an attack is counted once.
    onForwardedSecurityEvent: (e) => {
      const p = config.mqtt.ingestPartition;
      if (!p || partitionOf(e.source ?? e.username ?? e.type, p.count) === p.index) reportSecurityEvent(e);
    },
    onClient: (event) => {
      if (event.role === 'device' && estate.devices.has(event.username)) {
        // A clean DISCONNECT is the device choosing to leave (it sleeps, or was a one-shot publish): not
        // offline until its reporting interval passes without data. A dropped connection is offline at once.
        if (event.status === 'offline' && event.left) publishAlerts(rules.onStatus(event.username, 'left', clock.now()));
        else setPresence(event.username, event.status, clock.now());
      }
      demo?.onClient(event);
    },
    // Not on Redis: a clustered node's subscription gets the packet back from Redis, not the one held here.
    holdAck: config.mqtt.persistence === 'redis' || options.durableAcks === false ? undefined : (packet, ack) => (ingestNow ? ingestNow(packet, ack) : ack()),
  });
  const link: MqttBus = external ?? (mqttBroker as Broker).aedes;
  bus = link;
  const ingest = await startMqttIngest({
    source: link, estate, sink, clock, logger, log: wal,
    shareGroup: config.mqtt.external?.shareGroup, partition: config.mqtt.ingestPartition,
  });
  ingestNow = ingest.holdAck;
  // Collectors publish onto the broker like any device would: the embedded one with an account made for
  // them, an external one as the account configured for collectors (else the link's own).
  const externalCollector = config.mqtt.external && {
    url: config.mqtt.external.url,
    ...(config.mqtt.external.collector ?? { username: config.mqtt.external.username, password: config.mqtt.external.password }),
  };
  const snmp = await startSnmpCollectors({
    estate,
    publishTo: externalCollector ? { external: externalCollector } : { embedded: { accounts, port: (mqttBroker as Broker).port } },
    partition: config.mqtt.ingestPartition,
    trapPort: config.snmp.trapPort, trapHost: config.mqtt.host, logger, clock, onSecurityEvent: reportSecurityEvent,
  });

  // Every part's figures on /metrics (cli/metrics.ts); the ops server adds HTTP latency to the same registry.
  const metrics = productMetrics({ ingest, broker: mqttBroker, store, rules, ruleTime, socketClients: () => ops?.realtime.clients ?? 0, wal });

  // Sessions outlive a restart (sessions.json keeps digests of their ids), so wall screens stay logged in.
  const sessions = new SessionBook(clock, { file: join(config.dataDir, 'sessions.json'), warn: (m) => logger.warn(m) });
  const ended = sessions.retain((s) => {
    const user = users.get(s.username);
    return user !== undefined && !user.disabled && user.role === s.role;
  });
  if (ended) logger.info({ ended }, 'http: sessions of users removed, disabled or given another role while the server was down were ended');
  ops = await startOpsServer(
    {
      clock,
      logger,
      estate,
      users,
      sessions,
      latest: (sel) => store.latest(sel),
      range: (q) => store.range(q),
      timeseries: store,
      alerts: (f) => rules.alerts(f),
      alert: (id) => rules.get(id),
      alertDesk: alertRules.desk,
      events: (f) => events.query((e) => (!f.device || e.device === f.device) && (!f.type || e.type === f.type), f.since),
      securityEvents: (f) => securityEvents.query(() => true, f.since),
      presence: (d) => presence.get(d),
      mqttAccounts: accounts,
      async registerDevice(device, password) {
        if (password) await accounts.setDevicePassword(device.id, password);
        registered.add(device);
        estate.add(device);
        snmp?.addDevice(device);
        logger.info({ device: device.id, kind: device.kind }, 'device registered');
      },
      metricsText: () => metrics.metrics(),
      metricsToken: config.http.metricsToken,
      queryLimits: { ...config.store.query, timeoutMs: config.store.query.timeoutSeconds * 1000 },
      ready: () => true,
      // Store and rules are ready once opened (startWatchfloor awaited them) until stop() begins.
      readiness: () => ({ store: !stopping, broker: external ? external.connected : !mqttBroker?.aedes.closed, rules: !stopping }),
      dataDir: config.dataDir,
      onSecurityEvent: reportSecurityEvent,
      commandBus: aedesCommandBus(link),
      metricsRegistry: metrics,
    },
    { host: config.http.host, port: config.http.port, tls: config.http.tls, corsOrigins: config.http.corsOrigins, publicUrl: config.http.publicUrl },
  );
  for (const entry of mqttAuditBacklog.splice(0)) ops.parts.auditLog.append(entry);

  const ticker = setInterval(() => {
    // A throw from a timer is an uncaught exception: guarded, logged and counted, never fatal.
    try {
      const changes = rules.tick(clock.now());
      if (changes.length > 0) publishAlerts(changes);
    } catch (err) {
      rules.evaluationErrors++;
      logger.error({ err: err instanceof Error ? err.stack ?? err.message : String(err) }, 'rules: tick failed; skipped');
    }
  }, 1000);
  ticker.unref();

  const app: Watchfloor = {
    httpPort: ops.port,
    mqttPort: mqttBroker?.port ?? Number(new URL(config.mqtt.external?.url ?? 'mqtt://x').port || 1883),
    broker: mqttBroker,
    externalBroker: external,
    store,
    rules,
    ingest,
    snmp,
    ops,
    estate,
    accounts,
    generatedAdminPassword: admin.generatedPassword,
    get fleet() {
      return demo?.current;
    },
    get snmpEstate() {
      return snmpEstate;
    },
    async startSimulation(sim = {}) {
      if (sim.snmp !== false && !snmpEstate) {
        // The agents come up while the poller's first polls are spread over its first seconds; a poll
        // that goes out before its agent binds is answered on the poller's retry.
        snmpEstate = await startSnmpEstate(estate.inventory, { ports: sim.snmpPorts, logger });
        for (const m of snmpEstate.moved) {
          const device = estate.devices.get(m.device);
          if (device?.snmp) snmp.addDevice({ ...device, snmp: { ...device.snmp, port: m.to } });
        }
      }
      // The fleet logs in like the collectors: the simulator account on the embedded broker, the collector
      // account on an external one (whose accounts Watchfloor does not keep).
      const as = externalCollector
        ? { brokerUrl: externalCollector.url, username: externalCollector.username, password: externalCollector.password }
        : { brokerUrl: `mqtt://127.0.0.1:${(mqttBroker as Broker).port}`, username: SIMULATOR_ACCOUNT, password: await simulatorPassword(config.dataDir, accounts) };
      const launch = (clientId: string): Promise<Fleet> =>
        startFleet({
          clientId,
          ...as,
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
      stopping = true;
      clearInterval(ticker);
      await demo?.stop().catch(() => undefined);
      await ops.close();
      sessions.close();
      await snmp?.stop();
      // After the poller, so stopping the agents is not seen as the gear going down.
      await snmpEstate?.stop();
      await ingest.stop();
      await mqttBroker?.close();
      await external?.close();
      await wal.close();
      await store.close();
      alertRules.close();
      // Last: stopping the poller and the broker can still add events.
      events.close();
      securityEvents.close();
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
    writeSecretFile(file, `${password}\n`);
  }
  tightenSecretFile(file);
  if (!(await accounts.authenticate(SIMULATOR_ACCOUNT, password))) await accounts.setCollector(SIMULATOR_ACCOUNT, password, '*');
  return password;
}
