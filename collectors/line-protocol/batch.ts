/*
 * A telemetry batch: many devices' readings in one MQTT message on `telemetry/{collector account}`,
 * the line protocol collector's way onto the broker. A 5,000-line Telegraf body is about 1,000
 * readings (one per host and timestamp); as `devices/{id}/telemetry` messages each was one QoS 1
 * publish, one PUBACK and one schema check, and those, not the points, were most of a write's cost.
 * Here a body is one or a few messages, each acknowledged once ingest's write-ahead log has all of it.
 *
 * The payload is JSON, names said once per message:
 *   {"v":1,"m":["cpu.usage_idle","mem.used_percent"],"r":[["srv-01",1700000000000,0,97.5,1,41.2],...]}
 * `m` the metric names, `r` the readings: device, epoch ms, then (index into `m`, value) pairs.
 * The broker lets only an account marked `telemetryBatches` publish there, under its own name
 * (broker/acl.ts); ingest (collectors/mqtt/telemetry-batches.ts) still takes only inventory devices.
 * This module imports nothing of collectors/, so ingest can import it alone (no import cycle).
 */

/** A collector's batches: `telemetry/{collector account}`, one level. */
export const TELEMETRY_BATCH_PREFIX = 'telemetry/';
export const TELEMETRY_BATCH_FILTER = 'telemetry/+';
export const telemetryBatchTopic = (collector: string): string => `${TELEMETRY_BATCH_PREFIX}${collector}`;

/** The metric names core/telemetry.ts `MetricName` takes; the same check on the batch path. */
const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
/** Epoch ms as core/telemetry.ts takes them. */
const MAX_TS = 8.64e15;
/** `{"v":1,"m":[],"r":[]}` */
const FRAME = 20;

/**
 * One device's values at one time, as the payload holds it (no copy): `pairs[from]`, `pairs[from+2]`...
 * index `names`, each followed by its value.
 */
export interface BatchReading {
  device: string;
  ts: number;
  names: readonly string[];
  pairs: readonly (string | number)[];
  /** Where the pairs start (2: after device and ts). */
  from: number;
}

/**
 * Packs readings into payloads of at most `maxBytes` (under the broker's maxPayloadBytes, which would
 * refuse a larger one). A reading too large for one message is split over several: same device and
 * time, different metrics, so nothing is written twice.
 */
export class TelemetryBatchEncoder {
  private names = new Map<string, number>();
  private nameList: string[] = [];
  private records: string[] = [];
  /** Bytes of the message so far: names, records, and the frame `{"v":1,"m":[],"r":[]}`. */
  private bytes = FRAME;
  private readonly payloads: string[] = [];
  constructor(private readonly maxBytes: number) {}

  /** Adds one device's values at one time. */
  add(device: string, ts: number, metrics: ReadonlyMap<string, number>): void {
    const record: (string | number)[] = [device, ts];
    const added: string[] = [];
    let addedBytes = 0;
    for (const [metric, value] of metrics) {
      let index = this.names.get(metric);
      if (index === undefined) {
        index = this.nameList.length + added.length;
        this.names.set(metric, index);
        added.push(metric);
        // Its JSON string and a comma in `m` (metric names need no escapes: metricOf's alphabet).
        addedBytes += metric.length + 3;
      }
      record.push(index, value);
    }
    const json = JSON.stringify(record);
    const cost = json.length + 1 + addedBytes;
    if (this.bytes + cost <= this.maxBytes) {
      for (const name of added) this.nameList.push(name);
      this.records.push(json);
      this.bytes += cost;
      return;
    }
    for (const name of added) this.names.delete(name);
    if (this.records.length > 0) {
      // This message is full: the reading starts the next one.
      this.flush();
      return this.add(device, ts, metrics);
    }
    // Alone over the limit (thousands of fields of one device at one time): in halves, same device and
    // time, different metrics, so nothing is written twice.
    const entries = [...metrics];
    const half = entries.length >> 1;
    if (half === 0) throw new Error('telemetry batch: one value is over the payload limit');
    this.add(device, ts, new Map(entries.slice(0, half)));
    this.add(device, ts, new Map(entries.slice(half)));
  }

  /** Every payload, the last one closed; the encoder starts empty again. */
  finish(): string[] {
    this.flush();
    return this.payloads.splice(0);
  }

  private flush(): void {
    if (this.records.length === 0) return;
    this.payloads.push(`{"v":1,"m":${JSON.stringify(this.nameList)},"r":[${this.records.join(',')}]}`);
    this.names = new Map();
    this.nameList = [];
    this.records = [];
    this.bytes = FRAME;
  }
}

/** A decoded batch: the readings that are well formed, and the first problem of those that are not. */
export interface DecodedBatch {
  readings: BatchReading[];
  bad: number;
  problem?: string;
}

/** The payload as readings; a payload that is no batch at all is a string (why). */
export function decodeTelemetryBatch(payload: Buffer | string): DecodedBatch | string {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString());
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'expected a JSON object';
  const { v, m, r } = json as { v?: unknown; m?: unknown; r?: unknown };
  if (v !== 1) return 'v: expected 1';
  if (!Array.isArray(m) || !Array.isArray(r)) return 'm and r: expected arrays';
  // Names are checked once per message, not once per value; a bad one fails the readings that use it.
  const names: string[] = m.map((name: unknown) => (typeof name === 'string' && name.length <= 64 && METRIC_NAME.test(name) ? name : ''));
  const out: DecodedBatch = { readings: [], bad: 0 };
  const bad = (i: number, why: string): void => {
    out.bad++;
    out.problem ??= `r.${i}: ${why}`;
  };
  for (let i = 0; i < r.length; i++) {
    const rec: unknown = r[i];
    if (!Array.isArray(rec) || rec.length % 2 !== 0 || rec.length < 4) {
      bad(i, 'expected [device, ts, index, value, ...]');
      continue;
    }
    const [device, ts] = rec as unknown[];
    if (typeof device !== 'string' || device === '') {
      bad(i, 'device: not a string');
      continue;
    }
    if (typeof ts !== 'number' || !Number.isInteger(ts) || ts < 0 || ts > MAX_TS) {
      bad(i, 'ts: not an epoch-millisecond time');
      continue;
    }
    let problem: string | undefined;
    for (let j = 2; j < rec.length; j += 2) {
      const index: unknown = rec[j];
      const value: unknown = rec[j + 1];
      const name = typeof index === 'number' ? names[index] : undefined;
      if (!name) {
        problem = `metric ${String(index).slice(0, 16)}: not the index of a metric name`;
        break;
      }
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        problem = `${name}: not a finite number`;
        break;
      }
    }
    if (problem !== undefined) bad(i, problem);
    else out.readings.push({ device, ts, names, pairs: rec as (string | number)[], from: 2 });
  }
  return out;
}
