/** The SNMP trap and inform receiver: names notifications (standard ones and those of loaded MIBs), reports probes as security events. */

export { TrapReceiver, type TrapReceiverOptions, type TrapReceiverStats } from './receiver.ts';
export { SecurityEventFlood, type FloodOptions } from './flood.ts';
export { decodeTrap, trapOidOf, type DecodedTrap } from './decode.ts';
export { canonicalTrapOid, KNOWN_TRAPS } from './known-traps.ts';
// Started by the `snmp` collector (collectors/snmp/collector.ts), on the poller's MQTT link.
