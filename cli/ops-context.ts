import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { MqttAccounts } from '../broker/index.ts';
import { NetworkDiscovery, parseDiscoveryConfig } from '../collectors/index.ts';
import type { Clock, Config, DeviceEvent, Estate, Logger, SecurityEvent } from '../core/index.ts';
import { aedesCommandBus, SessionBook, type OpsContext, type UserBook } from '../ops-server/index.ts';
import type { AlertDesk, NotifyDoor, RuleEngine, ServiceBook } from '../rules/index.ts';
import type { LogStore, TimeSeriesStore } from '../store/index.ts';
import type { RunningCollectors } from './collectors.ts';
import type { EventLog } from './event-log.ts';
import type { MqttLink } from './mqtt-link.ts';
import type { PresenceBook } from './presence.ts';
import type { RegisteredDevices } from './registered-devices.ts';
import type { RegisteredLinks } from './registered-links.ts';

/** The parts of the running product the ops server reads and acts on. */
export interface ProductParts {
  config: Config;
  clock: Clock;
  logger: Logger;
  estate: Estate;
  registered: RegisteredDevices;
  /** Links added over the API (accepted discovery proposals): DATA_DIR/links.json. */
  links?: RegisteredLinks;
  users: UserBook;
  accounts: MqttAccounts;
  store: TimeSeriesStore;
  rules: RuleEngine;
  alertDesk: AlertDesk;
  events: EventLog<DeviceEvent>;
  securityEvents: EventLog<SecurityEvent>;
  presence: PresenceBook;
  mqtt: MqttLink;
  collectors: RunningCollectors;
  metrics: Registry;
  onSecurityEvent(e: SecurityEvent): void;
  /** True once stop() began. */
  stopping(): boolean;
  /** The services (issue 16): /api/v1/services and the public /status. */
  services?: ServiceBook;
  /** The log store (cli/soc-logs.ts): /api/v1/logs and the SOC's investigation routes. */
  logs?: LogStore;
  /** The notifier: the Telegram and Slack button callbacks. */
  notify?: NotifyDoor;
}

/**
 * The ops server's sessions: they outlive a restart (sessions.json keeps digests of their ids), so wall
 * screens stay logged in; those of users removed, disabled or given another role meanwhile are ended.
 */
export function openSessions(dataDir: string, users: UserBook, clock: Clock, logger: Logger): SessionBook {
  const sessions = new SessionBook(clock, { file: join(dataDir, 'sessions.json'), warn: (m) => logger.warn(m) });
  const ended = sessions.retain((s) => {
    const user = users.get(s.username);
    return user !== undefined && !user.disabled && user.role === s.role;
  });
  if (ended) logger.info({ ended }, 'http: sessions of users removed, disabled or given another role while the server was down were ended');
  return sessions;
}

/** What startOpsServer is given: each API's source among the product's parts. */
export function opsContext(p: ProductParts, sessions: SessionBook): OpsContext {
  const { config, store, rules, events, securityEvents } = p;
  // Hosts the line protocol collector auto-registers are kept as POST /api/v1/devices keeps them (persisted, every collector told).
  const lineProtocol = p.collectors.lineProtocol;
  lineProtocol?.setRegistrar(async (device) => {
    p.registered.add(device);
    p.estate.add(device);
    p.collectors.deviceAdded(device);
  });
  return {
    clock: p.clock,
    logger: p.logger,
    estate: p.estate,
    users: p.users,
    ...(config.auth.ldap ? { ldap: config.auth.ldap } : {}),
    sessions,
    latest: (sel) => store.latest(sel),
    range: (q) => store.range(q),
    timeseries: store,
    alerts: (f) => rules.alerts(f),
    alert: (id) => rules.get(id),
    alertDesk: p.alertDesk,
    events: (f) => events.query((e) => (!f.device || e.device === f.device) && (!f.type || e.type === f.type), f.since),
    securityEvents: (f) => securityEvents.query(() => true, f.since),
    presence: (d) => p.presence.get(d),
    mqttAccounts: p.accounts,
    async registerDevice(device, password) {
      if (password) await p.accounts.setDevicePassword(device.id, password);
      p.registered.add(device);
      p.estate.add(device);
      p.collectors.deviceAdded(device);
      p.logger.info({ device: device.id, kind: device.kind }, 'device registered');
    },
    async updateDevice(device) {
      p.registered.add(device);
      p.estate.add(device);
      // The poller's slot is replaced (or dropped when the device has no `snmp` block any more).
      p.collectors.snmp.poller.remove(device.id);
      p.collectors.deviceAdded(device);
      p.logger.info({ device: device.id, kind: device.kind }, 'device changed');
    },
    async removeDevice(deviceId) {
      p.registered.remove(deviceId);
      p.estate.remove(deviceId);
      p.collectors.snmp.poller.remove(deviceId);
      if (p.accounts.get(deviceId)?.role === 'device') p.accounts.remove(deviceId);
      // Its links go with it (only links added over the API can name a device added over the API), or the export would not load.
      const links = p.estate.removeLinksOf(deviceId).map((l) => l.id);
      p.links?.removeDevice(deviceId);
      p.logger.info({ device: deviceId, ...(links.length > 0 ? { links } : {}) }, 'device removed');
    },
    async addLink(link) {
      p.links?.add(link);
      p.estate.addLink(link);
      p.logger.info({ link: link.id, a: link.a.device, b: link.b.device }, 'link added');
    },
    metricsText: () => p.metrics.metrics(),
    metricsToken: config.http.metricsToken,
    queryLimits: { ...config.store.query, timeoutMs: config.store.query.timeoutSeconds * 1000 },
    ready: () => true,
    // Store and rules are ready once opened (startWatchfloor awaited them) until stop() begins.
    readiness: () => ({ store: !p.stopping(), broker: p.mqtt.connected(), rules: !p.stopping() }),
    dataDir: config.dataDir,
    onSecurityEvent: p.onSecurityEvent,
    commandBus: aedesCommandBus(p.mqtt.bus),
    metricsRegistry: p.metrics,
    // Sweeps propose devices and links; accepting one goes through registerDevice above (routes/discovery.ts).
    discovery: new NetworkDiscovery({ estate: p.estate, config: parseDiscoveryConfig(config.discovery), profiles: p.collectors.snmp.profiles, clock: p.clock, logger: p.logger, stopping: p.stopping }),
    ...(lineProtocol ? { lineProtocol } : {}),
    ...(p.services ? { services: p.services } : {}),
    ...(p.logs ? { logs: p.logs } : {}),
    ...(p.notify ? { notify: p.notify } : {}),
  };
}
