import { Router, type Request } from 'express';
import { z } from 'zod';
import { AlertKind, AlertState, Disposition, Severity, TriageStatus, WatchfloorError, notFound, unauthorized } from '../../core/index.ts';
import type { Actor, AlertAction } from '../../rules/index.ts';
import { audit, type AuditInput } from '../audit.ts';
import type { OpsContext } from '../deps.ts';
import { route } from '../guards.ts';
import { parseInput } from '../validate.ts';
import { maySee } from '../visibility.ts';

const AlertsQuery = z.strictObject({ state: AlertState.optional(), kind: AlertKind.optional(), severity: Severity.optional() });

/** The body each action takes; `ack`, `unack`, `resolve` and `reopen` take none (an optional comment is ignored). */
const ActionBody = {
  ack: z.object({}),
  unack: z.object({}),
  resolve: z.object({}),
  reopen: z.object({}),
  assign: z.strictObject({ assignee: z.string().min(1).max(128).nullable() }),
  comment: z.strictObject({ text: z.string().trim().min(1).max(10_000) }),
  triage: z.strictObject({ status: TriageStatus, disposition: Disposition.optional() }),
} as const;
type ActionName = keyof typeof ActionBody;

const actor = (req: Request): Actor => {
  if (!req.session) throw unauthorized();
  return { username: req.session.username, role: req.session.role };
};

/** Runs a silence change and audits it whatever the outcome: done, refused for the role, or bad input. */
function audited<T>(req: Request, action: string, target: string | undefined, fn: () => T, describe: (result: T) => Pick<AuditInput, 'target' | 'detail'>): T {
  try {
    const result = fn();
    audit(req, { action, target, ...describe(result) });
    return result;
  } catch (err) {
    const status = err instanceof WatchfloorError ? err.status : 500;
    if (status !== 401) audit(req, { action, target, outcome: status === 403 ? 'denied' : 'failed', detail: { status, reason: err instanceof Error ? err.message : String(err) } });
    throw err;
  }
}

/** Alerts, their lifecycle actions and history, silences, and the rules (list and reload). */
export function alertRoutes(ctx: OpsContext): Router {
  const r = Router();
  const desk = ctx.alertDesk;
  /** An alert the caller's role may see, else 404 (not 403: its existence is not the caller's business). */
  const visibleAlert = (req: Request) => {
    const a = ctx.alert(String(req.params.id));
    if (!a || !maySee(actor(req).role, a.kind)) throw notFound(`alert "${req.params.id}"`);
    return a;
  };
  r.get('/alerts', (req, res) => {
    const role = actor(req).role;
    res.json(ctx.alerts(parseInput(AlertsQuery, req.query, 'query')).filter((a) => maySee(role, a.kind)));
  });
  r.get('/alerts/:id', (req, res) => {
    res.json(visibleAlert(req));
  });
  r.get('/alerts/:id/history', (req, res) => {
    res.json(desk.history(visibleAlert(req).id));
  });
  r.post(
    '/alerts/:id/:action',
    route((req, res) => {
      const name = String(req.params.action);
      if (!Object.hasOwn(ActionBody, name)) throw notFound(`alert action "${name}"`);
      const body = parseInput(ActionBody[name as ActionName], req.body, 'body') as Record<string, unknown>;
      res.json(desk.act(String(req.params.id), { action: name, ...body } as AlertAction, actor(req)));
    }),
  );
  r.get('/silences', (req, res) => {
    // A silence is listed to those who may see at least one kind of alert it covers (the SOC's stay the SOC's).
    const role = actor(req).role;
    res.json(desk.silences().filter((s) => (s.kinds ?? AlertKind.options).some((k) => maySee(role, k))));
  });
  r.post(
    '/silences',
    route((req, res) => {
      const s = audited(req, 'silence.create', undefined, () => desk.addSilence(req.body, actor(req)), (created) => ({
        target: created.id,
        detail: { matchers: created.matchers, kinds: created.kinds ?? 'all', startsAt: created.startsAt, endsAt: created.endsAt },
      }));
      res.status(201).json(s);
    }),
  );
  r.delete(
    '/silences/:id',
    route((req, res) => {
      const id = String(req.params.id);
      audited(req, 'silence.expire', id, () => desk.removeSilence(id, actor(req)), () => ({}));
      res.status(204).end();
    }),
  );
  r.get('/rules', (_req, res) => {
    res.json(desk.rules());
  });
  r.post(
    '/rules/reload',
    route((req, res) => {
      res.json(desk.reload(actor(req)));
    }),
  );
  return r;
}
