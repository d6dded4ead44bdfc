/*
 * The ingest path of one telemetry message, as named steps (aedes lists its publishActions the same way):
 *
 *   identify -> decode -> validate -> tag -> store -> evaluate -> publish
 *
 * startMqttIngest (ingest.ts) runs the first four on each `devices/{id}/telemetry` message and hands the
 * points to its sink; the product's sink is `deliverPoints`, the last three in order, assembled by the
 * composition root (cli/ingest-pipeline.ts). Their targets are structural, so collectors/ depends on
 * neither store/, rules/ nor ops-server/.
 */
import { decodeTelemetry, type Alert, type DeviceTags, type Estate, type Point } from '../../core/index.ts';

/** Why a message was dropped; each is counted per device. */
export type DropReason = 'invalid_json' | 'invalid_telemetry' | 'invalid_event' | 'invalid_status' | 'unknown_device';

/** A step's answer when the message goes no further (JSON.parse never yields one, so it cannot be mistaken for a payload). */
export class Dropped {
  constructor(
    readonly reason: DropReason,
    readonly detail: string,
  ) {}
}

/** The reading a telemetry payload carries, once validated. */
export interface Reading {
  ts: number;
  metrics: Record<string, number>;
}

/** identify: the device's inventory tags; an unknown device is dropped before its payload is even parsed. */
export function identify(estate: Estate, device: string): DeviceTags | Dropped {
  return estate.tagsOf(device) ?? new Dropped('unknown_device', 'no such device in the inventory');
}

/** decode: the payload as JSON. */
export function decode(payload: Buffer | string): unknown {
  try {
    return JSON.parse(payload.toString());
  } catch (err) {
    return new Dropped('invalid_json', (err as Error).message);
  }
}

/** validate: the telemetry schema, either form (core/telemetry.ts); the timestamp defaults to `arrival`. */
export function validate(json: unknown, arrival: number): Reading | Dropped {
  const decoded = decodeTelemetry(json, arrival);
  return decoded.ok ? decoded.value : new Dropped('invalid_telemetry', decoded.reason);
}

/** tag: one point per metric, carrying the device's inventory tags (never the sender's). */
export function tag(device: string, tags: DeviceTags, reading: Reading): Point[] {
  const { ts, metrics } = reading;
  const points: Point[] = [];
  for (const metric in metrics) points.push({ device, metric, ts, value: metrics[metric] as number, tags });
  return points;
}

/** Seconds spent evaluating rules on incoming values, and how many values: two counters on /metrics. */
export interface EvaluationTime {
  seconds: number;
  values: number;
}

/** Where the last three steps hand the points: the product's store, rules and screens. */
export interface PointTargets {
  store: { write(points: Point[]): void };
  rules: { onPoint(point: Point): readonly Alert[] };
  /** The alert fan-out (screens, `alerts/{id}` topic); called only with changes. */
  alerts(changes: readonly Alert[]): void;
  evaluationTime: EvaluationTime;
  /** The realtime `telemetry` feed of the screens. */
  screens(points: Point[]): void;
  /** The device sent data, so it is online (a no-op when it already is). */
  online(device: string): void;
}

/** store: the points to the time-series store (and, by the ingest's log, to disk) before anything can fail on them. */
export function store(points: Point[], t: PointTargets): void {
  t.store.write(points);
}

/** evaluate: every point through the rules; their changes to the alert fan-out. Timed per message, not per value. */
export function evaluate(points: Point[], t: PointTargets): void {
  // Two clock reads per message cost little at 25,000 messages/s.
  const started = performance.now();
  for (const p of points) {
    const changes = t.rules.onPoint(p);
    if (changes.length > 0) t.alerts(changes);
  }
  t.evaluationTime.seconds += (performance.now() - started) / 1000;
  t.evaluationTime.values += points.length;
}

/** publish: the points to the screens; the device is online. */
export function publish(points: Point[], t: PointTargets): void {
  t.screens(points);
  const device = points[0]?.device;
  if (device !== undefined) t.online(device);
}

/** store -> evaluate -> publish, in that order: the product's sink for the points ingest accepted. */
export function deliverPoints(targets: PointTargets): (points: Point[]) => void {
  return (points) => {
    store(points, targets);
    evaluate(points, targets);
    publish(points, targets);
  };
}
