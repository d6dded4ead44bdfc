import express, { type NextFunction, type Request, type Response } from 'express';
import { resolve } from 'node:path';
import { WatchfloorError, notFound, unauthorized } from '../core/index.ts';
import type { OpsContext } from './context.ts';
import { route } from './guards.ts';
import { alertRoutes } from './routes/alerts.ts';
import { loginRoutes, sessionRoutes } from './routes/auth.ts';
import { deviceRoutes } from './routes/devices.ts';
import { telemetryRoutes } from './routes/telemetry.ts';
import { userRoutes } from './routes/users.ts';
import { readCookie, SESSION_COOKIE, type Session } from './sessions.ts';

declare module 'express-serve-static-core' {
  interface Request {
    session?: Session;
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The REST API, the health and metrics endpoints and the web UI's static files. */
export function createHttpApp(ctx: OpsContext, publicDir: string): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: '256kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', time: ctx.clock.now() });
  });
  app.get('/readyz', (_req, res) => {
    const ready = ctx.ready();
    res.status(ready ? 200 : 503).json({ ready });
  });
  app.get(
    '/metrics',
    route(async (_req, res) => {
      res.type('text/plain; version=0.0.4').send(await ctx.metricsText());
    }),
  );

  const api = express.Router();
  // Who is calling: a session cookie, or nothing. Tokens for integrations come with the ops-server issue.
  api.use((req, _res, next) => {
    req.session = ctx.sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));
    next();
  });

  api.use(loginRoutes(ctx));

  // Everything below needs a session, and a state change made with a cookie needs its CSRF token.
  api.use((req, _res, next) => {
    if (!req.session) return next(unauthorized());
    if (STATE_CHANGING.has(req.method) && req.get('x-csrf-token') !== req.session.csrfToken) {
      return next(new WatchfloorError('WF_ERR_CSRF', 'missing or wrong X-CSRF-Token header', 403, 'X-CSRF-Token'));
    }
    next();
  });

  api.use(sessionRoutes(ctx));
  api.use(deviceRoutes(ctx));
  api.use(telemetryRoutes(ctx));
  api.use(alertRoutes(ctx));
  api.use(userRoutes(ctx));

  api.use((_req, _res, next) => next(notFound('API route')));
  app.use('/api/v1', api);

  app.use(express.static(publicDir, { index: 'index.html', maxAge: 0 }));

  // One error shape everywhere: {error: {code, message, field?}}; never a stack trace.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof WatchfloorError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'WF_ERR_BAD_JSON', message: 'the request body is not valid JSON', field: '(body)' } });
      return;
    }
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'WF_ERR_TOO_LARGE', message: 'the request body is too large', field: '(body)' } });
      return;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: { code: 'WF_ERR_BAD_REQUEST', message: e.message ?? 'bad request' } });
      return;
    }
    ctx.logger.error({ err: e.message, path: req.path }, 'http: internal error');
    res.status(500).json({ error: { code: 'WF_ERR_INTERNAL', message: 'internal error; see the server log' } });
  });
  return app;
}

export const defaultPublicDir = resolve(new URL('.', import.meta.url).pathname, '..', 'dashboards', 'public');
