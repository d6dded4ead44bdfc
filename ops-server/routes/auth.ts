import { Router } from 'express';
import { z } from 'zod';
import { forbidden, plainSource, wfError } from '../../core/index.ts';
import { audit } from '../audit.ts';
import type { OpsContext } from '../deps.ts';
import { route } from '../guards.ts';
import type { OpsParts } from '../own-state.ts';
import { readCookie, SESSION_COOKIE, type Session } from '../sessions.ts';
import { passwordGateFor } from '../password-gate.ts';
import { credentialStamp, publicUser } from '../users.ts';
import { parseInput } from '../validate.ts';

export const LoginBody = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) });

/** `POST /auth/login`, open to everyone: it is how a session begins; its password goes through the PasswordGate. */
export function loginRoutes(ctx: OpsContext, _parts?: OpsParts): Router {
  const r = Router();
  const gate = passwordGateFor(ctx);
  // Every look-up of a session checks its user again: disabled, removed, or a new password (also set
  // by `watchfloor users passwd` in another process) ends it at once, on every door that takes a cookie.
  ctx.sessions.admitWith((s) => ctx.users.admits(s));
  r.post(
    '/auth/login',
    route(async (req, res) => {
      const body = parseInput(LoginBody, req.body, 'body');
      const verdict = await gate.check({ username: body.username, password: body.password, source: req.ip ?? req.socket.remoteAddress, door: 'login', record: (e) => audit(req, e) });
      if (!verdict.ok && verdict.lockedUntil !== undefined) {
        const seconds = Math.max(1, Math.ceil((verdict.lockedUntil - ctx.clock.now()) / 1000));
        res.set('Retry-After', String(seconds));
        throw wfError('LOCKED', `too many failed logins from this address; try again in ${seconds} s`);
      }
      // A directory that cannot be reached is said as such (503), not as a wrong password; local accounts still sign in.
      if (!verdict.ok && verdict.refusal === 'unavailable') throw wfError('UNAVAILABLE', 'the directory (LDAP) is unavailable: directory users cannot sign in now; local accounts still can');
      if (!verdict.ok && verdict.refusal === 'no-role') throw forbidden('the directory accepted your password, but none of your groups gives a Watchfloor role; ask an administrator');
      if (!verdict.ok) throw wfError('LOGIN_FAILED');
      const user = verdict.user;
      const from = plainSource(req.ip);
      // A new id at every login, and the one the client brought ends: no session fixation.
      const old = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (old) ctx.sessions.end(old);
      const session = ctx.sessions.create(user.username, user.role, credentialStamp(user));
      res.cookie(SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
      ctx.logger.info({ username: user.username, source: from }, 'http: login');
      req.session = session;
      // A directory user's role is the one their groups gave at this sign-in; the entry says which.
      audit(req, { action: 'auth.login', target: user.username, ...(verdict.directory ? { detail: { via: 'directory', dn: user.dn, roles: verdict.directory.roles, groups: verdict.directory.groups } } : {}) });
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
