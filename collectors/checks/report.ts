/**
 * What the checks collector publishes for each probe, and where: the payload and the topic ingest
 * decodes (collectors/mqtt `decodeCheckReport`). rules/services stores it (`checkPoints`) and keeps
 * the latest state (`ServiceBook.record`).
 */
import { z } from 'zod';

/** `services/{serviceId}/checks/{checkKey}`: every level an id (no "/", "+", "#"). */
export const checkReportTopic = (serviceId: string, checkKey: string): string => `services/${serviceId}/checks/${checkKey}`;

/** The subscription that takes every service's check results. */
export const CHECK_REPORT_FILTER = 'services/+/checks/+';

/** The service id and check key of a `services/{serviceId}/checks/{checkKey}` topic; undefined for any other topic. */
export function checkReportRoute(topic: string): { serviceId: string; checkKey: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'services' || parts[2] !== 'checks' || !parts[1] || !parts[3]) return undefined;
  return { serviceId: parts[1], checkKey: parts[3] };
}

/**
 * The payload: the scheduler's state with the probe's result (CheckResult without its details),
 * `ts` when the probe started.
 */
export const CheckReport = z.strictObject({
  ts: z.number().int().nonnegative(),
  state: z.enum(['pending', 'up', 'down']),
  ok: z.boolean(),
  latencyMs: z.number().nonnegative(),
  reason: z.string().max(2000).optional(),
  warning: z.string().max(2000).optional(),
  phases: z.strictObject({ dnsMs: z.number(), connectMs: z.number(), tlsMs: z.number(), firstByteMs: z.number() }).optional(),
});
export type CheckReport = z.infer<typeof CheckReport>;
