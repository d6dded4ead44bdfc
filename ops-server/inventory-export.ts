/*
 * The running inventory written back as the inventory file's YAML: the file's sites, rooms, racks,
 * links, services and SNMP credential profiles, and every device, those added over the API included,
 * so the file stays the source of truth. Loading the export gives the same inventory.
 */
import { stringify } from 'yaml';
import { compactDeviceSnmp, type Device, type Estate, type InventoryInput, type SnmpCredentialProfile } from '../core/index.ts';

/** A device as the file states it: empty defaults left out, and the keys its credential profile gives left to the profile. */
function fileDevice(d: Device, profiles: Record<string, SnmpCredentialProfile>): Record<string, unknown> {
  const { parents, labels, snmp, ...rest } = d;
  const out: Record<string, unknown> = { ...rest };
  if (parents.length > 0) out.parents = parents;
  if (Object.keys(labels).length > 0) out.labels = labels;
  if (snmp) out.snmp = compactDeviceSnmp(snmp, profiles);
  return out;
}

/** An SNMP block (a device's or a profile's) without its community and v3 keys. */
function withoutSecrets<T extends { community?: string; v3?: { authKey?: string; privKey?: string } }>(snmp: T): T {
  const { community: _c, v3, ...rest } = snmp;
  if (!v3) return rest as T;
  const { authKey: _a, privKey: _p, ...v3rest } = v3;
  return { ...rest, v3: v3rest } as T;
}

export interface ExportOptions {
  /** Include SNMP communities and v3 keys (the CLI, and the API when asked): without them the file does not load until they are put back. */
  secrets: boolean;
}

/** The estate as an inventory file's object. */
export function exportInventory(estate: Estate, options: ExportOptions = { secrets: true }): InventoryInput {
  const inv = estate.inventory;
  const keep = <T extends { community?: string; v3?: { authKey?: string; privKey?: string } }>(s: T): T => (options.secrets ? s : withoutSecrets(s));
  const profiles = Object.fromEntries(Object.entries(inv.snmpProfiles).map(([k, v]) => [k, keep(v)]));
  const devices = [...estate.devices.values()].map((d) => fileDevice(d, inv.snmpProfiles)).map((d) => (d.snmp ? { ...d, snmp: keep(d.snmp as { community?: string }) } : d));
  return {
    sites: inv.sites,
    rooms: inv.rooms,
    racks: inv.racks,
    ...(Object.keys(profiles).length > 0 ? { snmpProfiles: profiles } : {}),
    devices: devices as InventoryInput['devices'],
    links: inv.links,
    ...(inv.services.length > 0 ? { services: inv.services } : {}),
  };
}

/** exportInventory as YAML, with a header saying where it came from and whether it holds the secrets. */
export function exportInventoryYaml(estate: Estate, now: number, options: ExportOptions = { secrets: true }): string {
  const secrets = options.secrets
    ? '# It holds SNMP communities and keys: keep it owner-readable only.'
    : '# SNMP communities and v3 keys are left out (secrets are write-only over the API): put them back, or export with secrets=true.';
  const header = `# Watchfloor inventory exported ${new Date(now).toISOString()}: the inventory file and the devices added over the API.\n${secrets}\n`;
  return header + stringify(exportInventory(estate, options), { lineWidth: 0 });
}
