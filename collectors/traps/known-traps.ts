import type { Severity } from '../../core/index.ts';

/** Standard notifications by snmpTrapOID (reference/snmp/traps.md: SNMPv2-MIB, IF-MIB, UPS-MIB RFC 1628, ENTITY-MIB). */
export const KNOWN_TRAPS: Record<string, { name: string; severity: Severity }> = {
  '1.3.6.1.6.3.1.1.5.1': { name: 'coldStart', severity: 'warning' },
  '1.3.6.1.6.3.1.1.5.2': { name: 'warmStart', severity: 'warning' },
  '1.3.6.1.6.3.1.1.5.3': { name: 'linkDown', severity: 'major' },
  '1.3.6.1.6.3.1.1.5.4': { name: 'linkUp', severity: 'info' },
  '1.3.6.1.6.3.1.1.5.5': { name: 'authenticationFailure', severity: 'warning' },
  '1.3.6.1.6.3.1.1.5.6': { name: 'egpNeighborLoss', severity: 'minor' },
  '1.3.6.1.2.1.33.2.1': { name: 'upsTrapOnBattery', severity: 'major' },
  '1.3.6.1.2.1.33.2.2': { name: 'upsTrapTestCompleted', severity: 'info' },
  '1.3.6.1.2.1.33.2.3': { name: 'upsTrapAlarmEntryAdded', severity: 'major' },
  '1.3.6.1.2.1.33.2.4': { name: 'upsTrapAlarmEntryRemoved', severity: 'info' },
  '1.3.6.1.2.1.47.2.0.1': { name: 'entConfigChange', severity: 'info' },
};

/** Varbind OIDs (without instance) given a field name in the event's attributes. */
export const FIELD_NAMES: Record<string, string> = {
  '1.3.6.1.2.1.2.2.1.1': 'ifIndex',
  '1.3.6.1.2.1.2.2.1.2': 'ifDescr',
  '1.3.6.1.2.1.2.2.1.7': 'ifAdminStatus',
  '1.3.6.1.2.1.2.2.1.8': 'ifOperStatus',
  '1.3.6.1.2.1.31.1.1.1.1': 'ifName',
  '1.3.6.1.2.1.33.1.2.3': 'upsEstimatedMinutesRemaining',
  '1.3.6.1.2.1.33.1.2.2': 'upsSecondsOnBattery',
  '1.3.6.1.2.1.33.1.9.7': 'upsConfigLowBattTime',
  '1.3.6.1.2.1.33.1.6.2.1.1': 'upsAlarmId',
  '1.3.6.1.2.1.33.1.6.2.1.2': 'upsAlarmDescr',
  '1.3.6.1.2.1.33.1.7.3': 'upsTestResultsSummary',
  '1.3.6.1.2.1.47.1.4.1': 'entLastChangeTime',
};

/**
 * RFC 3584 §3: a v2 notification whose next-to-last arc is not 0 travels in SNMPv1 as enterprise = OID
 * minus its last arc; translated back it gains a `.0` (`1.3.6.1.2.1.33.2.0.1`). Both forms name one event.
 */
export function canonicalTrapOid(oid: string): string {
  if (KNOWN_TRAPS[oid]) return oid;
  const m = /^(.*)\.0\.(\d+)$/.exec(oid);
  if (m && KNOWN_TRAPS[`${m[1]}.${m[2]}`]) return `${m[1]}.${m[2]}`;
  return oid;
}
