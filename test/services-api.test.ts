import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Estate, Inventory, silentLogger, systemClock } from '../core/index.ts';
import { listRoutes, SESSION_COOKIE, SessionBook, UserBook, type OpsContext } from '../ops-server/index.ts';
import { createHttpApp } from '../ops-server/http.ts';
import { checkPoints, samplesFromStore, ServiceBook, type CheckReport } from '../rules/index.ts';
import { openEmbeddedStore, type EmbeddedTimeSeriesStore } from '../store/index.ts';

type Role = 'admin' | 'noc' | 'soc' | 'viewer';
const MIN = 60_000;

/** Words of the estate's internals that the public status page must never show. */
const INTERNAL = ['vm-portal-1', 'host-2', 'link-wan-1', 'portal.internal.example', '10.20.30.40', 'expected status 200, got 500', 'rack c03', 'Quản lý văn bản', 'dms', 'switch firmware', 'http-0'];

const estate = new Estate(
  Inventory.parse({
    sites: [{ id: 'qnm-dc1', name: 'DC', timezone: 'Asia/Ho_Chi_Minh' }],
    rooms: [{ id: 'room-1', site: 'qnm-dc1', name: 'Room 1', width: 10, depth: 8 }],
    devices: [
      { id: 'vm-portal-1', kind: 'vm', location: { site: 'qnm-dc1' } },
      { id: 'host-2', kind: 'host', location: { room: 'room-1', x: 1, y: 1 } },
      { id: 'edge-rtr-1', kind: 'router', location: { room: 'room-1', x: 2, y: 1 } },
    ],
    links: [{ id: 'link-wan-1', kind: 'wan', a: { device: 'edge-rtr-1' }, b: { external: 'TSLCD' } }],
    services: [
      {
        id: 'portal',
        name: 'Cổng dịch vụ công tỉnh',
        checks: [
          { type: 'http', url: 'https://portal.internal.example/', headers: { authorization: 'Bearer s3cret-probe-token' }, intervalSeconds: 30 },
          { type: 'tcp', host: '10.20.30.40', port: 443, intervalSeconds: 30 },
        ],
        dependsOn: ['vm-portal-1', 'link-wan-1'],
        public: true,
        slo: { availabilityPct: 99.5, windowDays: 30 },
        publicMessage: 'Cổng đang được khắc phục sự cố.',
      },
    ],
  }),
);

describe('/api/v1/services and the public /status page', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wf-services-api-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'wf-services-data-'));
  // Results up to now: the HTTP check was down 10 minutes an hour ago.
  const now = Date.now();
  const T0 = now - 2 * 60 * MIN;
  let store: EmbeddedTimeSeriesStore;
  let book: ServiceBook;
  let server: Server;
  let app: ReturnType<typeof createHttpApp>;
  let base = '';
  const sessions = new Map<Role, { cookie: string; csrf: string }>();

  beforeAll(async () => {
    store = await openEmbeddedStore({ dir, logger: silentLogger, maintenanceIntervalMs: 0 });
    const points = [];
    for (let t = T0; t <= now; t += 30_000) {
      const down = t >= T0 + 60 * MIN && t < T0 + 70 * MIN;
      const http: CheckReport = { ts: t, state: down ? 'down' : 'up', ok: !down, latencyMs: 20, ...(down ? { reason: 'expected status 200, got 500' } : {}) };
      points.push(...checkPoints('portal', 'http-0', 'http', http), ...checkPoints('portal', 'tcp-1', 'tcp', { ts: t, state: 'up', ok: true, latencyMs: 1 }));
    }
    store.write(points);
    await store.flush();
    book = new ServiceBook({
      estate,
      dataDir,
      logger: silentLogger,
      read: samplesFromStore(store, { now: () => Date.now() }),
      dependency: (id) => (id === 'vm-portal-1' ? { down: true, reason: 'vm-portal-1 unreachable' } : { down: false }),
    });
    const users = new UserBook();
    const sessionBook = new SessionBook(systemClock);
    for (const role of ['admin', 'noc', 'soc', 'viewer'] as const) {
      await users.add(`${role}-user`, role, `${role}-password-long-1`, Date.now());
      const s = sessionBook.create(`${role}-user`, role);
      sessions.set(role, { cookie: `${SESSION_COOKIE}=${encodeURIComponent(s.id)}`, csrf: s.csrfToken });
    }
    // The real app, guards, audit and error handler: the service routes are mounted because ctx.services is set.
    const ctx = { clock: systemClock, logger: silentLogger, estate, users, sessions: sessionBook, services: book, ready: () => true } as unknown as OpsContext;
    app = createHttpApp(ctx, mkdtempSync(join(tmpdir(), 'wf-public-')));
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 30_000);
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await store?.close();
  });

  const call = async (role: Role | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown; text: string; type: string | null }> => {
    const s = role ? sessions.get(role) : undefined;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (s) {
      headers.cookie = s.cookie;
      if (method !== 'GET') headers['x-csrf-token'] = s.csrf;
    }
    const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // HTML or CSV
    }
    return { status: res.status, body: parsed, text, type: res.headers.get('content-type') };
  };

  const dms = { id: 'dms', name: 'Quản lý văn bản', owner: 'Sở Nội vụ', checks: [{ type: 'http', url: 'https://dms.internal.example/', expect: { status: '2xx' } }], dependsOn: ['host-2'] };

  it('lets every role read services and only an admin change them', async () => {
    for (const role of ['admin', 'noc', 'soc', 'viewer'] as const) {
      const r = await call(role, 'GET', '/api/v1/services');
      expect(r.status, role).toBe(200);
      expect((r.body as { id: string }[]).map((s) => s.id)).toContain('portal');
    }
    expect((await call(undefined, 'GET', '/api/v1/services')).status).toBe(401);
    for (const role of ['noc', 'soc', 'viewer'] as const) {
      expect((await call(role, 'POST', '/api/v1/services', dms)).status, role).toBe(403);
      expect((await call(role, 'DELETE', '/api/v1/services/portal')).status, role).toBe(403);
    }
    expect((await call(undefined, 'POST', '/api/v1/services', dms)).status).toBe(401);
    expect(book.get('dms')).toBeUndefined();
  });

  it.each([
    ['a bad URL', { checks: [{ type: 'http', url: 'htp:/nope' }] }, 'checks.0.url'],
    ['a port out of range', { checks: [{ type: 'tcp', host: 'db.internal', port: 0 }] }, 'checks.0.port'],
    ['a regex that does not compile', { checks: [{ type: 'http', url: 'https://x.example/', expect: { bodyRegex: 'a(' } }] }, 'checks.0.expect.bodyRegex'],
    ['an unknown dependency', { dependsOn: ['host-2', 'rack-c99'] }, 'dependsOn.1'],
    ['a missing name', { name: undefined }, 'name'],
  ])('answers %s with a 400 naming the field', async (_what, change, field) => {
    const r = await call('admin', 'POST', '/api/v1/services', { ...dms, ...change });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'WF_ERR_BAD_REQUEST', field } });
  });

  it('creates, answers, replaces and deletes a service, persisted and audited', async () => {
    const created = await call('admin', 'POST', '/api/v1/services', dms);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'dms', origin: 'api', state: 'pending', dependsOn: ['host-2'] });
    expect((await call('admin', 'POST', '/api/v1/services', dms)).status).toBe(409);
    expect(JSON.parse(readFileSync(join(dataDir, 'services.json'), 'utf8')).services[0]).toMatchObject({ id: 'dms' });

    const one = await call('viewer', 'GET', '/api/v1/services/dms');
    expect(one.body).toMatchObject({ id: 'dms', state: 'pending', lastChecks: [{ key: 'http-0', type: 'http', state: 'pending' }] });

    const put = await call('admin', 'PUT', '/api/v1/services/dms', { ...dms, name: 'Hệ thống quản lý văn bản', public: false });
    expect(put.status).toBe(200);
    expect(book.get('dms')?.name).toBe('Hệ thống quản lý văn bản');
    expect((await call('admin', 'PUT', '/api/v1/services/portal', { ...dms, id: 'portal' })).status).toBe(409);
    expect((await call('admin', 'PUT', '/api/v1/services/dms', { ...dms, checks: [{ type: 'tcp', host: 'x', port: 99_999 }] })).body).toMatchObject({ error: { field: 'checks.0.port' } });

    // Ad hoc maintenance: admin and the NOC; a viewer cannot.
    expect((await call('viewer', 'POST', '/api/v1/services/dms/maintenance', { to: Date.now() + 60 * MIN })).status).toBe(403);
    const w = await call('noc', 'POST', '/api/v1/services/dms/maintenance', { to: Date.now() + 60 * MIN, reason: 'switch firmware' });
    expect(w.status).toBe(201);
    expect((await call('soc', 'GET', '/api/v1/services/dms')).body).toMatchObject({ state: 'maintenance' });
    expect((await call('noc', 'POST', '/api/v1/services/dms/maintenance', { to: 'tomorrow' })).body).toMatchObject({ error: { field: 'to' } });
    expect((await call('noc', 'DELETE', `/api/v1/services/dms/maintenance/${(w.body as { id: string }).id}`)).status).toBe(204);

    expect((await call('admin', 'DELETE', '/api/v1/services/dms')).status).toBe(204);
    expect((await call('admin', 'GET', '/api/v1/services/dms')).status).toBe(404);
    expect(JSON.parse(readFileSync(join(dataDir, 'services.json'), 'utf8')).services).toEqual([]);

    const audit = await call('admin', 'GET', '/api/v1/audit?limit=100');
    const entries = audit.body as { action: string; target?: string; actor: string }[];
    const actions = entries.filter((e) => e.action.startsWith('service.')).map((e) => `${e.action} ${e.target} ${e.actor}`);
    expect(actions).toEqual(
      expect.arrayContaining(['service.create dms admin-user', 'service.update dms admin-user', 'service.maintenance.start dms noc-user', 'service.maintenance.delete dms noc-user', 'service.delete dms admin-user']),
    );
  });

  it('answers a service with its state, naming what it runs on that is down, and never a header value', async () => {
    book.record('portal', 'http-0', { ts: Date.now(), state: 'down', ok: false, latencyMs: 10_000, reason: 'timeout after 10 s' });
    book.record('portal', 'tcp-1', { ts: Date.now(), state: 'up', ok: true, latencyMs: 1 });
    const r = await call('viewer', 'GET', '/api/v1/services/portal');
    expect(r.body).toMatchObject({ state: 'down', reason: 'portal down: vm-portal-1 unreachable', causes: ['vm-portal-1'], lastChecks: [{ key: 'http-0', state: 'down', reason: 'timeout after 10 s' }, { key: 'tcp-1', state: 'up' }] });
    expect(r.text).not.toContain('s3cret-probe-token');
    expect((await call('viewer', 'GET', '/api/v1/services/nope')).status).toBe(404);
  });

  it('answers availability from the stored results', async () => {
    const r = await call('viewer', 'GET', `/api/v1/services/portal/availability?from=${T0}&to=${T0 + 120 * MIN}`);
    expect(r.status).toBe(200);
    const a = r.body as { availabilityPct: number; downtimeSeconds: number; incidents: { from: number; to: number; reason: string }[] };
    expect(a.downtimeSeconds).toBe(600);
    expect(a.availabilityPct).toBeCloseTo((110 / 120) * 100, 2);
    expect(a.incidents).toEqual([expect.objectContaining({ from: T0 + 60 * MIN, to: T0 + 70 * MIN, reason: 'http-0 (http) down' })]);
    expect((await call('viewer', 'GET', `/api/v1/services/portal/availability?from=${T0}&to=${T0 - 1}`)).body).toMatchObject({ error: { field: 'from' } });
    expect((await call('viewer', 'GET', '/api/v1/services/portal/availability?from=yesterday')).body).toMatchObject({ error: { code: 'WF_ERR_BAD_REQUEST', field: 'from' } });
    const burn = await call('noc', 'GET', '/api/v1/services/portal/burn-rate');
    expect(burn.body).toMatchObject({ slo: { availabilityPct: 99.5, windowDays: 30 }, alerts: expect.any(Array) });
  });

  it('makes the monthly report as JSON, CSV and a printable page in Vietnamese and English', async () => {
    const month = new Date(now + 7 * 3_600_000).toISOString().slice(0, 7);
    const json = await call('viewer', 'GET', `/api/v1/services/report?month=${month}`);
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ month, timeZone: 'Asia/Ho_Chi_Minh', services: [expect.objectContaining({ id: 'portal', sloTargetPct: 99.5 })] });
    const csv = await call('viewer', 'GET', `/api/v1/services/report?month=${month}&format=csv`);
    expect(csv.type).toMatch(/^text\/csv/);
    expect(csv.text.split('\r\n')[1]).toMatch(new RegExp(`^${month},portal,Cổng dịch vụ công tỉnh,`));
    const vi = await call('viewer', 'GET', `/api/v1/services/report?month=${month}&format=html&lang=vi`);
    expect(vi.type).toMatch(/^text\/html/);
    expect(vi.text).toContain('Báo cáo mức độ sẵn sàng dịch vụ');
    expect(vi.text).toContain('Cổng dịch vụ công tỉnh');
    const en = await call('viewer', 'GET', `/api/v1/services/report?month=${month}&format=html&lang=en`);
    expect(en.text).toContain('Service availability report');
    expect((await call('viewer', 'GET', '/api/v1/services/report?month=2026-13')).body).toMatchObject({ error: { field: 'month' } });
    expect((await call(undefined, 'GET', `/api/v1/services/report?month=${month}`)).status).toBe(401);
  });

  it('shows the public status page without a login, public services only and nothing internal', async () => {
    // A non-public service that is down: it must not appear at all.
    book.create({ ...dms, public: false });
    book.record('dms', 'http-0', { ts: Date.now(), state: 'down', ok: false, latencyMs: 3, reason: 'expected status 200, got 500' });

    const html = await call(undefined, 'GET', '/status?lang=vi');
    expect(html.status).toBe(200);
    expect(html.type).toMatch(/^text\/html/);
    expect(html.text).toContain('Trạng thái dịch vụ');
    expect(html.text).toContain('Cổng dịch vụ công tỉnh');
    expect(html.text).toContain('Gián đoạn');
    expect(html.text).toContain('Cổng đang được khắc phục sự cố.');
    for (const word of INTERNAL) expect(html.text, word).not.toContain(word);
    const bars = /<div class="bars"[^>]*>(.*?)<\/div>/s.exec(html.text)?.[1] ?? '';
    expect(bars.match(/<span /g)?.length).toBe(90);

    const en = await call(undefined, 'GET', '/status?lang=en');
    expect(en.text).toContain('Service status');
    expect(en.text).toContain('Outage');

    const json = await call(undefined, 'GET', '/status.json');
    expect(json.status).toBe(200);
    const s = json.body as { overall: string; services: { id: string; state: string; days: unknown[] }[]; incidents: { service: string; since: number }[] };
    expect(s.services.map((x) => x.id)).toEqual(['portal']);
    expect(s.services[0]).toMatchObject({ state: 'down' });
    expect(s.services[0]?.days).toHaveLength(90);
    expect(s.overall).toBe('down');
    expect(s.incidents).toEqual([expect.objectContaining({ service: 'portal', message: 'Cổng đang được khắc phục sự cố.' })]);
    for (const word of INTERNAL.filter((w) => w !== 'dms')) expect(json.text, word).not.toContain(word);
    expect(json.text).not.toContain('"dms"');
    expect(existsSync(join(dataDir, 'services.json'))).toBe(true);
  });

  it('enforces each service route\'s roles, walked from the router itself', async () => {
    const routes = listRoutes(app).filter((r) => r.path.startsWith('/api/v1/services'));
    expect(routes.length).toBe(10);
    const writers = (r: { method: string; path: string }): Role[] => (r.method === 'GET' ? ['admin', 'noc', 'soc', 'viewer'] : r.path.includes('/maintenance') ? ['admin', 'noc'] : ['admin']);
    const failures: string[] = [];
    for (const r of routes) {
      const path = r.path.replace(':windowId', 'no-such-window').replace(':id', 'portal');
      for (const role of [undefined, 'viewer', 'soc', 'noc', 'admin'] as const) {
        const res = await call(role, r.method, path, r.method === 'GET' ? undefined : {});
        const allowed = role !== undefined && writers(r).includes(role);
        const ok = role === undefined ? res.status === 401 : allowed ? res.status !== 401 && res.status !== 403 && res.status < 500 : res.status === 403;
        if (!ok) failures.push(`${r.method} ${r.path} as ${role ?? 'nobody'}: ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
    expect(book.get('portal')).toBeDefined();
  });
});

describe('without a service book', () => {
  it('mounts neither /api/v1/services nor /status', async () => {
    const users = new UserBook();
    const sessionBook = new SessionBook(systemClock);
    await users.add('admin-user', 'admin', 'admin-password-long-1', Date.now());
    const cookie = `${SESSION_COOKIE}=${encodeURIComponent(sessionBook.create('admin-user', 'admin').id)}`;
    const ctx = { clock: systemClock, logger: silentLogger, estate, users, sessions: sessionBook, ready: () => true } as unknown as OpsContext;
    const server = createServer(createHttpApp(ctx, mkdtempSync(join(tmpdir(), 'wf-public-'))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await fetch(`${base}/api/v1/services`, { headers: { cookie } })).status).toBe(404);
      expect((await fetch(`${base}/status.json`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
