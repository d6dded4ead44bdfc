import { Router } from 'express';
import { z } from 'zod';
import { AlertKind, AlertState, Severity, notFound } from '../../core/index.ts';
import type { OpsContext } from '../context.ts';
import { parseInput } from '../validate.ts';

const AlertsQuery = z.strictObject({ state: AlertState.optional(), kind: AlertKind.optional(), severity: Severity.optional() });

/** The alert list and one alert. */
export function alertRoutes(ctx: OpsContext): Router {
  const r = Router();
  r.get('/alerts', (req, res) => {
    res.json(ctx.alerts(parseInput(AlertsQuery, req.query, 'query')));
  });
  r.get('/alerts/:id', (req, res) => {
    const a = ctx.alert(String(req.params.id));
    if (!a) throw notFound(`alert "${req.params.id}"`);
    res.json(a);
  });
  return r;
}
