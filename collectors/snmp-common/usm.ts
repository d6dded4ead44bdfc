import snmp, { type User } from 'net-snmp';
import type { DeviceSnmp } from '../../core/index.ts';

/** A device's SNMPv3 block (core/inventory.ts `snmp.v3`). */
export type SnmpV3Credentials = NonNullable<DeviceSnmp['v3']>;

const authProtocols = { sha: snmp.AuthProtocols.sha, sha256: snmp.AuthProtocols.sha256, sha512: snmp.AuthProtocols.sha512, md5: snmp.AuthProtocols.md5 };
const privProtocols = { aes: snmp.PrivProtocols.aes, des: snmp.PrivProtocols.des, none: snmp.PrivProtocols.none };

/**
 * The USM user (RFC 3414) for a v3 block, as net-snmp's sessions, receiver and agent take it: SHA and
 * AES by default; authNoPriv when privacy is `none` or has no key, authPriv otherwise (RFC 3414 §3.1).
 */
export function usmUser(v3: SnmpV3Credentials): User {
  const priv = v3.privProtocol ?? 'aes';
  return {
    name: v3.user,
    level: priv === 'none' || !v3.privKey ? snmp.SecurityLevel.authNoPriv : snmp.SecurityLevel.authPriv,
    authProtocol: authProtocols[v3.authProtocol ?? 'sha'],
    authKey: v3.authKey,
    privProtocol: privProtocols[priv],
    privKey: v3.privKey,
  };
}
