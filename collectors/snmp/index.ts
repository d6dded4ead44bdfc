/** The SNMP poller: profiles as data, IF-MIB rates, availability; publishes through an Accumulator. */
import { registerCollector } from '../registry.ts';
import { SnmpCollector } from './collector.ts';

export { SnmpPoller, type SnmpPollerOptions, type SnmpPollerStats, type SnmpTarget } from './poller.ts';
export { SnmpClient, SNMP_DEFAULTS, type ClientOptions, type WalkResult } from './session.ts';
export { DevicePoll } from './device-poll.ts';
export type { PollOutcome, DeviceEventOut } from './poll-outcome.ts';
export { builtinProfiles, loadProfiles, loadProfileSet, matchProfile, type Profile, type ProfileSet, type ProfileSetOptions } from './profiles.ts';
export { counterRate, type CounterSample, type RateResult } from './counters.ts';
export { dimension, metricName } from './metric-names.ts';
export { startSnmpCollectors, SnmpCollector, SNMP_COLLECTOR_ACCOUNT, type SnmpCollectors, type SnmpCollectorsOptions } from './collector.ts';
export { connectMqttAccumulator, type MqttAccumulator, type MqttAccumulatorOptions } from './mqtt-accumulator.ts';

// The poller and the trap receiver (collectors/traps) on one MQTT link.
registerCollector('snmp', SnmpCollector.fromContext);
