/**
 * The provincial private cloud as numbers: what each VM, hypervisor host and storage array reports in
 * HOST-RESOURCES-MIB (RFC 2790), as a pure function of (device, time, seed) like the rest of the model.
 * A VM's CPU follows its workload's day in its site's time zone (the e-government portals are busy in
 * office hours), a host carries its VMs plus the hypervisor's own share, and the SAN's pools fill slowly.
 */
import { wallClock, type Device, type Estate } from '../core/index.ts';
import { drift, hash01, jitter } from './noise.ts';

/** When a VM is busy: `office` (portals, e-office: working hours), `database` (office plus a nightly backup), `steady` (log collection). */
export type Workload = 'office' | 'database' | 'steady';

/** What a Net-SNMP agent reports in HOST-RESOURCES-MIB: per-CPU load, RAM, fixed disks. */
export interface HostResources {
  /** Each logical CPU's load, % (hrProcessorLoad: its average over the last minute). */
  cpus: number[];
  memory: { totalBytes: number; usedBytes: number };
  /** Fixed disks by mount point, or a storage array's pools by name (hrStorageDescr). */
  disks: { label: string; totalBytes: number; usedBytes: number }[];
}

const GB = 2 ** 30;
const TB = 2 ** 40;
const DAY_MS = 86_400_000;

/** The hypervisor's own share of a host (KVM, its agents): % of the CPUs and GB of RAM. */
const HYPERVISOR_CPU_PCT = 3;
const HYPERVISOR_MEMORY_GB = 8;

/**
 * Office busyness through a working day, 0..1 by minute of the day: Vietnamese state offices work
 * 07:30-11:30 and 13:00-17:00, and citizens use the portals in the evening too.
 */
const WORKDAY: readonly (readonly [minute: number, busy: number])[] = [
  [0, 0.05], [6 * 60, 0.05], [7 * 60 + 30, 0.7], [8 * 60 + 30, 1], [11 * 60 + 30, 1], [12 * 60 + 15, 0.5],
  [13 * 60 + 15, 1], [16 * 60 + 45, 1], [18 * 60, 0.4], [21 * 60, 0.35], [23 * 60, 0.08], [24 * 60, 0.05],
];
/** Saturday and Sunday keep this share of a workday's busyness above the night's. */
const WEEKEND_SHARE = 0.3;
/** The database's nightly backup, local time, in minutes of the day. */
const BACKUP = { from: 60, to: 180, ramp: 15, cpuPct: 28 };

/** The pools of the sample's storage array (flash for VM disks and databases, SAS, nearline for backups). */
const SAN_POOLS = [
  { label: 'pool-ssd-tier1', tb: 46 },
  { label: 'pool-sas-tier2', tb: 184 },
  { label: 'pool-nl-backup', tb: 368 },
] as const;

interface VmProfile {
  kind: 'vm';
  id: string;
  workload: Workload;
  vcpus: number;
  memoryGb: number;
  timezone: string;
  /** CPU % at night and what office hours add to it. */
  base: number;
  amplitude: number;
}
interface HostProfile {
  kind: 'host';
  id: string;
  cpus: number;
  memoryGb: number;
  vms: VmProfile[];
}
interface StorageProfile {
  kind: 'storage';
  id: string;
  hosts: HostProfile[];
}
type CloudProfile = VmProfile | HostProfile | StorageProfile;

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const count = (label: string | undefined, fallback: number): number => {
  const n = Number(label);
  return Number.isInteger(n) && n > 0 ? n : fallback;
};
const isWorkload = (w: string | undefined): w is Workload => w === 'office' || w === 'database' || w === 'steady';

const disk = (label: string, totalBytes: number, usedPct: number): HostResources['disks'][number] => ({ label, totalBytes, usedBytes: (totalBytes * clamp(usedPct, 0, 100)) / 100 });

/** 0..1 between `from` and `to` (minutes of the day), reached over `ramp` minutes at each end. */
function plateau(minute: number, o: { from: number; to: number; ramp: number }): number {
  return clamp(Math.min(minute - o.from, o.to - minute) / o.ramp, 0, 1);
}

/** How busy office hours make a VM at `now` in `timezone` (0..1), and the local minute of the day. */
function officeDay(timezone: string, now: number): { busy: number; minute: number } {
  const { day, minute } = wallClock(now, timezone);
  const i = Math.max(1, WORKDAY.findIndex(([m]) => m > minute));
  const [m0, b0] = WORKDAY[i - 1] as readonly [number, number];
  const [m1, b1] = WORKDAY[i] as readonly [number, number];
  const busy = b0 + ((b1 - b0) * (minute - m0)) / (m1 - m0);
  const night = WORKDAY[0]?.[1] ?? 0;
  return { busy: day === 'sat' || day === 'sun' ? night + WEEKEND_SHARE * (busy - night) : busy, minute };
}

/** The hosts, VMs and storage arrays of an estate, and their HOST-RESOURCES figures at any instant. */
export class CloudModel {
  private readonly profiles = new Map<string, CloudProfile>();

  constructor(
    private readonly estate: Estate,
    private readonly seed: number,
  ) {
    const devices = [...estate.devices.values()];
    const vms = devices.filter((d) => d.kind === 'vm').map((d) => this.vmProfile(d));
    const hosts = devices
      .filter((d) => d.kind === 'host')
      .map((d): HostProfile => ({ kind: 'host', id: d.id, cpus: count(d.labels.cpus, 32), memoryGb: count(d.labels.memoryGb, 256), vms: vms.filter((vm) => estate.devices.get(vm.id)?.parents.includes(d.id)) }));
    for (const d of devices) {
      if (d.kind === 'storage') this.profiles.set(d.id, { kind: 'storage', id: d.id, hosts: hosts.filter((h) => estate.devices.get(h.id)?.parents.includes(d.id)) });
    }
    for (const h of hosts) this.profiles.set(h.id, h);
    for (const vm of vms) this.profiles.set(vm.id, vm);
  }

  /** The devices this model has figures for: storage arrays, hosts, VMs. */
  get deviceIds(): string[] {
    return [...this.profiles.keys()];
  }

  /** The device's CPUs, memory and disks at `now` (epoch ms), or undefined if it is not a host, VM or storage array. */
  resources(deviceId: string, now: number): HostResources | undefined {
    const p = this.profiles.get(deviceId);
    switch (p?.kind) {
      case 'vm':
        return this.vm(p, now);
      case 'host':
        return this.host(p, now);
      case 'storage':
        return this.storage(p, now);
      default:
        return undefined;
    }
  }

  private vmProfile(d: Device): VmProfile {
    const workload = isWorkload(d.labels.workload) ? d.labels.workload : 'office';
    const h = hash01(this.seed, `load:${d.id}`);
    const site = this.estate.tagsOf(d.id)?.site;
    const timezone = (site && this.estate.sites.get(site)?.timezone) || 'UTC';
    const [base, amplitude] = workload === 'office' ? [5 + 4 * h, 35 + 15 * h] : workload === 'database' ? [12 + 6 * h, 20 + 6 * h] : [26 + 8 * h, 8];
    return { kind: 'vm', id: d.id, workload, vcpus: count(d.labels.vcpus, 4), memoryGb: count(d.labels.memoryGb, 16), timezone, base, amplitude };
  }

  /** A VM's CPU %, averaged over its vCPUs. */
  private vmCpu(vm: VmProfile, now: number): number {
    const { busy, minute } = officeDay(vm.timezone, now);
    let pct = vm.base + vm.amplitude * busy;
    if (vm.workload === 'database') pct += BACKUP.cpuPct * plateau(minute, BACKUP);
    return clamp(pct + 3 * drift(this.seed, `cpu:${vm.id}`, now) + jitter(this.seed, `cpu:${vm.id}`, now), 1, 100);
  }

  /** A VM's RAM in use, %: a database keeps its buffer pool full, an office system caches more by day. */
  private vmMemoryPct(vm: VmProfile, now: number): number {
    const h = hash01(this.seed, `mem:${vm.id}`);
    const noise = 0.3 * jitter(this.seed, `mem:${vm.id}`, now);
    if (vm.workload === 'database') return 82 + 6 * h + drift(this.seed, `mem:${vm.id}`, now) + noise;
    if (vm.workload === 'steady') return 60 + 10 * h + 3 * drift(this.seed, `mem:${vm.id}`, now) + noise;
    return 50 + 15 * h + 6 * officeDay(vm.timezone, now).busy + 2 * drift(this.seed, `mem:${vm.id}`, now) + noise;
  }

  private vm(vm: VmProfile, now: number): HostResources {
    const dataTb = vm.workload === 'database' ? 2 : vm.workload === 'steady' ? 4 : 0.5;
    // A log collector's retention deletes old indices often; an office system's data grows for months.
    const refillDays = vm.workload === 'steady' ? 90 : vm.workload === 'database' ? 150 : 240;
    return {
      cpus: this.spread(vm.id, this.vmCpu(vm, now), vm.vcpus, now),
      memory: { totalBytes: vm.memoryGb * GB, usedBytes: (vm.memoryGb * GB * this.vmMemoryPct(vm, now)) / 100 },
      disks: [
        disk('/', 80 * GB, 25 + 20 * hash01(this.seed, `root:${vm.id}`) + 0.5 * drift(this.seed, `root:${vm.id}`, now)),
        disk('/data', dataTb * TB, this.filling(`${vm.id}:/data`, now, 40, 78, refillDays)),
      ],
    };
  }

  /** The hypervisor's own share plus every VM's load weighted by its vCPUs over the host's CPUs. */
  private hostCpu(host: HostProfile, now: number): number {
    const guests = host.vms.reduce((sum, vm) => sum + (this.vmCpu(vm, now) * vm.vcpus) / host.cpus, 0);
    return clamp(HYPERVISOR_CPU_PCT + guests + 0.5 * jitter(this.seed, `cpu:${host.id}`, now), 1, 100);
  }

  private host(host: HostProfile, now: number): HostResources {
    // A guest's RAM is backed as it touches it; its page cache touches most of what it does not use.
    const guestsGb = host.vms.reduce((sum, vm) => sum + vm.memoryGb * Math.min(1, 0.2 + this.vmMemoryPct(vm, now) / 100), 0);
    const usedGb = clamp(HYPERVISOR_MEMORY_GB + guestsGb + 0.5 * drift(this.seed, `mem:${host.id}`, now), 0, host.memoryGb);
    return {
      cpus: this.spread(host.id, this.hostCpu(host, now), host.cpus, now),
      memory: { totalBytes: host.memoryGb * GB, usedBytes: usedGb * GB },
      disks: [
        disk('/', 0.5 * TB, 10 + 8 * hash01(this.seed, `root:${host.id}`) + 0.3 * drift(this.seed, `root:${host.id}`, now)),
        // Local images and ISOs; the VMs' disks live on the SAN.
        disk('/var/lib/libvirt', 1.8 * TB, this.filling(`${host.id}:/var/lib/libvirt`, now, 30, 62, 200)),
      ],
    };
  }

  /** The array's controllers do the hosts' I/O: their CPU follows the hosts'; most of their RAM is cache. */
  private storage(san: StorageProfile, now: number): HostResources {
    const hostsCpu = san.hosts.length === 0 ? 0 : san.hosts.reduce((sum, h) => sum + this.hostCpu(h, now), 0) / san.hosts.length;
    const cpu = clamp(6 + 0.35 * hostsCpu + jitter(this.seed, `cpu:${san.id}`, now), 1, 100);
    const memoryGb = 128;
    const memoryPct = 85 + 2 * hash01(this.seed, `mem:${san.id}`) + 0.5 * drift(this.seed, `mem:${san.id}`, now);
    return {
      cpus: this.spread(san.id, cpu, 8, now),
      memory: { totalBytes: memoryGb * GB, usedBytes: (memoryGb * GB * memoryPct) / 100 },
      disks: SAN_POOLS.map((p) => disk(p.label, p.tb * TB, this.filling(`${san.id}:${p.label}`, now, 45, 80, 365))),
    };
  }

  /**
   * Used %, filling from `lo` to `hi` over `days`, then back to `lo` (old data expired, or the pool grown);
   * each disk at its own point of the cycle. Slow: a few tenths of a point a day.
   */
  private filling(key: string, now: number, lo: number, hi: number, days: number): number {
    const cycle = now / (days * DAY_MS) + hash01(this.seed, `fill:${key}`);
    return lo + (hi - lo) * (cycle - Math.floor(cycle));
  }

  /** `n` CPUs averaging about `total` %: some busier than others (a wave over the CPUs), each within 0-100. */
  private spread(key: string, total: number, n: number, now: number): number[] {
    const a = Math.min(8, total / 3, (100 - total) / 3);
    const phase = 2 * Math.PI * hash01(this.seed, `cpus:${key}`);
    return Array.from({ length: n }, (_, i) => total + a * (Math.sin(phase + (2 * Math.PI * i) / n) + 0.25 * jitter(this.seed, `${key}#cpu${i}`, now)));
  }
}
