import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MqttAccounts, type Broker, type ExternalBroker } from '../broker/index.ts';
import { ChecksCollector, registerCheckMetrics, startMqttIngest, type Collector, type MqttIngest, type SnmpCollectors } from '../collectors/index.ts';
import { systemClock, type Clock, type Config, type DeviceEvent, type Estate, type Inventory, type Logger, type SecurityEvent } from '../core/index.ts';
import { startOpsServer, UserBook, type OpsServer } from '../ops-server/index.ts';
import { builtinRulesPath, loadRulesFile, openRules, withSiteDefaults, type RuleDef, type RuleEngine } from '../rules/index.ts';
import type { Fleet, ServiceEstate, SnmpEstate } from '../simulators/index.ts';
import { openStore, openWriteAheadLog, type TimeSeriesStore } from '../store/index.ts';
import { startCollectors } from './collectors.ts';
import { EventLog } from './event-log.ts';
import { Fanout } from './fanout.ts';
import { ingestPaths } from './ingest-pipeline.ts';
import { productMetrics } from './metrics.ts';
import { MqttAuditRelay, startMqttLink } from './mqtt-link.ts';
import { openSessions, opsContext } from './ops-context.ts';
import { PresenceBook } from './presence.ts';
import { loadEstate, RegisteredDevices } from './registered-devices.ts';
import { loadLinks, RegisteredLinks } from './registered-links.ts';
import { startRuleTicker } from './rule-ticker.ts';
import { ProductServices } from './services.ts';
import { Simulation, syslogTarget, type SimulationOptions } from './simulation.ts';
import { openSocLogs, type SocLogs } from './soc-logs.ts';
import { Shutdown } from './stop.ts';
import { openDataDir } from './data-dir.ts';
import { packageVersion } from './version.ts';

export { simulatorPassword } from './simulation.ts';
export { rulesFor } from './rules-source.ts';

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
  /** Every collector started through the registry (collectors/registry.ts), `snmp` among them. */
  readonly collectors: readonly Collector[];
  readonly ops: OpsServer;
  /** The log path (cli/soc-logs.ts): the log store, the Sigma engine, detections. */
  readonly logs: SocLogs;
  readonly estate: Estate;
  readonly accounts: MqttAccounts;
  /** The admin password when this start generated it (print it once), else undefined. */
  readonly generatedAdminPassword?: string;
  readonly fleet?: Fleet;
  /** The simulated SNMP agents of the inventory's loopback `snmp` devices, once startSimulation ran. */
  readonly snmpEstate?: SnmpEstate;
  /** The services (issue 16): the book, their check results' ingest step, their alerts (cli/services.ts). */
  readonly services: ProductServices;
  /** The simulated e-government services (faults to switch), once startSimulation ran. */
  readonly serviceEstate?: ServiceEstate;
  /**
   * Starts the bundled sensor fleet against this broker (embedded or external) and the simulated SNMP
   * agents (what `--simulate` does); `snmpPorts` binds agents elsewhere than their inventory ports (the
   * poller follows them).
   */
  startSimulation(options?: SimulationOptions): Promise<Fleet>;
  stop(): Promise<void>;
}

/** Starts the product: store, rules, broker, ingest, collectors and ops server, wired as the design brief draws them. */
export async function startWatchfloor(options: WatchfloorOptions): Promise<Watchfloor> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const dir = (...parts: string[]): string => join(config.dataDir, ...parts);
  mkdirSync(config.dataDir, { recursive: true });
  // Before any part reads a file: refuse a newer data format, migrate an older one (cli/data-dir.ts).
  openDataDir(config.dataDir, { version: packageVersion, now: clock.now(), logger });
  const shutdown = new Shutdown();

  // Who and what: the inventory plus devices registered through the API, users, MQTT accounts.
  const registered = new RegisteredDevices(dir('devices.json'), options.inventory.snmpProfiles);
  const estate = loadEstate(options.inventory, registered, logger);
  // Links accepted from discovery proposals (DATA_DIR/links.json), beside the inventory file's.
  const links = new RegisteredLinks(dir('links.json'));
  loadLinks(estate, links, logger);
  const users = new UserBook(dir('users.json'));
  const admin = await users.ensureAdmin(options.adminPassword, clock.now());
  const accounts = new MqttAccounts(dir('mqtt-accounts.json'));

  // Time series: the store, and the fsynced log QoS 1 telemetry is acknowledged on (a crash's leftovers go back in now).
  const store = await openStore(config.store, {
    dir: dir('tsdb'), logger, clock,
    // A cardinality explosion becomes a device event of the device that caused it; the rule series-limit-reached alerts on it.
    onSeriesLimit: (e) => paths.sink.event({ device: e.device, ts: e.ts, type: 'series_limit_reached', severity: 'major', attributes: { metric: e.metric, series: e.series, maxSeries: e.maxSeries, refused: e.refused } }),
  });
  const wal = await openWriteAheadLog(store, { dir: dir('tsdb', 'ingest-wal'), logger });

  // Rules and where their changes go; device and security events outlive a restart (the last 10,000 of each).
  const fanout = new Fanout();
  const alertRules = openRules({
    rules: options.rules ?? loadRulesFile(builtinRulesPath), source: options.rulesSource ?? (options.rules ? undefined : () => loadRulesFile(builtinRulesPath)),
    dataDir: config.dataDir, estate, clock, logger, notify: withSiteDefaults(config.notify, config.http, options.inventory.sites), publish: fanout.alerts,
  });
  const rules: RuleEngine = alertRules.engine;
  const events = new EventLog<DeviceEvent>(10_000, dir('events', 'device-events.jsonl'), logger);
  const securityEvents = new EventLog<SecurityEvent>(10_000, dir('events', 'security-events.jsonl'), logger);
  const simulation = new Simulation({ estate, accounts, dataDir: config.dataDir, logger });
  const presence = new PresenceBook({ estate, rules, fanout, clock, takesBack: simulation.takesBack, stopping: shutdown.stopping });
  // Services (issue 16): the book, the ingest step of check results, their alerts (cli/services.ts).
  const services = new ProductServices({ estate, dataDir: config.dataDir, store, rules, fanout, presence, clock, logger });
  // Logs (issue 15): the embedded log store under DATA_DIR/logs in both store modes, Sigma on every line (cli/soc-logs.ts).
  const logs = await openSocLogs({ config, rules, alerts: fanout.alerts, logger, clock });
  const paths = ingestPaths({ store, rules, fanout, presence, events, securityEvents, services, logs });

  // MQTT: the broker (or an external one), ingest on it, and the collectors publishing onto it.
  const audit = new MqttAuditRelay(clock);
  const mqtt = await startMqttLink({
    config, estate, accounts, logger, durableAcks: options.durableAcks, onSecurityEvent: paths.securityEvent, onAudit: audit.append,
    onClient: (event) => {
      presence.onClient(event);
      simulation.onClient(event);
    },
  });
  fanout.attachBus(mqtt.bus);
  const ingest = await startMqttIngest({
    // Presence watches the status messages on their way in, to judge each by when the broker took it (cli/presence.ts).
    source: presence.watch(mqtt.bus), estate, sink: paths.sink, clock, logger, log: wal, shareGroup: config.mqtt.external?.shareGroup, partition: config.mqtt.ingestPartition,
  });
  mqtt.holdAcksFor(ingest);
  const collectors = await startCollectors({
    config, estate, publishTo: mqtt.collectorTarget, partition: config.mqtt.ingestPartition, logger, clock, onSecurityEvent: paths.securityEvent, services: services.book,
  });

  // Every part's figures on /metrics (each registered next to what it measures); the ops server adds HTTP latency.
  const metrics = productMetrics({ ingest, broker: mqtt.broker, store, rules, evaluationTime: paths.evaluationTime, socketClients: () => fanout.clients, wal });
  const checks = collectors.all.find((c): c is ChecksCollector => c instanceof ChecksCollector);
  if (checks) registerCheckMetrics(metrics, checks);
  logs.registerMetrics(metrics, collectors.all);

  // The ops server: REST, socket.io and the UI over all of the above.
  const sessions = openSessions(config.dataDir, users, clock, logger);
  const ops = await startOpsServer(
    opsContext({
      config, clock, logger, estate, registered, links, users, accounts, store, rules, alertDesk: alertRules.desk, events, securityEvents, presence,
      mqtt, collectors, metrics, onSecurityEvent: paths.securityEvent, stopping: shutdown.stopping, services: services.book, logs: logs.store,
      ...(alertRules.notifier ? { notify: alertRules.notifier } : {}),
    }, sessions),
    { host: config.http.host, port: config.http.port, tls: config.http.tls, corsOrigins: config.http.corsOrigins, publicUrl: config.http.publicUrl },
  );
  fanout.attachScreens(ops.realtime);
  logs.attachScreens(ops.realtime);
  services.attachScreens(ops.realtime);
  services.start();
  audit.attach(ops.parts.auditLog);
  const stopTicker = startRuleTicker(rules, fanout, clock, logger);

  return {
    httpPort: ops.port, mqttPort: mqtt.port, broker: mqtt.broker, externalBroker: mqtt.external,
    store, rules, ingest, snmp: collectors.snmp, collectors: collectors.all, ops, logs, estate, accounts,
    generatedAdminPassword: admin.generatedPassword,
    get fleet() {
      return simulation.fleet;
    },
    get snmpEstate() {
      return simulation.snmpEstate;
    },
    services,
    get serviceEstate() {
      return simulation.serviceEstate;
    },
    startSimulation: (sim = {}) => simulation.start(sim, mqtt.collectorTarget, collectors.snmp, services, syslogTarget(config, collectors.all)),
    // The order matters: see each step.
    stop: () => shutdown.run([
      ['rule ticker', stopTicker],
      ['service evaluations', () => services.stop()],
      ['demo fleet', () => simulation.stopFleet()],
      ['ops server', () => ops.close()],
      ['sessions', () => sessions.close()],
      ['collectors', () => collectors.stop()],
      ['simulated SNMP agents, after the poller (their going is not the gear going down)', () => simulation.stopAgents()],
      ['ingest', () => ingest.stop()],
      ['log store, after ingest (the last batches are written)', () => logs.close()],
      ['MQTT broker or link', () => mqtt.close()],
      ['write-ahead log', () => wal.close()],
      ['store', () => store.close()],
      ['rules', () => alertRules.close()],
      // Last: stopping the poller and the broker can still add events.
      ['device events', () => events.close()],
      ['security events', () => securityEvents.close()],
    ]),
  };
}
