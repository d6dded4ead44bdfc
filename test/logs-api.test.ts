import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSyslogLine } from '../collectors/syslog/index.ts';
import { Estate, Inventory, silentLogger, systemClock, type LogLine } from '../core/index.ts';
import { SESSION_COOKIE, SessionBook, UserBook, type OpsContext } from '../ops-server/index.ts';
import { createHttpApp } from '../ops-server/http.ts';
import { openLogStore, type LogStore, type StoredLog } from '../store/index.ts';

type Role = 'admin' | 'noc' | 'soc' | 'viewer';

const estate = new Estate(
  Inventory.parse({
    sites: [{ id: 'dc1', name: 'DC', timezone: 'UTC' }],
    rooms: [{ id: 'room-1', site: 'dc1', name: 'Room 1', width: 10, depth: 8 }],
    racks: [],
    devices: [
      { id: 'sw-1', kind: 'switch', location: { room: 'room-1', x: 1, y: 1 } },
      { id: 'ups-1', kind: 'ups', location: { room: 'room-1', x: 2, y: 1 } },
      { id: 'srv-1', kind: 'server', location: { room: 'room-1', x: 3, y: 1 } },
    ],
  }),
);

const T = Date.UTC(2026, 11, 1, 8);
/** Real syslog lines, as the receiver would hand them over after mapping the sender to a device. */
const LINES: [string, string | undefined][] = [
  ['<189>Dec  1 08:00:00 core-sw1 %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down', 'sw-1'],
  ['<187>Dec  1 08:00:01 core-sw1 %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)', 'sw-1'],
  ['<12>Dec  1 08:00:02 ups-a upsd[311]: on battery, load 40%', 'ups-1'],
  ['<38>Dec  1 08:00:03 web1 sshd[4242]: Failed password for root from 218.188.2.4 port 50022 ssh2', 'srv-1'],
  ['<38>Dec  1 08:00:04 web1 sshd[4243]: Accepted password for deploy from 10.0.0.5 port 50100 ssh2', 'srv-1'],
  ['<38>Dec  1 08:00:05 stranger sshd[1]: Failed password for admin from 218.188.2.4 port 4 ssh2', undefined],
];

describe('GET /api/v1/logs, /logs/histogram, /logs/export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wf-logs-api-'));
  let logs: LogStore;
  let server: Server;
  let base = '';
  const cookies = new Map<Role, string>();

  beforeAll(async () => {
    logs = await openLogStore({ dir, logger: silentLogger, retentionDays: 3650, maintenanceIntervalMs: 0 });
    logs.append(
      LINES.map(([text, device], i): LogLine => {
        const l = parseSyslogLine(text, { receivedAt: T + i * 1000, source: '10.0.0.9' });
        return device ? { ...l, device } : l;
      }),
    );
    await logs.flush();
    const users = new UserBook();
    const sessions = new SessionBook(systemClock);
    for (const role of ['admin', 'noc', 'soc', 'viewer'] as const) {
      await users.add(`${role}-user`, role, `${role}-password-long-1`, Date.now());
      cookies.set(role, `${SESSION_COOKIE}=${encodeURIComponent(sessions.create(`${role}-user`, role).id)}`);
    }
    // The real app, guards and error handler: the log routes are mounted because ctx.logs is set.
    const ctx = { clock: systemClock, logger: silentLogger, estate, users, sessions, logs, ready: () => true } as unknown as OpsContext;
    server = createServer(createHttpApp(ctx, mkdtempSync(join(tmpdir(), 'wf-public-'))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 30_000);
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await logs?.close();
  });

  const get = async (role: Role | undefined, path: string): Promise<{ status: number; body: unknown; type: string | null; text: string }> => {
    const res = await fetch(`${base}${path}`, { headers: role ? { cookie: cookies.get(role) as string } : {} });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // NDJSON or CSV
    }
    return { status: res.status, body, type: res.headers.get('content-type'), text };
  };
  const hosts = (body: unknown): string[] => ((body as { logs: StoredLog[] }).logs ?? []).map((l) => `${l.device ?? '-'}:${l.program}`);

  it('answers soc and admin every line in the issue shape, newest first', async () => {
    for (const role of ['soc', 'admin'] as const) {
      const r = await get(role, '/api/v1/logs');
      expect(r.status).toBe(200);
      expect((r.body as { total: number }).total).toBe(6);
    }
    const r = await get('soc', '/api/v1/logs?q=218.188.2.4');
    const body = r.body as { logs: StoredLog[]; total: number };
    expect(body.total).toBe(2);
    expect(body.logs[0]).toMatchObject({ ts: T + 5000, host: 'stranger', facility: 'auth', severity: 'info', program: 'sshd', pid: 1, message: 'Failed password for admin from 218.188.2.4 port 4 ssh2' });
    expect(body.logs[0]).not.toHaveProperty('device');
    expect(body.logs[1]).toMatchObject({ device: 'srv-1', host: 'web1', pid: 4242, fields: expect.any(Object) });
    expect(hosts((await get('admin', '/api/v1/logs?program=cisco&severity=err')).body)).toEqual(['sw-1:cisco']);
  });

  it('lets noc read the logs of network, power and cooling devices only, and viewer none', async () => {
    const noc = await get('noc', '/api/v1/logs');
    expect(noc.status).toBe(200);
    expect(hosts(noc.body).sort()).toEqual(['sw-1:cisco', 'sw-1:cisco', 'ups-1:upsd']);
    expect((await get('noc', '/api/v1/logs?device=sw-1')).body).toMatchObject({ total: 2 });
    // A server's logs, and an unknown sender's, are not the NOC's.
    expect((await get('noc', '/api/v1/logs?q=218.188.2.4')).body).toMatchObject({ total: 0, logs: [] });
    const srv = await get('noc', '/api/v1/logs?device=srv-1');
    expect(srv.status).toBe(403);
    expect(srv.body).toMatchObject({ error: { code: 'WF_ERR_FORBIDDEN', field: 'device' } });
    const exported = await get('noc', '/api/v1/logs/export?format=ndjson');
    expect(exported.text.trim().split('\n').map((l) => (JSON.parse(l) as StoredLog).device).sort()).toEqual(['sw-1', 'sw-1', 'ups-1']);
    const h = await get('noc', `/api/v1/logs/histogram?since=${T}&until=${T + 59_999}&step=1m`);
    expect(h.body).toEqual({ stepMs: 60_000, buckets: [{ ts: T, count: 3 }] });

    for (const path of ['/api/v1/logs', '/api/v1/logs/histogram', '/api/v1/logs/export']) {
      expect((await get('viewer', path)).status, path).toBe(403);
      expect((await get(undefined, path)).status, path).toBe(401);
    }
  });

  it('answers the histogram over a window with every bucket, empty ones too', async () => {
    const r = await get('soc', `/api/v1/logs/histogram?since=${new Date(T).toISOString()}&until=${T + 5999}&step=2s`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ stepMs: 2000, buckets: [T, T + 2000, T + 4000].map((ts) => ({ ts, count: 2 })) });
    const sev = await get('soc', `/api/v1/logs/histogram?since=${T}&until=${T + 5999}&step=2000&severity=notice`);
    expect((sev.body as { buckets: { count: number }[] }).buckets.map((b) => b.count)).toEqual([2, 1, 0]);
  });

  it('streams an export as NDJSON or CSV with the right type and a download name', async () => {
    const nd = await get('soc', '/api/v1/logs/export?q=failed%20password&format=ndjson');
    expect(nd.status).toBe(200);
    expect(nd.type).toContain('application/x-ndjson');
    expect(nd.text.trim().split('\n')).toHaveLength(2);
    const csv = await fetch(`${base}/api/v1/logs/export?format=csv&device=sw-1`, { headers: { cookie: cookies.get('soc') as string } });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toContain('watchfloor-logs.csv');
    const text = await csv.text();
    expect(text.split('\r\n')[0]).toBe('id,ts,claimedTs,host,device,facility,severity,program,pid,message,fields');
    expect(text).toContain('"%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down"');
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['/api/v1/logs?severity=loud', 'severity'],
      ['/api/v1/logs?limit=0', 'limit'],
      ['/api/v1/logs?limit=many', 'limit'],
      ['/api/v1/logs?since=yesterday', 'since'],
      ['/api/v1/logs?since=2000&until=1000', 'since'],
      ['/api/v1/logs?device=has%20space', 'device'],
      ['/api/v1/logs?host=a&host=b', 'host'],
      ['/api/v1/logs?q=%21%21%21', 'q'],
      [`/api/v1/logs?q=${'x'.repeat(2000)}`, 'q'],
      ['/api/v1/logs/histogram?step=soon', 'step'],
      ['/api/v1/logs/histogram?since=0&until=999999999999&step=1s', 'step'],
      ['/api/v1/logs/export?format=xml', 'format'],
      ['/api/v1/logs/export?q=%3B%3B', 'q'],
    ];
    for (const [path, field] of cases) {
      const r = await get('soc', path);
      expect(r.status, path).toBe(400);
      expect(r.body, path).toMatchObject({ error: { code: 'WF_ERR_BAD_REQUEST', field } });
      expect(r.text, path).not.toMatch(/at .*\.ts:\d+/);
    }
    const unknown = await get('soc', '/api/v1/logs?colour=red');
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('colour');
  });

  it('is not mounted when the context has no log store', async () => {
    const ctx = { clock: systemClock, logger: silentLogger, estate, users: new UserBook(), sessions: new SessionBook(systemClock), ready: () => true } as unknown as OpsContext;
    const bare = createServer(createHttpApp(ctx, mkdtempSync(join(tmpdir(), 'wf-public-'))));
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    try {
      const users = ctx.users as UserBook;
      await users.add('soc-x', 'soc', 'soc-password-long-1', Date.now());
      const cookie = `${SESSION_COOKIE}=${encodeURIComponent((ctx.sessions as SessionBook).create('soc-x', 'soc').id)}`;
      const res = await fetch(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/api/v1/logs`, { headers: { cookie } });
      expect(res.status).toBe(404);
    } finally {
      await new Promise((resolve) => bare.close(resolve));
    }
  });
});
