import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { wfError } from '../core/index.ts';
import type { OpsContext } from './deps.ts';
import { route } from './guards.ts';

/** Digests compared, not the strings: equal lengths for timingSafeEqual, so the token's length does not leak either. */
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * GET /metrics: Prometheus' text exposition (format 0.0.4). With `http.metricsToken` set, only a scrape
 * sending `Authorization: Bearer <token>` gets it; others a 401 with `WWW-Authenticate: Bearer` (RFC 6750 §3).
 * Unset, the endpoint is open, as a Prometheus target usually is on a private network.
 */
export function metricsRoute(ctx: OpsContext): RequestHandler {
  const expected = ctx.metricsToken === undefined ? undefined : digest(ctx.metricsToken);
  return route(async (req, res) => {
    if (expected) {
      const presented = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
      if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
        res.set('WWW-Authenticate', 'Bearer realm="watchfloor metrics"');
        throw wfError('UNAUTHORIZED', 'GET /metrics needs Authorization: Bearer <the metrics token> (http.metricsToken)');
      }
    }
    res.type('text/plain; version=0.0.4').send(await ctx.metricsText());
  });
}
