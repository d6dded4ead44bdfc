/**
 * `http` check: one request (following redirects if asked) with node:http/https on a fresh socket,
 * so the DNS, connect, TLS and first-byte phases are measured from the socket's own events.
 * The body is read up to `maxBodyBytes` (1 MiB) and then the socket is destroyed: a target that
 * streams 10 GB costs one mebibyte and no more.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { compileSafeRegex, type SafeRegex } from '../../core/index.ts';
import { checkBase, down, pem, phasesOf, safeRegex, up, type PhaseMarks, type CheckContext, type CheckPhases, type CheckResult, type CheckType } from './check.ts';
import { describeError, describeTimeout, type Stage } from './reasons.ts';
import { parseJsonPath, readJsonPath } from './json-path.ts';
import { describeStatusSet, statusSet, type StatusSet } from './status-set.ts';

export const HTTP_DEFAULTS = {
  method: 'GET',
  status: [[200, 299]] as StatusSet,
  maxRedirects: 10,
  maxBodyBytes: 1024 * 1024,
} as const;

const jsonPath = z.string().min(1).max(500).superRefine((p, ctx) => {
  if (!parseJsonPath(p)) ctx.addIssue({ code: 'custom', message: `not a JSON path (expected like $.status or $.items[0].name)` });
});

export const httpCheckSchema = checkBase.extend({
  type: z.literal('http'),
  url: z.url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL' }),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default(HTTP_DEFAULTS.method),
  headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not an HTTP header name'), z.string().max(8192)).default({}),
  body: z.string().max(65_536).optional(),
  followRedirects: z.boolean().default(true),
  maxRedirects: z.number().int().min(0).max(20).default(HTTP_DEFAULTS.maxRedirects),
  maxBodyBytes: z.number().int().min(0).max(16 * 1024 * 1024).default(HTTP_DEFAULTS.maxBodyBytes),
  tls: z
    .object({
      /** Verify the certificate chain and host name (on unless turned off). */
      verify: z.boolean().default(true),
      ca: pem.optional(),
      servername: z.string().min(1).max(253).optional(),
    })
    .prefault({}),
  expect: z
    .object({
      status: statusSet.default(HTTP_DEFAULTS.status),
      /** The body contains this text. */
      body: z.string().min(1).max(4096).optional(),
      bodyRegex: safeRegex.optional(),
      json: z.object({ path: jsonPath, equals: z.unknown() }).optional(),
      maxLatencyMs: z.number().positive().optional(),
    })
    .prefault({}),
});
export type HttpCheckConfig = z.infer<typeof httpCheckSchema>;

interface Hop {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  truncated: boolean;
  phases: CheckPhases;
  tlsProtocol?: string;
}

class HopError extends Error {
  constructor(
    readonly stage: Stage,
    readonly error: unknown,
    readonly phases: CheckPhases,
  ) {
    super('hop failed');
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const regexCache = new WeakMap<HttpCheckConfig, SafeRegex>();

/** One request and its answer (body capped); rejects with the stage reached. */
function requestOnce(url: URL, method: string, cfg: HttpCheckConfig, body: string | undefined, signal: AbortSignal): Promise<Hop> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const marks: PhaseMarks = {};
    const secure = url.protocol === 'https:';
    let stage: Stage = isIP(url.hostname.replace(/^\[|\]$/g, '')) ? 'connect' : 'dns';
    let settled = false;
    const phases = (): CheckPhases => phasesOf(t0, marks);
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(new HopError(stage, err, phases()));
    };
    const options: https.RequestOptions = {
      method,
      headers: { 'user-agent': 'Watchfloor-check/1', ...cfg.headers },
      agent: false, // a fresh socket each probe: the phases are real, and nothing lingers in a pool
      signal,
    };
    if (secure) {
      options.rejectUnauthorized = cfg.tls.verify;
      if (cfg.tls.ca) options.ca = cfg.tls.ca;
      if (cfg.tls.servername) options.servername = cfg.tls.servername;
    }
    const req = (secure ? https : http).request(url, options);
    req.once('socket', (s) => {
      s.once('lookup', () => {
        marks.lookup = performance.now();
        stage = 'connect';
      });
      s.once('connect', () => {
        marks.connect = performance.now();
        stage = secure ? 'tls' : 'request';
      });
      s.once('secureConnect', () => {
        marks.secure = performance.now();
        stage = 'request';
      });
    });
    req.once('finish', () => {
      if (stage === 'request') stage = 'response';
    });
    req.on('error', fail);
    req.once('response', (res) => {
      marks.response = performance.now();
      stage = 'body';
      const chunks: Buffer[] = [];
      let bytes = 0;
      const tlsProtocol = secure ? ((res.socket as import('node:tls').TLSSocket).getProtocol?.() ?? undefined) : undefined;
      const finish = (truncated: boolean): void => {
        if (settled) return;
        settled = true;
        const hop: Hop = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated, phases: phases() };
        if (tlsProtocol) hop.tlsProtocol = tlsProtocol;
        if (truncated || !res.complete) req.destroy();
        resolve(hop);
      };
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = cfg.maxBodyBytes - bytes;
        if (chunk.length >= room) {
          if (room > 0) chunks.push(chunk.subarray(0, room));
          bytes += room;
          // Exactly at the cap: truncated unless the declared length says that was all of it.
          finish(chunk.length > room || (!res.complete && Number(res.headers['content-length']) !== bytes));
          return;
        }
        chunks.push(chunk);
        bytes += chunk.length;
      });
      res.once('end', () => finish(false));
      res.on('error', fail);
      res.once('close', () => {
        if (!settled) fail(Object.assign(new Error('connection closed before the body ended'), { code: 'ERR_SOCKET_CLOSED' }));
      });
    });
    req.end(body);
  });
}

/** Status, body and latency against the expectations; the first unmet one is the reason. */
function judge(cfg: HttpCheckConfig, hop: Hop, latencyMs: number, details: Record<string, unknown>): CheckResult {
  const extra = { phases: hop.phases, details };
  const { expect } = cfg;
  const within = hop.truncated ? ` (first ${hop.body.length} bytes read)` : '';
  if (!expect.status.some(([lo, hi]) => hop.status >= lo && hop.status <= hi)) {
    return down(`expected status ${describeStatusSet(expect.status)}, got ${hop.status}`, latencyMs, extra);
  }
  const needsText = expect.body !== undefined || expect.bodyRegex !== undefined || expect.json !== undefined;
  const text = needsText ? hop.body.toString('utf8') : '';
  if (expect.body !== undefined && !text.includes(expect.body)) {
    return down(`body does not contain ${JSON.stringify(expect.body)}${within}`, latencyMs, extra);
  }
  if (expect.bodyRegex !== undefined) {
    let re = regexCache.get(cfg);
    if (!re) regexCache.set(cfg, (re = compileSafeRegex(expect.bodyRegex)));
    if (!re.test(text)) return down(`body does not match /${expect.bodyRegex}/${within}`, latencyMs, extra);
  }
  if (expect.json !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return down(`body is not JSON${within}`, latencyMs, extra);
    }
    const found = readJsonPath(doc, parseJsonPath(expect.json.path) ?? []);
    if (!found.present) return down(`JSON ${expect.json.path} is missing`, latencyMs, extra);
    if (!isDeepStrictEqual(found.value, expect.json.equals)) {
      return down(`JSON ${expect.json.path} is ${JSON.stringify(found.value)}, expected ${JSON.stringify(expect.json.equals)}`, latencyMs, extra);
    }
  }
  if (expect.maxLatencyMs !== undefined && latencyMs > expect.maxLatencyMs) {
    return down(`answered in ${Math.round(latencyMs)} ms, over the limit of ${expect.maxLatencyMs} ms`, latencyMs, extra);
  }
  return up(latencyMs, extra);
}

async function runHttp(cfg: HttpCheckConfig, ctx: CheckContext): Promise<CheckResult> {
  const start = performance.now();
  let url = new URL(cfg.url);
  let method: string = cfg.method;
  let body = cfg.body;
  let redirects = 0;
  for (;;) {
    let hop: Hop;
    try {
      hop = await requestOnce(url, method, cfg, body, ctx.signal);
    } catch (err) {
      const elapsed = performance.now() - start;
      if (!(err instanceof HopError)) return down(describeError(err, 'request', url.host), elapsed);
      const reason = ctx.signal.aborted ? describeTimeout(elapsed, err.stage) : describeError(err.error, err.stage, url.host);
      return down(reason, elapsed, { phases: err.phases, details: { url: url.href, redirects } });
    }
    const location = hop.headers.location;
    if (cfg.followRedirects && REDIRECTS.has(hop.status) && location) {
      if (redirects >= cfg.maxRedirects) return down(`more than ${cfg.maxRedirects} redirects (last to ${location})`, performance.now() - start, { phases: hop.phases });
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return down(`redirect to an invalid URL: ${location}`, performance.now() - start, { phases: hop.phases });
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') return down(`redirect to a non-HTTP URL: ${next.href}`, performance.now() - start);
      // RFC 9110 §15.4.4: 303 means GET; 301/302 after POST become GET as every browser does (§15.4.2 note).
      if ((hop.status === 303 && method !== 'HEAD') || ((hop.status === 301 || hop.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      url = next;
      redirects++;
      continue;
    }
    const latencyMs = performance.now() - start;
    const details: Record<string, unknown> = { status: hop.status, url: url.href, redirects, bytes: hop.body.length, truncated: hop.truncated };
    if (hop.tlsProtocol) details.tlsProtocol = hop.tlsProtocol;
    return judge(cfg, hop, latencyMs, details);
  }
}

/** The `http` check type (https URLs included). */
export const httpCheck: CheckType<HttpCheckConfig> = { name: 'http', schema: httpCheckSchema, run: runHttp };
