import { z } from 'zod';

/** A finite number: JSON has no NaN or Infinity, but a stringly-typed sender may still smuggle them in. */
const Finite = z.number().refine(Number.isFinite, 'not a finite number');
/** Metric names become series keys and InfluxDB field names; keep them plain. */
export const MetricName = z.string().min(1).max(64).regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'not a metric name');

const Timestamp = z.number().int().nonnegative().max(8.64e15, 'not an epoch-millisecond time');

/** `devices/{id}/telemetry`: `{"ts"?, "metrics": {...}}`. */
export const TelemetryPayload = z.strictObject({ ts: Timestamp.optional(), metrics: z.record(MetricName, Finite) });
/** The flat form: an object of numbers, where a `ts` key is the timestamp, not a metric. */
export const FlatTelemetryPayload = z.record(MetricName, Finite);

export const Severity = z.enum(['critical', 'major', 'minor', 'warning', 'info']);
export type Severity = z.infer<typeof Severity>;

/** `devices/{id}/events`: something that happened at a device (a door opened, a trap arrived). */
export const EventPayload = z.strictObject({
  ts: Timestamp.optional(),
  type: z.string().min(1).max(128),
  severity: Severity.optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
});
export type EventPayload = z.infer<typeof EventPayload>;

/** `devices/{id}/status`: retained `online` / `offline`; the device's last will says `offline`. */
export const DeviceStatus = z.enum(['online', 'offline']);
export type DeviceStatus = z.infer<typeof DeviceStatus>;

/** One measured value of one series; `tags` come from the inventory, not from the sender. */
export interface Point {
  device: string;
  metric: string;
  ts: number;
  value: number;
  tags?: Record<string, string>;
}

/** A device event as stored and served; traps and door contacts alike. */
export interface DeviceEvent {
  device: string;
  ts: number;
  type: string;
  severity?: Severity;
  attributes?: Record<string, unknown>;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The first validation issue as "path: message", the reason an ingest log line and counter carry. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length > 0 ? issue.path.join('.') : '(payload)';
  return `${path}: ${issue.message}`;
}

/** Validates a telemetry payload (either form); the timestamp defaults to the arrival time. */
export function decodeTelemetry(payload: unknown, arrival: number): Decoded<{ ts: number; metrics: Record<string, number> }> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, reason: '(payload): expected a JSON object' };
  }
  if ('metrics' in payload) {
    const r = TelemetryPayload.safeParse(payload);
    if (!r.success) return { ok: false, reason: describeIssue(r.error) };
    return { ok: true, value: { ts: r.data.ts ?? arrival, metrics: r.data.metrics } };
  }
  const { ts, ...metrics } = payload as Record<string, unknown>;
  const t = ts === undefined ? { success: true as const, data: arrival } : Timestamp.safeParse(ts);
  if (!t.success) return { ok: false, reason: `ts: ${t.error.issues[0]?.message ?? 'invalid'}` };
  const r = FlatTelemetryPayload.safeParse(metrics);
  if (!r.success) return { ok: false, reason: describeIssue(r.error) };
  return { ok: true, value: { ts: t.data, metrics: r.data } };
}
