/** Neighbours an agent has heard on its ports: LLDP-MIB lldpRemTable (IEEE 802.1AB) and CISCO-CDP-MIB cdpCacheTable. */
import type { SnmpValue } from '../snmp-common/index.ts';

export interface Neighbour {
  /** The local port the neighbour was heard on (ifName, else the LLDP port description). */
  localPort: string;
  /** The neighbour's name: LLDP lldpRemSysName (else its chassis id), CDP cdpCacheDeviceId. */
  remoteName: string;
  /** Its management address (LLDP lldpRemManAddrTable, CDP cdpCacheAddress), when it told one. */
  remoteAddress?: string;
  remotePort: string;
  via: 'lldp' | 'cdp';
  /** LLDP system capabilities enabled / the CDP platform, to guess what kind of device it is. */
  capabilities?: string[];
  platform?: string;
}

/** A column read by a walk: instance index -> value. */
type Column = ReadonlyMap<string, SnmpValue>;

export const LLDP = {
  /** lldpRemEntry (LLDP-MIB 1.0.8802.1.1.2.1.4.1.1), indexed by lldpRemTimeMark.lldpRemLocalPortNum.lldpRemIndex. */
  remEntry: '1.0.8802.1.1.2.1.4.1.1',
  remChassisId: '1.0.8802.1.1.2.1.4.1.1.5',
  remPortIdSubtype: '1.0.8802.1.1.2.1.4.1.1.6',
  remPortId: '1.0.8802.1.1.2.1.4.1.1.7',
  remPortDesc: '1.0.8802.1.1.2.1.4.1.1.8',
  remSysName: '1.0.8802.1.1.2.1.4.1.1.9',
  remSysCapEnabled: '1.0.8802.1.1.2.1.4.1.1.12',
  /** lldpRemManAddrIfSubtype: its index carries the address (…remIndex.lldpRemManAddrSubtype.lldpRemManAddr). */
  remManAddrIfSubtype: '1.0.8802.1.1.2.1.4.2.1.3',
  /** lldpLocPortDesc, by lldpLocPortNum. */
  locPortDesc: '1.0.8802.1.1.2.1.3.7.1.4',
} as const;

export const CDP = {
  /** cdpCacheEntry (CISCO-CDP-MIB 1.3.6.1.4.1.9.9.23.1.2.1.1), indexed by cdpCacheIfIndex.cdpCacheDeviceIndex. */
  addressType: '1.3.6.1.4.1.9.9.23.1.2.1.1.3',
  address: '1.3.6.1.4.1.9.9.23.1.2.1.1.4',
  deviceId: '1.3.6.1.4.1.9.9.23.1.2.1.1.6',
  devicePort: '1.3.6.1.4.1.9.9.23.1.2.1.1.7',
  platform: '1.3.6.1.4.1.9.9.23.1.2.1.1.8',
} as const;

/** IF-MIB ifName (ifXTable) and ifDescr (ifTable), to name a local port by its ifIndex. */
export const IF_NAME = '1.3.6.1.2.1.31.1.1.1.1';
export const IF_DESCR = '1.3.6.1.2.1.2.2.1.2';

/**
 * An octet string as text. values.ts gives non-printable strings as hex; a name padded with NULs
 * (a Nexus' `mgmt0\0\0…`, LLDP port ids of fixed width) is read back as its printable part.
 */
export function textOf(v: SnmpValue | undefined): string | undefined {
  if (!v || v.kind !== 'text') return v && v.kind === 'number' ? String(v.value) : undefined;
  const s = v.value;
  if (/^([0-9a-f]{2})+$/.test(s)) {
    const decoded = Buffer.from(s, 'hex').toString('latin1');
    const m = /^([\x20-\x7e]+)\0+$/.exec(decoded);
    if (m) return m[1];
  }
  return s.trim();
}

/** A 6-byte hex string as a MAC address (aa:bb:cc:dd:ee:ff), else as is. */
const macOf = (s: string): string => (/^[0-9a-f]{12}$/.test(s) ? (s.match(/../g) as string[]).join(':') : s);

/** 4 address bytes (hex, as values.ts gives them) as a dotted quad. */
function ipv4OfHex(s: string | undefined): string | undefined {
  // Four printable bytes (41.66.67.68) arrive as text, not hex.
  if (s && s.length === 4 && !/^[0-9a-f]{4}$/.test(s)) return [...Buffer.from(s, 'latin1')].join('.');
  if (!s || !/^[0-9a-f]{8}$/.test(s)) return undefined;
  return [0, 2, 4, 6].map((i) => parseInt(s.slice(i, i + 2), 16)).join('.');
}

/** LLDP-MIB LldpSystemCapabilitiesMap bits (bit 0 is the first octet's high bit). */
const CAPABILITIES = ['other', 'repeater', 'bridge', 'wlanAccessPoint', 'router', 'telephone', 'docsisCableDevice', 'stationOnly'];
function capabilitiesOf(hex: string | undefined): string[] | undefined {
  if (!hex || !/^[0-9a-f]{2,}$/.test(hex)) return undefined;
  const first = parseInt(hex.slice(0, 2), 16);
  const out = CAPABILITIES.filter((_c, bit) => (first & (0x80 >> bit)) !== 0);
  return out.length > 0 ? out : undefined;
}

/**
 * Builds the LLDP neighbours from lldpRemTable columns and the lldpRemManAddrTable indexes; `portName`
 * names a local port by its lldpRemLocalPortNum (the caller read ifName / lldpLocPortDesc).
 */
export function lldpNeighbours(cols: ReadonlyMap<string, Column>, manAddrIndexes: Iterable<string>, portName: (localPortNum: string) => string): Neighbour[] {
  const addresses = new Map<string, string>();
  for (const index of manAddrIndexes) {
    // timeMark.localPort.remIndex.subtype.len.bytes…: ipV4(1) with 4 bytes (IANA AddressFamilyNumbers).
    const arcs = index.split('.');
    const [tm, port, rem, subtype, len, ...bytes] = arcs;
    const key = `${tm}.${port}.${rem}`;
    if (subtype === '1' && len === '4' && bytes.length === 4 && !addresses.has(key)) addresses.set(key, bytes.join('.'));
  }
  const col = (oid: string): Column => cols.get(oid) ?? new Map();
  const out: Neighbour[] = [];
  const keys = new Set([...col(LLDP.remSysName).keys(), ...col(LLDP.remChassisId).keys(), ...col(LLDP.remPortId).keys()]);
  for (const key of keys) {
    const [, localPortNum] = key.split('.');
    if (localPortNum === undefined) continue;
    const chassis = textOf(col(LLDP.remChassisId).get(key));
    const sysName = textOf(col(LLDP.remSysName).get(key));
    const portSubtype = col(LLDP.remPortIdSubtype).get(key);
    const portId = textOf(col(LLDP.remPortId).get(key));
    const portDesc = textOf(col(LLDP.remPortDesc).get(key));
    // LldpPortIdSubtype macAddress(3): the port id says nothing a person reads; the description does.
    const isMac = portSubtype?.kind === 'number' && portSubtype.value === 3;
    const remotePort = (isMac ? portDesc || macOf(portId ?? '') : portId || portDesc) ?? '';
    const caps = col(LLDP.remSysCapEnabled).get(key);
    out.push({
      localPort: portName(localPortNum),
      remoteName: sysName || macOf(chassis ?? '') || '(unnamed)',
      ...(addresses.has(key) ? { remoteAddress: addresses.get(key) } : {}),
      remotePort,
      via: 'lldp',
      ...(caps?.kind === 'text' && capabilitiesOf(caps.value) ? { capabilities: capabilitiesOf(caps.value) } : {}),
    });
  }
  return out;
}

/** Builds the CDP neighbours from cdpCacheTable columns; `portName` names a local port by its ifIndex. */
export function cdpNeighbours(cols: ReadonlyMap<string, Column>, portName: (ifIndex: string) => string): Neighbour[] {
  const col = (oid: string): Column => cols.get(oid) ?? new Map();
  const out: Neighbour[] = [];
  for (const [key, id] of col(CDP.deviceId)) {
    const [ifIndex] = key.split('.');
    if (ifIndex === undefined) continue;
    const type = col(CDP.addressType).get(key);
    // CiscoNetworkProtocol ip(1): cdpCacheAddress holds the 4 bytes.
    const raw = col(CDP.address).get(key);
    const address = type?.kind === 'number' && type.value === 1 && raw?.kind === 'text' ? ipv4OfHex(raw.value) : undefined;
    const platform = textOf(col(CDP.platform).get(key));
    out.push({
      localPort: portName(ifIndex),
      remoteName: textOf(id) || '(unnamed)',
      ...(address ? { remoteAddress: address } : {}),
      remotePort: textOf(col(CDP.devicePort).get(key)) ?? '',
      via: 'cdp',
      ...(platform ? { platform } : {}),
    });
  }
  return out;
}
