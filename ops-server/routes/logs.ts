/*
 * Log search, its histogram and its export (issue 15). Logs are the SOC's and the admins'; the NOC
 * reads the logs of network, power and cooling devices (they explain outages); a viewer none.
 * Mounted under /api/v1 after requireLogin, so a caller is known here.
 */
import type { Request, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { Id, LOG_SEVERITIES, badRequest, forbidden, unauthorized, type DeviceKind, type Estate, type Logger } from '../../core/index.ts';
import type { LogFilters, LogStore } from '../../store/index.ts';
import { route } from '../guards.ts';
import { DurationMs, parseInput, TimeMs } from '../validate.ts';

/** The device kinds whose logs the noc role reads: network, power and cooling (core/inventory.ts kinds). */
export const NOC_LOG_KINDS: readonly DeviceKind[] = ['switch', 'router', 'firewall', 'ups', 'pdu', 'crac'];

const filterFields = {
  q: z.string().max(1024).optional(),
  host: z.string().min(1).max(255).optional(),
  device: Id.optional(),
  program: z.string().min(1).max(256).optional(),
  severity: z.enum(LOG_SEVERITIES).optional(),
  since: TimeMs.optional(),
  until: TimeMs.optional(),
};
export const LogsQuery = z.strictObject({ ...filterFields, limit: z.coerce.number().int().min(1).max(10_000).default(100) });
export const LogHistogramQuery = z.strictObject({ ...filterFields, step: DurationMs.optional() });
export const LogExportQuery = z.strictObject({ ...filterFields, format: z.enum(['ndjson', 'csv']).default('ndjson'), limit: z.coerce.number().int().min(1).max(100_000_000).optional() });

/** Histogram step when none is asked: about 120 bars over the range, in whole seconds; an hour without a range. */
const DEFAULT_BARS = 120;

const CONTENT_TYPE = { ndjson: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' } as const;

export interface LogRouteContext {
  estate: Estate;
  logger: Logger;
}

/** GET /logs, /logs/histogram, /logs/export over `logs`, with each role's scope applied on the server. */
export function logRoutes(logs: LogStore, ctx: LogRouteContext): Router {
  const r = Router();

  r.get(
    '/logs',
    route(async (req, res) => {
      const { limit, ...q } = parseInput(LogsQuery, req.query, 'query');
      res.json(await logs.search({ ...scoped(req, ctx.estate, checkedWindow(q)), limit }));
    }),
  );

  r.get(
    '/logs/histogram',
    route(async (req, res) => {
      const { step, ...q } = parseInput(LogHistogramQuery, req.query, 'query');
      const filters = scoped(req, ctx.estate, checkedWindow(q));
      const span = q.since !== undefined && q.until !== undefined ? q.until - q.since : undefined;
      const bucketMs = step ?? (span === undefined ? 3_600_000 : Math.max(1000, Math.ceil(span / DEFAULT_BARS / 1000) * 1000));
      res.json(await logs.histogram({ ...filters, bucketMs }));
    }),
  );

  r.get(
    '/logs/export',
    route(async (req, res) => {
      const { format, limit, ...q } = parseInput(LogExportQuery, req.query, 'query');
      const filters = scoped(req, ctx.estate, checkedWindow(q));
      // Bad filters throw here, before the first byte: they are still a 400.
      const chunks = logs.export({ ...filters, ...(limit ? { limit } : {}) }, format);
      res.status(200);
      res.set('Content-Type', CONTENT_TYPE[format]);
      res.set('Content-Disposition', `attachment; filename="watchfloor-logs.${format}"`);
      res.set('Cache-Control', 'no-store');
      await streamTo(res, chunks, ctx.logger);
    }),
  );
  return r;
}

function checkedWindow<T extends { since?: number; until?: number }>(q: T): T {
  if (q.since !== undefined && q.until !== undefined && q.since > q.until) throw badRequest('since', 'since: must not be after until');
  return q;
}

/** The filters with the caller's scope: all logs for soc and admin, the network, power and cooling devices' for noc. */
function scoped(req: Request, estate: Estate, f: LogFilters): LogFilters {
  const role = req.session?.role;
  if (!role) throw unauthorized();
  if (role === 'admin' || role === 'soc') return f;
  if (role !== 'noc') throw forbidden();
  const devices = [...estate.devices.values()].filter((d) => NOC_LOG_KINDS.includes(d.kind)).map((d) => d.id);
  if (f.device !== undefined && !devices.includes(f.device)) {
    throw forbidden('the noc role reads the logs of network, power and cooling devices only', 'device');
  }
  return { ...f, devices };
}

/** Writes the chunks as they come, waiting for the socket to drain; a client that leaves stops the query. */
async function streamTo(res: Response, chunks: AsyncIterable<string>, logger: Logger): Promise<void> {
  let gone = false;
  const onClose = (): void => {
    gone = true;
  };
  res.on('close', onClose);
  try {
    for await (const chunk of chunks) {
      if (gone) break;
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    }
    if (!gone) res.end();
  } catch (err) {
    // The status line is sent: a broken body is all that is left to say; the cause goes to the log.
    logger.error({ err: (err as Error).message }, 'log export failed mid-stream');
    if (!res.headersSent) throw err;
    res.destroy();
  } finally {
    res.off('close', onClose);
  }
}
