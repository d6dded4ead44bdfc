import { z } from 'zod';

/**
 * `logs:` in the config: how long log lines are kept, like the time-series tiers of `store.retention`.
 * Lines older than `retentionDays` (by the time they were received) are deleted by the hourly maintenance.
 */
export const LogsConfig = z.strictObject({
  retentionDays: z.number().positive().default(30),
  /** Lines waiting for the disk; beyond it new lines are dropped and counted (`queue_full`). */
  maxPendingLines: z.number().int().positive().default(200_000),
});
export type LogsConfig = z.infer<typeof LogsConfig>;
export type LogsConfigInput = z.input<typeof LogsConfig>;
