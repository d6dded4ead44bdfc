/*
 * Ingest of telemetry batches, `telemetry/{collector}` (the line protocol collector's,
 * collectors/line-protocol/batch.ts): the telemetry path's steps, once per message instead of once per
 * reading:
 *
 *   decode (one JSON.parse, names checked once) -> identify (each device) -> tag -> the sink -> the log
 *
 * The sink gets one device's points at a time (its write() marks that device online), the write-ahead
 * log one record per reading (its compact form), and the publish is acknowledged once the log has
 * every record of the message: a 204 on /api/v2/write still means "on disk", for one PUBACK a message.
 */
import type { DeviceTags, Estate, Point } from '../../core/index.ts';
import { decodeTelemetryBatch, TELEMETRY_BATCH_PREFIX } from '../line-protocol/batch.ts';
import type { DurableLog, IngestPartition, IngestSink, IngestStats } from './ingest.ts';
import type { DropReason } from './pipeline.ts';

export { TELEMETRY_BATCH_FILTER, TELEMETRY_BATCH_PREFIX } from '../line-protocol/batch.ts';

interface Message {
  topic: string;
  payload: Buffer | string;
  qos?: number;
}

export interface TelemetryBatchIngestOptions {
  estate: Estate;
  sink: IngestSink;
  stats: IngestStats;
  log?: DurableLog;
  partition?: IngestPartition;
  partitionOf(device: string, count: number): number;
  /** Counts a dropped message or reading against `who` (a device, or `collector:{name}` for the message itself). */
  drop(who: string, reason: DropReason, detail: string): void;
  /** A fault downstream (a rule): logged, the other devices of the batch go on. */
  fault(who: string, topic: string, err: Error): void;
}

export interface TelemetryBatchIngest {
  /** A QoS 1 batch held by the embedded broker: ingested now, `ack` once its points are durable. */
  holdAck(packet: Message, ack: (err?: Error) => void): void;
  /** The subscription's delivery: a batch holdAck took is skipped; the others (QoS 0, 2, an external broker) are ingested here. */
  deliver(packet: Message, done: () => void): void;
}

export function telemetryBatchIngest(o: TelemetryBatchIngestOptions): TelemetryBatchIngest {
  const { estate, sink, stats, log, partition } = o;
  /** Payloads holdAck already ingested: aedes hands the same Buffer to the subscription after the PUBACK. */
  const ingested = new WeakSet<Buffer>();

  /** Every reading of the message through the sink; the points for the log, one array per reading (its compact record). */
  const ingest = (packet: Message): Point[][] => {
    const collector = packet.topic.slice(TELEMETRY_BATCH_PREFIX.length);
    stats.messages++;
    const batch = decodeTelemetryBatch(packet.payload);
    if (typeof batch === 'string') {
      o.drop(`collector:${collector}`, 'invalid_telemetry', batch);
      return [];
    }
    if (batch.bad > 0) o.drop(`collector:${collector}`, 'invalid_telemetry', `${batch.bad} of ${batch.bad + batch.readings.length} readings left out; ${batch.problem ?? ''}`);
    const records: Point[][] = [];
    // The collector writes a device's readings one after another: one sink write per run of the same device.
    let device = '';
    let tags: DeviceTags | undefined;
    let run: Point[] = [];
    const flush = (): void => {
      if (run.length === 0) return;
      try {
        sink.write(run);
      } catch (err) {
        o.fault(device, packet.topic, err as Error);
      }
      run = [];
    };
    for (const r of batch.readings) {
      if (r.device !== device) {
        flush();
        device = r.device;
        // Clustered ingest: each worker takes the devices of its partition from every batch.
        const owned = !partition || o.partitionOf(device, partition.count) === partition.index;
        tags = owned ? estate.tagsOf(device) : undefined;
        if (owned && !tags) o.drop(device, 'unknown_device', 'no such device in the inventory');
      }
      if (!tags) continue;
      const points: Point[] = [];
      const { names, pairs, ts } = r;
      for (let j = r.from; j < pairs.length; j += 2) {
        const p: Point = { device, metric: names[pairs[j] as number] as string, ts, value: pairs[j + 1] as number, tags };
        points.push(p);
        run.push(p);
      }
      stats.values += points.length;
      records.push(points);
    }
    flush();
    return records;
  };

  /** Each reading's record to the log; `answer` once all are durable, or with the first error. */
  const durable = (records: Point[][], answer: (err?: Error) => void): void => {
    if (!log || records.length === 0) return answer();
    let left = records.length;
    let failed: Error | undefined;
    const one = (err?: Error): void => {
      failed ??= err;
      if (--left === 0) answer(failed);
    };
    for (const points of records) log.append(points, one);
  };

  return {
    holdAck(packet, ack) {
      if (!log || !Buffer.isBuffer(packet.payload)) return ack();
      ingested.add(packet.payload);
      durable(ingest(packet), ack);
    },
    deliver(packet, done) {
      if (Buffer.isBuffer(packet.payload) && ingested.delete(packet.payload)) return done();
      const records = ingest(packet);
      // QoS 2: aedes sends PUBREC once every subscriber called back, so this one waits for the log.
      if (packet.qos === 2) return durable(records, () => done());
      done();
    },
  };
}
