import { Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../core/index.ts';
import { audit } from '../audit.ts';
import type { OpsContext } from '../deps.ts';
import { requireRole, route } from '../guards.ts';
import type { OpsParts } from '../own-state.ts';
import { TokenRole } from '../tokens.ts';
import { parseInput } from '../validate.ts';

export const NewToken = z.strictObject({
  name: z.string().trim().min(1).max(64).regex(/^[\w .@-]+$/, 'use letters, digits, spaces, ".", "_", "@" or "-"'),
  /** A user role, or `writer`: line protocol writes only (routes/write.ts). */
  role: TokenRole,
});

/** API tokens for integrations (admins): create (shown once), list, revoke. */
export function tokenRoutes(ctx: OpsContext, parts: OpsParts): Router {
  const r = Router();
  r.get('/tokens', requireRole('admin'), (_req, res) => {
    res.json(parts.tokens.list());
  });
  r.post(
    '/tokens',
    requireRole('admin'),
    route((req, res) => {
      const body = parseInput(NewToken, req.body, 'body');
      const { token, record } = parts.tokens.create(body.name, body.role, req.session?.username ?? '-', ctx.clock.now());
      audit(req, { action: 'token.create', target: record.id, detail: { name: record.name, role: record.role } });
      res.status(201).json({ ...record, token });
    }),
  );
  r.delete(
    '/tokens/:id',
    requireRole('admin'),
    route((req, res) => {
      const id = String(req.params.id);
      if (!parts.tokens.revoke(id, ctx.clock.now())) throw notFound(`API token "${id}"`);
      audit(req, { action: 'token.revoke', target: id });
      res.status(204).end();
    }),
  );
  return r;
}
