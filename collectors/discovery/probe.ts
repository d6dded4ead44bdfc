/** One address of a sweep: which credential it answers, its system group (RFC 3418), its profile and its neighbours. */
import type { DeviceKind } from '../../core/index.ts';
import { SnmpClient, matchProfile, type ProfileSet } from '../snmp/index.ts';
import type { SnmpV3Credentials, SnmpValue } from '../snmp-common/index.ts';
import { CDP, IF_DESCR, IF_NAME, LLDP, cdpNeighbours, lldpNeighbours, textOf, type Neighbour } from './neighbours.ts';

/** SNMPv2-MIB system group scalars. */
const SYS = { descr: '1.3.6.1.2.1.1.1.0', objectID: '1.3.6.1.2.1.1.2.0', name: '1.3.6.1.2.1.1.5.0', services: '1.3.6.1.2.1.1.7.0' } as const;

/** A credential to try, in the order the request gave them. */
export type Attempt = { version: '1' | '2c'; community: string } | { version: '3'; v3: SnmpV3Credentials };

export interface ProbeOptions {
  ports: readonly number[];
  attempts: readonly Attempt[];
  timeoutMs: number;
  retries: number;
  maxNeighbours: number;
  profiles: ProfileSet;
  /** Waits for the sweep's rate limit before each request; rejects once the sweep is cancelled. */
  take(): Promise<void>;
  cancelled(): boolean;
}

/** A device that answered: what it says it is, and the credential that worked (kept for accept, never shown). */
export interface FoundDevice {
  address: string;
  port: number;
  attempt: Attempt;
  sysName: string;
  sysObjectID: string;
  sysDescr: string;
  sysServices?: number;
  profile: string;
  kind: DeviceKind;
  neighbours: Neighbour[];
  /** What could not be read (a neighbour table cut, an agent error), for the admin. */
  warnings: string[];
  /** The inventory device this is, when it was read as one (a neighbours sweep of the inventory). */
  device?: string;
}

/** The inventory kind a profile suggests; sysServices (RFC 3418: 2 datalink, 4 internet) decides for the generic one. */
export function kindOf(profile: string, sysServices: number | undefined): DeviceKind {
  switch (profile) {
    case 'cisco-ios':
    case 'cisco-nxos':
      return 'switch';
    case 'apc-pdu':
      return 'pdu';
    case 'eaton-ups':
    case 'ups-mib':
      return 'ups';
    case 'geist-environment':
    case 'environment-sensor':
      return 'sensor';
    case 'net-snmp-host':
      return 'server';
  }
  if (sysServices !== undefined && (sysServices & 2) !== 0) return 'switch';
  if (sysServices !== undefined && (sysServices & 4) !== 0) return 'router';
  return 'server';
}

const targetOf = (address: string, port: number, a: Attempt) =>
  a.version === '3' ? { host: address, port, version: '3' as const, v3: a.v3 } : { host: address, port, version: a.version, community: a.community };

/** Probes one address with each port and credential until one answers; undefined when none does. */
export async function probeAddress(address: string, o: ProbeOptions): Promise<FoundDevice | undefined> {
  for (const port of o.ports) {
    for (const attempt of o.attempts) {
      if (o.cancelled()) return undefined;
      await o.take();
      if (o.cancelled()) return undefined;
      const client = new SnmpClient(targetOf(address, port, attempt), { timeoutMs: o.timeoutMs, retries: o.retries, maxRows: o.maxNeighbours });
      try {
        const sys = await systemGroup(client);
        // An agent that answers with no system group at all is not a device we can place (nor a v1 noSuchName for all four).
        if (!sys || sys.size === 0) continue;
        const sysObjectID = textOf(sys.get(SYS.objectID)) ?? '';
        const servicesValue = sys.get(SYS.services);
        const sysServices = servicesValue?.kind === 'number' ? servicesValue.value : undefined;
        const profile = matchProfile(o.profiles, sysObjectID || undefined).name;
        const found: FoundDevice = {
          address,
          port,
          attempt,
          sysName: textOf(sys.get(SYS.name)) ?? '',
          sysObjectID,
          sysDescr: textOf(sys.get(SYS.descr)) ?? '',
          ...(sysServices !== undefined ? { sysServices } : {}),
          profile,
          kind: kindOf(profile, sysServices),
          neighbours: [],
          warnings: [],
        };
        if (!o.cancelled()) await readNeighbours(client, found, o);
        return found;
      } finally {
        client.close();
      }
    }
  }
  return undefined;
}

/** GETs the system group; a v1 agent missing one of them answers noSuchName for all (RFC 1157 §4.1.2), so each is asked alone then. */
async function systemGroup(client: SnmpClient): Promise<Map<string, SnmpValue> | undefined> {
  const oids = [SYS.objectID, SYS.name, SYS.descr, SYS.services];
  try {
    return await client.get(oids);
  } catch (err) {
    if (client.version !== '1' || !/nosuchname/i.test((err as Error).message)) return undefined;
  }
  const out = new Map<string, SnmpValue>();
  for (const oid of oids) {
    const v = await client.get([oid]).catch(() => undefined);
    const value = v?.get(oid);
    if (value) out.set(oid, value);
  }
  return out;
}

/** Reads LLDP then CDP; a table the agent lacks is simply empty, an error is a warning and the device stays found. */
async function readNeighbours(client: SnmpClient, found: FoundDevice, o: ProbeOptions): Promise<void> {
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    if (o.cancelled()) return undefined;
    await o.take();
    if (o.cancelled()) return undefined;
    try {
      return await fn();
    } catch (err) {
      found.warnings.push(`${what}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const lldp = await step('LLDP-MIB lldpRemTable', () => client.walk([LLDP.remChassisId, LLDP.remPortIdSubtype, LLDP.remPortId, LLDP.remPortDesc, LLDP.remSysName, LLDP.remSysCapEnabled]));
  const hasLldp = lldp && [...lldp.columns.values()].some((c) => c.size > 0);
  const manAddr = hasLldp ? await step('LLDP-MIB lldpRemManAddrTable', () => client.walk([LLDP.remManAddrIfSubtype])) : undefined;
  const cdp = await step('CISCO-CDP-MIB cdpCacheTable', () => client.walk([CDP.addressType, CDP.address, CDP.deviceId, CDP.devicePort, CDP.platform]));
  for (const w of [...(lldp?.warnings ?? []), ...(manAddr?.warnings ?? []), ...(cdp?.warnings ?? [])]) found.warnings.push(w);

  // The local ports by number: LLDP's lldpRemLocalPortNum (an ifIndex on most agents) and CDP's cdpCacheIfIndex.
  const lldpPorts = new Set<string>();
  for (const key of lldp?.columns.get(LLDP.remSysName)?.keys() ?? []) lldpPorts.add(key.split('.')[1] ?? '');
  for (const key of lldp?.columns.get(LLDP.remPortId)?.keys() ?? []) lldpPorts.add(key.split('.')[1] ?? '');
  const cdpPorts = new Set<string>([...(cdp?.columns.get(CDP.deviceId)?.keys() ?? [])].map((k) => k.split('.')[0] ?? ''));
  const names = await portNames(client, [...lldpPorts].filter(Boolean), [...cdpPorts].filter(Boolean), step);

  if (lldp && hasLldp) {
    const lldpName = (n: string): string => names.get(`if:${n}`) ?? names.get(`lldp:${n}`) ?? `port ${n}`;
    found.neighbours.push(...lldpNeighbours(lldp.columns, manAddr?.columns.get(LLDP.remManAddrIfSubtype)?.keys() ?? [], lldpName));
  }
  if (cdp) found.neighbours.push(...cdpNeighbours(cdp.columns, (n) => names.get(`if:${n}`) ?? `ifIndex ${n}`));
}

type Step = <T>(what: string, fn: () => Promise<T>) => Promise<T | undefined>;

/** GETs ifName (else ifDescr) for the ifIndexes, and lldpLocPortDesc for LLDP port numbers, 20 varbinds a request. */
async function portNames(client: SnmpClient, lldpPorts: string[], ifIndexes: string[], step: Step): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const wanted: { key: string; oid: string; fallback?: string }[] = [];
  for (const n of new Set([...lldpPorts, ...ifIndexes])) wanted.push({ key: `if:${n}`, oid: `${IF_NAME}.${n}`, fallback: `${IF_DESCR}.${n}` });
  for (const n of lldpPorts) wanted.push({ key: `lldp:${n}`, oid: `${LLDP.locPortDesc}.${n}` });
  for (let i = 0; i < wanted.length; i += 10) {
    const chunk = wanted.slice(i, i + 10);
    const oids = chunk.flatMap((w) => (w.fallback ? [w.oid, w.fallback] : [w.oid]));
    const got = await step('IF-MIB ifName', () => client.get(oids));
    if (!got) continue;
    for (const w of chunk) {
      const name = textOf(got.get(w.oid)) || (w.fallback ? textOf(got.get(w.fallback)) : undefined);
      if (name) out.set(w.key, name);
    }
  }
  return out;
}
