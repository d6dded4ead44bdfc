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
 * cookie instead (GET). A user's password is checked by the PasswordGate (password-gate.ts), as
 * at the login form: a locked (source, user) pair is answered 429 without checking it. A verified
 * password is remembered for a minute (users.ts), so a dashboard's panels pay one scrypt, not one each.
 */
import express, { type Request, type Response } from 'express';
import { chunkResults, DEFAULT_QUERY_LIMITS, executeInfluxQL, InfluxQLSyntaxError, parseInfluxQL, QueryBudget, statementCapError, stringifyResults, treeDepthError } from '../../store/index.ts';
import type { OpsContext } from '../deps.ts';
import { audit } from '../audit.ts';
import { passwordGateFor } from '../password-gate.ts';
import { readCookie, SESSION_COOKIE } from '../sessions.ts';
import type { TokenBook } from '../tokens.ts';

/** The InfluxDB version /ping reports: the 1.x API this endpoint speaks (clients pick their dialect by it). */
const INFLUXDB_VERSION = '1.8.10';

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
  // The session book's check (set by the login routes) ends a session whose user was disabled or changed password.
  const session = ctx.sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));
  const user = session ? ctx.users.get(session.username) : undefined;
  return user !== undefined && !user.disabled;
}

/** Mounted at the app root (where InfluxDB serves it), not under /api/v1. */
export function queryRoutes(ctx: OpsContext, tokens?: TokenBook): express.Router {
  const router = express.Router();
  const gate = passwordGateFor(ctx);
  // InfluxDB's health check, which clients and Grafana's data source call first: 204 with the version, no sign-in.
  const ping = (_req: Request, res: Response): void => {
    res.set('X-Influxdb-Version', INFLUXDB_VERSION).set('X-Influxdb-Build', 'OSS').status(204).end();
  };
  router.get('/ping', ping);
  router.head('/ping', ping);
  router.use('/query', express.urlencoded({ extended: false, limit: '1mb' }));
  const limits = ctx.queryLimits ?? DEFAULT_QUERY_LIMITS;
  const handle = async (req: Request, res: Response): Promise<void> => {
    const who = credentials(req);
    // A user's password goes through the same gate as the login form: lockouts, security events, audit.
    const verdict = !who || 'token' in who ? undefined : await gate.check({ username: who.user, password: who.password, source: req.ip, door: 'query', record: (e) => audit(req, e) });
    if (verdict && !verdict.ok && verdict.lockedUntil !== undefined) {
      const seconds = Math.max(1, Math.ceil((verdict.lockedUntil - ctx.clock.now()) / 1000));
      res.set('Retry-After', String(seconds));
      res.status(429).json({ error: `authorization failed: too many failed logins from this address; try again in ${seconds} s` });
      return;
    }
    const allowed = !who ? sessionReader(ctx, req) : 'token' in who ? tokens?.verify(who.token, ctx.clock.now()) !== undefined : verdict?.ok === true;
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
    // Bounds on the request (store/influxql/limits.ts): a statement cap and a tree-depth cap up front (400),
    // then points, series, buckets and wall time charged as it runs (InfluxDB's statement errors).
    const refused = statementCapError(statements.length, limits) ?? treeDepthError(statements);
    if (refused) {
      res.status(400).json({ error: `error parsing query: ${refused}` });
      return;
    }
    const budget = new QueryBudget(limits);
    try {
      // db= is checked as InfluxDB does ("database not found: x"); a request without one reads the one database.
      const database = typeof params.db === 'string' && params.db !== '' ? params.db : undefined;
      const results = await executeInfluxQL(ctx.timeseries, statements, { now: ctx.clock.now(), epoch, budget, database });
      const over = results.find((r) => r.error !== undefined && /limit exceee?d/.test(r.error));
      if (over) ctx.logger.warn({ error: over.error, ...budget.spent() }, 'influxql: a query reached a limit');
      if (params.chunked === 'true') {
        // chunked=true: InfluxDB's stream of JSON objects, one a line (store/influxql/chunks.ts).
        const size = Number(params.chunk_size);
        res.type('application/json').send(chunkResults(results, Number.isSafeInteger(size) ? size : undefined).map((c) => `${JSON.stringify(c)}\n`).join(''));
        return;
      }
      res.type('application/json').send(await stringifyResults(results, budget));
    } finally {
      budget.dispose();
    }
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
