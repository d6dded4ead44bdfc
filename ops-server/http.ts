import express, { type NextFunction, type Request, type Response } from 'express';
import { resolve } from 'node:path';
import { WatchfloorError, errorCode, notFound, wfError, wfFieldError } from '../core/index.ts';
import type { OpsContext } from './deps.ts';
import { metricsRoute } from './metrics-route.ts';
import { alertRoutes } from './routes/alerts.ts';
import { loginRoutes, sessionRoutes } from './routes/auth.ts';
import { deviceRoutes } from './routes/devices.ts';
import { inventoryRoutes } from './routes/inventory.ts';
import { telemetryRoutes } from './routes/telemetry.ts';
import { queryRoutes } from './routes/query.ts';
import { userRoutes } from './routes/users.ts';
import { mqttCredentialRoutes } from './routes/mqtt-credentials.ts';
import { auditRoutes } from './routes/audit.ts';
import { commandRoutes } from './routes/commands.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { writeRoutes } from './routes/write.ts';
import { logRoutes } from './routes/logs.ts';
import { socRoutes } from './routes/soc.ts';
import { serviceRoutes, statusRoutes } from './routes/services.ts';
import { discoveryRoutes } from './routes/discovery.ts';
import { onCallRoutes } from './routes/oncall.ts';
import { notifyCallbackRoutes } from './routes/notify-callbacks.ts';
import { auditStateChanges, authenticate, corsPolicy, httpMetrics, requireLogin, securityHeaders } from './http-security.ts';
import { openApiDocument } from './openapi.ts';
import { defaultParts, type OpsParts } from './own-state.ts';
import type { Session } from './sessions.ts';

declare module 'express-serve-static-core' {
  interface Request {
    session?: Session;
  }
}

export interface HttpOptions {
  /** Origins allowed to call the API from a browser (CORS); none by default. */
  corsOrigins?: readonly string[];
  /** The URL people open the UI at, when a proxy makes it other than the server's own (origin trusted). */
  publicUrl?: string;
}

/** JSON.parse reviver: a `__proto__` key anywhere in a body is refused before any code sees it. */
const refusePrototypeKeys = (key: string, value: unknown): unknown => {
  if (key === '__proto__') throw new SyntaxError('WF_PROTO: a "__proto__" key is not allowed');
  return value;
};

/** The REST API, the health and metrics endpoints and the web UI's static files. */
export function createHttpApp(ctx: OpsContext, publicDir: string, parts: OpsParts = defaultParts(ctx), options: HttpOptions = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.locals.auditLog = parts.auditLog;
  app.use(securityHeaders());
  app.use(corsPolicy(options.corsOrigins ?? [], options.publicUrl));
  app.use(httpMetrics(ctx.metricsRegistry));
  app.use(express.json({ limit: '256kb', reviver: refusePrototypeKeys }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', time: ctx.clock.now() });
  });
  app.get('/readyz', (_req, res) => {
    const parts = ctx.readiness?.() ?? { all: ctx.ready() };
    const ready = Object.values(parts).every(Boolean);
    res.status(ready ? 200 : 503).json({ ready, ...parts });
  });
  app.get('/metrics', metricsRoute(ctx));

  app.use(queryRoutes(ctx, parts.tokens));
  // InfluxDB's write APIs (/write, /api/v2/write): writer tokens only, bodies to the line protocol collector.
  if (ctx.lineProtocol) app.use(writeRoutes(ctx.lineProtocol, ctx, parts.tokens));
  // The public status page: no login, public services only (routes/services.ts).
  if (ctx.services) app.use(statusRoutes(ctx.services, ctx));
  // Telegram's and Slack's button clicks: no session; the provider's signature and our signed token instead.
  if (ctx.notify) app.use(notifyCallbackRoutes(ctx.notify, ctx, parts));

  const api = express.Router();
  api.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(app, '1'));
  });
  // Who is calling: an API token (Authorization: Bearer), a session cookie, or nobody.
  api.use(authenticate(ctx, parts));
  api.use(auditStateChanges(parts));
  api.use(loginRoutes(ctx, parts));

  // Everything below needs a caller; state changes made with a cookie need the CSRF token; viewers only read.
  api.use(requireLogin());

  api.use(sessionRoutes(ctx));
  api.use(deviceRoutes(ctx));
  api.use(inventoryRoutes(ctx));
  api.use(telemetryRoutes(ctx));
  api.use(alertRoutes(ctx));
  api.use(userRoutes(ctx));
  api.use(mqttCredentialRoutes(ctx));
  api.use(tokenRoutes(ctx, parts));
  api.use(auditRoutes(ctx, parts));
  api.use(commandRoutes(ctx, parts));
  if (ctx.logs) api.use(logRoutes(ctx.logs, ctx));
  // The SOC's investigation (evidence, entities, incidents) reads the log store too.
  if (ctx.logs) api.use(socRoutes(ctx.logs, ctx));
  if (ctx.services) api.use(serviceRoutes(ctx.services, ctx));
  if (ctx.discovery) api.use(discoveryRoutes(ctx.discovery, ctx));
  // Mounted without notify.oncall too (no schedules then), so its roles hold wherever it is asked.
  api.use(onCallRoutes(ctx));

  api.use((_req, _res, next) => next(notFound('API route')));
  app.use('/api/v1', api);

  app.use(express.static(publicDir, { index: 'index.html', maxAge: 0 }));

  // One error shape everywhere: {error: {code, message, field?}}; never a stack trace.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof WatchfloorError) return sendError(res, err);
    // body-parser's own errors, put in the catalogue's words.
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed' && e.message?.includes('WF_PROTO')) {
      return sendError(res, wfFieldError('BAD_REQUEST', '__proto__', 'a "__proto__" key is not allowed in a request body'));
    }
    if (e.type === 'entity.parse.failed') return sendError(res, wfFieldError('BAD_JSON', '(body)'));
    if (e.type === 'entity.too.large') return sendError(res, wfFieldError('TOO_LARGE', '(body)'));
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: { code: errorCode('BAD_REQUEST'), message: e.message ?? 'bad request' } });
      return;
    }
    ctx.logger.error({ err: e.message, path: req.path }, 'http: internal error');
    sendError(res, wfError('INTERNAL'));
  });
  return app;
}

/** Answers `err` in that shape, with its status. */
function sendError(res: Response, err: WatchfloorError): void {
  res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
}

export const defaultPublicDir = resolve(new URL('.', import.meta.url).pathname, '..', 'dashboards', 'public');
