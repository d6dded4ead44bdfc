import { Router } from 'express';
import { z } from 'zod';
import { conflict } from '../../core/index.ts';
import { audit } from '../audit.ts';
import type { OpsContext } from '../deps.ts';
import { requireRole, route } from '../guards.ts';
import { Role, Username, publicUser } from '../users.ts';
import { parseInput } from '../validate.ts';

export const NewUser = z.strictObject({ username: Username, role: Role, password: z.string().min(10, 'at least 10 characters').max(1024) });

/** Local users, for admins. */
export function userRoutes(ctx: OpsContext): Router {
  const r = Router();
  r.get('/users', requireRole('admin'), (_req, res) => {
    res.json(ctx.users.list());
  });
  r.post(
    '/users',
    requireRole('admin'),
    route(async (req, res) => {
      const body = parseInput(NewUser, req.body, 'body');
      if (ctx.users.get(body.username)) throw conflict(`user "${body.username}" already exists`);
      const user = await ctx.users.add(body.username, body.role, body.password, ctx.clock.now());
      audit(req, { action: 'user.create', target: user.username, detail: { role: user.role } });
      res.status(201).json(publicUser(user));
    }),
  );

  return r;
}
