import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientEvent, MqttAccounts } from '../broker/index.ts';
import { SyslogCollector, type Collector, type CollectorPublishTarget, type SnmpCollectors } from '../collectors/index.ts';
import { randomSecret, tightenSecretFile, writeSecretFile, type Config, type Estate, type Logger } from '../core/index.ts';
import { startAttacker, startFleet, startSnmpEstate, type Attacker, type Fleet, type ScenarioName, type SnmpEstate } from '../simulators/index.ts';
import { DemoFleet } from './demo-fleet.ts';
import { ServiceDemo, type ServiceFaultCycle } from './service-demo.ts';
import type { ProductServices } from './services.ts';

const SIMULATOR_ACCOUNT = 'simulator';

export interface SimulationOptions {
  scenario?: ScenarioName;
  speed?: number;
  intervalMs?: number;
  /** false: no simulated SNMP agents. */
  snmp?: boolean;
  /** Binds agents elsewhere than their inventory ports (the poller follows them). */
  snmpPorts?: ReadonlyMap<string, number>;
  /** false: no simulated e-government services (simulators/services); else they run, with the demo's fault cycle unless `serviceFaults` is false. */
  services?: boolean;
  serviceFaults?: ServiceFaultCycle | false;
  /**
   * The simulated attacker (simulators/attacker) against the product's own syslog port: an attack every
   * few minutes and ordinary chatter between, so the SOC queue is live. `watchfloor start --simulate` turns it on.
   */
  attacker?: boolean | { everyMs?: number; firstAfterMs?: number; backgroundEveryMs?: number };
}

/** Where the attacker sends: the product's syslog listener (the syslog collector's bound ports). */
export interface SyslogTarget {
  host: string;
  udp?: number;
  tcp?: number;
}

/** The syslog collector's bound ports, for the simulated attacker. */
export function syslogTarget(config: Config, all: readonly Collector[]): SyslogTarget {
  const syslog = all.find((c): c is SyslogCollector => c instanceof SyslogCollector);
  return { host: config.syslog.host, ...syslog?.ports };
}

/** What `--simulate` runs: the bundled sensor fleet and the simulated SNMP agents of the inventory's loopback `snmp` devices. */
export class Simulation {
  private demo: DemoFleet | undefined;
  private agents: SnmpEstate | undefined;
  private readonly serviceDemo: ServiceDemo;
  private attackerRun: Attacker | undefined;

  constructor(private readonly o: { estate: Estate; accounts: MqttAccounts; dataDir: string; logger: Logger }) {
    this.serviceDemo = new ServiceDemo({ estate: o.estate, logger: o.logger, snmp: () => this.agents });
  }

  /** The simulated e-government services (faults to switch), once start ran. */
  get serviceEstate(): ServiceDemo['services'] {
    return this.serviceDemo.services;
  }

  get fleet(): Fleet | undefined {
    return this.demo?.current;
  }

  get snmpEstate(): SnmpEstate | undefined {
    return this.agents;
  }

  /** Starts the agents (once) and the fleet, publishing where the collectors do. */
  async start(sim: SimulationOptions, target: CollectorPublishTarget, snmp: SnmpCollectors, services?: ProductServices, syslog?: SyslogTarget): Promise<Fleet> {
    const { estate, logger } = this.o;
    if (sim.snmp !== false && !this.agents) {
      // The agents come up while the poller's first polls are spread over its first seconds; a poll
      // that goes out before its agent binds is answered on the poller's retry.
      this.agents = await startSnmpEstate(estate.inventory, { ports: sim.snmpPorts, logger });
      for (const m of this.agents.moved) {
        const device = estate.devices.get(m.device);
        if (device?.snmp) snmp.addDevice({ ...device, snmp: { ...device.snmp, port: m.to } });
      }
    }
    if (sim.services !== false && services) await this.serviceDemo.start(services, sim.serviceFaults);
    if (sim.attacker && !this.attackerRun) {
      const port = syslog?.udp ?? syslog?.tcp;
      if (port === undefined) logger.warn('simulated attacker not started: no syslog listener is up');
      else {
        const host = !syslog?.host || syslog.host === '0.0.0.0' ? '127.0.0.1' : syslog.host === '::' ? '::1' : syslog.host;
        this.attackerRun = startAttacker({ host, port, transport: syslog?.udp !== undefined ? 'udp' : 'tcp', logger, ...(typeof sim.attacker === 'object' ? sim.attacker : {}) });
        logger.info({ port }, 'simulated attacker started: its attacks reach the SOC queue every few minutes');
      }
    }
    // The fleet logs in like the collectors: the simulator account on the embedded broker, the collector
    // account on an external one (whose accounts Watchfloor does not keep).
    const as = 'external' in target
      ? { brokerUrl: target.external.url, username: target.external.username, password: target.external.password }
      : { brokerUrl: `mqtt://127.0.0.1:${target.embedded.port}`, username: SIMULATOR_ACCOUNT, password: await simulatorPassword(this.o.dataDir, this.o.accounts) };
    const launch = (clientId: string): Promise<Fleet> =>
      startFleet({ clientId, ...as, inventory: estate.inventory, scenario: sim.scenario, speed: sim.speed, intervalMs: sim.intervalMs, logger });
    this.demo = new DemoFleet(SIMULATOR_ACCOUNT, launch, logger);
    await this.demo.start();
    return this.demo.current as Fleet;
  }

  /** The broker's client events: another simulator logging in as the same account takes over (cli/demo-fleet.ts). */
  readonly onClient = (event: ClientEvent): void => {
    this.demo?.onClient(event);
  };

  /** True for an `offline` the demo fleet takes back at once. */
  readonly takesBack = (device: string): boolean => this.demo?.takesBack(device) ?? false;

  /** The fleet first (its goodbyes are not outages). */
  async stopFleet(): Promise<void> {
    await this.attackerRun?.stop().catch(() => undefined);
    this.attackerRun = undefined;
    await this.demo?.stop().catch(() => undefined);
  }

  /** After the poller, so stopping the agents is not seen as the gear going down. */
  async stopAgents(): Promise<void> {
    await this.agents?.stop();
    await this.serviceDemo.stop();
  }
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
