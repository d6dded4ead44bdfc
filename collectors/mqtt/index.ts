export { startMqttIngest, partitionOf, type IngestSink, type IngestStats, type MqttIngest, type MqttIngestOptions, type MessageSource, type IngestPartition, type DropReason } from './ingest.ts';
