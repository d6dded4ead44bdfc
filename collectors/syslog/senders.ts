/*
 * Which inventory device sent a syslog line: by the device's `addresses` (what the operator stated),
 * then by the HOSTNAME of the line (device id or name, case-insensitive: a relay forwards many hosts'
 * lines from one address), then by the device's SNMP host when no other device shares it.
 */
import type { Device, LogLine } from '../../core/index.ts';

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`, a dual-stack socket's view) as the IPv4 address. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address.toLowerCase();
}

export type MappedBy = 'address' | 'hostname' | 'snmp_host';

/** The device index the collector maps senders with; rebuilt when a device is added. */
export class SenderMap {
  private readonly byAddress = new Map<string, string>();
  private readonly byName = new Map<string, string>();
  private readonly bySnmpHost = new Map<string, string | null>();

  constructor(devices: Iterable<Device>) {
    for (const d of devices) this.add(d);
  }

  add(d: Device): void {
    for (const a of d.addresses ?? []) this.byAddress.set(plainAddress(a), d.id);
    this.byName.set(d.id.toLowerCase(), d.id);
    if (d.name) this.byName.set(d.name.toLowerCase(), d.id);
    if (d.snmp) {
      const host = plainAddress(d.snmp.host);
      const other = this.bySnmpHost.get(host);
      // A host shared by several devices (the simulated estate on loopback) names none of them.
      this.bySnmpHost.set(host, other === undefined || other === d.id ? d.id : null);
    }
  }

  /** The device of a line from `address`, and how it was found; undefined for an unknown sender. */
  deviceOf(line: LogLine, address: string): { device: string; by: MappedBy } | undefined {
    const a = plainAddress(address);
    const stated = this.byAddress.get(a);
    if (stated !== undefined) return { device: stated, by: 'address' };
    const named = line.host ? this.byName.get(line.host.toLowerCase()) : undefined;
    if (named !== undefined) return { device: named, by: 'hostname' };
    const snmp = this.bySnmpHost.get(a);
    if (snmp) return { device: snmp, by: 'snmp_host' };
    return undefined;
  }
}
