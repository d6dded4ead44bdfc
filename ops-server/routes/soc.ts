/*
 * The SOC's investigation (issue 15): an alert's evidence (the stored log lines it links), an
 * entity's timeline (every alert and log line about a source address, a user or a host), and the
 * incidents (incidents.ts). soc and admin read all of it; noc the alerts and logs of network, power
 * and cooling devices (as routes/logs.ts); viewer none. Mounted when the log store is set.
 */
import type { Request } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { badRequest, forbidden, notFound, unauthorized, type Alert, type Estate } from '../../core/index.ts';
import type { LogFilters, LogStore, StoredLog } from '../../store/index.ts';
import type { OpsContext } from '../deps.ts';
import { route } from '../guards.ts';
import { alertNames, ENTITY_TYPES, groupIncidents, type Entity } from '../incidents.ts';
import { parseInput, TimeMs } from '../validate.ts';
import { NOC_LOG_KINDS } from './logs.ts';

export const EntityParams = z.strictObject({ type: z.enum(ENTITY_TYPES), value: z.string().trim().min(1).max(255) });
export const EntityQuery = z.strictObject({ since: TimeMs.optional(), until: TimeMs.optional(), limit: z.coerce.number().int().min(1).max(1000).default(200) });
export const IncidentsQuery = z.strictObject({ since: TimeMs.optional() });

/** An entity's window when none is asked: the last day. */
const DEFAULT_WINDOW_MS = 86_400_000;

/** What the SOC routes read of the product. */
export type SocRouteContext = Pick<OpsContext, 'clock' | 'estate' | 'alerts' | 'alert'>;

/** Who may read what: everything, the NOC devices' share, or nothing (a 403). */
interface Scope {
  /** The devices whose logs and alerts the caller reads; undefined for every device. */
  devices?: readonly string[];
}

/** The devices whose logs and alerts the noc role reads: the network, power and cooling devices of the inventory. */
export const nocLogDevices = (ctx: { estate: Estate }): string[] => [...ctx.estate.devices.values()].filter((d) => NOC_LOG_KINDS.includes(d.kind)).map((d) => d.id);

function scopeOf(req: Request, estate: Estate): Scope {
  const role = req.session?.role;
  if (!role) throw unauthorized();
  if (role === 'admin' || role === 'soc') return {};
  if (role !== 'noc') throw forbidden();
  return { devices: nocLogDevices({ estate }) };
}

const readsAlert = (scope: Scope, a: Alert): boolean => scope.devices === undefined || (a.labels?.device !== undefined && scope.devices.includes(a.labels.device));
const readsLog = (scope: Scope, l: StoredLog): boolean => scope.devices === undefined || (l.device !== undefined && scope.devices.includes(l.device));

/** GET /alerts/:id/evidence, /entities/:type/:value, /incidents. */
export function socRoutes(logs: LogStore, ctx: SocRouteContext): Router {
  const r = Router();

  r.get(
    '/alerts/:id/evidence',
    route(async (req, res) => {
      const scope = scopeOf(req, ctx.estate);
      const alert = ctx.alert(String(req.params.id));
      // Not 403 for an alert outside the caller's scope: its existence is not the caller's business.
      if (!alert || !readsAlert(scope, alert)) throw notFound(`alert "${req.params.id}"`);
      const lines = alert.evidence?.length ? await logs.byIds(alert.evidence) : [];
      res.json({ logs: lines.filter((l) => readsLog(scope, l)) });
    }),
  );

  r.get(
    '/entities/:type/:value',
    route(async (req, res) => {
      const scope = scopeOf(req, ctx.estate);
      const entity: Entity = parseInput(EntityParams, req.params, 'query');
      const q = parseInput(EntityQuery, req.query, 'query');
      const until = q.until ?? ctx.clock.now();
      const since = q.since ?? until - DEFAULT_WINDOW_MS;
      if (since > until) throw badRequest('since', 'since: must not be after until');
      const all = ctx.alerts({});
      const incidentOf = new Map(groupIncidents(all.filter((a) => readsAlert(scope, a))).flatMap((i) => i.alerts.map((id) => [id, i.id] as const)));
      const alerts = all
        .filter((a) => alertNames(a, entity) && readsAlert(scope, a) && a.startsAt <= until && (a.endsAt ?? Infinity) >= since)
        .sort((x, y) => y.startsAt - x.startsAt)
        .slice(0, q.limit)
        .map((a) => (a.incident === undefined && incidentOf.has(a.id) ? { ...a, incident: incidentOf.get(a.id) } : a));
      const lines = await entityLogs(logs, entity, { since, until, ...(scope.devices ? { devices: scope.devices } : {}) }, q.limit);
      const timeline = [...alerts.map((a) => ({ ts: a.startsAt, kind: 'alert' as const, id: a.id })), ...lines.map((l) => ({ ts: l.ts, kind: 'log' as const, id: l.id }))].sort((x, y) => y.ts - x.ts);
      res.json({ entity, since, until, alerts, logs: lines, timeline });
    }),
  );

  r.get(
    '/incidents',
    route((req, res) => {
      const scope = scopeOf(req, ctx.estate);
      const { since } = parseInput(IncidentsQuery, req.query, 'query');
      const alerts = ctx.alerts({ kind: 'security' }).filter((a) => readsAlert(scope, a));
      res.json({ incidents: groupIncidents(alerts, since) });
    }),
  );
  return r;
}

/** The log lines naming the entity, newest first: its text anywhere (an address, a user name), a host also by HOSTNAME. */
async function entityLogs(logs: LogStore, e: Entity, f: LogFilters, limit: number): Promise<StoredLog[]> {
  // A quoted value is one phrase: "10.0.0.5" is that address, not 10, 0, 0 and 5 anywhere.
  const text = e.value.includes('"') ? e.value : `"${e.value}"`;
  const searches = [logs.search({ ...f, q: text, limit }).catch((err: unknown) => (isNoWordError(err) ? { logs: [] } : Promise.reject(err)))];
  if (e.type === 'host') searches.push(logs.search({ ...f, host: e.value, limit }));
  const byId = new Map<number, StoredLog>();
  for (const r of await Promise.all(searches)) for (const l of r.logs) byId.set(l.id, l);
  return [...byId.values()].sort((x, y) => y.ts - x.ts || y.id - x.id).slice(0, limit);
}

/** A value without any word to look up (punctuation only): no line names it. */
const isNoWordError = (err: unknown): boolean => (err as { field?: string }).field === 'q';
