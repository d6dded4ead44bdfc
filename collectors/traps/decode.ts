import snmp, { type Pdu, type Varbind } from 'net-snmp';
import type { EventPayload } from '../../core/index.ts';
import { asNumber, asText, bundledMibs, readVarbind, type MibLookup } from '../snmp-common/index.ts';
import { canonicalTrapOid, FIELD_NAMES, KNOWN_TRAPS } from './known-traps.ts';

// SNMPv2-MIB (RFC 3418): the first two varbinds of every v2 trap and inform.
const SYS_UPTIME = '1.3.6.1.2.1.1.3.0';
const SNMP_TRAP_OID = '1.3.6.1.6.3.1.1.4.1.0';
const SNMP_TRAPS = '1.3.6.1.6.3.1.1.5';
const MAX_VARBINDS = 64;

/** A decoded notification, ready to publish as `devices/{id}/events`. */
export interface DecodedTrap extends EventPayload {
  type: string;
  attributes: Record<string, unknown>;
}

/** The snmpTrapOID of a PDU: v2 from its second varbind (found by OID), v1 from generic/specific (RFC 3584 §3.1). */
export function trapOidOf(pdu: Pdu): string | undefined {
  if (pdu.type === snmp.PduType.Trap) {
    const g = pdu.generic ?? 6;
    if (g >= 0 && g <= 5) return `${SNMP_TRAPS}.${g + 1}`;
    return pdu.enterprise ? `${pdu.enterprise}.0.${pdu.specific ?? 0}` : undefined;
  }
  const vb = pdu.varbinds.find((v) => v.oid === SNMP_TRAP_OID);
  return vb ? asText(readVarbind(vb)) : undefined;
}

/**
 * Names a notification and lifts its fields into attributes, keyed by MIB name; tolerant of missing or
 * extra varbinds and of their order after the first two.
 *
 * The name: the standard ones of KNOWN_TRAPS (with their severities), else the NOTIFICATION-TYPE or
 * TRAP-TYPE of a loaded MIB (`attributes.trapName` is the qualified `MODULE::name`), else `snmp_trap`.
 * The fields: the standard ones (ifIndex, ifOperStatus, UPS minutes...) as numbers, as rules read them;
 * the objects a MIB notification declares (OBJECTS / VARIABLES) by their names, enumerations read by
 * name; every other varbind in `attributes.varbinds`, by `MODULE::object.instance` when a MIB names it.
 */
export function decodeTrap(pdu: Pdu, meta: { version: string; source: string; inform: boolean }, mibs: MibLookup = bundledMibs()): DecodedTrap | { error: string } {
  const raw = trapOidOf(pdu);
  if (!raw) return { error: 'no snmpTrapOID.0 varbind' };
  const oid = canonicalTrapOid(raw);
  const known = KNOWN_TRAPS[oid];
  const notification = mibs.notification(raw);
  const declared = new Set(notification?.objects ?? []);
  const attributes: Record<string, unknown> = { trapOid: raw, version: meta.version, source: meta.source };
  if (notification) attributes.trapName = `${notification.module}::${notification.name}`;
  if (meta.inform) attributes.inform = true;
  const varbinds: Record<string, unknown> = {};
  let n = 0;
  for (const vb of pdu.varbinds as Varbind[]) {
    if (vb.oid === SNMP_TRAP_OID) continue;
    const v = readVarbind(vb);
    let value = v.kind === 'big' ? v.value.toString() : v.kind === 'none' ? null : v.value;
    if (vb.oid === SYS_UPTIME) {
      attributes.uptimeSeconds = (asNumber(v) ?? 0) / 100;
      continue;
    }
    const column = vb.oid.replace(/\.\d+$/, '');
    const field = FIELD_NAMES[column];
    if (field && attributes[field] === undefined) {
      attributes[field] = value;
      continue;
    }
    // Named only under an OBJECT-TYPE: `SNMPv2-SMI::enterprises.99999.1.0` would say no more than the OID.
    const found = mibs.nameOf(vb.oid);
    const named = found && found.object.kind !== 'node' && found.object.kind !== 'notification' ? found : undefined;
    if (named && typeof value === 'number') value = mibs.label(named.object, value) ?? value;
    if (named && declared.has(named.object.name) && attributes[named.object.name] === undefined) attributes[named.object.name] = value;
    if (n++ < MAX_VARBINDS) varbinds[named?.text ?? vb.oid] = value;
  }
  if (pdu.type === snmp.PduType.Trap) {
    if (pdu.upTime !== undefined) attributes.uptimeSeconds = pdu.upTime / 100;
    if (pdu.agentAddr) attributes.agentAddr = pdu.agentAddr;
  }
  // linkDown/linkUp name their interface by the instance of ifIndex even when a device omits the status varbinds.
  if (attributes.ifIndex === undefined) {
    const inst = (pdu.varbinds as Varbind[]).find((vb) => /^1\.3\.6\.1\.2\.1\.2\.2\.1\.\d+\.\d+$/.test(vb.oid));
    if (inst) attributes.ifIndex = Number(inst.oid.split('.').pop());
  }
  if (Object.keys(varbinds).length > 0) attributes.varbinds = varbinds;
  if (known) return { type: known.name, severity: known.severity, attributes };
  if (notification) return { type: notification.name, severity: 'info', attributes };
  return { type: 'snmp_trap', severity: 'info', attributes };
}
