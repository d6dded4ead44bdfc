import express, { type NextFunction, type Request, type Response } from 'express';
import { resolve } from 'node:path';
import { z } from 'zod';
import {
  AlertKind,
  AlertState,
  Device,
  Id,
  MetricName,
  Severity,
  WatchfloorError,
  conflict,
  forbidden,
  notFound,
  unauthorized,
  type Estate,
} from '../core/index.ts';
import type { OpsContext } from './context.ts';
import { readCookie, SESSION_COOKIE, type Session } from './sessions.ts';
import { Role, Username, publicUser } from './users.ts';
import { DurationMs, parseInput, TimeMs } from './validate.ts';

declare module 'express-serve-static-core' {
  interface Request {
    session?: Session;
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const LoginBody = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) });
const LatestQuery = z.strictObject({ device: Id.optional(), metric: MetricName.optional() });
const RangeQuery = z.strictObject({
  device: Id,
  metric: MetricName,
  from: TimeMs.optional(),
  to: TimeMs.optional(),
  step: DurationMs.optional(),
  agg: z.enum(['mean', 'min', 'max', 'last']).default('mean'),
});
const AlertsQuery = z.strictObject({ state: AlertState.optional(), kind: AlertKind.optional(), severity: Severity.optional() });
const EventsQuery = z.strictObject({ device: Id.optional(), type: z.string().max(128).optional(), since: TimeMs.optional() });
const RegisterDevice = Device.extend({ mqtt: z.strictObject({ password: z.string().min(8, 'at least 8 characters').max(256) }).optional() });
const NewUser = z.strictObject({ username: Username, role: Role, password: z.string().min(10, 'at least 10 characters').max(1024) });

/** At most this many buckets in one range answer: a year of 1 s steps would be 31 million rows. */
const MAX_BUCKETS = 11_000;

/** Why a registered device would dangle: a rack, room, site or parent the inventory does not have. */
function unknownReference(estate: Estate, d: Device): { field: string; id: string } | undefined {
  const loc = d.location;
  if ('rack' in loc && !estate.racks.has(loc.rack)) return { field: 'location.rack', id: loc.rack };
  if ('room' in loc && !estate.rooms.has(loc.room)) return { field: 'location.room', id: loc.room };
  if ('site' in loc && !estate.sites.has(loc.site)) return { field: 'location.site', id: loc.site };
  const i = d.parents.findIndex((p) => !estate.devices.has(p));
  if (i >= 0) return { field: `parents.${i}`, id: d.parents[i] as string };
  return undefined;
}

type Handler = (req: Request, res: Response) => Promise<unknown> | unknown;
/** Express 5 forwards rejected promises to the error handler; this only types the handlers once. */
const route = (fn: Handler) => (req: Request, res: Response, next: NextFunction) => {
  Promise.resolve(fn(req, res)).catch(next);
};

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

  api.post(
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

  // Everything below needs a session, and a state change made with a cookie needs its CSRF token.
  api.use((req, _res, next) => {
    if (!req.session) return next(unauthorized());
    if (STATE_CHANGING.has(req.method) && req.get('x-csrf-token') !== req.session.csrfToken) {
      return next(new WatchfloorError('WF_ERR_CSRF', 'missing or wrong X-CSRF-Token header', 403, 'X-CSRF-Token'));
    }
    next();
  });
  const requireRole =
    (...roles: string[]) =>
    (req: Request, _res: Response, next: NextFunction) =>
      req.session && roles.includes(req.session.role) ? next() : next(forbidden());

  api.post('/auth/logout', (req, res) => {
    if (req.session) ctx.sessions.end(req.session.id);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });
  api.get('/auth/me', (req, res) => {
    const s = req.session as Session;
    res.json({ user: { username: s.username, role: s.role }, csrfToken: s.csrfToken, serverTime: ctx.clock.now() });
  });

  api.get('/inventory', (_req, res) => {
    const inv = ctx.estate.inventory;
    res.json({ sites: inv.sites, rooms: inv.rooms, racks: inv.racks, devices: [...ctx.estate.devices.values()], links: inv.links });
  });
  api.get('/devices', (_req, res) => {
    res.json([...ctx.estate.devices.values()].map((d) => ({ ...d, tags: ctx.estate.tagsOf(d.id), presence: ctx.presence(d.id) ?? null })));
  });
  api.get('/devices/:id', (req, res) => {
    const d = ctx.estate.devices.get(String(req.params.id));
    if (!d) throw notFound(`device "${req.params.id}"`);
    res.json({ ...d, tags: ctx.estate.tagsOf(d.id), presence: ctx.presence(d.id) ?? null, latest: ctx.latest({ device: d.id }) });
  });
  api.post(
    '/devices',
    requireRole('admin'),
    route(async (req, res) => {
      const { mqtt, ...device } = parseInput(RegisterDevice, req.body, 'body');
      if (ctx.estate.devices.has(device.id)) throw conflict(`device "${device.id}" already exists`);
      const missing = unknownReference(ctx.estate, device);
      if (missing) throw new WatchfloorError('WF_ERR_BAD_REQUEST', `${missing.field}: unknown "${missing.id}"`, 400, missing.field);
      await ctx.registerDevice(device, mqtt?.password);
      res.status(201).json({ ...device, tags: ctx.estate.tagsOf(device.id) });
    }),
  );

  api.get('/metrics/latest', (req, res) => {
    res.json(ctx.latest(parseInput(LatestQuery, req.query, 'query')));
  });
  api.get(
    '/metrics/range',
    route(async (req, res) => {
      const q = parseInput(RangeQuery, req.query, 'query');
      const to = q.to ?? ctx.clock.now();
      const from = q.from ?? to - 3_600_000;
      if (from >= to) throw new WatchfloorError('WF_ERR_BAD_REQUEST', 'from: must be before to', 400, 'from');
      // Default step: about 300 points across the range, never under a second.
      const stepMs = q.step ?? Math.max(1000, Math.ceil((to - from) / 300 / 1000) * 1000);
      if ((to - from) / stepMs > MAX_BUCKETS) {
        throw new WatchfloorError('WF_ERR_BAD_REQUEST', `step: too small for the range (over ${MAX_BUCKETS} points)`, 400, 'step');
      }
      const points = await ctx.range({ device: q.device, metric: q.metric, from, to, stepMs, agg: q.agg });
      res.json({ device: q.device, metric: q.metric, agg: q.agg, from, to, stepMs, points: points.map((b) => [b.ts, b.value]) });
    }),
  );

  api.get('/alerts', (req, res) => {
    res.json(ctx.alerts(parseInput(AlertsQuery, req.query, 'query')));
  });
  api.get('/alerts/:id', (req, res) => {
    const a = ctx.alert(String(req.params.id));
    if (!a) throw notFound(`alert "${req.params.id}"`);
    res.json(a);
  });
  api.get('/events', (req, res) => {
    res.json(ctx.events(parseInput(EventsQuery, req.query, 'query')));
  });

  api.get('/users', requireRole('admin'), (_req, res) => {
    res.json(ctx.users.list());
  });
  api.post(
    '/users',
    requireRole('admin'),
    route(async (req, res) => {
      const body = parseInput(NewUser, req.body, 'body');
      if (ctx.users.get(body.username)) throw conflict(`user "${body.username}" already exists`);
      const user = await ctx.users.add(body.username, body.role, body.password, ctx.clock.now());
      res.status(201).json(publicUser(user));
    }),
  );

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
