import { Router } from 'express';
import { z } from 'zod';
import { WatchfloorError } from '../../core/index.ts';
import type { OpsContext } from '../context.ts';
import { route } from '../guards.ts';
import { readCookie, SESSION_COOKIE, type Session } from '../sessions.ts';
import { publicUser } from '../users.ts';
import { parseInput } from '../validate.ts';

const LoginBody = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) });

/** `POST /auth/login`, open to everyone: it is how a session begins. */
export function loginRoutes(ctx: OpsContext): Router {
  const r = Router();
  r.post(
    '/auth/login',
    route(async (req, res) => {
      const body = parseInput(LoginBody, req.body, 'body');
      const user = await ctx.users.verify(body.username, body.password);
      if (!user) {
        ctx.logger.warn({ username: body.username, source: req.ip }, 'http: failed login');
        throw new WatchfloorError('WF_ERR_LOGIN_FAILED', 'wrong username or password', 401);
      }
      const old = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (old) ctx.sessions.end(old);
      const session = ctx.sessions.create(user.username, user.role);
      res.cookie(SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
      ctx.logger.info({ username: user.username, source: req.ip }, 'http: login');
      res.json({ csrfToken: session.csrfToken, user: publicUser(user) });
    }),
  );

  return r;
}

/** Logout and who-am-I, for a logged-in user. */
export function sessionRoutes(ctx: OpsContext): Router {
  const r = Router();
  r.post('/auth/logout', (req, res) => {
    if (req.session) ctx.sessions.end(req.session.id);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });
  r.get('/auth/me', (req, res) => {
    const s = req.session as Session;
    res.json({ user: { username: s.username, role: s.role }, csrfToken: s.csrfToken, serverTime: ctx.clock.now() });
  });

  return r;
}
