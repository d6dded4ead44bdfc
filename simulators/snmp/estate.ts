/**
 * The inventory's SNMP gear played by synthetic agents in this process: one agent per device whose
 * `snmp` block points at loopback, chosen by the device's kind, its values taken from the same
 * DataCenterModel that drives the MQTT sensor fleet so both paths tell one story.
 */
import { silentLogger, type Device, type Inventory, type Logger } from '../../core/index.ts';
import type { HostResources } from '../cloud.ts';
import { DataCenterModel } from '../model.ts';
import { resolveScenario } from '../scenarios.ts';
import { startAgent, type SimulatedAgent } from './agent.ts';
import type { RecordStore } from './record-store.ts';
import { syntheticHost, syntheticPdu, syntheticSensors, syntheticSwitch, syntheticUps, type SyntheticPdu, type SyntheticSwitch, type SyntheticUps } from './synthetic.ts';

export interface SnmpEstateOptions {
  /** A port per device id to bind instead of the inventory's (tests, or a host where the sample's range is busy). */
  ports?: ReadonlyMap<string, number>;
  /**
   * When a device's port is taken: true (default) binds a free port instead and lists the device in
   * `moved`, so the poller can be pointed there; false leaves the device out (listed in `skipped`).
   */
  fallbackToFreePort?: boolean;
  /** The values' source; default a model of `inventory` in the normal scenario (seed 1, like the demo fleet). */
  model?: DataCenterModel;
  logger?: Logger;
  /** Sim time in epoch ms (counters, uptime and model values are functions of it). */
  now?: () => number;
}

/** One simulated device: its agent, and the handles to change its state (link down, UPS on battery, PDU load). */
export interface SimulatedSnmpDevice {
  readonly device: string;
  readonly kind: Device['kind'];
  readonly port: number;
  readonly agent: SimulatedAgent;
  readonly switch?: SyntheticSwitch;
  readonly ups?: SyntheticUps;
  readonly pdu?: SyntheticPdu;
}

export interface SnmpEstate {
  readonly devices: ReadonlyMap<string, SimulatedSnmpDevice>;
  /** Devices whose agent listens elsewhere than their inventory port (an override, or the port was taken). */
  readonly moved: readonly { device: string; from: number; to: number }[];
  /** Devices with a loopback `snmp` block that are not simulated, and why. */
  readonly skipped: readonly { device: string; reason: string }[];
  stop(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;

/** Port speed from the usual interface-name prefixes (Gi, Te, Hu...), else the link's bandwidth. */
function speedOf(name: string, linkMbps?: number): number {
  if (/^(Hu|HundredGig)/i.test(name)) return 100_000;
  if (/^(Fo|FortyGig)/i.test(name)) return 40_000;
  if (/^(Twe|TwentyFive)/i.test(name)) return 25_000;
  if (/^(Te|TenGig)/i.test(name)) return 10_000;
  if (/^(Gi|GigabitEthernet)/i.test(name)) return 1000;
  return linkMbps ?? 1000;
}

/**
 * The ports of a switch, router or firewall: a switch gets `labels.ports` (default 48) front ports,
 * then every interface its inventory links name that is not among them (uplinks, the inter-switch
 * link); a router or firewall gets its linked interfaces.
 */
export function interfacesOf(device: Device, inventory: Inventory): { name: string; speedMbps: number }[] {
  const linked = new Map<string, number | undefined>();
  for (const l of inventory.links) {
    for (const end of [l.a, l.b]) if (end.device === device.id && end.interface) linked.set(end.interface, l.bandwidthMbps);
  }
  const out: { name: string; speedMbps: number }[] = [];
  if (device.kind === 'switch') {
    const count = Number(device.labels.ports) || 48;
    // The front ports are named `labels.portPrefix`, else like most of the linked ports when more than
    // two share a prefix (`Te1/0/` for a core switch), else `Gi1/0/`; two uplinks alone are not front ports.
    const prefixes = [...linked.keys()].map((n) => /^(.*\/)\d+$/.exec(n)?.[1]).filter((p): p is string => p !== undefined);
    const tally = new Map<string, number>();
    for (const p of prefixes) tally.set(p, (tally.get(p) ?? 0) + 1);
    const common = [...tally].sort((a, b) => b[1] - a[1])[0];
    const prefix = device.labels.portPrefix ?? (common && common[1] > 2 ? common[0] : 'Gi1/0/');
    for (let i = 1; i <= count; i++) out.push({ name: `${prefix}${i}`, speedMbps: speedOf(prefix, linked.get(`${prefix}${i}`)) });
  }
  const have = new Set(out.map((p) => p.name));
  for (const [name, mbps] of linked) if (!have.has(name)) out.push({ name, speedMbps: speedOf(name, mbps) });
  // Unlinked: a network device's management port, or a Linux host's first NIC (10 Gb/s in a cloud host).
  if (out.length === 0) out.push(['host', 'vm', 'storage'].includes(device.kind) ? { name: 'eth0', speedMbps: 10_000 } : { name: 'mgmt0', speedMbps: 1000 });
  return out;
}

interface Played {
  store: RecordStore;
  switch?: SyntheticSwitch;
  ups?: SyntheticUps;
  pdu?: SyntheticPdu;
}

/** The synthetic device for an inventory device's kind, or a reason it has none. */
function play(device: Device, inventory: Inventory, model: DataCenterModel, now: () => number): Played | string {
  const name = device.name ?? device.id;
  switch (device.kind) {
    case 'switch':
    case 'router':
    case 'firewall': {
      const ports = interfacesOf(device, inventory);
      const sw = syntheticSwitch({ name: device.id, interfaces: ports.length, ports, descr: `Watchfloor simulated ${device.kind}: ${name}`, now });
      return { store: sw.store, switch: sw };
    }
    case 'ups': {
      // The load the UPS carries now in the model (its PDUs' sum over its capacity).
      const loadPct = Math.round(model.read(device.id, now())?.load_pct ?? 42);
      const ups = syntheticUps({ name: device.id, loadPct, now });
      return { store: ups.store, ups };
    }
    case 'pdu': {
      // The current the model draws through this PDU now, followed as it moves (a rack heating up draws more).
      const amps = (): number => model.read(device.id, now())?.current_a ?? 6;
      const pdu = syntheticPdu({ name: device.id, amps, now });
      return { store: pdu.store, pdu };
    }
    case 'crac': {
      const read = (metric: string, fallback: number) => (): number => model.read(device.id, now())?.[metric] ?? fallback;
      const sensors = [
        { name: 'supply air', celsius: read('supply_temp', 18) },
        { name: 'return air', celsius: read('return_temp', 29) },
      ];
      return { store: syntheticSensors({ name: device.id, kind: 'crac', sensors, now }).store };
    }
    case 'storage':
    case 'host':
    case 'vm': {
      const first = model.hostResources(device.id, now());
      if (!first) return `no load model for ${device.kind} ${device.id}`;
      const role = { storage: 'storage array', host: 'hypervisor host', vm: 'virtual machine' }[device.kind];
      const resources = (t: number): HostResources => model.hostResources(device.id, t) ?? first;
      const interfaces = interfacesOf(device, inventory);
      return { store: syntheticHost({ name: device.id, descr: `Linux ${device.id} (Watchfloor simulated ${role}: ${name}, Net-SNMP)`, resources, interfaces, now }).store };
    }
    case 'sensor':
    case 'iot':
      if (device.sensorType === 'temperature-humidity') {
        return { store: syntheticSensors({ name: device.id, kind: 'environment', sensors: [{ name: 'probe 1', celsius: () => model.read(device.id, now())?.temperature ?? 24 }], now }).store };
      }
      return `no synthetic agent for a ${device.sensorType ?? 'generic'} sensor`;
    default:
      return `no synthetic agent for kind ${device.kind}`;
  }
}

/**
 * Starts one synthetic agent per device whose `snmp` block points at loopback (switch, router and
 * firewall with their interfaces, UPS, PDU, CRAC, temperature sensor, and storage, hypervisor host
 * and VM as Net-SNMP Linux hosts), each on its inventory port with its community or v3 user. A
 * taken port is logged and never fails the whole estate.
 */
export async function startSnmpEstate(inventory: Inventory, options: SnmpEstateOptions = {}): Promise<SnmpEstate> {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const model = options.model ?? new DataCenterModel(inventory, resolveScenario(inventory, { startedAt: now() }), 1);
  const devices = new Map<string, SimulatedSnmpDevice>();
  const moved: { device: string; from: number; to: number }[] = [];
  const skipped: { device: string; reason: string }[] = [];

  const startOne = async (d: Device): Promise<void> => {
    const snmp = d.snmp;
    if (!snmp || !LOOPBACK.test(snmp.host)) return;
    const played = play(d, inventory, model, now);
    if (typeof played === 'string') {
      skipped.push({ device: d.id, reason: played });
      return;
    }
    const address = snmp.host === 'localhost' ? '127.0.0.1' : snmp.host;
    const agentOptions = { address, community: snmp.community ?? 'public', v3: snmp.v3 };
    const wanted = options.ports?.get(d.id) ?? snmp.port;
    let agent: SimulatedAgent;
    try {
      agent = await startAgent(played.store, { ...agentOptions, port: wanted });
    } catch (err) {
      const reason = `UDP ${address}:${wanted}: ${(err as Error).message}`;
      if (options.fallbackToFreePort === false) {
        logger.warn({ device: d.id, err: reason }, 'simulated SNMP agent not started: its port is taken');
        skipped.push({ device: d.id, reason });
        return;
      }
      try {
        agent = await startAgent(played.store, agentOptions);
      } catch (again) {
        logger.warn({ device: d.id, err: (again as Error).message }, 'simulated SNMP agent not started');
        skipped.push({ device: d.id, reason: (again as Error).message });
        return;
      }
      logger.debug({ device: d.id, port: wanted, now: agent.port }, 'simulated SNMP agent: port taken, listening on another one');
    }
    if (agent.port !== snmp.port) moved.push({ device: d.id, from: snmp.port, to: agent.port });
    devices.set(d.id, { device: d.id, kind: d.kind, port: agent.port, agent, switch: played.switch, ups: played.ups, pdu: played.pdu });
  };

  await Promise.all(inventory.devices.map(startOne));
  const taken = moved.filter((m) => options.ports?.get(m.device) === undefined);
  if (taken.length > 0) {
    // One line, not one per agent: a second copy of the sample on this host takes every port of the first.
    logger.warn({ agents: taken.length, examples: taken.slice(0, 3) }, 'simulated SNMP agents: their inventory ports are taken (another Watchfloor?); they listen on free ports and the poller follows them');
  }
  logger.info({ agents: devices.size, moved: moved.length, skipped: skipped.length }, 'simulated SNMP agents started');
  return {
    devices,
    moved,
    skipped,
    async stop() {
      const all = [...devices.values()];
      devices.clear();
      await Promise.all(all.map((d) => d.agent.close()));
    },
  };
}
