import { randomSecret, type Clock, type Device, type Estate, type Logger, type SecurityEvent } from '../../core/index.ts';
import { TrapReceiver } from '../traps/receiver.ts';
import { connectMqttAccumulator, type MqttAccumulator } from './mqtt-accumulator.ts';
import { SnmpPoller } from './poller.ts';

/** The collector account's credential book entry (broker/accounts.ts `setCollector`). */
export interface CollectorAccounts {
  setCollector(username: string, password: string, devices: '*' | string[]): Promise<void>;
}

export interface SnmpCollectorsOptions {
  estate: Estate;
  accounts: CollectorAccounts;
  mqttPort: number;
  trapPort: number;
  trapHost?: string;
  logger: Logger;
  clock?: Clock;
  onSecurityEvent: (e: SecurityEvent) => void;
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
 * Starts the poller for every inventory device with an `snmp` block and the trap receiver, both publishing
 * onto the broker as the `snmp-collector` account (a fresh password each start, held only in memory).
 */
export async function startSnmpCollectors(o: SnmpCollectorsOptions): Promise<SnmpCollectors> {
  const password = randomSecret();
  await o.accounts.setCollector(SNMP_COLLECTOR_ACCOUNT, password, '*');
  const accumulator = await connectMqttAccumulator({
    brokerUrl: `mqtt://127.0.0.1:${o.mqttPort}`, username: SNMP_COLLECTOR_ACCOUNT, password, clientId: `${SNMP_COLLECTOR_ACCOUNT}-${process.pid}`, logger: o.logger,
  });
  const targets = [...o.estate.devices.values()].flatMap((d) => (d.snmp ? [{ device: d.id, snmp: d.snmp }] : []));
  const poller = new SnmpPoller({ targets, accumulator, logger: o.logger, clock: o.clock });
  await poller.start();
  let traps: TrapReceiver | undefined = new TrapReceiver({
    port: o.trapPort, address: o.trapHost, devices: () => o.estate.devices.values(), accumulator, onSecurityEvent: o.onSecurityEvent, logger: o.logger, clock: o.clock,
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
      if (!device.snmp) return;
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
