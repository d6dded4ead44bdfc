export { startMqttIngest, partitionOf, type DurableLog, type IngestSink, type IngestStats, type MqttIngest, type MqttIngestOptions, type MessageSource, type IngestPartition } from './ingest.ts';
export { identify, decode, validate, tag, store, evaluate, publish, deliverPoints, Dropped, type DropReason, type EvaluationTime, type PointTargets, type Reading } from './pipeline.ts';
export { registerIngestMetrics } from './metrics.ts';
