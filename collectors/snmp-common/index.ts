/** What the SNMP poller, the trap receiver and the simulated agents share: varbind values, OID order, USM users, UDP ports, MIB names. */
export { asNumber, asText, bigintToCounter64, bufferToBigint, compareOids, isUnder, readVarbind, type SnmpValue } from './values.ts';
export { usmUser, type SnmpV3Credentials } from './usm.ts';
export { freeUdpPort } from './udp-port.ts';
export { bundledMibs, loadMibs, MibLookup, type LoadMibsOptions, type MibName, type MibObject, type MibObjectKind, type MibOid, type MibProblem, type MibResolved } from './mibs.ts';
