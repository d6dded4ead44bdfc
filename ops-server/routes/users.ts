import { Router, type Request } from 'express';
import { z } from 'zod';
import { badRequest, conflict, notFound } from '../../core/index.ts';
import { audit } from '../audit.ts';
import type { OpsContext } from '../deps.ts';
import { requireRole, route } from '../guards.ts';
import { Role, Username, publicUser, type StoredUser } from '../users.ts';
import { parseInput } from '../validate.ts';

export const NewUser = z.strictObject({ username: Username, role: Role, password: z.string().min(10, 'at least 10 characters').max(1024) });
/** A change to a user: another role (local users only), or disabled / enabled again. */
export const UserChange = z.strictObject({ role: Role.optional(), disabled: z.boolean().optional() }).refine((c) => c.role !== undefined || c.disabled !== undefined, { message: 'give role or disabled' });

/** Users, for admins: local accounts, and the directory users seen (ops-server/directory). */
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

  /** The user named in the path, or a 404. */
  const named = (req: Request): StoredUser => {
    const name = String(req.params.username);
    const user = ctx.users.get(name);
    if (!user) throw notFound(`user "${name}"`);
    return user;
  };
  // The local admins are the way in when the directory is down (break-glass): the last one stays.
  const lastLocalAdmin = (user: StoredUser): boolean =>
    user.role === 'admin' && user.source !== 'directory' && !user.disabled &&
    !ctx.users.list().some((u) => u.username !== user.username && u.role === 'admin' && u.source === 'local' && !u.disabled);
  r.patch(
    '/users/:username',
    requireRole('admin'),
    route((req, res) => {
      const user = named(req);
      const body = parseInput(UserChange, req.body, 'body');
      if (body.role !== undefined && body.role !== user.role) {
        if (user.source === 'directory') throw badRequest('role', 'role: a directory user\'s role comes from their groups (auth.ldap.groupRoles), at each sign-in');
        if (lastLocalAdmin(user)) throw conflict(`"${user.username}" is the last enabled local admin, the way in when the directory is down: make another admin first`);
        const from = user.role;
        ctx.users.setRole(user.username, body.role);
        audit(req, { action: 'user.role', target: user.username, detail: { from, to: body.role } });
      }
      if (body.disabled !== undefined && body.disabled !== user.disabled) {
        if (body.disabled && lastLocalAdmin(user)) throw conflict(`"${user.username}" is the last enabled local admin, the way in when the directory is down: make another admin first`);
        ctx.users.setDisabled(user.username, body.disabled);
        audit(req, { action: body.disabled ? 'user.disable' : 'user.enable', target: user.username });
      }
      // The user's sockets and sessions of the old role or a disabled account end now, not at their next request.
      if (body.disabled || body.role !== undefined) ctx.sessions.retain((s) => ctx.users.admits(s));
      res.json(publicUser(ctx.users.get(user.username) as StoredUser));
    }),
  );
  r.delete(
    '/users/:username',
    requireRole('admin'),
    route((req, res) => {
      const user = named(req);
      if (lastLocalAdmin(user)) throw conflict(`"${user.username}" is the last enabled local admin, the way in when the directory is down: make another admin first`);
      ctx.users.remove(user.username);
      ctx.sessions.endUser(user.username);
      audit(req, { action: 'user.remove', target: user.username, detail: { role: user.role, source: user.source ?? 'local' } });
      res.status(204).end();
    }),
  );

  return r;
}
