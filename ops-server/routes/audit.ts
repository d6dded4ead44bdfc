import { join } from 'node:path';
import { Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../core/index.ts';
import { audit, verifyAuditFile } from '../audit.ts';
import type { OpsContext } from '../deps.ts';
import { requireRole, route } from '../guards.ts';
import type { OpsParts } from '../own-state.ts';
import { parseInput, TimeMs } from '../validate.ts';

export const AuditQuery = z.strictObject({
  since: TimeMs.optional(),
  actor: z.string().max(128).optional(),
  action: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});

/** The audit log, newest first, for admins and the SOC. */
export function auditRoutes(ctx: OpsContext, parts: OpsParts): Router {
  const r = Router();
  // `watchfloor audit verify` from the admin page: the chain, the hashes and the signed anchors, read
  // from disk (own-state.ts keeps the log at DATA_DIR/audit.jsonl). The check itself is audited,
  // with what it found.
  r.get('/audit/verify', requireRole('admin', 'soc'), route((req, res) => {
    if (!ctx.dataDir) throw notFound('audit log file (this server keeps its audit log in memory)');
    const verdict = verifyAuditFile(join(ctx.dataDir, 'audit.jsonl'));
    audit(req, { action: 'audit.verify', outcome: verdict.ok ? 'ok' : 'failed', detail: { entries: verdict.entries, ...(verdict.error ? { error: verdict.error } : {}) } });
    res.json(verdict);
  }));
  r.get('/audit', requireRole('admin', 'soc'), (req, res) => {
    res.json(parts.auditLog.query(parseInput(AuditQuery, req.query, 'query')));
  });
  return r;
}
