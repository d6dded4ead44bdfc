import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSyslogLine } from '../collectors/syslog/index.ts';
import { Estate, Inventory, silentLogger, systemClock, type Alert, type LogLine } from '../core/index.ts';
import { SESSION_COOKIE, SessionBook, UserBook, type OpsContext } from '../ops-server/index.ts';
import { createHttpApp } from '../ops-server/http.ts';
import { Realtime } from '../ops-server/realtime.ts';
import { groupIncidents, INCIDENT_GAP_MS } from '../ops-server/incidents.ts';
import { nocLogDevices } from '../ops-server/routes/soc.ts';
import { openLogStore, type LogStore, type StoredLog } from '../store/index.ts';
import { eventually } from './support/net.ts';

type Role = 'admin' | 'noc' | 'soc' | 'viewer';

const estate = new Estate(
  Inventory.parse({
    sites: [{ id: 'dc1', name: 'DC', timezone: 'UTC' }],
    rooms: [{ id: 'room-1', site: 'dc1', name: 'Room 1', width: 10, depth: 8 }],
    racks: [],
    devices: [
      { id: 'sw-1', kind: 'switch', location: { room: 'room-1', x: 1, y: 1 } },
      { id: 'srv-1', kind: 'server', location: { room: 'room-1', x: 3, y: 1 } },
    ],
  }),
);

const T = Date.UTC(2026, 11, 1, 8);
const H = 3_600_000;
/** Real syslog lines (the receiver's parser), stored in this order: ids 1..6. */
const LINES: [string, number, string][] = [
  ['<38>Dec  1 08:00:00 web1 sshd[4242]: Failed password for root from 218.188.2.4 port 50022 ssh2', 0, 'srv-1'],
  ['<38>Dec  1 08:00:01 web1 sshd[4243]: Failed password for root from 218.188.2.4 port 50023 ssh2', 1000, 'srv-1'],
  ['<38>Dec  1 08:00:02 web1 sshd[4244]: Failed password for root from 218.188.2.4 port 50024 ssh2', 2000, 'srv-1'],
  ['<187>Dec  1 08:00:03 core-sw1 %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)', 3000, 'sw-1'],
  ['<38>Dec  1 08:00:04 web1 sshd[4245]: Accepted password for deploy from 10.0.0.5 port 50100 ssh2', 4000, 'srv-1'],
  ['<38>Dec  1 10:00:00 web1 sshd[4300]: Failed password for root from 218.188.2.4 port 50200 ssh2', 2 * H, 'srv-1'],
];

const alert = (id: string, startsAt: number, labels: Record<string, string>, extra: Partial<Alert> = {}): Alert => ({
  id,
  fingerprint: id,
  rule: 'sigma:test',
  name: `alert ${id}`,
  kind: 'security',
  severity: 'major',
  state: 'firing',
  labels,
  summary: id,
  value: null,
  startsAt,
  endsAt: null,
  updatedAt: startsAt,
  ...extra,
});

const ALERTS: Alert[] = [
  alert('a1', T + 2000, { source: '218.188.2.4', user: 'root', host: 'web1', device: 'srv-1' }, { evidence: [3, 1, 2], triage: 'in_progress' }),
  alert('a2', T + 30 * 60_000, { source: '218.188.2.4', host: 'web1', device: 'srv-1' }, { evidence: [3], severity: 'critical' }),
  alert('a3', T + 2 * H, { source: '218.188.2.4', host: 'web1', device: 'srv-1' }, { evidence: [6] }),
  alert('a4', T + 3000, { user: 'admin', host: 'core-sw1', device: 'sw-1' }, { evidence: [4], severity: 'minor', triage: 'closed', disposition: 'benign' }),
  alert('e1', T, { device: 'srv-1', host: 'web1' }, { kind: 'environment' }),
];

describe('GET /api/v1/alerts/:id/evidence, /entities/:type/:value, /incidents; the live log tail', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wf-soc-api-'));
  let logs: LogStore;
  let server: Server;
  let realtime: Realtime;
  let base = '';
  const cookies = new Map<Role, string>();
  const stored: StoredLog[] = [];

  beforeAll(async () => {
    logs = await openLogStore({ dir, logger: silentLogger, retentionDays: 3650, maintenanceIntervalMs: 0 });
    logs.append(LINES.map(([text, at, device]): LogLine => ({ ...parseSyslogLine(text, { receivedAt: T + at, source: '10.0.0.9' }), device })));
    await logs.flush();
    stored.push(...(await logs.search({ limit: 100 })).logs.reverse());
    const users = new UserBook();
    const sessions = new SessionBook(systemClock);
    for (const role of ['admin', 'noc', 'soc', 'viewer'] as const) {
      await users.add(`${role}-user`, role, `${role}-password-long-1`, Date.now());
      cookies.set(role, `${SESSION_COOKIE}=${encodeURIComponent(sessions.create(`${role}-user`, role).id)}`);
    }
    const ctx = {
      clock: systemClock,
      logger: silentLogger,
      estate,
      users,
      sessions,
      logs,
      ready: () => true,
      alerts: (f: { kind?: string }) => ALERTS.filter((a) => f.kind === undefined || a.kind === f.kind),
      alert: (id: string) => ALERTS.find((a) => a.id === id),
    } as unknown as OpsContext;
    server = createServer(createHttpApp(ctx, mkdtempSync(join(tmpdir(), 'wf-public-'))));
    realtime = new Realtime(server, sessions, { nocLogDevices: () => nocLogDevices(ctx) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 30_000);
  afterAll(async () => {
    await realtime?.close();
    await new Promise((resolve) => server?.close(resolve));
    await logs?.close();
  });

  const get = async (role: Role | undefined, path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${base}${path}`, { headers: role ? { cookie: cookies.get(role) as string } : {} });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const ids = (list: unknown): number[] => (list as StoredLog[]).map((l) => l.id);

  it('answers an alert its evidence lines, oldest first, as they were stored', async () => {
    const r = await get('soc', '/api/v1/alerts/a1/evidence');
    expect(r.status).toBe(200);
    expect(ids(r.body.logs)).toEqual([1, 2, 3]);
    expect((r.body.logs as StoredLog[])[0]).toMatchObject({ id: 1, ts: T, host: 'web1', program: 'sshd', pid: 4242, message: 'Failed password for root from 218.188.2.4 port 50022 ssh2' });
    expect(ids((await get('admin', '/api/v1/alerts/a4/evidence')).body.logs)).toEqual([4]);
    // An alert without evidence: no lines; an unknown alert: 404.
    expect((await get('soc', '/api/v1/alerts/e1/evidence')).body).toEqual({ logs: [] });
    expect((await get('soc', '/api/v1/alerts/nope/evidence')).status).toBe(404);
  });

  it('looks lines up by id in the log store: oldest first, unknown, bad and repeated ids left out', async () => {
    expect((await logs.byIds([6, 2, 2, 999, -1, 1.5])).map((l) => l.id)).toEqual([2, 6]);
    expect(await logs.byIds([])).toEqual([]);
    // Beyond the point-fetch bound (300 ids) the look-up is one scan: the same answer.
    expect((await logs.byIds(Array.from({ length: 400 }, (_, i) => 400 - i))).map((l) => l.id)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('gives the noc the evidence of network devices only, the viewer none', async () => {
    expect(ids((await get('noc', '/api/v1/alerts/a4/evidence')).body.logs)).toEqual([4]);
    expect((await get('noc', '/api/v1/alerts/a1/evidence')).status).toBe(404);
    expect((await get('viewer', '/api/v1/alerts/a1/evidence')).status).toBe(403);
    expect((await get(undefined, '/api/v1/alerts/a1/evidence')).status).toBe(401);
  });

  it('answers an entity every alert and log line about it in the window, newest first, as a timeline', async () => {
    const r = await get('soc', `/api/v1/entities/source/218.188.2.4?since=${T}&until=${T + 3 * H}`);
    expect(r.status).toBe(200);
    expect(r.body.entity).toEqual({ type: 'source', value: '218.188.2.4' });
    expect((r.body.alerts as Alert[]).map((a) => a.id)).toEqual(['a3', 'a2', 'a1']);
    // Each alert names its incident (GET /incidents): a1 and a2 share one, a3 (two hours later) has its own.
    const [i3, i2, i1] = (r.body.alerts as Alert[]).map((a) => a.incident);
    expect(i1).toMatch(/^inc-[0-9a-f]{16}$/);
    expect(i2).toBe(i1);
    expect(i3).not.toBe(i1);
    expect(ids(r.body.logs)).toEqual([6, 3, 2, 1]);
    const timeline = r.body.timeline as { ts: number; kind: string; id: string | number }[];
    expect(timeline.map((e) => `${e.kind}:${e.id}`)).toEqual(['alert:a3', 'log:6', 'alert:a2', 'alert:a1', 'log:3', 'log:2', 'log:1']);
    expect(timeline.every((e, i) => i === 0 || (timeline[i - 1] as { ts: number }).ts >= e.ts)).toBe(true);
    // The window cuts: the first hour only.
    const early = await get('soc', `/api/v1/entities/source/218.188.2.4?since=${T}&until=${T + H}`);
    expect(ids(early.body.logs)).toEqual([3, 2, 1]);
    expect((early.body.alerts as Alert[]).map((a) => a.id)).toEqual(['a2', 'a1']);
    // A host by its HOSTNAME and its alerts' labels; a user by name in the text.
    const host = await get('admin', `/api/v1/entities/host/web1?since=${T}&until=${T + 3 * H}`);
    expect(ids(host.body.logs)).toEqual([6, 5, 3, 2, 1]);
    expect((host.body.alerts as Alert[]).map((a) => a.id)).toEqual(['a3', 'a2', 'a1', 'e1']);
    const user = await get('soc', `/api/v1/entities/user/deploy?since=${T}&until=${T + 3 * H}`);
    expect(ids(user.body.logs)).toEqual([5]);
    expect(user.body.alerts).toEqual([]);
  });

  it('refuses a bad entity type or time with a 400 naming the field', async () => {
    const bad = await get('soc', '/api/v1/entities/ip/218.188.2.4');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'WF_ERR_BAD_REQUEST', field: 'type' } });
    expect((await get('soc', '/api/v1/entities/source/x?since=yesterday')).body).toMatchObject({ error: { field: 'since' } });
    const reversed = await get('soc', `/api/v1/entities/source/x?since=${T + 1}&until=${T}`);
    expect(reversed.status).toBe(400);
    expect(reversed.body).toMatchObject({ error: { field: 'since' } });
    expect((await get('soc', '/api/v1/incidents?since=soon')).status).toBe(400);
  });

  it('scopes the entity view for the noc and refuses the viewer', async () => {
    const noc = await get('noc', `/api/v1/entities/source/10.0.0.5?since=${T}&until=${T + H}`);
    expect(noc.status).toBe(200);
    expect(ids(noc.body.logs)).toEqual([4]);
    const soc = await get('soc', `/api/v1/entities/source/10.0.0.5?since=${T}&until=${T + H}`);
    expect(ids(soc.body.logs)).toEqual([5, 4]);
    expect((await get('noc', `/api/v1/entities/source/218.188.2.4?since=${T}&until=${T + 3 * H}`)).body).toMatchObject({ alerts: [], logs: [] });
    expect((await get('viewer', '/api/v1/entities/source/10.0.0.5')).status).toBe(403);
  });

  it('groups the security alerts about one entity within an hour into one incident, with a stable id', async () => {
    const r = await get('soc', '/api/v1/incidents');
    expect(r.status).toBe(200);
    const incidents = r.body.incidents as { id: string; entity: unknown; from: number; to: number; severity: string; alerts: string[]; triage: string }[];
    expect(incidents.map((i) => [i.entity, i.alerts])).toEqual([
      [{ type: 'source', value: '218.188.2.4' }, ['a3']],
      [{ type: 'source', value: '218.188.2.4' }, ['a1', 'a2']],
      [{ type: 'user', value: 'admin' }, ['a4']],
    ]);
    expect(incidents[1]).toMatchObject({ from: T + 2000, to: T + 30 * 60_000, severity: 'critical', triage: 'new' });
    expect(incidents[2]).toMatchObject({ severity: 'minor', triage: 'closed' });
    expect(new Set(incidents.map((i) => i.id)).size).toBe(3);
    // The same alerts, the same ids; `since` keeps those that reach it, without renaming them.
    const again = (await get('admin', '/api/v1/incidents')).body.incidents as { id: string }[];
    expect(again.map((i) => i.id)).toEqual(incidents.map((i) => i.id));
    const late = (await get('soc', `/api/v1/incidents?since=${T + H}`)).body.incidents as { id: string }[];
    expect(late.map((i) => i.id)).toEqual([incidents[0]?.id]);
    // The noc: incidents of its devices' alerts only; the viewer: none.
    expect(((await get('noc', '/api/v1/incidents')).body.incidents as { alerts: string[] }[]).map((i) => i.alerts)).toEqual([['a4']]);
    expect((await get('viewer', '/api/v1/incidents')).status).toBe(403);
  });

  it('documents the routes and their query parameters in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { parameters?: { name: string }[] }>> };
    expect(doc.paths['/api/v1/alerts/{id}/evidence']?.get).toBeDefined();
    expect(doc.paths['/api/v1/entities/{type}/{value}']?.get?.parameters?.map((p) => p.name)).toEqual(['type', 'value', 'since', 'until', 'limit']);
    expect(doc.paths['/api/v1/incidents']?.get?.parameters?.map((p) => p.name)).toEqual(['since']);
  });

  it('tails the logs over socket.io: matching lines to the roles that read them, nothing to the viewer', async () => {
    const connect = (role: Role): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = io(base, { transports: ['websocket'], extraHeaders: { cookie: cookies.get(role) as string }, reconnection: false });
        s.once('connect', () => resolve(s));
        s.once('connect_error', reject);
      });
    const sockets = await Promise.all((['soc', 'noc', 'viewer', 'admin'] as const).map(connect));
    const [soc, noc, viewer, admin] = sockets as [Socket, Socket, Socket, Socket];
    const got = new Map<string, number[]>();
    for (const [name, s] of [['soc', soc], ['noc', noc], ['viewer', viewer], ['admin', admin]] as const) {
      got.set(name, []);
      s.on('log', (batch: StoredLog[]) => got.get(name)?.push(...batch.map((l) => l.id)));
    }
    try {
      // Nobody tails: nothing is sent.
      realtime.logs(stored);
      soc.emit('logs:tail', { q: '218.188.2.4', severity: 'info' });
      noc.emit('logs:tail', {});
      viewer.emit('logs:tail', {});
      admin.emit('logs:tail', { host: 'WEB1', program: 'sshd', q: '"password for deploy"' });
      await eventually(() => (realtime.tailing === 3 ? true : undefined));
      realtime.logs(stored);
      await eventually(() => (got.get('soc')?.length === 4 && got.get('noc')?.length === 1 && got.get('admin')?.length === 1 ? true : undefined));
      expect(got.get('soc')).toEqual([1, 2, 3, 6]);
      expect(got.get('noc')).toEqual([4]);
      expect(got.get('admin')).toEqual([5]);
      soc.emit('logs:untail');
      await eventually(() => (realtime.tailing === 2 ? true : undefined));
      realtime.logs(stored);
      await eventually(() => (got.get('noc')?.length === 2 ? true : undefined));
      expect(got.get('noc')).toEqual([4, 4]);
      expect(got.get('soc')).toEqual([1, 2, 3, 6]);
      expect(got.get('viewer')).toEqual([]);
    } finally {
      for (const s of sockets) s.close();
    }
  });
});

describe('groupIncidents (pure)', () => {
  const M = 60_000;
  const cases: { name: string; alerts: Alert[]; want: string[][] }[] = [
    {
      name: 'a chain of alerts each within the hour of the last is one incident, however long it runs',
      alerts: [alert('x1', T, { source: '10.9.9.9' }), alert('x2', T + 50 * M, { source: '10.9.9.9' }), alert('x3', T + 100 * M, { source: '10.9.9.9' })],
      want: [['x1', 'x2', 'x3']],
    },
    {
      name: 'a gap of more than an hour starts a new one',
      alerts: [alert('x1', T, { source: '10.9.9.9' }), alert('x2', T + INCIDENT_GAP_MS + 1, { source: '10.9.9.9' })],
      want: [['x2'], ['x1']],
    },
    {
      name: 'the source wins over the user, the user over the host; no entity, no incident; only security alerts',
      alerts: [
        alert('s', T, { source: '10.9.9.9', user: 'root', host: 'web1' }),
        alert('u', T + M, { user: 'root', host: 'web1' }),
        alert('h', T + 2 * M, { host: 'web1' }),
        alert('n', T + 3 * M, { device: 'srv-1' }),
        alert('e', T + 4 * M, { source: '10.9.9.9' }, { kind: 'availability' }),
      ],
      want: [['h'], ['u'], ['s']],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(groupIncidents(c.alerts).map((i) => i.alerts)).toEqual(c.want);
    });
  }

  it('keeps an id while the incident grows, and gives another entity or first alert another id', () => {
    const first = groupIncidents([alert('x1', T, { source: '10.9.9.9' })])[0]?.id;
    const grown = groupIncidents([alert('x1', T, { source: '10.9.9.9' }), alert('x2', T + M, { source: '10.9.9.9' })])[0]?.id;
    expect(grown).toBe(first);
    expect(groupIncidents([alert('x1', T, { source: '10.9.9.8' })])[0]?.id).not.toBe(first);
    expect(groupIncidents([alert('x0', T, { source: '10.9.9.9' })])[0]?.id).not.toBe(first);
  });
});
