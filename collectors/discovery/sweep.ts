/** Network discovery: bounded, rate-limited SNMP sweeps over the ranges an admin gives, kept as proposals. */
import { randomUUID } from 'node:crypto';
import { badRequest, silentLogger, wfError, wfFieldError, type Clock, type Device, type DeviceKind, type Estate, type Logger } from '../../core/index.ts';
import { builtinProfiles, type ProfileSet } from '../snmp/index.ts';
import type { SnmpV3Credentials } from '../snmp-common/index.ts';
import { hostCount, hostsOf, parseCidr, refusal, type Cidr } from './cidr.ts';
import type { DiscoveryConfig } from './config.ts';
import { parseDiscoveryConfig } from './config.ts';
import type { Neighbour } from './neighbours.ts';
import { probeAddress, type Attempt, type FoundDevice } from './probe.ts';
import { inventoryHasLink, propose, type ProposedDevice, type ProposedLink, type Proposals } from './proposals.ts';

type V3User = Omit<SnmpV3Credentials, 'authProtocol' | 'privProtocol'> & Partial<Pick<SnmpV3Credentials, 'authProtocol' | 'privProtocol'>>;

/** What POST /api/v1/discovery asks for (validated for shape by the route, for ranges here). */
export interface SweepRequest {
  cidrs: string[];
  /** v3 users as a device's `snmp.v3` (SHA and AES when the protocols are left out). */
  snmp: { versions: ('1' | '2c' | '3')[]; communities?: string[]; v3?: V3User[]; port?: number; timeoutMs?: number };
  /** UDP ports to try SNMP on, after `snmp.port` (default 161). */
  ports?: number[];
  force?: boolean;
}

/** What POST /api/v1/discovery/neighbours asks for: the inventory's SNMP devices (all, or those named), each with its own credentials. */
export interface NeighboursRequest {
  devices?: string[];
  timeoutMs?: number;
}

export type SweepState = 'running' | 'done' | 'cancelled';

/** `ranges`: the addresses of the ranges given, with the credentials given; `inventory`: the inventory's SNMP devices, each with its own. */
export type SweepSource = 'ranges' | 'inventory';

export interface SweepProgress {
  /** Addresses to probe, probed so far, and those that answered. */
  total: number;
  probed: number;
  responding: number;
  percent: number;
}

/** A found device as the API shows it: its credential named (version, user), never its community or keys. */
export interface FoundView {
  address: string;
  port: number;
  sysName: string;
  sysObjectID: string;
  sysDescr: string;
  profile: string;
  kind: DeviceKind;
  snmp: { version: '1' | '2c' | '3'; user?: string };
  /** The inventory device it already is, when known (read as that device, else by SNMP host, address or name). */
  known?: string;
  neighbours: Neighbour[];
  warnings?: string[];
}

export interface SweepView {
  id: string;
  source: SweepSource;
  state: SweepState;
  cidrs: string[];
  /** A neighbours sweep: the inventory devices it reads. */
  devices?: string[];
  by: string;
  startedAt: number;
  finishedAt?: number;
  progress: SweepProgress;
  found: FoundView[];
  proposals: Proposals;
}

/** What accepting a found address registers: the device's kind and name as found, and the SNMP block that answered. */
export interface DiscoveredCandidate {
  address: string;
  name: string;
  kind: DeviceKind;
  sensorType?: Device['sensorType'];
  snmp?: { host: string; port: number; version: '1' | '2c' | '3'; community?: string; v3?: SnmpV3Credentials };
}

/** One agent to ask: an address of a range (every port and credential given) or an inventory device (its own). */
interface Target {
  address: string;
  ports: readonly number[];
  attempts: readonly Attempt[];
  device?: string;
}

interface Sweep {
  id: string;
  source: SweepSource;
  cidrs: Cidr[];
  devices?: string[];
  by: string;
  state: SweepState;
  startedAt: number;
  finishedAt?: number;
  total: number;
  probed: number;
  found: FoundDevice[];
  abort: AbortController;
  done: Promise<void>;
}

export interface NetworkDiscoveryOptions {
  estate: Estate;
  config?: DiscoveryConfig;
  profiles?: ProfileSet;
  clock?: Clock;
  logger?: Logger;
  /** True once the product stops: running sweeps end as if cancelled (their sockets must not hold the process). */
  stopping?: () => boolean;
}

/** A short wait (at most `concurrency` request intervals); cancelled sweeps check their signal after it. */
const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/** Runs sweeps one request at a time per worker, `ratePerSecond` requests started per second, at most `concurrency` in flight. */
export class NetworkDiscovery {
  private readonly sweeps = new Map<string, Sweep>();
  readonly config: DiscoveryConfig;
  private readonly allowed: Cidr[];
  private readonly profiles: ProfileSet;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly o: NetworkDiscoveryOptions) {
    this.config = o.config ?? parseDiscoveryConfig(undefined);
    this.allowed = this.config.allowedCidrs.map((t) => parseCidr(t) as Cidr);
    this.profiles = o.profiles ?? builtinProfiles();
    this.clock = o.clock ?? { now: () => Date.now() };
    this.logger = o.logger ?? silentLogger;
  }

  /** Checks the request's ranges and credentials and starts the sweep; throws a 400 naming the field at fault. */
  start(req: SweepRequest, by: string): { id: string } {
    if (req.cidrs.length === 0) throw badRequest('cidrs', 'cidrs: give at least one range, e.g. "10.0.0.0/24"');
    const cidrs: Cidr[] = [];
    req.cidrs.forEach((text, i) => {
      const field = `cidrs.${i}`;
      const c = parseCidr(text);
      if (typeof c === 'string') throw badRequest(field, `${field}: ${c}`);
      if (c.prefix < this.config.maxPrefixWithoutForce && req.force !== true) {
        throw wfFieldError('DISCOVERY_RANGE', field, `${field}: ${c.text} holds ${hostCount(c).toLocaleString('en')} hosts, more than a /${this.config.maxPrefixWithoutForce}; give smaller ranges or "force": true`);
      }
      const why = refusal(c, this.allowed);
      if (why) throw wfFieldError('DISCOVERY_RANGE', field, `${field}: ${why}`);
      cidrs.push(c);
    });
    const attempts = this.attemptsOf(req);
    const ports = [...new Set([req.snmp.port ?? 161, ...(req.ports ?? [])])];
    const targets = function* (): Generator<Target> {
      for (const c of cidrs) for (const address of hostsOf(c)) yield { address, ports, attempts };
    };
    const total = cidrs.reduce((n, c) => n + hostCount(c), 0);
    const { id } = this.begin({ source: 'ranges', cidrs, by, total }, targets(), req.snmp.timeoutMs);
    this.logger.info({ sweep: id, cidrs: cidrs.map((c) => c.text), hosts: total, by }, 'discovery: sweep started');
    return { id };
  }

  /**
   * Reads the LLDP and CDP neighbours of the inventory's SNMP devices (all, or those named), each asked
   * at its own host and port with its own credentials (its credential profile resolved): no range is
   * swept. Throws a 400 naming the field for an unknown device or one without SNMP.
   */
  startInventory(req: NeighboursRequest, by: string): { id: string } {
    const chosen: Device[] = [];
    if (req.devices) {
      if (req.devices.length === 0) throw badRequest('devices', 'devices: name at least one device, or leave it out for every SNMP device of the inventory');
      req.devices.forEach((id, i) => {
        const d = this.o.estate.devices.get(id);
        if (!d) throw badRequest(`devices.${i}`, `devices.${i}: no device "${id}" in the inventory`);
        if (!d.snmp) throw badRequest(`devices.${i}`, `devices.${i}: device "${id}" has no snmp block: it is not polled, so its neighbours cannot be read`);
        chosen.push(d);
      });
    } else {
      for (const d of this.o.estate.devices.values()) if (d.snmp) chosen.push(d);
      if (chosen.length === 0) throw badRequest('devices', 'devices: no inventory device has SNMP configured; give ranges to sweep instead (POST /api/v1/discovery)');
    }
    const unique = [...new Map(chosen.map((d) => [d.id, d])).values()];
    const targets = function* (): Generator<Target> {
      for (const d of unique) {
        const snmp = d.snmp as NonNullable<Device['snmp']>;
        // The poller's credentials: v3 keys, else the community (net-snmp's default "public" when none is set).
        const attempt: Attempt = snmp.version === '3' && snmp.v3 ? { version: '3', v3: snmp.v3 } : { version: snmp.version === '1' ? '1' : '2c', community: snmp.community ?? 'public' };
        yield { address: snmp.host, ports: [snmp.port], attempts: [attempt], device: d.id };
      }
    };
    const { id } = this.begin({ source: 'inventory', cidrs: [], devices: unique.map((d) => d.id), by, total: unique.length }, targets(), req.timeoutMs);
    this.logger.info({ sweep: id, devices: unique.length, by }, 'discovery: neighbours of the inventory being read');
    return { id };
  }

  private begin(what: Pick<Sweep, 'source' | 'cidrs' | 'devices' | 'by' | 'total'>, targets: Iterator<Target>, timeoutMs: number | undefined): { id: string } {
    const running = [...this.sweeps.values()].filter((s) => s.state === 'running').length;
    if (running >= this.config.maxRunning) throw wfError('DISCOVERY_BUSY', running);
    const sweep: Sweep = {
      id: randomUUID(),
      ...what,
      state: 'running',
      startedAt: this.clock.now(),
      probed: 0,
      found: [],
      abort: new AbortController(),
      done: Promise.resolve(),
    };
    this.sweeps.set(sweep.id, sweep);
    this.forgetOld();
    sweep.done = this.run(sweep, targets, Math.min(timeoutMs ?? this.config.timeoutMs, 30_000)).catch((err: Error) => {
      this.logger.error({ sweep: sweep.id, err: err.message }, 'discovery: sweep failed');
    }).finally(() => {
      if (sweep.state === 'running') sweep.state = 'done';
      sweep.finishedAt = this.clock.now();
      this.logger.info({ sweep: sweep.id, state: sweep.state, probed: sweep.probed, found: sweep.found.length }, 'discovery: sweep ended');
    });
    return { id: sweep.id };
  }

  /** The sweep's state, progress, found devices and proposals; undefined for an unknown (or forgotten) id. */
  get(id: string): SweepView | undefined {
    const s = this.sweeps.get(id);
    if (!s) return undefined;
    const { proposals, knownAs } = propose(s.found, this.o.estate.devices.values(), this.o.estate.inventory);
    return {
      id: s.id,
      source: s.source,
      state: s.state,
      cidrs: s.cidrs.map((c) => c.text),
      ...(s.devices ? { devices: s.devices } : {}),
      by: s.by,
      startedAt: s.startedAt,
      ...(s.finishedAt !== undefined ? { finishedAt: s.finishedAt } : {}),
      progress: { total: s.total, probed: s.probed, responding: s.found.length, percent: s.total === 0 ? 100 : Math.floor((100 * s.probed) / s.total) },
      found: [...s.found].sort((a, b) => compareAddresses(a.address, b.address)).map((f) => ({
        address: f.address,
        port: f.port,
        sysName: f.sysName,
        sysObjectID: f.sysObjectID,
        sysDescr: f.sysDescr,
        profile: f.profile,
        kind: f.kind,
        snmp: f.attempt.version === '3' ? { version: '3', user: f.attempt.v3.user } : { version: f.attempt.version },
        ...((f.device ?? knownAs.get(f.address)) !== undefined ? { known: f.device ?? knownAs.get(f.address) } : {}),
        neighbours: f.neighbours,
        ...(f.warnings.length > 0 ? { warnings: f.warnings } : {}),
      })),
      proposals,
    };
  }

  /** Every sweep kept, newest first, without their findings. */
  list(): Omit<SweepView, 'found' | 'proposals'>[] {
    return [...this.sweeps.values()].reverse().map((s) => {
      const { found: _f, proposals: _p, ...rest } = this.get(s.id) as SweepView;
      return rest;
    });
  }

  /** Stops a running sweep (requests in flight end at their timeout, none is started after); false for an unknown id. */
  cancel(id: string): boolean {
    const s = this.sweeps.get(id);
    if (!s) return false;
    if (s.state === 'running') {
      s.state = 'cancelled';
      s.abort.abort();
    }
    return true;
  }

  /** Resolves when the sweep has ended (done or cancelled, its last requests answered or timed out). */
  async settled(id: string): Promise<void> {
    await this.sweeps.get(id)?.done;
  }

  /**
   * What accepting `address` of a sweep would register: a device that answered, with the credential that
   * worked, else a neighbour heard of with that address (no SNMP block); undefined when the sweep has neither.
   * `known` names the inventory device it already is.
   */
  candidate(id: string, address: string): (DiscoveredCandidate & { known?: string }) | undefined {
    const s = this.sweeps.get(id);
    if (!s) return undefined;
    const { proposals, knownAs } = propose(s.found, this.o.estate.devices.values(), this.o.estate.inventory);
    const f = s.found.find((x) => x.address === address);
    if (f) {
      const a = f.attempt;
      const snmp = a.version === '3' ? { host: f.address, port: f.port, version: a.version, v3: a.v3 } : { host: f.address, port: f.port, version: a.version, community: a.community };
      const known = f.device ?? knownAs.get(f.address);
      return { address, name: f.sysName || f.address, kind: f.kind, ...(f.kind === 'sensor' ? { sensorType: 'temperature-humidity' as const } : {}), snmp, ...(known ? { known } : {}) };
    }
    const heard = proposals.devices.find((d) => d.source === 'neighbour' && d.address === address);
    return heard ? { address, name: heard.name, kind: heard.kind } : undefined;
  }

  /** A device the sweep proposes, by the id it suggested (a neighbour heard of without an address is accepted this way). */
  proposedDevice(id: string, proposed: string): ProposedDevice | undefined {
    const s = this.sweeps.get(id);
    if (!s) return undefined;
    return propose(s.found, this.o.estate.devices.values(), this.o.estate.inventory).proposals.devices.find((d) => d.id === proposed);
  }

  /**
   * Where a LAN link between `a` and `b` (either way round) stands for this sweep: `in-inventory` when the
   * inventory has the cable already, the proposal when the sweep proposes it (its ends say whether each
   * device is in the inventory yet), `unknown` otherwise; undefined for an unknown sweep.
   */
  linkProposal(id: string, a: { device: string; interface: string }, b: { device: string; interface: string }): ProposedLink | 'in-inventory' | 'unknown' | undefined {
    const s = this.sweeps.get(id);
    if (!s) return undefined;
    if (inventoryHasLink(this.o.estate.inventory.links, a, b)) return 'in-inventory';
    const same = (x: { device: string; interface: string }, y: { device: string; interface: string }): boolean => x.device === y.device && x.interface === y.interface;
    const links = propose(s.found, this.o.estate.devices.values(), this.o.estate.inventory).proposals.links;
    return links.find((l) => (same(l.a, a) && same(l.b, b)) || (same(l.a, b) && same(l.b, a))) ?? 'unknown';
  }

  /** Cancels every sweep and waits for them (at stop). */
  async close(): Promise<void> {
    for (const s of this.sweeps.values()) if (s.state === 'running') this.cancel(s.id);
    await Promise.all([...this.sweeps.values()].map((s) => s.done));
  }

  private attemptsOf(req: SweepRequest): Attempt[] {
    const attempts: Attempt[] = [];
    const versions = [...new Set(req.snmp.versions)];
    if (versions.length === 0) throw badRequest('snmp.versions', 'snmp.versions: give at least one of "1", "2c", "3"');
    for (const v of versions) {
      if (v === '3') {
        const users = req.snmp.v3 ?? [];
        if (users.length === 0) throw badRequest('snmp.v3', 'snmp.v3: version "3" needs at least one user {user, authKey, ...}');
        for (const u of users) attempts.push({ version: '3', v3: { ...u, authProtocol: u.authProtocol ?? 'sha', privProtocol: u.privProtocol ?? (u.privKey ? 'aes' : 'none') } });
      } else {
        const communities = req.snmp.communities ?? [];
        if (communities.length === 0) throw badRequest('snmp.communities', `snmp.communities: version "${v}" needs at least one community`);
        for (const c of communities) attempts.push({ version: v, community: c });
      }
    }
    return attempts;
  }

  private async run(s: Sweep, targets: Iterator<Target>, timeoutMs: number): Promise<void> {
    const signal = s.abort.signal;
    const cancelled = (): boolean => {
      if (!signal.aborted && this.o.stopping?.()) this.cancel(s.id);
      return signal.aborted;
    };
    const interval = 1000 / this.config.ratePerSecond;
    let nextAt = 0;
    // The rate limit: each request starts `interval` ms after the one before, whichever worker sends it.
    const take = async (): Promise<void> => {
      const now = performance.now();
      const at = Math.max(now, nextAt);
      nextAt = at + interval;
      if (at > now) await sleep(at - now);
    };
    const common = { timeoutMs, retries: this.config.retries, maxNeighbours: this.config.maxNeighbours, profiles: this.profiles, take, cancelled };
    const worker = async (): Promise<void> => {
      for (;;) {
        if (cancelled()) return;
        const next = targets.next();
        if (next.done) return;
        const t = next.value;
        try {
          const found = await probeAddress(t.address, { ...common, ports: t.ports, attempts: t.attempts });
          if (found && t.device) found.device = t.device;
          if (found && s.found.length < this.config.maxFound) s.found.push(found);
          else if (!found && t.device) this.logger.warn({ sweep: s.id, device: t.device, address: t.address }, 'discovery: an inventory device did not answer with its credentials');
        } catch (err) {
          this.logger.warn({ sweep: s.id, address: t.address, err: (err as Error).message }, 'discovery: probe failed');
        }
        if (!signal.aborted) s.probed++;
      }
    };
    const workers = Math.max(1, Math.min(this.config.concurrency, s.total));
    await Promise.all(Array.from({ length: workers }, worker));
  }

  private forgetOld(): void {
    const ended = [...this.sweeps.values()].filter((s) => s.state !== 'running');
    for (const s of ended.slice(0, Math.max(0, this.sweeps.size - this.config.keep))) this.sweeps.delete(s.id);
  }
}

/** IPv4 addresses in numeric order; an inventory device's SNMP host may be a name, and names sort after them. */
function compareAddresses(a: string, b: string): number {
  const v4 = (t: string): number[] | undefined => (/^\d+(\.\d+){3}$/.test(t) ? t.split('.').map(Number) : undefined);
  const x = v4(a);
  const y = v4(b);
  if (!x || !y) return x ? -1 : y ? 1 : a.localeCompare(b);
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return 0;
}
