import { Router } from 'express';
import { z } from 'zod';
import { Id, MetricName, badRequest } from '../../core/index.ts';
import type { OpsContext } from '../deps.ts';
import { requireRole, route } from '../guards.ts';
import { DurationMs, parseInput, TimeMs } from '../validate.ts';

export const LatestQuery = z.strictObject({ device: Id.optional(), metric: MetricName.optional() });
export const RangeQuery = z.strictObject({
  device: Id,
  metric: MetricName,
  from: TimeMs.optional(),
  to: TimeMs.optional(),
  step: DurationMs.optional(),
  agg: z.enum(['mean', 'min', 'max', 'last']).default('mean'),
});
export const EventsQuery = z.strictObject({ device: Id.optional(), type: z.string().max(128).optional(), since: TimeMs.optional() });
export const SecurityEventsQuery = z.strictObject({ since: TimeMs.optional() });

/** At most this many buckets in one range answer: a year of 1 s steps would be 31 million rows. */
const MAX_BUCKETS = 11_000;

/** Latest values, ranges with step and aggregation, and device events. */
export function telemetryRoutes(ctx: OpsContext): Router {
  const r = Router();
  r.get('/metrics/latest', (req, res) => {
    res.json(ctx.latest(parseInput(LatestQuery, req.query, 'query')));
  });
  r.get(
    '/metrics/range',
    route(async (req, res) => {
      const q = parseInput(RangeQuery, req.query, 'query');
      const to = q.to ?? ctx.clock.now();
      const from = q.from ?? to - 3_600_000;
      if (from >= to) throw badRequest('from', 'from: must be before to');
      // Default step: about 300 points across the range, never under a second.
      const stepMs = q.step ?? Math.max(1000, Math.ceil((to - from) / 300 / 1000) * 1000);
      if ((to - from) / stepMs > MAX_BUCKETS) {
        throw badRequest('step', `step: too small for the range (over ${MAX_BUCKETS} points)`);
      }
      const points = await ctx.range({ device: q.device, metric: q.metric, from, to, stepMs, agg: q.agg });
      res.json({ device: q.device, metric: q.metric, agg: q.agg, from, to, stepMs, points: points.map((b) => [b.ts, b.value]) });
    }),
  );

  r.get('/events', (req, res) => {
    res.json(ctx.events(parseInput(EventsQuery, req.query, 'query')));
  });

  r.get('/security-events', requireRole('admin', 'soc'), (req, res) => {
    res.json(ctx.securityEvents(parseInput(SecurityEventsQuery, req.query, 'query')));
  });
  return r;
}
