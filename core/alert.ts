import { z } from 'zod';
import { Severity } from './telemetry.ts';

export const AlertKind = z.enum(['availability', 'environment', 'power', 'security', 'performance']);
export type AlertKind = z.infer<typeof AlertKind>;

/** firing: the condition holds now; resolved: it held and no longer does. */
export const AlertState = z.enum(['firing', 'resolved']);
export type AlertState = z.infer<typeof AlertState>;

/** One condition of one rule on one set of labels; `fingerprint` makes it the same alert while it lasts. */
export const Alert = z.object({
  id: z.string(),
  fingerprint: z.string(),
  rule: z.string(),
  name: z.string(),
  kind: AlertKind,
  severity: Severity,
  state: AlertState,
  labels: z.record(z.string(), z.string()),
  summary: z.string(),
  /** The value that crossed the threshold (absent for no-data and status alerts). */
  value: z.number().nullable(),
  startsAt: z.number(),
  endsAt: z.number().nullable(),
  updatedAt: z.number(),
});
export type Alert = z.infer<typeof Alert>;
