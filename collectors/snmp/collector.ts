/*
 * The SNMP collector of the running product: the poller (collectors/snmp) and the trap receiver
 * (collectors/traps) on one MQTT link, registered as `snmp` (collectors/snmp/index.ts).
 */
import { randomSecret, type Clock, type Device, type Estate, type Logger, type SecurityEvent } from '../../core/index.ts';
import { partitionOf, type IngestPartition } from '../mqtt/index.ts';
import type { Collector, CollectorContext, CollectorPublishTarget } from '../registry.ts';
import { bundledMibs, loadMibs, type MibLookup } from '../snmp-common/index.ts';
import { TrapReceiver } from '../traps/index.ts';
import { connectMqttAccumulator, type MqttAccumulator } from './mqtt-accumulator.ts';
import { SnmpPoller } from './poller.ts';
import { loadProfileSet, type ProfileSet } from './profiles.ts';

export interface SnmpCollectorsOptions {
  estate: Estate;
  publishTo: CollectorPublishTarget;
  /** Poll only this partition's devices: the full nodes of a scale-out share the estate, each polls its part. */
  partition?: IngestPartition;
  trapPort: number;
  trapHost?: string;
  logger: Logger;
  clock?: Clock;
  onSecurityEvent: (e: SecurityEvent) => void;
  /** Device profiles: the bundled ones plus `snmp.profilesDir`'s (loadProfileSet); the bundled ones when absent. */
  profiles?: ProfileSet;
  /** MIB names for traps and profiles (`snmp.mibsDir`, loadMibs); net-snmp's bundled modules when absent. */
  mibs?: MibLookup;
}

/** The SNMP side of the running product. */
export interface SnmpCollectors {
  readonly poller: SnmpPoller;
  /** Undefined when the trap port could not be bound (logged; polling still runs). */
  readonly traps: TrapReceiver | undefined;
  readonly accumulator: MqttAccumulator;
  /** Starts polling a device registered at run time (POST /api/v1/devices with an `snmp` block). */
  addDevice(device: Device): void;
  stop(): Promise<void>;
}

export const SNMP_COLLECTOR_ACCOUNT = 'snmp-collector';

/**
 * Starts the poller for every inventory device with an `snmp` block (of its partition, if any) and the
 * trap receiver, both publishing onto the broker: the embedded one as the `snmp-collector` account (a
 * fresh password each start, held only in memory), or an external one as the account configured for it.
 */
export async function startSnmpCollectors(o: SnmpCollectorsOptions): Promise<SnmpCollectors> {
  // Unique per process and start: two nodes on one external broker must not take each other's session.
  const clientId = `${SNMP_COLLECTOR_ACCOUNT}-${process.pid}-${randomSecret().slice(0, 6)}`;
  let broker: { brokerUrl: string; username?: string; password?: string };
  if ('embedded' in o.publishTo) {
    const password = randomSecret();
    await o.publishTo.embedded.accounts.setCollector(SNMP_COLLECTOR_ACCOUNT, password, '*');
    broker = { brokerUrl: `mqtt://127.0.0.1:${o.publishTo.embedded.port}`, username: SNMP_COLLECTOR_ACCOUNT, password };
  } else {
    broker = { brokerUrl: o.publishTo.external.url, username: o.publishTo.external.username, password: o.publishTo.external.password };
  }
  const accumulator = await connectMqttAccumulator({ ...broker, clientId, logger: o.logger });
  const mine = (device: string): boolean => !o.partition || partitionOf(device, o.partition.count) === o.partition.index;
  const targets = [...o.estate.devices.values()].flatMap((d) => (d.snmp && mine(d.id) ? [{ device: d.id, snmp: d.snmp }] : []));
  const poller = new SnmpPoller({ targets, accumulator, logger: o.logger, clock: o.clock, profiles: o.profiles });
  await poller.start();
  let traps: TrapReceiver | undefined = new TrapReceiver({
    port: o.trapPort, address: o.trapHost, devices: () => o.estate.devices.values(), accumulator, onSecurityEvent: o.onSecurityEvent, logger: o.logger, clock: o.clock, mibs: o.mibs,
  });
  try {
    await traps.start();
    o.logger.info({ port: traps.port, devices: targets.length }, 'SNMP poller and trap receiver started');
  } catch (err) {
    o.logger.error({ port: o.trapPort, err: (err as Error).message }, 'SNMP trap port unavailable; traps are not received (set snmp.trapPort or WATCHFLOOR_SNMP_TRAP_PORT)');
    await traps.stop().catch(() => undefined);
    traps = undefined;
  }
  return {
    poller,
    traps,
    accumulator,
    addDevice(device) {
      if (!device.snmp || !mine(device.id)) return;
      poller.add({ device: device.id, snmp: device.snmp });
      void poller.pollNow(device.id);
      traps?.refreshCredentials();
    },
    async stop() {
      await poller.stop();
      await traps?.stop();
      await accumulator.close();
    },
  };
}

/** The `snmp` collector: startSnmpCollectors behind the Collector interface; poller, traps and link once started. */
export class SnmpCollector implements Collector, SnmpCollectors {
  readonly name = 'snmp';
  private running: SnmpCollectors | undefined;

  constructor(private readonly options: SnmpCollectorsOptions) {}

  /** The device profiles it polls with (bundled plus `snmp.profilesDir`): discovery matches found devices against the same set. */
  get profiles(): ProfileSet | undefined {
    return this.options.profiles;
  }

  /**
   * Reads its settings from the product's context: `snmp.trapPort`, the trap receiver on `mqtt.host`,
   * the MIB files of `snmp.mibsDir` (a broken one is logged, the rest load) and the profiles of
   * `snmp.profilesDir` (one that does not validate is a ConfigError naming file and field).
   */
  static fromContext(c: CollectorContext): SnmpCollector {
    const dirs = c.config.snmp.mibsDir ?? [];
    const mibs = dirs.length > 0 ? loadMibs({ dirs, logger: c.logger }) : bundledMibs();
    const profiles = loadProfileSet({ dir: c.config.snmp.profilesDir, mibs, logger: c.logger });
    return new SnmpCollector({
      estate: c.estate, publishTo: c.publishTo, partition: c.partition, trapPort: c.config.snmp.trapPort, trapHost: c.config.mqtt.host,
      logger: c.logger, clock: c.clock, onSecurityEvent: (e) => c.onSecurityEvent(e), profiles, mibs,
    });
  }

  async start(): Promise<void> {
    this.running ??= await startSnmpCollectors(this.options);
  }

  get poller(): SnmpPoller {
    return this.started().poller;
  }

  get traps(): TrapReceiver | undefined {
    return this.started().traps;
  }

  get accumulator(): MqttAccumulator {
    return this.started().accumulator;
  }

  onDeviceAdded(device: Device): void {
    this.running?.addDevice(device);
  }

  addDevice(device: Device): void {
    this.onDeviceAdded(device);
  }

  async stop(): Promise<void> {
    await this.running?.stop();
  }

  private started(): SnmpCollectors {
    if (!this.running) throw new Error('the SNMP collector is not started');
    return this.running;
  }
}
