import { collectorNames, createCollector, LineProtocolCollector, SnmpCollector, type Collector, type CollectorContext } from '../collectors/index.ts';
import type { Device } from '../core/index.ts';

/** The running collectors, in start order. */
export interface RunningCollectors {
  readonly all: readonly Collector[];
  /** The `snmp` collector: its poller and trap receiver (Watchfloor.snmp). */
  readonly snmp: SnmpCollector;
  /** The `line_protocol` collector (collectors/line-protocol): the ops server's /write and /api/v2/write hand it their bodies. */
  readonly lineProtocol?: LineProtocolCollector;
  /** A device registered at run time, to every collector that gathers from such devices. */
  deviceAdded(device: Device): void;
  /** In reverse start order. */
  stop(): Promise<void>;
}

/**
 * Creates every registered collector (collectors/registry.ts: one registration in each collector's
 * folder) from the product's context and starts them one after another.
 */
export async function startCollectors(context: CollectorContext): Promise<RunningCollectors> {
  const all: Collector[] = [];
  for (const name of collectorNames()) {
    const collector = createCollector(name, context);
    await collector.start();
    all.push(collector);
  }
  const snmp = all.find((c): c is SnmpCollector => c instanceof SnmpCollector);
  if (!snmp) throw new Error('the snmp collector is not registered (collectors/snmp/index.ts)');
  return {
    all,
    snmp,
    lineProtocol: all.find((c): c is LineProtocolCollector => c instanceof LineProtocolCollector),
    deviceAdded(device) {
      for (const c of all) c.onDeviceAdded?.(device);
    },
    async stop() {
      for (const c of [...all].reverse()) await c.stop();
    },
  };
}
