/**
 * The province's e-government services (issue 16's list) as the sample estate runs them: which VMs
 * each one runs on, which links it reaches its users through, how it is checked. The hosts under
 * the VMs are read from the inventory, so the dependencies follow the sample when it changes.
 */
import type { InventoryInput } from '../../core/index.ts';

export type EndpointId = 'portal' | 'document-mgmt' | 'lgsp' | 'web-portal' | 'email' | 'dns';

export interface ServiceEntry {
  id: EndpointId;
  name: string;
  owner: string;
  /** The DNS label under the zone ("" for the zone itself). */
  label: string;
  kind: 'https' | 'smtp' | 'dns';
  /** VMs of the inventory that serve it: it is off the network when every one's host is down. */
  runsOn: string[];
  /** Devices and links besides the VMs and their hosts. */
  via: string[];
  public: boolean;
  slo: { availabilityPct: number; windowDays: number };
}

const DTTT = 'Sở Thông tin và Truyền thông';

export const SERVICE_CATALOGUE: readonly ServiceEntry[] = [
  { id: 'portal', name: 'Cổng dịch vụ công tỉnh', owner: 'Văn phòng UBND tỉnh', label: 'dichvucong', kind: 'https', runsOn: ['vm-public-services'], via: ['inet-vnpt'], public: true, slo: { availabilityPct: 99.5, windowDays: 30 } },
  { id: 'document-mgmt', name: 'Hệ thống quản lý văn bản và điều hành', owner: 'Văn phòng UBND tỉnh', label: 'qlvb', kind: 'https', runsOn: ['vm-document-mgmt'], via: ['man-qnm'], public: false, slo: { availabilityPct: 99, windowDays: 30 } },
  { id: 'lgsp', name: 'Nền tảng tích hợp, chia sẻ dữ liệu (LGSP)', owner: DTTT, label: 'lgsp', kind: 'https', runsOn: ['vm-lgsp'], via: ['wan-tslcd', 'vpn-national-dc'], public: false, slo: { availabilityPct: 99.5, windowDays: 30 } },
  { id: 'email', name: 'Thư điện tử công vụ', owner: DTTT, label: 'mail', kind: 'smtp', runsOn: ['vm-mail'], via: ['inet-vnpt'], public: true, slo: { availabilityPct: 99, windowDays: 30 } },
  { id: 'web-portal', name: 'Cổng thông tin điện tử tỉnh', owner: DTTT, label: 'www', kind: 'https', runsOn: ['vm-egov-portal-1', 'vm-egov-portal-2'], via: ['inet-vnpt'], public: true, slo: { availabilityPct: 99.5, windowDays: 30 } },
  // The sample has no DNS VM: the provincial DNS answers from the edge, behind the core switches.
  { id: 'dns', name: 'Hệ thống tên miền (DNS)', owner: DTTT, label: 'ns1', kind: 'dns', runsOn: [], via: ['edge-rtr-1', 'core-sw-1', 'core-sw-2', 'inet-vnpt', 'inet-viettel'], public: false, slo: { availabilityPct: 99.9, windowDays: 30 } },
];

/** The hypervisor host of each VM (its parent of kind host), from the inventory. */
export function hostsOfVms(inventory: InventoryInput): Map<string, string> {
  const kinds = new Map((inventory.devices ?? []).map((d) => [d.id, d.kind]));
  const out = new Map<string, string>();
  for (const d of inventory.devices ?? []) {
    if (d.kind !== 'vm') continue;
    const host = (d.parents ?? []).find((p) => kinds.get(p) === 'host');
    if (host) out.set(d.id, host);
  }
  return out;
}

/** The entry's dependencies: its VMs, their hosts, then the devices and links it is reached through. */
export function dependenciesOf(entry: ServiceEntry, hosts: ReadonlyMap<string, string>): string[] {
  const hostIds = entry.runsOn.map((vm) => hosts.get(vm)).filter((h): h is string => h !== undefined);
  return [...new Set([...entry.runsOn, ...hostIds, ...entry.via])];
}
