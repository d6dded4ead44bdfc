/*
 * Who is on call (issue 18): per schedule of `notify.oncall`, the person on call now (or at `at`),
 * why (rotation, override, holiday), the next hand-over and whether today is a holiday there. For
 * the people who are paged and those who page them: noc, soc and admin; a viewer (a wall screen)
 * is not told who to phone.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { OpsContext } from '../deps.ts';
import { requireRole, route } from '../guards.ts';
import { parseInput, TimeMs } from '../validate.ts';

/** `?at=` (epoch ms or an ISO instant with offset): who is on call then; now when absent. */
export const OnCallQuery = z.strictObject({ at: TimeMs.optional() });

const iso = (ms: number): string => new Date(ms).toISOString();

/** GET /oncall: `{at, configured, schedules: [...]}`; `configured: false` and no schedules without `notify.oncall`. */
export function onCallRoutes(ctx: OpsContext): Router {
  const r = Router();
  r.get(
    '/oncall',
    requireRole('admin', 'noc', 'soc'),
    route((req, res) => {
      const q = parseInput(OnCallQuery, req.query, 'query');
      const at = q.at ?? ctx.clock.now();
      const oncall = ctx.notify?.oncall;
      const schedules = (oncall?.status(at) ?? []).map((s) => ({ ...s, next: s.next ? { at: iso(s.next.at), person: s.next.person } : null }));
      res.json({ at: iso(at), configured: oncall !== undefined, schedules });
    }),
  );
  return r;
}
