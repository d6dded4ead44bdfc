import { Router, type Request } from 'express';
import { z } from 'zod';
import { WatchfloorError } from '../../core/index.ts';
import { audit } from '../audit.ts';
import type { OpsContext } from '../context.ts';
import { route } from '../guards.ts';
import type { OpsParts } from '../parts.ts';
import { readCookie, SESSION_COOKIE, type Session } from '../sessions.ts';
import { publicUser } from '../users.ts';
import { parseInput } from '../validate.ts';

export const LoginBody = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) });

const source = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/** `POST /auth/login`, open to everyone: it is how a session begins; rate-limited per source and per user. */
export function loginRoutes(ctx: OpsContext, parts: OpsParts): Router {
  const r = Router();
  const guard = parts.loginGuard;
  r.post(
    '/auth/login',
    route(async (req, res) => {
      const body = parseInput(LoginBody, req.body, 'body');
      const from = source(req);
      const locked = guard.lockedUntil(body.username, from);
      if (locked !== undefined) {
        audit(req, { action: 'auth.login', target: body.username, outcome: 'denied', detail: { reason: 'locked', until: locked } });
        const seconds = Math.max(1, Math.ceil((locked - ctx.clock.now()) / 1000));
        res.set('Retry-After', String(seconds));
        throw new WatchfloorError('WF_ERR_LOCKED', `too many failed logins; try again in ${seconds} s`, 429);
      }
      const user = await ctx.users.verify(body.username, body.password);
      if (!user) {
        ctx.logger.warn({ username: body.username, source: from }, 'http: failed login');
        audit(req, { action: 'auth.login', target: body.username, outcome: 'failed' });
        ctx.onSecurityEvent?.({ ts: ctx.clock.now(), type: 'login_failed', origin: 'http', source: from, username: body.username });
        const lock = guard.failed(body.username, from);
        if (lock.locked) {
          const detail = `locked ${lock.key === 'user' ? 'the username' : 'the source address'} until ${new Date(lock.until).toISOString()} after repeated failures`;
          ctx.logger.warn({ username: body.username, source: from, key: lock.key }, 'http: login lockout');
          audit(req, { action: 'auth.lockout', target: lock.key === 'user' ? body.username : from, outcome: 'denied', detail: { key: lock.key, until: lock.until } });
          ctx.onSecurityEvent?.({ ts: ctx.clock.now(), type: 'login_lockout', origin: 'http', source: from, username: body.username, detail });
        }
        throw new WatchfloorError('WF_ERR_LOGIN_FAILED', 'wrong username or password', 401);
      }
      guard.succeeded(user.username);
      // A new id at every login, and the one the client brought ends: no session fixation.
      const old = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (old) ctx.sessions.end(old);
      const session = ctx.sessions.create(user.username, user.role);
      res.cookie(SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
      ctx.logger.info({ username: user.username, source: from }, 'http: login');
      req.session = session;
      audit(req, { action: 'auth.login', target: user.username });
      res.json({ csrfToken: session.csrfToken, user: publicUser(user) });
    }),
  );

  return r;
}

/** Logout and who-am-I, for a logged-in user. */
export function sessionRoutes(ctx: OpsContext): Router {
  const r = Router();
  r.post('/auth/logout', (req, res) => {
    if (req.session?.via === 'cookie') {
      ctx.sessions.end(req.session.id);
      audit(req, { action: 'auth.logout', target: req.session.username });
    }
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });
  r.get('/auth/me', (req, res) => {
    const s = req.session as Session;
    res.json({ user: { username: s.username, role: s.role }, via: s.via, csrfToken: s.via === 'cookie' ? s.csrfToken : undefined, serverTime: ctx.clock.now() });
  });

  return r;
}
