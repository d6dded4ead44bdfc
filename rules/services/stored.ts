/**
 * How check results are stored: one store "device" per service check, `service:<serviceId>:<checkKey>`
 * (the store keys a series by device and metric only, so the check must be in the device), and
 * numbers only. Availability is computed from `check_up` read back from the store, never from memory.
 */
import { CheckReport, checkReportTopic } from '../../collectors/checks/index.ts';
import type { Point } from '../../core/index.ts';

/** The metrics each check result becomes; `check_up` is the scheduler's confirmed state, the others the probe's. */
export const CHECK_METRICS = {
  /** 1 when the check's state is up, 0 when down (after its retries); not written while pending. */
  up: 'check_up',
  /** 1 when this probe passed, 0 when it failed (a failed probe within the retries is not yet down). */
  ok: 'check_ok',
  latencyMs: 'check_latency_ms',
  /** 1 when the probe passed with a warning (a certificate under its warning days): the service is degraded. */
  warning: 'check_warning',
  dnsMs: 'check_dns_ms',
  connectMs: 'check_connect_ms',
  tlsMs: 'check_tls_ms',
  firstByteMs: 'check_first_byte_ms',
} as const;

/** The store device of one service check. Check keys have no ":", so the last ":" splits it. */
export const serviceCheckDevice = (serviceId: string, checkKey: string): string => `service:${serviceId}:${checkKey}`;

/** The MQTT topic a checks collector publishes a result on (collectors/checks `checkReportTopic`). */
export const serviceCheckTopic = checkReportTopic;

/** The payload on `services/{serviceId}/checks/{checkKey}` (collectors/checks' CheckReport: the producer owns its shape). */
export { CheckReport };

/** The points one check result is stored as (tags: service, check, type). */
export function checkPoints(serviceId: string, checkKey: string, type: string, report: CheckReport): Point[] {
  const device = serviceCheckDevice(serviceId, checkKey);
  const tags = { service: serviceId, check: checkKey, type };
  const p = (metric: string, value: number): Point => ({ device, metric, ts: report.ts, value, tags });
  const out = [p(CHECK_METRICS.ok, report.ok ? 1 : 0), p(CHECK_METRICS.latencyMs, report.latencyMs), p(CHECK_METRICS.warning, report.ok && report.warning ? 1 : 0)];
  if (report.state !== 'pending') out.push(p(CHECK_METRICS.up, report.state === 'up' ? 1 : 0));
  if (report.phases) {
    out.push(p(CHECK_METRICS.dnsMs, report.phases.dnsMs), p(CHECK_METRICS.connectMs, report.phases.connectMs));
    out.push(p(CHECK_METRICS.tlsMs, report.phases.tlsMs), p(CHECK_METRICS.firstByteMs, report.phases.firstByteMs));
  }
  return out;
}
