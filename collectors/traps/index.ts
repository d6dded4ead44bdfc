/** The SNMP trap and inform receiver: names standard notifications, reports probes as security events. */
import { registerCollector } from '../registry.ts';
import { TrapReceiver, type TrapReceiverOptions } from './receiver.ts';

export { TrapReceiver, type TrapReceiverOptions, type TrapReceiverStats } from './receiver.ts';
export { SecurityEventFlood, type FloodOptions } from './flood.ts';
export { decodeTrap, trapOidOf, type DecodedTrap } from './decode.ts';
export { canonicalTrapOid, KNOWN_TRAPS } from './names.ts';

registerCollector('snmp_trap', (o: TrapReceiverOptions) => new TrapReceiver(o));
