import snmp from 'net-snmp';
import { bigintToCounter64 } from '../../collectors/index.ts';
import type { HostResources } from '../cloud.ts';
import { RecordStore } from './record-store.ts';

const T = snmp.ObjectType;
const IF = '1.3.6.1.2.1.2.2.1';
const IFX = '1.3.6.1.2.1.31.1.1.1';

/** Sim time in ms; synthetic values are functions of it, so counters advance between polls. */
export type Now = () => number;

function system(store: RecordStore, now: Now, descr: string, objectId: string, name: string): { reboot(): void } {
  let bootAt = now();
  store.set('1.3.6.1.2.1.1.1.0', T.OctetString, descr, false);
  store.set('1.3.6.1.2.1.1.2.0', T.OID, objectId, false);
  // sysUpTime in hundredths of a second since the simulated boot (RFC 3418).
  store.set('1.3.6.1.2.1.1.3.0', T.TimeTicks, () => Math.floor((now() - bootAt) / 10 + 100) % 2 ** 32, false);
  store.set('1.3.6.1.2.1.1.5.0', T.OctetString, name, false);
  return { reboot: () => { bootAt = now(); } };
}

export interface SyntheticSwitch {
  store: RecordStore;
  /** Sets an interface's ifOperStatus (1 up, 2 down); returns the linkUp/linkDown varbinds to send as a trap. */
  setOper(ifIndex: number, status: 1 | 2): { trapOid: string; varbinds: { oid: string; type: number; value: unknown }[] };
  /** Restarts the agent: sysUpTime and every counter start again from zero. */
  reboot(): void;
}

/**
 * A switch with `interfaces` ports (ifTable + ifXTable, 64-bit counters advancing at a steady load),
 * or with the named `ports` when given (ifName and ifDescr the name, each at its own speed).
 */
export function syntheticSwitch(o: { name: string; interfaces: number; speedMbps?: number; ports?: { name: string; speedMbps?: number }[]; descr?: string; now?: Now }): SyntheticSwitch {
  const now = o.now ?? Date.now;
  const store = new RecordStore();
  const count = o.ports?.length ?? o.interfaces;
  const sys = system(store, now, o.descr ?? `Watchfloor simulated switch, ${count} ports`, '1.3.6.1.4.1.99999.2.1', o.name);
  let since = now();
  const oper = new Map<number, number>();
  const ifName = (i: number): string => o.ports?.[i - 1]?.name ?? `Gi0/${i}`;
  const ports = Array.from({ length: count }, (_, k) => ({ name: ifName(k + 1), descr: o.ports ? ifName(k + 1) : `GigabitEthernet0/${k + 1}`, speedMbps: o.ports?.[k]?.speedMbps ?? o.speedMbps ?? 1000 }));
  for (let i = 1; i <= count; i++) oper.set(i, 1);
  interfaceTable(store, now, ports, () => since, (i) => oper.get(i) ?? 1);
  store.reindex();
  return {
    store,
    setOper(ifIndex, status) {
      oper.set(ifIndex, status);
      return {
        trapOid: status === 2 ? '1.3.6.1.6.3.1.1.5.3' : '1.3.6.1.6.3.1.1.5.4',
        varbinds: [
          { oid: `${IF}.1.${ifIndex}`, type: T.Integer, value: ifIndex },
          { oid: `${IF}.7.${ifIndex}`, type: T.Integer, value: 1 },
          { oid: `${IF}.8.${ifIndex}`, type: T.Integer, value: status },
          { oid: `${IFX}.1.${ifIndex}`, type: T.OctetString, value: ifName(ifIndex) },
        ],
      };
    },
    reboot() {
      sys.reboot();
      since = now();
    },
  };
}

/**
 * IF-MIB ifTable and ifXTable rows for `ports` (ifIndex from 1): each port carries a steady share of
 * its speed (5..45 %), in and out a little different, counted from `since()`.
 */
function interfaceTable(store: RecordStore, now: Now, ports: readonly { name: string; descr?: string; speedMbps: number }[], since: () => number, operOf: (ifIndex: number) => number): void {
  store.set(`1.3.6.1.2.1.2.1.0`, T.Integer, ports.length, false);
  ports.forEach((port, k) => {
    const i = k + 1;
    const speed = port.speedMbps * 1e6;
    const load = 0.05 + ((i * 37) % 41) / 100;
    const octets = (share: number) => (): bigint => BigInt(Math.floor(((now() - since()) / 1000) * (speed / 8) * share));
    const inOct = octets(load);
    const outOct = octets(load * 0.7);
    store.set(`${IF}.1.${i}`, T.Integer, i, false);
    store.set(`${IF}.2.${i}`, T.OctetString, port.descr ?? port.name, false);
    store.set(`${IF}.3.${i}`, T.Integer, 6, false);
    store.set(`${IF}.5.${i}`, T.Gauge, Math.min(speed, 4294967295), false);
    store.set(`${IF}.7.${i}`, T.Integer, 1, false);
    store.set(`${IF}.8.${i}`, T.Integer, () => operOf(i), false);
    store.set(`${IF}.10.${i}`, T.Counter, () => Number(inOct() % 2n ** 32n), false);
    store.set(`${IF}.13.${i}`, T.Counter, 0, false);
    store.set(`${IF}.14.${i}`, T.Counter, () => Math.floor((now() - since()) / 60_000) % 2 ** 32, false);
    store.set(`${IF}.16.${i}`, T.Counter, () => Number(outOct() % 2n ** 32n), false);
    store.set(`${IF}.19.${i}`, T.Counter, 0, false);
    store.set(`${IF}.20.${i}`, T.Counter, 0, false);
    store.set(`${IFX}.1.${i}`, T.OctetString, port.name, false);
    store.set(`${IFX}.6.${i}`, T.Counter64, () => bigintToCounter64(inOct()), false);
    store.set(`${IFX}.10.${i}`, T.Counter64, () => bigintToCounter64(outOct()), false);
    store.set(`${IFX}.15.${i}`, T.Gauge, port.speedMbps, false);
    store.set(`${IFX}.19.${i}`, T.TimeTicks, 0, false);
  });
}

export interface SyntheticUps {
  store: RecordStore;
  /** Goes on battery (or back to mains); returns the upsTrapOnBattery varbinds when going on battery. */
  setOnBattery(on: boolean): { trapOid: string; varbinds: { oid: string; type: number; value: unknown }[] } | undefined;
}

/** A UPS speaking UPS-MIB (RFC 1628): on mains or on battery, charge draining while on battery. */
export function syntheticUps(o: { name: string; loadPct?: number; now?: Now }): SyntheticUps {
  const now = o.now ?? Date.now;
  const store = new RecordStore();
  system(store, now, 'Watchfloor simulated UPS (UPS-MIB)', '1.3.6.1.2.1.33', o.name);
  let batterySince: number | undefined;
  const secondsOn = (): number => (batterySince === undefined ? 0 : Math.floor((now() - batterySince) / 1000));
  const charge = (): number => Math.max(0, 100 - Math.floor(secondsOn() / 30));
  const minutes = (): number => Math.max(0, Math.floor((charge() / 100) * 45));
  const U = '1.3.6.1.2.1.33.1';
  store.set(`${U}.2.1.0`, T.Integer, () => (batterySince === undefined ? 2 : charge() < 20 ? 3 : 2), false);
  store.set(`${U}.2.2.0`, T.Integer, secondsOn, false);
  store.set(`${U}.2.3.0`, T.Integer, minutes, false);
  store.set(`${U}.2.4.0`, T.Integer, charge, false);
  store.set(`${U}.4.1.0`, T.Integer, () => (batterySince === undefined ? 3 : 5), false);
  store.set(`${U}.4.3.0`, T.Integer, 1, false);
  store.set(`${U}.4.4.1.2.1`, T.Integer, 230, false);
  store.set(`${U}.4.4.1.5.1`, T.Integer, o.loadPct ?? 42, false);
  store.set(`${U}.9.7.0`, T.Integer, 5, false);
  store.reindex();
  return {
    store,
    setOnBattery(on) {
      if (on && batterySince === undefined) {
        batterySince = now();
        return {
          trapOid: '1.3.6.1.2.1.33.2.1',
          varbinds: [
            { oid: `${U}.2.3.0`, type: T.Integer, value: minutes() },
            { oid: `${U}.2.2.0`, type: T.Integer, value: 0 },
            { oid: `${U}.9.7.0`, type: T.Integer, value: 5 },
          ],
        };
      }
      if (!on) batterySince = undefined;
      return undefined;
    },
  };
}

export interface SyntheticPdu {
  store: RecordStore;
  /** Draws `amps` on every phase (a server room's load moved onto this rack); undefined: back to its own load. */
  setLoad(amps: number | undefined): void;
}

/** rPDU2 load states (PowerNet-MIB): lowLoad(1), normal(2), nearOverload(3), overload(4). */
const LOAD_STATE = { normal: 2, nearOverload: 3, overload: 4 } as const;
/** The PDU's own thresholds, as a share of its rating: APC's defaults put near overload at 80 %. */
const NEAR_OVERLOAD = 0.8;

/**
 * An APC-style rack PDU (PowerNet rPDU2 device and phase tables), its load moving a little around
 * `amps` (a number, or a function of time: the sample's model). Like a real one, it judges each
 * phase against its rating and says nearOverload or overload in the phase and device status.
 */
export function syntheticPdu(o: { name: string; phases?: number; amps?: number | (() => number); ratedA?: number; now?: Now }): SyntheticPdu {
  const now = o.now ?? Date.now;
  const store = new RecordStore();
  system(store, now, 'Watchfloor simulated rack PDU (PowerNet rPDU2)', '1.3.6.1.4.1.318.1.3.4.6', o.name);
  const R = '1.3.6.1.4.1.318.1.1.26';
  const own = o.amps ?? 6;
  let forced: number | undefined;
  const base = (): number => forced ?? (typeof own === 'function' ? own() : own);
  const rated = o.ratedA ?? 32;
  const wobble = (k: number) => (): number => base() * (1 + 0.05 * Math.sin(now() / 60_000 + k));
  const stateOf = (amps: number): number => (amps >= rated ? LOAD_STATE.overload : amps >= NEAR_OVERLOAD * rated ? LOAD_STATE.nearOverload : LOAD_STATE.normal);
  const phases = o.phases ?? 1;
  const draws: (() => number)[] = [];
  for (let p = 1; p <= phases; p++) {
    const a = wobble(p);
    draws.push(a);
    store.set(`${R}.6.3.1.1.${p}`, T.Integer, p, false);
    store.set(`${R}.6.3.1.3.${p}`, T.Integer, p, false);
    store.set(`${R}.6.3.1.4.${p}`, T.Integer, () => stateOf(a()), false);
    store.set(`${R}.6.3.1.5.${p}`, T.Integer, () => Math.round(a() * 10), false);
    store.set(`${R}.6.3.1.6.${p}`, T.Integer, 230, false);
    store.set(`${R}.6.3.1.7.${p}`, T.Integer, () => Math.round((a() * 230) / 10), false);
  }
  const total = (): number => draws.reduce((sum, a) => sum + a(), 0);
  store.set(`${R}.4.3.1.1.1`, T.Integer, 1, false);
  // The device's state is its worst phase's.
  store.set(`${R}.4.3.1.4.1`, T.Integer, () => Math.max(...draws.map((a) => stateOf(a()))), false);
  store.set(`${R}.4.3.1.5.1`, T.Integer, () => Math.round((total() * 230) / 10), false);
  store.set(`${R}.4.3.1.9.1`, T.Integer, () => Math.floor(now() / 3_600_000) % 100_000, false);
  store.reindex();
  return {
    store,
    setLoad(amps) {
      forced = amps;
    },
  };
}

/** A CRAC unit or an environmental monitor: ENTITY-SENSOR-MIB celsius sensors named by entPhysicalName. */
export function syntheticSensors(o: { name: string; kind: 'crac' | 'environment'; sensors: { name: string; celsius: () => number }[]; now?: Now }): { store: RecordStore } {
  const now = o.now ?? Date.now;
  const store = new RecordStore();
  system(store, now, `Watchfloor simulated ${o.kind === 'crac' ? 'CRAC unit' : 'environmental monitor'}`, `1.3.6.1.4.1.99999.1.${o.kind === 'crac' ? 2 : 3}`, o.name);
  o.sensors.forEach((s, k) => {
    const i = k + 1;
    store.set(`1.3.6.1.2.1.47.1.1.1.1.7.${i}`, T.OctetString, s.name, false);
    store.set(`1.3.6.1.2.1.99.1.1.1.1.${i}`, T.Integer, 8, false); // celsius(8)
    store.set(`1.3.6.1.2.1.99.1.1.1.2.${i}`, T.Integer, 9, false); // units(9)
    store.set(`1.3.6.1.2.1.99.1.1.1.3.${i}`, T.Integer, 1, false); // one decimal
    store.set(`1.3.6.1.2.1.99.1.1.1.4.${i}`, T.Integer, () => Math.round(s.celsius() * 10), false);
    store.set(`1.3.6.1.2.1.99.1.1.1.5.${i}`, T.Integer, 1, false);
  });
  store.reindex();
  return { store };
}

// HOST-RESOURCES-MIB (RFC 2790): hrStorage 1.3.6.1.2.1.25.2, hrDevice 1.3.6.1.2.1.25.3.
const HR = '1.3.6.1.2.1.25';
const HR_STORAGE_RAM = `${HR}.2.1.2`;
const HR_STORAGE_VIRTUAL = `${HR}.2.1.3`;
const HR_STORAGE_FIXED_DISK = `${HR}.2.1.4`;
const HR_DEVICE_PROCESSOR = `${HR}.3.1.3`;
/** net-snmp numbers processors from hrDeviceIndex 196608 (hrDeviceProcessor(3) << 16) on Linux. */
const FIRST_CPU_INDEX = 196_608;
/** net-snmp's hrStorageIndex: 1 physical memory, 10 swap, 31 and up the mounted file systems. */
const STORAGE_INDEX = { ram: 1, swap: 10, firstDisk: 31 };
const INT32_MAX = 2 ** 31 - 1;

/** hrStorageSize and hrStorageUsed are Integer32 (RFC 2790): a big pool is counted in bigger allocation units. */
function allocationUnit(totalBytes: number, smallest: number): number {
  let unit = smallest;
  while (totalBytes / unit > INT32_MAX) unit *= 2;
  return unit;
}

/**
 * A Linux machine running Net-SNMP (sysObjectID netSnmpAgentOIDs.linux): HOST-RESOURCES-MIB with a
 * hrDeviceTable/hrProcessorTable row per logical CPU and hrStorageTable rows for physical memory,
 * swap and each fixed disk, laid out as net-snmp does (linux-full-walk.snmprec). `resources` is asked
 * at each request, once per instant, so the figures move with time.
 */
export function syntheticHost(o: {
  name: string;
  descr: string;
  resources: (now: number) => HostResources;
  /** Its network interfaces (a SAN's controller ports, a host's NICs), all up. */
  interfaces?: readonly { name: string; speedMbps: number }[];
  cpuModel?: string;
  now?: Now;
}): { store: RecordStore } {
  const now = o.now ?? Date.now;
  const store = new RecordStore();
  system(store, now, o.descr, '1.3.6.1.4.1.8072.3.2.10', o.name);
  const started = now();
  interfaceTable(store, now, o.interfaces ?? [], () => started, () => 1);
  let last: { at: number; value: HostResources } | undefined;
  const current = (): HostResources => {
    const at = now();
    if (last?.at !== at) last = { at, value: o.resources(at) };
    return last.value;
  };
  // The rows are fixed when the agent starts, as a real host's CPUs and mounts are between reboots.
  const shape = current();
  const cpuModel = o.cpuModel ?? 'GenuineIntel: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz';
  shape.cpus.forEach((_, k) => {
    const i = FIRST_CPU_INDEX + k;
    store.set(`${HR}.3.2.1.1.${i}`, T.Integer, i, false);
    store.set(`${HR}.3.2.1.2.${i}`, T.OID, HR_DEVICE_PROCESSOR, false);
    store.set(`${HR}.3.2.1.3.${i}`, T.OctetString, cpuModel, false);
    store.set(`${HR}.3.2.1.5.${i}`, T.Integer, 2, false); // hrDeviceStatus running(2)
    store.set(`${HR}.3.3.1.1.${i}`, T.OID, '0.0', false); // hrProcessorFrwID: unknown
    store.set(`${HR}.3.3.1.2.${i}`, T.Integer, () => Math.round(current().cpus[k] ?? 0), false);
  });

  store.set(`${HR}.2.2.0`, T.Integer, Math.min(INT32_MAX, Math.round(shape.memory.totalBytes / 1024)), false); // hrMemorySize, KB
  const storage = (index: number, type: string, descr: string, unit: number, size: () => number, used: () => number): void => {
    store.set(`${HR}.2.3.1.1.${index}`, T.Integer, index, false);
    store.set(`${HR}.2.3.1.2.${index}`, T.OID, type, false);
    store.set(`${HR}.2.3.1.3.${index}`, T.OctetString, descr, false);
    store.set(`${HR}.2.3.1.4.${index}`, T.Integer, unit, false);
    store.set(`${HR}.2.3.1.5.${index}`, T.Integer, () => Math.floor(size() / unit), false);
    store.set(`${HR}.2.3.1.6.${index}`, T.Integer, () => Math.floor(used() / unit), false);
  };
  const ramUnit = allocationUnit(shape.memory.totalBytes, 1024);
  storage(STORAGE_INDEX.ram, HR_STORAGE_RAM, 'Physical memory', ramUnit, () => current().memory.totalBytes, () => current().memory.usedBytes);
  // Swap: a hypervisor keeps a little and hardly touches it.
  const swapBytes = Math.min(8 * 2 ** 30, shape.memory.totalBytes / 4);
  storage(STORAGE_INDEX.swap, HR_STORAGE_VIRTUAL, 'Swap space', 1024, () => swapBytes, () => swapBytes * 0.01);
  shape.disks.forEach((d, k) => {
    const disk = (): HostResources['disks'][number] => current().disks[k] ?? d;
    storage(STORAGE_INDEX.firstDisk + k, HR_STORAGE_FIXED_DISK, d.label, allocationUnit(d.totalBytes, 4096), () => disk().totalBytes, () => disk().usedBytes);
  });
  store.reindex();
  return { store };
}
