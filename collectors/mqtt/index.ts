export { startMqttIngest, type IngestSink, type IngestStats, type MqttIngest, type DropReason } from './ingest.ts';
