/*
 * The request path's guards, in the order http.ts mounts them:
 * securityHeaders -> cors -> httpMetrics -> (public routes) -> authenticate -> requireLogin -> auditStateChanges.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { Histogram, type Registry } from 'prom-client';
import { forbidden, unauthorized, wfFieldError } from '../core/index.ts';
import { wasAudited } from './audit.ts';
import { originAllowed, trustedOrigins } from './origin.ts';
import type { OpsContext } from './deps.ts';
import type { OpsParts } from './own-state.ts';
import { readCookie, SESSION_COOKIE, type Session } from './sessions.ts';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** helmet's defaults (CSP self-only, nosniff, frame-ancestors none, HSTS when over TLS...). */
export function securityHeaders(): RequestHandler {
  return helmet({
    // The page loads socket.io's client from this origin and opens a WebSocket to it: 'self' covers
    // ws:/wss: to the same host and port (CSP Level 3, §6.7.2.8), so no other host may be reached.
    contentSecurityPolicy: { directives: { 'connect-src': ["'self'"], 'upgrade-insecure-requests': null } },
    // HSTS only makes sense over TLS; helmet sends it either way, browsers ignore it over http.
  });
}

/**
 * CORS closed unless configured: no Access-Control-Allow-Origin is ever sent for an origin not in
 * `origins`, so a browser refuses other sites' scripts reading the API (the Fetch standard's CORS check).
 * A state change sent by another site's page (an Origin that is neither this server nor in `origins`)
 * is refused outright, CSRF token or not (origin.ts says why a request without Origin passes).
 */
export function corsPolicy(origins: readonly string[], publicUrl?: string): RequestHandler {
  const allowed = new Set(origins);
  const trusted = trustedOrigins(publicUrl ? [publicUrl, ...origins] : origins);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (STATE_CHANGING.has(req.method) && !originAllowed(origin, req.get('host'), trusted)) {
      return next(wfFieldError('ORIGIN', 'Origin', `requests from origin "${String(origin).slice(0, 200)}" may not change anything here`));
    }
    if (!origin || !allowed.has(origin)) return next();
    res.vary('Origin');
    res.set('Access-Control-Allow-Origin', origin);
    res.set('Access-Control-Allow-Credentials', 'true');
    if (req.method === 'OPTIONS') {
      res.set('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE');
      res.set('Access-Control-Allow-Headers', 'Content-Type, X-CSRF-Token, Authorization');
      res.set('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}

/** HTTP latency by method, route pattern (never the raw path: ids would explode the label set) and status. */
export function httpMetrics(registry: Registry | undefined): RequestHandler {
  if (!registry) return (_req, _res, next) => next();
  const name = 'watchfloor_http_request_duration_seconds';
  const histogram =
    (registry.getSingleMetric(name) as Histogram<'method' | 'route' | 'status'> | undefined) ??
    new Histogram({ name, help: 'HTTP request latency', labelNames: ['method', 'route', 'status'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [registry] });
  return (req, res, next) => {
    const end = histogram.startTimer();
    res.on('finish', () => {
      const pattern = (req.route as { path?: string } | undefined)?.path;
      const route = pattern ? `${req.baseUrl}${pattern}` : res.statusCode === 404 ? 'unmatched' : req.baseUrl || 'static';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}

/** Who is calling: `Authorization: Bearer <API token>`, else the session cookie, else nobody. */
export function authenticate(ctx: OpsContext, parts: OpsParts): RequestHandler {
  return (req, _res, next) => {
    const header = req.get('authorization');
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      const token = m ? parts.tokens.verify(m[1] as string, ctx.clock.now()) : undefined;
      // A writer token writes line protocol (routes/write.ts) and does nothing else here.
      if (!token && m && parts.tokens.isWriter(m[1] as string, ctx.clock.now())) return next(forbidden());
      // A bad token is a 401 even on a public route: an integration must learn its token is dead.
      if (!token) return next(wfFieldError('BAD_TOKEN', 'Authorization'));
      const now = ctx.clock.now();
      req.session = { id: `token:${token.id}`, username: `token:${token.name}`, role: token.role, csrfToken: '', createdAt: token.createdAt, lastSeenAt: now, via: 'token' } satisfies Session;
      return next();
    }
    const session = ctx.sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));
    // A user disabled (or removed) since login loses the session now, not at its expiry.
    const user = session ? ctx.users.get(session.username) : undefined;
    if (session && (!user || user.disabled)) ctx.sessions.end(session.id);
    else req.session = session;
    next();
  };
}

/**
 * Everything after this needs a caller; a state change made with a cookie needs its CSRF token
 * (a token sent in a header is no ambient credential, so needs none); a viewer changes nothing
 * but its own session.
 */
export function requireLogin(): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const s = req.session;
    if (!s) return next(unauthorized());
    if (!STATE_CHANGING.has(req.method)) return next();
    if (s.via === 'cookie' && req.get('x-csrf-token') !== s.csrfToken) {
      return next(wfFieldError('CSRF', 'X-CSRF-Token'));
    }
    if (s.role === 'viewer' && req.path !== '/auth/logout') return next(forbidden());
    next();
  };
}

/**
 * Every state change that went through (2xx) or was refused for its role (403) and that its route
 * did not audit itself is recorded as `http.<METHOD>` with the path: alert actions, silences and
 * rule reloads are audited even before their routes describe themselves.
 */
export function auditStateChanges(parts: OpsParts): RequestHandler {
  return (req, res, next) => {
    if (!STATE_CHANGING.has(req.method)) return next();
    res.on('finish', () => {
      if (wasAudited(req) || (res.statusCode >= 300 && res.statusCode !== 403)) return;
      parts.auditLog.append({
        action: `http.${req.method.toLowerCase()}`,
        target: `${req.baseUrl}${req.path}`,
        outcome: res.statusCode === 403 ? 'denied' : 'ok',
        actor: req.session?.username ?? '-',
        role: req.session?.role,
        source: req.ip,
        detail: { status: res.statusCode },
      });
    });
    next();
  };
}
