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
import { decodeTelemetry, describeIssue, LOG_FACILITIES, LOG_SEVERITIES, type Alert, type DeviceTags, type Estate, type LogLine, type Point } from '../../core/index.ts';
// The payload module alone (it imports nothing of collectors/): checks/index.ts starts the checks
// collector, which imports this folder, so going through it would be a cycle.
import { CheckReport, checkReportRoute } from '../checks/report.ts';

/** Why a message was dropped; each is counted per device. */
export type DropReason = 'invalid_json' | 'invalid_telemetry' | 'invalid_event' | 'invalid_status' | 'unknown_device' | 'invalid_check_report' | 'invalid_logs';

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
  const plain = plainReading(json, arrival);
  if (plain) return plain;
  const decoded = decodeTelemetry(json, arrival);
  return decoded.ok ? decoded.value : new Dropped('invalid_telemetry', decoded.reason);
}

/** The metric-name rule of core/telemetry.ts (MetricName), tested without zod. */
const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const isMetrics = (m: unknown): m is Record<string, number> => {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
  for (const k in m) {
    const v = (m as Record<string, unknown>)[k];
    // `__proto__` is left to zod, whose output object treats that key its own way.
    if (typeof v !== 'number' || !Number.isFinite(v) || k.length > 64 || k === '__proto__' || !METRIC_NAME.test(k)) return false;
  }
  return true;
};
const isTimestamp = (t: unknown): t is number => typeof t === 'number' && Number.isInteger(t) && t >= 0 && t <= 8.64e15;

/**
 * The usual payload, `{"metrics": {...}}` with an optional `ts`, checked by hand: zod took 16 % of the
 * ingest's time under load (issue 19's profile). Only a payload the schema surely accepts passes here,
 * with the same result; anything else (the flat form, a mistake) goes to decodeTelemetry, which decides
 * and says why.
 */
function plainReading(json: unknown, arrival: number): Reading | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  let keys = 0;
  for (const k in o) {
    if (k !== 'metrics' && k !== 'ts') return undefined;
    keys++;
  }
  if (keys === 0 || !isMetrics(o.metrics)) return undefined;
  if (o.ts !== undefined && !isTimestamp(o.ts)) return undefined;
  return { ts: (o.ts as number | undefined) ?? arrival, metrics: o.metrics };
}

/** tag: one point per metric, carrying the device's inventory tags (never the sender's). */
export function tag(device: string, tags: DeviceTags, reading: Reading): Point[] {
  const { ts, metrics } = reading;
  const points: Point[] = [];
  for (const metric in metrics) points.push({ device, metric, ts, value: metrics[metric] as number, tags });
  return points;
}

/** A service check result as ingest hands it on: which service and check, and the report. */
export interface ServiceCheckMessage {
  serviceId: string;
  checkKey: string;
  report: CheckReport;
}

/**
 * decodeCheckReport: a `services/{serviceId}/checks/{checkKey}` message (the checks collector's,
 * collectors/checks report.ts), its topic and its payload as JSON then as a CheckReport.
 */
export function decodeCheckReport(topic: string, payload: Buffer | string): ServiceCheckMessage | Dropped {
  const route = checkReportRoute(topic);
  if (!route) return new Dropped('invalid_check_report', `not a service check topic: ${topic.slice(0, 200)}`);
  const json = decode(payload);
  if (json instanceof Dropped) return json;
  const r = CheckReport.safeParse(json);
  if (!r.success) return new Dropped('invalid_check_report', describeIssue(r.error));
  return { ...route, report: r.data };
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

// ---- the log path: a syslog collector's batch on `logs/{collector}` (collectors/syslog/batcher.ts)
//
//   decode -> validateLogs -> (the product's) store -> evaluate -> publish
//
// decode is the telemetry path's JSON step; the product's sink (cli/soc-logs.ts) does the last three.

const FACILITIES = new Set<string>(LOG_FACILITIES);
const SEVERITIES = new Set<string>(LOG_SEVERITIES);
/** Most lines one message may carry (the collector sends at most a few hundred). */
export const MAX_LOG_BATCH = 10_000;

/** Why one element of a batch is not a LogLine (core/log-line.ts); undefined when it is one. */
export function logLineProblem(x: unknown): string | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'not an object';
  const l = x as Record<string, unknown>;
  if (typeof l.ts !== 'number' || !Number.isFinite(l.ts)) return 'ts: not a number';
  if (l.claimedTs !== undefined && (typeof l.claimedTs !== 'number' || !Number.isFinite(l.claimedTs))) return 'claimedTs: not a number';
  if (typeof l.host !== 'string') return 'host: not a string';
  if (l.device !== undefined && typeof l.device !== 'string') return 'device: not a string';
  if (typeof l.facility !== 'string' || !FACILITIES.has(l.facility)) return 'facility: not an RFC 5424 facility keyword';
  if (typeof l.severity !== 'string' || !SEVERITIES.has(l.severity)) return 'severity: not an RFC 5424 severity keyword';
  if (typeof l.program !== 'string') return 'program: not a string';
  if (l.pid !== undefined && typeof l.pid !== 'string' && typeof l.pid !== 'number') return 'pid: not a string or number';
  if (typeof l.message !== 'string') return 'message: not a string';
  if (typeof l.fields !== 'object' || l.fields === null || Array.isArray(l.fields)) return 'fields: not an object';
  for (const v of Object.values(l.fields)) if (typeof v !== 'string' && typeof v !== 'number') return 'fields: a value that is not a string or number';
  return undefined;
}

/** What validateLogs keeps of a batch: the good lines, and the first problem of the bad ones. */
export interface LogBatch {
  lines: LogLine[];
  bad: number;
  problem?: string;
}

/** validateLogs: a JSON array of LogLines; bad elements are left out and counted, a non-array is dropped. */
export function validateLogs(json: unknown): LogBatch | Dropped {
  if (!Array.isArray(json)) return new Dropped('invalid_logs', 'expected a JSON array of log lines');
  if (json.length > MAX_LOG_BATCH) return new Dropped('invalid_logs', `over ${MAX_LOG_BATCH} lines in one message`);
  const out: LogBatch = { lines: [], bad: 0 };
  json.forEach((x: unknown, i) => {
    const problem = logLineProblem(x);
    if (problem === undefined) out.lines.push(x as LogLine);
    else {
      out.bad++;
      out.problem ??= `line ${i}: ${problem}`;
    }
  });
  return out;
}
