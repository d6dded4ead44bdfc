import { z } from 'zod';
import { Severity } from './telemetry.ts';

export const AlertKind = z.enum(['availability', 'environment', 'power', 'security', 'performance']);
export type AlertKind = z.infer<typeof AlertKind>;

/** firing: the condition holds now; resolved: it held and no longer does. */
export const AlertState = z.enum(['firing', 'resolved']);
export type AlertState = z.infer<typeof AlertState>;

/** The SOC's triage: new -> in_progress -> closed (with a disposition). */
export const TriageStatus = z.enum(['new', 'in_progress', 'closed']);
export type TriageStatus = z.infer<typeof TriageStatus>;
export const Disposition = z.enum(['true_positive', 'false_positive', 'benign', 'duplicate']);
export type Disposition = z.infer<typeof Disposition>;

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
  /** The summary in Vietnamese, from the rule's `summary_vi` (notifications to Vietnamese receivers). */
  summaryVi: z.string().optional(),
  /** The value that crossed the threshold (absent for no-data and status alerts). */
  value: z.number().nullable(),
  startsAt: z.number(),
  endsAt: z.number().nullable(),
  updatedAt: z.number(),
  // The lifecycle (rules/lifecycle.ts): the NOC's acknowledgement, the SOC's triage, noise control.
  acknowledged: z.boolean().optional(),
  ackedBy: z.string().nullable().optional(),
  assignee: z.string().nullable().optional(),
  triage: TriageStatus.optional(),
  disposition: Disposition.nullable().optional(),
  comments: z.number().optional(),
  /** The id of a parent's alert (device down upstream) that explains this one. */
  suppressedBy: z.string().nullable().optional(),
  silencedBy: z.array(z.string()).optional(),
  flapping: z.boolean().optional(),
  description: z.string().optional(),
  runbook: z.string().optional(),
  /** For a correlated incident: the alerts it links. */
  related: z.array(z.string()).optional(),
  /** For a detection on logs: the ids of the stored log lines that matched (store/logs StoredLog.id). */
  evidence: z.array(z.number().int().nonnegative()).optional(),
  /** The id of the incident grouping this security alert (ops-server/incidents.ts). */
  incident: z.string().optional(),
});
export type Alert = z.infer<typeof Alert>;
