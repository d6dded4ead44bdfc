export { startMqttIngest, partitionOf, type DurableLog, type IngestSink, type IngestStats, type MqttIngest, type MqttIngestOptions, type MessageSource, type IngestPartition } from './ingest.ts';
export { identify, decode, decodeCheckReport, validate, tag, store, evaluate, publish, deliverPoints, Dropped, validateLogs, logLineProblem, MAX_LOG_BATCH, type LogBatch, type DropReason, type EvaluationTime, type PointTargets, type Reading, type ServiceCheckMessage } from './pipeline.ts';
export { registerIngestMetrics } from './metrics.ts';
