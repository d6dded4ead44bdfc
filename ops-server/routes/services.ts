/*
 * Services (issue 16): every role reads them, admins change them, admins and the NOC open and close
 * maintenance windows. Mounted under /api/v1 after requireLogin when the server has a service book;
 * the public status page (statusRoutes) is mounted before the login, and shows only what the
 * services marked public allow.
 */
import type { Request, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { badRequest, notFound, type Clock, type Estate, type Logger } from '../../core/index.ts';
import { monthlyReport, redactService, reportCsv, validTimeZone, type ServiceBook } from '../../rules/index.ts';
import { audit } from '../audit.ts';
import { requireRole, route } from '../guards.ts';
import { parseInput, TimeMs } from '../validate.ts';
import { publicStatus, renderReportPage, renderStatusPage, type Lang } from './services-pages.ts';

export interface ServiceRouteContext {
  clock: Clock;
  logger: Logger;
  estate: Estate;
}

const DAY = 86_400_000;
/** The longest range one availability answer covers (a year and a bit: a yearly report). */
const MAX_RANGE_MS = 400 * DAY;

const Lang = z.enum(['vi', 'en']);
export const AvailabilityQuery = z.strictObject({ from: TimeMs.optional(), to: TimeMs.optional() });
export const ReportQuery = z.strictObject({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month as YYYY-MM'),
  format: z.enum(['json', 'csv', 'html']).default('json'),
  lang: Lang.default('vi'),
  tz: z.string().min(1).max(64).refine(validTimeZone, 'not a time zone name (IANA, e.g. Asia/Ho_Chi_Minh)').optional(),
  service: z.string().min(1).max(128).optional(),
});
const MaintenanceBody = z.looseObject({});

/** The site's time zone: the first site's (core/inventory.ts Site.timezone, UTC by default). */
export const siteTimeZone = (estate: Estate): string => {
  const tz = estate.inventory.sites[0]?.timezone ?? 'UTC';
  return validTimeZone(tz) ? tz : 'UTC';
};

/** The service as every answer shows it: header values redacted, where it is defined, its state now. */
function serviceView(book: ServiceBook, id: string, now: number): Record<string, unknown> {
  const s = book.get(id);
  if (!s) throw notFound(`service "${id}"`);
  const status = book.status(id, now);
  return { ...redactService(s), origin: book.origin(id), maintenanceWindows: book.windows(id), ...status };
}

/** GET/POST/PUT/DELETE /services, /services/{id}, its availability, burn-rate alerts, windows, and the monthly report. */
export function serviceRoutes(book: ServiceBook, ctx: ServiceRouteContext): Router {
  const r = Router();

  r.get('/services', (_req, res) => {
    const now = ctx.clock.now();
    res.json(book.list().map((s) => serviceView(book, s.id, now)));
  });

  r.get(
    '/services/report',
    route(async (req, res) => {
      const q = parseInput(ReportQuery, req.query, 'query');
      if (q.service && !book.get(q.service)) throw notFound(`service "${q.service}"`);
      const timeZone = q.tz ?? siteTimeZone(ctx.estate);
      const report = await monthlyReport(book, q.month, timeZone, ctx.clock.now(), q.service ? [q.service] : undefined);
      if (!report) throw badRequest('month', 'month: expected a month as YYYY-MM');
      res.set('Cache-Control', 'no-store');
      if (q.format === 'csv') {
        res.set('Content-Type', 'text/csv; charset=utf-8');
        res.set('Content-Disposition', `attachment; filename="watchfloor-availability-${q.month}.csv"`);
        res.send(reportCsv(report));
      } else if (q.format === 'html') {
        res.set('Content-Type', 'text/html; charset=utf-8');
        res.send(renderReportPage(report, q.lang));
      } else res.json(report);
    }),
  );

  r.get('/services/:id', (req, res) => {
    const id = String(req.params.id);
    res.json({ ...serviceView(book, id, ctx.clock.now()), lastChecks: book.checks(id) });
  });

  r.get(
    '/services/:id/availability',
    route(async (req, res) => {
      const id = String(req.params.id);
      if (!book.get(id)) throw notFound(`service "${id}"`);
      const now = ctx.clock.now();
      const q = parseInput(AvailabilityQuery, req.query, 'query');
      // The future has no check results: a range is answered up to now.
      const to = Math.min(q.to ?? now, now);
      const from = q.from ?? to - 30 * DAY;
      if (from >= to) throw badRequest('from', 'from: must be before to (and before now)');
      if (to - from > MAX_RANGE_MS) throw badRequest('from', 'from: at most 400 days before to');
      res.json(await book.availability(id, from, to));
    }),
  );

  r.get(
    '/services/:id/burn-rate',
    route(async (req, res) => {
      const id = String(req.params.id);
      const s = book.get(id);
      if (!s) throw notFound(`service "${id}"`);
      res.json({ slo: s.slo ?? null, alerts: await book.burnAlerts(id, ctx.clock.now()) });
    }),
  );

  r.post('/services', requireRole('admin'), (req, res) => {
    const s = book.create(req.body);
    audit(req, { action: 'service.create', target: s.id, detail: changeDetail(s) });
    res.status(201).json(serviceView(book, s.id, ctx.clock.now()));
  });

  r.put('/services/:id', requireRole('admin'), (req, res) => {
    const s = book.replace(String(req.params.id), req.body);
    audit(req, { action: 'service.update', target: s.id, detail: changeDetail(s) });
    res.json(serviceView(book, s.id, ctx.clock.now()));
  });

  r.delete('/services/:id', requireRole('admin'), (req, res) => {
    const s = book.remove(String(req.params.id));
    audit(req, { action: 'service.delete', target: s.id });
    res.status(204).end();
  });

  r.post('/services/:id/maintenance', requireRole('admin', 'noc'), (req, res) => {
    const id = String(req.params.id);
    const body = parseInput(MaintenanceBody, req.body, 'body');
    // Ad hoc: starts now unless told otherwise.
    const w = book.addMaintenance(id, { from: ctx.clock.now(), ...body });
    audit(req, { action: 'service.maintenance.start', target: id, detail: { window: w.id, from: w.from, to: w.to, reason: w.reason } });
    res.status(201).json(w);
  });

  r.delete('/services/:id/maintenance/:windowId', requireRole('admin', 'noc'), (req, res) => {
    const id = String(req.params.id);
    const w = book.removeMaintenance(id, String(req.params.windowId));
    audit(req, { action: 'service.maintenance.delete', target: id, detail: { window: w.id } });
    res.status(204).end();
  });

  return r;
}

/** What an audit entry says of a change: the shape, never a check's headers or body. */
function changeDetail(s: { checks: { key: string; type: string }[]; dependsOn: string[]; public: boolean }): Record<string, unknown> {
  return { checks: s.checks.map((c) => `${c.key}:${c.type}`), dependsOn: s.dependsOn, public: s.public };
}

/** How long a public status answer is reused: the page is open to anyone, the store is not. */
const STATUS_CACHE_MS = 30_000;

/** GET /status (HTML, vi/en) and /status.json: no login, public services only, nothing of the estate's internals. */
export function statusRoutes(book: ServiceBook, ctx: ServiceRouteContext): Router {
  const r = Router();
  let cached: { at: number; value: Promise<Awaited<ReturnType<typeof publicStatus>>> } | undefined;
  const current = (): ReturnType<typeof publicStatus> => {
    const now = ctx.clock.now();
    if (!cached || now - cached.at >= STATUS_CACHE_MS || now < cached.at) {
      const value = publicStatus(book, now, siteTimeZone(ctx.estate));
      cached = { at: now, value };
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
    }
    return cached.value;
  };
  const lang = (req: Request): Lang => {
    const q = Lang.safeParse(req.query.lang);
    if (q.success) return q.data;
    return /^en\b/i.test(String(req.headers['accept-language'] ?? '')) ? 'en' : 'vi';
  };
  const send = (res: Response, type: string, body: string): void => {
    res.set('Content-Type', type);
    res.set('Cache-Control', 'public, max-age=30');
    res.send(body);
  };
  r.get(
    '/status.json',
    route(async (_req, res) => {
      send(res, 'application/json; charset=utf-8', JSON.stringify(await current()));
    }),
  );
  r.get(
    '/status',
    route(async (req, res) => {
      send(res, 'text/html; charset=utf-8', renderStatusPage(await current(), lang(req)));
    }),
  );
  return r;
}
