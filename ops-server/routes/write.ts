/*
 * InfluxDB's write APIs, so Telegraf, Node-RED, Home Assistant and the InfluxDB client libraries write
 * into the product: `POST /write` (1.x: db, rp, precision; u/p, basic auth or a token) and
 * `POST /api/v2/write` (2.x: org, bucket, precision; `Authorization: Token`). The body (gzip or not) is
 * handed to the line protocol collector as it is; this file only authenticates, bounds and answers
 * in InfluxDB's shapes: 204; 400 with each bad line's number and reason (the good lines are kept, 1.x's
 * "partial write"); 401/403; 413 over the size limit (a gzip bomb too, counted after decompression);
 * 429 when the collector's queue is full; 503 when its broker link is down.
 *
 * Who writes: an API token of role `writer` only (as the password with any user name, `Token`, or
 * `Bearer`); a user's password is never accepted here.
 */
import express, { type Request, type Response } from 'express';
import { createGunzip } from 'node:zlib';
import type { LineProtocolAnswer, LineProtocolDoor, OpsContext } from '../deps.ts';
import type { TokenBook } from '../tokens.ts';

type Api = 'v1' | 'v2';
type Precision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

const PRECISIONS: Record<Api, Record<string, Precision>> = {
  v1: { n: 'ns', ns: 'ns', u: 'us', us: 'us', 'µ': 'us', ms: 'ms', s: 's', m: 'm', h: 'h' },
  v2: { ns: 'ns', us: 'us', ms: 'ms', s: 's' },
};

/** InfluxDB 2.x's error codes (influxdb/kit/platform/errors). */
const V2_CODE: Record<number, string> = { 400: 'invalid', 401: 'unauthorized', 403: 'forbidden', 404: 'not found', 413: 'request too large', 429: 'too many requests', 500: 'internal error', 503: 'unavailable' };

/** Answers in the API's error shape: 1.x `{error}` (and X-Influxdb-Error), 2.x `{code, message}`. */
function fail(res: Response, api: Api, status: number, message: string): void {
  if (api === 'v1') {
    res.set('X-Influxdb-Error', message.split('\n')[0]?.slice(0, 512) ?? '');
    res.status(status).json({ error: message });
  } else res.status(status).json({ code: V2_CODE[status] ?? 'invalid', message });
}

/** The presented API token, from whichever of InfluxDB's auth forms the request used (a password that is no token is none). */
function presentedToken(req: Request, api: Api): string | undefined {
  const header = req.get('authorization') ?? '';
  const [scheme = '', value = ''] = header.split(/\s+/, 2);
  const kind = scheme.toLowerCase();
  if (kind === 'token' || kind === 'bearer') return value;
  if (api === 'v2') return undefined;
  const p = req.query.p;
  if (typeof p === 'string') return p;
  if (kind === 'basic') {
    const pair = Buffer.from(value, 'base64').toString('utf8');
    const i = pair.indexOf(':');
    return i < 0 ? undefined : pair.slice(i + 1);
  }
  return undefined;
}

class TooLarge extends Error {}
class BadGzip extends Error {}

/** Reads the body, gunzipped when `Content-Encoding: gzip`; either side over `limit` bytes is a TooLarge. */
function readBody(req: Request, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // Sent as application/json, the app's JSON parser has read it already: the text it held is what was written.
    if (req.readableEnded) return resolve(req.body !== undefined && typeof req.body === 'object' ? JSON.stringify(req.body) : '');
    const declared = Number(req.get('content-length'));
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      return reject(new TooLarge());
    }
    const gzip = (req.get('content-encoding') ?? '').toLowerCase() === 'gzip';
    const chunks: Buffer[] = [];
    let size = 0;
    let raw = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      if (err) {
        req.unpipe();
        req.resume();
        reject(err);
      } else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const take = (c: Buffer): void => {
      size += c.length;
      if (size > limit) return finish(new TooLarge());
      chunks.push(c);
    };
    req.on('data', (c: Buffer) => {
      raw += c.length;
      if (raw > limit) finish(new TooLarge());
    });
    req.once('error', (e) => finish(e));
    if (gzip) {
      const gunzip = createGunzip();
      gunzip.on('data', (c: Buffer) => {
        take(c);
        if (done) gunzip.destroy();
      });
      gunzip.once('error', () => finish(new BadGzip()));
      gunzip.once('end', () => finish());
      req.pipe(gunzip);
    } else {
      req.on('data', take);
      req.once('end', () => finish());
    }
  });
}

/** InfluxDB's words for the bad lines: `unable to parse '<line>': <reason>` each, with its line number. */
function describe(a: LineProtocolAnswer): string {
  const parse = a.errors.slice(0, 20).map((e) => `unable to parse '${e.text}': ${e.reason} (line ${e.line})`);
  if (a.errors.length > 20) parse.push(`... and ${a.errors.length - 20} more bad lines`);
  return [...parse, ...a.dropReasons].join('\n');
}

/** `POST /write` and `POST /api/v2/write`, mounted at the app root (where InfluxDB serves them). */
export function writeRoutes(door: LineProtocolDoor, ctx: OpsContext, tokens: TokenBook): express.Router {
  const router = express.Router();
  const handle = async (api: Api, req: Request, res: Response): Promise<void> => {
    res.set('X-Influxdb-Version', api === 'v1' ? '1.8.10' : '2.7.0').set('X-Influxdb-Build', 'OSS');
    const presented = presentedToken(req, api);
    const now = ctx.clock.now();
    const writer = presented ? tokens.verifyWriter(presented, now) : undefined;
    if (!writer) {
      req.resume();
      // A live token of another role is known but may not write: 403; anything else: 401.
      const other = presented ? tokens.verify(presented, now) : undefined;
      if (other) return fail(res, api, 403, api === 'v1' ? `"${other.name}" user is not authorized to write: only an API token of role writer writes` : 'insufficient permissions for write: only an API token of role writer writes');
      return fail(res, api, 401, api === 'v1' ? 'authorization failed' : 'unauthorized access');
    }
    const q = req.query as Record<string, unknown>;
    const target = api === 'v1' ? q.db : q.bucket;
    if (typeof target !== 'string' || target === '') {
      req.resume();
      return fail(res, api, api === 'v1' ? 400 : 404, api === 'v1' ? 'database is required' : 'bucket not found: a bucket is required');
    }
    const precision = PRECISIONS[api][typeof q.precision === 'string' && q.precision !== '' ? q.precision : 'ns'];
    if (!precision) {
      req.resume();
      return fail(res, api, 400, `invalid precision "${String(q.precision).slice(0, 16)}": use ${Object.keys(PRECISIONS[api]).join(', ')}`);
    }
    let body: string;
    try {
      body = await readBody(req, door.maxBodyBytes);
    } catch (err) {
      if (err instanceof TooLarge) {
        res.set('Connection', 'close');
        return fail(res, api, 413, `request body too large: the limit is ${door.maxBodyBytes} bytes (compressed or not)`);
      }
      if (err instanceof BadGzip) return fail(res, api, 400, 'unable to decode gzip body');
      throw err;
    }
    const answer = await door.write({ body, precision, writer: writer.name });
    if (answer.unavailable) return fail(res, api, 503, 'the broker is not reachable; retry later');
    if (answer.busy) {
      res.set('Retry-After', '1');
      return fail(res, api, 429, 'the write queue is full; retry later');
    }
    const refusedStrings = answer.refused.string_field ?? 0;
    if (refusedStrings > 0) res.set('X-Watchfloor-Refused', `string_field=${refusedStrings}`);
    if (answer.errors.length === 0 && answer.dropped === 0) {
      res.status(204).end();
      return;
    }
    // 1.x: nothing parsed is a plain parse error; some points kept (or dropped at write) is a partial write.
    const message = describe(answer);
    if (answer.accepted === 0 && answer.dropped === 0) return fail(res, api, 400, message);
    fail(res, api, 400, `partial write: ${message} dropped=${answer.dropped}`);
  };
  const wrap = (api: Api) => (req: Request, res: Response): void => {
    handle(api, req, res).catch((err: unknown) => {
      ctx.logger.error({ err: (err as Error).message }, 'line protocol write: internal error');
      if (!res.headersSent) fail(res, api, 500, 'internal error; see the server log');
    });
  };
  router.post('/write', wrap('v1'));
  router.post('/api/v2/write', wrap('v2'));
  return router;
}
