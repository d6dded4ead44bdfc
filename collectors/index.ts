export { startMqttIngest, partitionOf, type IngestSink, type IngestStats, type MqttIngest, type MqttIngestOptions, type MessageSource, type IngestPartition, type DropReason } from './mqtt/index.ts';
export { registerCollector, createCollector, collectorNames, type Accumulator, type Collector } from './registry.ts';
export * from './snmp/index.ts';
export * from './traps/index.ts';
