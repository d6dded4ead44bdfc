import type { Device, Estate } from '../core/index.ts';

/**
 * Who a device depends on, derived from the inventory: its declared `parents`; for a device in a
 * rack, the rack's PDUs and top-of-rack switches; for a switch, firewall or anything without a
 * network parent, the routers of its site (the site router is in front of everything behind it).
 * Returns the transitive ancestors, nearest first; cycles are cut.
 */
export function dependencyTree(estate: Estate): (device: string) => readonly string[] {
  const direct = (d: Device): string[] => {
    const out = new Set(d.parents);
    const loc = d.location;
    if ('rack' in loc) {
      for (const other of estate.devices.values()) {
        if (other.id === d.id || !('rack' in other.location) || other.location.rack !== loc.rack) continue;
        // A PDU feeds the rack; a switch connects it. Neither depends on the other through the rack.
        if ((other.kind === 'pdu' && d.kind !== 'pdu') || (other.kind === 'switch' && d.kind !== 'switch' && d.kind !== 'pdu')) out.add(other.id);
      }
    }
    if (d.kind !== 'router') {
      const site = estate.tagsOf(d.id)?.site;
      const hasNetworkParent = [...out].some((p) => ['switch', 'router', 'firewall'].includes(estate.devices.get(p)?.kind ?? ''));
      if (site && !hasNetworkParent) {
        for (const other of estate.devices.values()) if (other.kind === 'router' && estate.tagsOf(other.id)?.site === site) out.add(other.id);
      }
    }
    return [...out];
  };
  const cache = new Map<string, readonly string[]>();
  return (device) => {
    const hit = cache.get(device);
    if (hit) return hit;
    const seen = new Set<string>([device]);
    const order: string[] = [];
    const queue = [device];
    while (queue.length > 0) {
      const d = estate.devices.get(queue.shift() as string);
      if (!d) continue;
      for (const p of direct(d)) {
        if (seen.has(p)) continue;
        seen.add(p);
        order.push(p);
        queue.push(p);
      }
    }
    cache.set(device, order);
    return order;
  };
}
