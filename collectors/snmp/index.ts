/** The SNMP poller: profiles as data, IF-MIB rates, availability; publishes through an Accumulator. */
import { registerCollector } from '../registry.ts';
import { SnmpPoller, type SnmpPollerOptions } from './poller.ts';

export { SnmpPoller, type SnmpPollerOptions, type SnmpPollerStats, type SnmpTarget } from './poller.ts';
export { SnmpClient, SNMP_DEFAULTS, type ClientOptions, type WalkResult } from './session.ts';
export { DevicePoll, type PollOutcome, type DeviceEventOut } from './collect.ts';
export { builtinProfiles, loadProfiles, matchProfile, type Profile, type ProfileSet } from './profiles.ts';
export { counterRate, type CounterSample, type RateResult } from './counters.ts';
export { asNumber, asText, bigintToCounter64, bufferToBigint, compareOids, readVarbind, type SnmpValue } from './values.ts';
export { dimension, metricName } from './names.ts';
export { freeUdpPort } from './udp-port.ts';
export { startSnmpCollectors, SNMP_COLLECTOR_ACCOUNT, type SnmpCollectors, type SnmpCollectorsOptions } from './product.ts';
export { connectMqttAccumulator, type MqttAccumulator, type MqttAccumulatorOptions } from './mqtt-accumulator.ts';

registerCollector('snmp', (o: SnmpPollerOptions) => new SnmpPoller(o));
