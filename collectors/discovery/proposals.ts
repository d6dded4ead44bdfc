/** What a sweep proposes, never applies: LAN links between devices, and devices the inventory does not have yet. */
import type { Device, DeviceKind, Inventory, Link } from '../../core/index.ts';
import type { Neighbour } from './neighbours.ts';
import type { FoundDevice } from './probe.ts';

export interface ProposedLinkEnd {
  /** An inventory device id when `known`, else the id a proposed device would get. */
  device: string;
  interface: string;
  known: boolean;
}

export interface ProposedLink {
  kind: 'lan';
  a: ProposedLinkEnd;
  b: ProposedLinkEnd;
  via: ('lldp' | 'cdp')[];
}

export interface ProposedDevice {
  /** A suggested id (the admin may change it on accept). */
  id: string;
  name: string;
  address?: string;
  kind: DeviceKind;
  /** `sweep`: it answered SNMP in this sweep (accept registers it with that credential); `neighbour`: only heard of. */
  source: 'sweep' | 'neighbour';
  seenBy: { device: string; port: string; via: 'lldp' | 'cdp' }[];
}

export interface Proposals {
  /** Cables the inventory does not have yet (those it has are not proposed again: `linksInInventory` counts them). */
  links: ProposedLink[];
  linksInInventory: number;
  devices: ProposedDevice[];
}

/** A port name compared loosely: case and spaces aside ("Gi1/0/1" and "gi 1/0/1" are one port). */
const portKey = (p: string | undefined): string => (p ?? '').toLowerCase().replace(/\s+/g, '');

/**
 * Whether the inventory has this cable: a link between the two devices that names no ports, or names
 * the port of either end. One end is enough: the far end's port comes in the neighbour's own words
 * (CDP "GigabitEthernet1/0/1" for LLDP's "Gi1/0/1"), and one local port has one cable.
 */
export function inventoryHasLink(links: readonly Link[], a: { device: string; interface: string }, b: { device: string; interface: string }): boolean {
  return links.some((l) => {
    const [x, y] = l.a.device === a.device && l.b.device === b.device ? [l.a, l.b] : l.a.device === b.device && l.b.device === a.device ? [l.b, l.a] : [undefined, undefined];
    if (!x || !y) return false;
    if (!x.interface && !y.interface) return true;
    return (x.interface !== undefined && portKey(x.interface) === portKey(a.interface)) || (y.interface !== undefined && portKey(y.interface) === portKey(b.interface));
  });
}

/** A name as devices tell it, for matching: lower case, without a CDP serial suffix "(SSI1837…)" or a DNS domain. */
export function nameKey(name: string): string {
  const n = name.trim().toLowerCase().replace(/\(.*\)$/, '').trim();
  return /^\d+(\.\d+){3}$/.test(n) ? n : (n.split('.')[0] ?? n);
}

/** A suggested inventory id from a name (Id: letters, digits, "-", "_", ".", ":"), else from the address. */
export function suggestId(name: string, address?: string): string {
  const slug = nameKey(name).replace(/[^a-z0-9_.:-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '').slice(0, 100);
  if (slug) return slug;
  return address ? `dev-${address.replace(/[.:]/g, '-')}` : 'dev-unnamed';
}

/** Finds inventory devices by address (snmp.host, addresses), by id and by name. */
class InventoryIndex {
  private readonly byAddress = new Map<string, string>();
  private readonly byName = new Map<string, string>();

  constructor(devices: Iterable<Device>) {
    for (const d of devices) {
      if (d.snmp?.host) this.byAddress.set(d.snmp.host, d.id);
      for (const a of d.addresses ?? []) this.byAddress.set(a, d.id);
      this.byName.set(nameKey(d.id), d.id);
      if (d.name) this.byName.set(nameKey(d.name), d.id);
    }
  }

  find(address: string | undefined, name: string | undefined): string | undefined {
    return (address ? this.byAddress.get(address) : undefined) ?? (name ? this.byName.get(nameKey(name)) : undefined);
  }
}

/** The kind a neighbour's LLDP capabilities or CDP platform suggest. */
function neighbourKind(n: Neighbour): DeviceKind {
  const caps = n.capabilities ?? [];
  if (caps.includes('router') && !caps.includes('bridge')) return 'router';
  if (caps.includes('bridge')) return 'switch';
  if (caps.includes('telephone') || caps.includes('wlanAccessPoint')) return 'iot';
  if (caps.includes('stationOnly')) return 'workstation';
  if (n.platform && /phone/i.test(n.platform)) return 'iot';
  return 'switch';
}

/**
 * Matches what a sweep found against the inventory: each found device is a known device or a proposed
 * one; each neighbour is a known device, a device found in this sweep or a proposed new one; each
 * neighbour row is a LAN link, the same cable seen from both ends (or by LLDP and CDP) proposed once.
 */
export function propose(found: readonly FoundDevice[], devices: Iterable<Device>, inventory: Pick<Inventory, 'links'>): { proposals: Proposals; knownAs: Map<string, string> } {
  const index = new InventoryIndex(devices);
  const knownAs = new Map<string, string>();
  const proposedDevices = new Map<string, ProposedDevice>();
  // Found devices by address and by name, so a neighbour that also answered the sweep is that device.
  const foundId = new Map<string, { id: string; known: boolean }>();
  const foundByName = new Map<string, { id: string; known: boolean }>();
  const taken = new Set<string>();
  const unique = (id: string): string => {
    let out = id;
    for (let i = 2; taken.has(out); i++) out = `${id}-${i}`;
    taken.add(out);
    return out;
  };
  // Each found device's own entry: two found at one address (agents on other ports) keep their own neighbours.
  const entryOf = new Map<FoundDevice, { id: string; known: boolean }>();
  for (const f of found) {
    // Read from the inventory (a neighbours sweep): it is that device, whatever the address says.
    const known = f.device ?? index.find(f.address, f.sysName);
    if (known) knownAs.set(f.address, known);
    const entry = known ? { id: known, known: true } : { id: unique(suggestId(f.sysName, f.address)), known: false };
    entryOf.set(f, entry);
    if (!foundId.has(f.address)) foundId.set(f.address, entry);
    if (f.sysName) foundByName.set(nameKey(f.sysName), entry);
    if (!known) proposedDevices.set(entry.id, { id: entry.id, name: f.sysName || f.address, address: f.address, kind: f.kind, source: 'sweep', seenBy: [] });
  }
  const neighbourByName = new Map<string, ProposedDevice>();
  const remoteOf = (n: Neighbour, seenBy: ProposedDevice['seenBy'][number]): { id: string; known: boolean } => {
    const known = index.find(n.remoteAddress, n.remoteName);
    if (known) return { id: known, known: true };
    const inSweep = (n.remoteAddress ? foundId.get(n.remoteAddress) : undefined) ?? foundByName.get(nameKey(n.remoteName));
    if (inSweep) {
      proposedDevices.get(inSweep.id)?.seenBy.push(seenBy);
      return inSweep;
    }
    const key = nameKey(n.remoteName);
    let p = neighbourByName.get(key);
    if (!p) {
      p = { id: unique(suggestId(n.remoteName, n.remoteAddress)), name: n.remoteName.replace(/\(.*\)$/, '').trim() || n.remoteName, kind: neighbourKind(n), source: 'neighbour', seenBy: [] };
      if (n.remoteAddress) p.address = n.remoteAddress;
      neighbourByName.set(key, p);
      proposedDevices.set(p.id, p);
    }
    if (!p.address && n.remoteAddress) p.address = n.remoteAddress;
    p.seenBy.push(seenBy);
    return { id: p.id, known: false };
  };

  const links = new Map<string, ProposedLink>();
  let linksInInventory = 0;
  for (const f of found) {
    const local = entryOf.get(f) as { id: string; known: boolean };
    for (const n of f.neighbours) {
      const remote = remoteOf(n, { device: local.id, port: n.localPort, via: n.via });
      if (remote.id === local.id) continue;
      const a: ProposedLinkEnd = { device: local.id, interface: n.localPort, known: local.known };
      const b: ProposedLinkEnd = { device: remote.id, interface: n.remotePort, known: remote.known };
      // One cable: keyed by each end's device and the local port; the far end names the port in its own words.
      const ends = [`${a.device}|${a.interface}`, `${b.device}|${b.interface}`].sort().join(' ~ ');
      const same = links.get(ends) ?? [...links.values()].find((l) =>
        (l.a.device === a.device && l.a.interface === a.interface && l.b.device === b.device) ||
        (l.b.device === a.device && l.b.interface === a.interface && l.a.device === b.device));
      if (same) {
        if (!same.via.includes(n.via)) same.via.push(n.via);
        continue;
      }
      links.set(ends, { kind: 'lan', a, b, via: [n.via] });
    }
  }
  const fresh = [...links.values()].filter((l) => {
    const has = l.a.known && l.b.known && inventoryHasLink(inventory.links, l.a, l.b);
    if (has) linksInInventory++;
    return !has;
  });
  return { proposals: { links: fresh, linksInInventory, devices: [...proposedDevices.values()] }, knownAs };
}
