/*
 * The InfluxDB v1 query API (`GET|POST /query?q=...&db=...&epoch=ms`), so that Grafana's built-in
 * InfluxDB data source (InfluxQL mode) charts the product's own store. Answers and errors have
 * InfluxDB's shapes: 200 {results: [...]} with per-statement errors, 400 {error: "error parsing
 * query: ..."}, 401 {error: "authorization failed"}.
 *
 * With `store: influxdb` the query is proxied, after Watchfloor's own sign-in, to the configured
 * InfluxDB's /query (the configured database; SELECT and SHOW statements only) and its answer returned as it came:
 * one source of history for this endpoint and /api/v1/metrics/range alike.
 *
 * Authentication takes InfluxDB's three forms: `u`/`p` parameters, HTTP basic auth, and
 * `Authorization: Token ...`. Each carries either a Watchfloor API token (`Token wft_...`, or as
 * the password with any user name, which is how Grafana's data source sends a token in InfluxQL
 * mode) or a local user's username and password; any live token and any enabled user may read.
 * `Authorization: Bearer wft_...` works too. The web UI's own dashboards send their session
 * cookie instead (GET).
 */
import express, { type Request, type Response } from 'express';
import { executeInfluxQL, InfluxQLSyntaxError, parseInfluxQL } from '../../store/index.ts';
import type { OpsContext } from '../context.ts';
import { readCookie, SESSION_COOKIE } from '../sessions.ts';
import type { TokenBook } from '../tokens.ts';

type Credentials = { token: string } | { user: string; password: string };

const API_TOKEN_PREFIX = 'wft_';

/** A user and password, or an API token, from whichever of InfluxDB's auth forms the request used. */
function credentials(req: Request): Credentials | undefined {
  const q = { ...(req.query as Record<string, unknown>), ...((req.body ?? {}) as Record<string, unknown>) };
  const fromPair = (user: string, password: string): Credentials =>
    password.startsWith(API_TOKEN_PREFIX) ? { token: password } : { user, password };
  if (typeof q.u === 'string' && typeof q.p === 'string') return fromPair(q.u, q.p);
  if (typeof q.p === 'string' && q.p.startsWith(API_TOKEN_PREFIX)) return { token: q.p };
  const header = req.get('authorization') ?? '';
  const [scheme = '', value = ''] = header.split(/\s+/, 2);
  const kind = scheme.toLowerCase();
  if ((kind === 'token' || kind === 'bearer') && value.startsWith(API_TOKEN_PREFIX)) return { token: value };
  let pair: string | undefined;
  if (kind === 'basic') pair = Buffer.from(value, 'base64').toString('utf8');
  else if (kind === 'token') pair = value;
  if (pair === undefined) return undefined;
  const i = pair.indexOf(':');
  if (i < 0) return undefined;
  return fromPair(pair.slice(0, i), pair.slice(i + 1));
}

/**
 * The web UI's dashboards read with the logged-in session cookie: GET only (a cookie is an ambient
 * credential, and a GET here changes nothing), and only while the user is still enabled.
 */
function sessionReader(ctx: OpsContext, req: Request): boolean {
  if (req.method !== 'GET') return false;
  const session = ctx.sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));
  const user = session ? ctx.users.get(session.username) : undefined;
  return user !== undefined && !user.disabled;
}

/** Mounted at the app root (where InfluxDB serves it), not under /api/v1. */
export function queryRoutes(ctx: OpsContext, tokens?: TokenBook): express.Router {
  const router = express.Router();
  router.use('/query', express.urlencoded({ extended: false, limit: '1mb' }));
  const handle = async (req: Request, res: Response): Promise<void> => {
    const who = credentials(req);
    const allowed = !who
      ? sessionReader(ctx, req)
      : 'token' in who
        ? tokens?.verify(who.token, ctx.clock.now()) !== undefined
        : (await ctx.users.verify(who.user, who.password)) !== undefined;
    if (!allowed) {
      res.status(401).json({ error: 'authorization failed' });
      return;
    }
    const params = { ...(req.query as Record<string, unknown>), ...((req.body ?? {}) as Record<string, unknown>) };
    const q = params.q;
    if (typeof q !== 'string' || q.trim() === '') {
      res.status(400).json({ error: 'missing required parameter "q"' });
      return;
    }
    const epoch = typeof params.epoch === 'string' && params.epoch !== '' ? params.epoch : undefined;
    if (epoch !== undefined && !['ns', 'u', 'µ', 'ms', 's', 'm', 'h'].includes(epoch)) {
      res.status(400).json({ error: `invalid epoch "${epoch}": use ns, u, ms, s, m or h` });
      return;
    }
    if (!ctx.timeseries) {
      res.status(503).json({ error: 'the time-series store is not available' });
      return;
    }
    if (ctx.timeseries.influxql) {
      // store: influxdb. InfluxDB answers (its own dialect, errors and data, other writers' points too); SELECT and SHOW only.
      const reply = await ctx.timeseries.influxql(q, epoch).catch((err: unknown) => ({ status: 503, body: { error: (err as Error).message } }));
      res.status(reply.status).json(reply.body);
      return;
    }
    let statements;
    try {
      statements = parseInfluxQL(q);
    } catch (err) {
      if (err instanceof InfluxQLSyntaxError) {
        res.status(400).json({ error: `error parsing query: ${err.message}` });
        return;
      }
      throw err;
    }
    const results = await executeInfluxQL(ctx.timeseries, statements, { now: ctx.clock.now(), epoch });
    res.json({ results });
  };
  const wrap = (req: Request, res: Response): void => {
    handle(req, res).catch((err: unknown) => {
      ctx.logger.error({ err: (err as Error).message }, 'influxql: internal error');
      if (!res.headersSent) res.status(500).json({ error: 'internal error; see the server log' });
    });
  };
  router.get('/query', wrap);
  router.post('/query', wrap);
  return router;
}
