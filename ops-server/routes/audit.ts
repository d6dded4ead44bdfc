import { Router } from 'express';
import { z } from 'zod';
import type { OpsContext } from '../deps.ts';
import { requireRole } from '../guards.ts';
import type { OpsParts } from '../own-state.ts';
import { parseInput, TimeMs } from '../validate.ts';

export const AuditQuery = z.strictObject({
  since: TimeMs.optional(),
  actor: z.string().max(128).optional(),
  action: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});

/** The audit log, newest first, for admins and the SOC. */
export function auditRoutes(_ctx: OpsContext, parts: OpsParts): Router {
  const r = Router();
  r.get('/audit', requireRole('admin', 'soc'), (req, res) => {
    res.json(parts.auditLog.query(parseInput(AuditQuery, req.query, 'query')));
  });
  return r;
}
