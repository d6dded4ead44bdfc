import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Estate, Inventory, isWfError, silentLogger, type InventoryInput } from '../core/index.ts';
import { openEmbeddedStore, type EmbeddedTimeSeriesStore } from '../store/index.ts';
import {
  burnRateAlerts,
  burnThreshold,
  checkPoints,
  monthBounds,
  monthlyReport,
  parseService,
  reportCsv,
  samplesFromStore,
  serviceAlertOpenings,
  serviceStatus,
  ServiceBook,
  type CheckReport,
  type CheckStatus,
} from '../rules/index.ts';

const inventory: InventoryInput = {
  sites: [{ id: 'qnm-dc1', name: 'DC', timezone: 'Asia/Ho_Chi_Minh' }],
  rooms: [{ id: 'room-1', site: 'qnm-dc1', name: 'Room 1', width: 10, depth: 8 }],
  devices: [
    { id: 'vm-portal-1', kind: 'vm', location: { site: 'qnm-dc1' } },
    { id: 'host-2', kind: 'host', location: { room: 'room-1', x: 1, y: 1 } },
    { id: 'edge-rtr-1', kind: 'router', location: { room: 'room-1', x: 2, y: 1 } },
  ],
  links: [{ id: 'link-wan-1', kind: 'wan', a: { device: 'edge-rtr-1' }, b: { external: 'TSLCD' } }],
};
const estate = new Estate(Inventory.parse(inventory));
const ids = { hasDevice: (id: string) => estate.devices.has(id), hasLink: (id: string) => id === 'link-wan-1' };

const portal = {
  id: 'portal',
  name: 'Cổng dịch vụ công tỉnh',
  checks: [
    { type: 'http', url: 'https://dichvucong.example/', expect: { status: 200, body: 'Đăng nhập' }, intervalSeconds: 30 },
    { type: 'tls', host: 'dichvucong.example', port: 443, intervalSeconds: 30 },
  ],
  dependsOn: ['vm-portal-1', 'link-wan-1'],
  public: true,
};

/** The field a thrown 400 names. */
const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    expect(isWfError(err, 'BAD_REQUEST'), String(err)).toBe(true);
    return (err as { field?: string }).field;
  }
  throw new Error('expected a 400');
};

describe('a service definition', () => {
  it('parses the issue example, keys its checks and fills the check defaults', () => {
    const s = parseService(portal, ids);
    expect(s.checks.map((c) => c.key)).toEqual(['http-0', 'tls-1']);
    expect(s.checks[0]).toMatchObject({ type: 'http', intervalSeconds: 30, retries: 1, timeoutSeconds: 10 });
    expect(s.public).toBe(true);
    expect(s.dependsOn).toEqual(['vm-portal-1', 'link-wan-1']);
  });

  it.each([
    ['a bad URL', { checks: [{ type: 'http', url: 'not a url' }] }, 'checks.0.url'],
    ['a port out of range', { checks: [portal.checks[0], { type: 'tcp', host: 'db', port: 70_000 }] }, 'checks.1.port'],
    ['a regex that does not compile', { checks: [{ type: 'http', url: 'https://x.example/', expect: { bodyRegex: '(unclosed' } }] }, 'checks.0.expect.bodyRegex'],
    ['an unknown check type', { checks: [{ type: 'carrier-pigeon' }] }, 'checks.0.type'],
    ['an unknown dependency', { dependsOn: ['vm-portal-1', 'rack-nowhere'] }, 'dependsOn.1'],
    ['two checks with one id', { checks: [{ ...portal.checks[0], id: 'web' }, { ...portal.checks[1], id: 'web' }] }, 'checks.1.id'],
    ['a check id that is no topic level', { checks: [{ ...portal.checks[0], id: 'a/b' }] }, 'checks.0.id'],
    ['an SLO of 100 %', { slo: { availabilityPct: 100 } }, 'slo.availabilityPct'],
    ['a window that ends before it starts', { maintenance: [{ from: 2000, to: 1000 }] }, 'maintenance.0.to'],
  ])('answers %s with a 400 naming the field', (_what, change, field) => {
    expect(fieldOf(() => parseService({ ...portal, ...change }, ids))).toBe(field);
  });

  it('is part of the inventory, whose dependsOn must name a device or a link', () => {
    expect(Inventory.parse({ ...inventory, services: [portal] }).services[0]?.id).toBe('portal');
    const bad = Inventory.safeParse({ ...inventory, services: [{ ...portal, dependsOn: ['link-wan-1', 'nope'] }] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ['services', 0, 'dependsOn', 1], message: 'unknown device or link "nope"' });
    // An inventory service's bad check fails when the book reads it, naming where.
    const withBadCheck = new Estate(Inventory.parse({ ...inventory, services: [{ ...portal, checks: [{ type: 'http', url: 'ftp://x' }] }] }));
    expect(fieldOf(() => new ServiceBook({ estate: withBadCheck }))).toBe('services.0.checks.0.url');
  });
});

describe('a service state', () => {
  const s = parseService(portal, ids);
  const up = (key: string, extra: Partial<CheckStatus> = {}): CheckStatus => ({ key, type: key.split('-')[0] as string, state: 'up', ok: true, ...extra });
  const deps = (down: Record<string, string>) => (id: string) => (id in down ? { down: true, reason: down[id] } : { down: false });

  it.each<[string, CheckStatus[], string, string | undefined]>([
    ['up when every check is up', [up('http-0'), up('tls-1')], 'up', undefined],
    ['pending before any result', [{ key: 'http-0', type: 'http', state: 'pending' }], 'pending', undefined],
    ['degraded on a warning', [up('http-0'), up('tls-1', { warning: 'certificate expires in 15.0 days' })], 'degraded', 'portal degraded: tls-1: certificate expires in 15.0 days'],
    ['degraded on a failed probe within the retries', [up('http-0', { ok: false, reason: 'expected status 200, got 500' }), up('tls-1')], 'degraded', 'portal degraded: http-0: expected status 200, got 500'],
    ['down on its own reason', [up('http-0', { state: 'down', ok: false, reason: 'connection refused' }), up('tls-1')], 'down', 'portal down: http-0: connection refused'],
  ])('is %s', (_what, checks, state, reason) => {
    const st = serviceStatus(s, checks, [], 1000, deps({}));
    expect(st.state).toBe(state);
    expect(st.reason).toBe(reason);
  });

  it('names what it runs on that is down first', () => {
    const checks = [up('http-0', { state: 'down', ok: false, reason: 'timeout' }), up('tls-1', { state: 'down', ok: false })];
    const st = serviceStatus(s, checks, [], 1000, deps({ 'vm-portal-1': 'vm-portal-1 unreachable', 'link-wan-1': 'link-wan-1 down' }));
    expect(st).toMatchObject({ state: 'down', reason: 'portal down: vm-portal-1 unreachable, link-wan-1 down', causes: ['vm-portal-1', 'link-wan-1'] });
  });

  it('is maintenance while a window is in force, down or not', () => {
    const checks = [up('http-0', { state: 'down', ok: false })];
    const windows = [{ id: 'w', from: 500, to: 1500, reason: 'replace PDU B' }];
    expect(serviceStatus(s, checks, windows, 1000).state).toBe('maintenance');
    expect(serviceStatus(s, checks, windows, 1500).state).toBe('down');
  });
});

describe('service alerts', () => {
  const s = parseService(portal, ids);
  it('raises one availability alert naming the service, linked to the alerts of what it runs on', () => {
    const status = { state: 'down' as const, reason: 'portal down: vm-portal-1 unreachable', causes: ['vm-portal-1'] };
    const [o, ...rest] = serviceAlertOpenings(s, status, [], 5000, (id) => (id === 'vm-portal-1' ? ['alert-vm-1'] : []));
    expect(rest).toEqual([]);
    expect(o).toMatchObject({ rule: 'service.down', kind: 'availability', severity: 'critical', labels: { service: 'portal' }, summary: 'portal down: vm-portal-1 unreachable', related: ['alert-vm-1'], startsAt: 5000 });
  });
  it('raises the burn alerts, and nothing in maintenance', () => {
    const burn = burnRateAlerts({ availabilityPct: 99.9, windowDays: 30 }, { '1h': 0.02, '5m': 0.02 });
    expect(serviceAlertOpenings(s, { state: 'up', causes: [] }, burn, 1).map((o) => `${o.rule} ${o.severity}`)).toEqual(['service.burn.1h-5m critical']);
    expect(serviceAlertOpenings(s, { state: 'maintenance', causes: [] }, burn, 1)).toEqual([]);
  });
});

describe('the multi-window burn-rate rule (SRE workbook)', () => {
  const slo = { availabilityPct: 99.9, windowDays: 30 };
  it('has the workbook thresholds for 30 days, scaled for other windows', () => {
    expect([burnThreshold(0.02, '1h', 30), burnThreshold(0.05, '6h', 30), burnThreshold(0.1, '1d', 30), burnThreshold(0.1, '3d', 30)]).toEqual([14.4, 6, 3, 1]);
    expect(burnThreshold(0.02, '1h', 7)).toBe(3.36);
  });
  it.each<[string, Record<string, number | null>, string[]]>([
    ['a fast burn pages on 1h and 5m', { '1h': 0.02, '5m': 0.02 }, ['page 1h/5m']],
    ['a burn that stopped does not page (the short window recovered)', { '1h': 0.02, '5m': 0 }, []],
    ['exactly 14.4x does not page (over, not at)', { '1h': 0.0144, '5m': 0.0144 }, []],
    ['a steady 7x pages on 6h and 30m only', { '1h': 0.007, '5m': 0.007, '6h': 0.007, '30m': 0.007 }, ['page 6h/30m']],
    ['4x over a day is a ticket', { '1d': 0.004, '2h': 0.004, '6h': 0.004, '30m': 0.004 }, ['ticket 1d/2h']],
    ['1.5x over three days is a ticket', { '3d': 0.0015, '6h': 0.0015, '1d': 0.0015, '2h': 0.0015 }, ['ticket 3d/6h']],
    ['no data never fires', { '1h': null, '5m': 1 }, []],
    ['a total outage fires everything', { '5m': 1, '30m': 1, '1h': 1, '2h': 1, '6h': 1, '1d': 1, '3d': 1 }, ['page 1h/5m', 'page 6h/30m', 'ticket 1d/2h', 'ticket 3d/6h']],
  ])('%s', (_what, ratios, expected) => {
    expect(burnRateAlerts(slo, ratios).map((a) => `${a.severity} ${a.longWindow}/${a.shortWindow}`)).toEqual(expected);
  });
  it('says how much of the budget the long window spent', () => {
    const [a] = burnRateAlerts(slo, { '1h': 0.02, '5m': 0.02 });
    expect(a).toMatchObject({ longBurnRate: 20, threshold: 14.4 });
    expect(a?.budgetSpentPct).toBeCloseTo(2.778, 2);
  });
});

describe('availability from check results stored in the embedded store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wf-services-'));
  // Two hours from a local midnight (ICT) in November: the report below is that month's.
  const T0 = Date.UTC(2026, 10, 14, 17);
  const now = T0 + 3 * 3_600_000;
  const MIN = 60_000;
  let store: EmbeddedTimeSeriesStore;
  let book: ServiceBook;

  /** One result every 30 s from T0 - 5 min to T0 + 2 h, as the scheduler reports them. */
  const history = (): CheckReport[][] => {
    const http: CheckReport[] = [];
    const tls: CheckReport[] = [];
    for (let t = T0 - 5 * MIN; t < T0 + 120 * MIN; t += 30_000) {
      const m = (t - T0) / MIN;
      if (m >= 90 && m < 100) continue; // the checks were not running: no data
      const httpDown = m >= 20 && m < 30;
      const tlsDown = m >= 60 && m < 80; // inside the maintenance window
      http.push({ ts: t, state: httpDown ? 'down' : 'up', ok: !httpDown, latencyMs: 12, ...(httpDown ? { reason: 'expected status 200, got 500' } : {}) });
      tls.push({ ts: t, state: tlsDown ? 'down' : 'up', ok: !tlsDown, latencyMs: 3 });
    }
    return [http, tls];
  };

  beforeAll(async () => {
    store = await openEmbeddedStore({ dir, logger: silentLogger, clock: { now: () => now }, maintenanceIntervalMs: 0 });
    const [http, tls] = history();
    store.write((http ?? []).flatMap((r) => checkPoints('portal', 'http-0', 'http', r)));
    store.write((tls ?? []).flatMap((r) => checkPoints('portal', 'tls-1', 'tls', r)));
    await store.flush();
    book = new ServiceBook({
      estate: new Estate(Inventory.parse({ ...inventory, services: [{ ...portal, slo: { availabilityPct: 99.9, windowDays: 30 }, maintenance: [{ from: T0 + 55 * MIN, to: T0 + 85 * MIN, reason: 'switch firmware' }] }] })),
      read: samplesFromStore(store, { now: () => now }),
    });
  }, 30_000);
  afterAll(async () => {
    await store?.close();
  });

  it('counts downtime, leaves maintenance out and counts the gap as no data', async () => {
    const a = await book.availability('portal', T0, T0 + 120 * MIN);
    const stale = 2 * 30_000 + 10_000 + 60_000; // a sample speaks for two intervals, the timeout and a minute
    const noData = 10 * MIN - stale + 30_000; // the last sample before the gap is at 89.5 min
    expect(a.maintenanceSeconds).toBe(30 * 60);
    expect(a.downtimeSeconds).toBe(10 * 60);
    expect(a.noDataSeconds).toBe(noData / 1000);
    const covered = 120 * MIN - 30 * MIN - noData;
    expect(a.availabilityPct).toBeCloseTo(((covered - 10 * MIN) / covered) * 100, 3);
    expect(a.incidents).toEqual([{ from: T0 + 20 * MIN, to: T0 + 30 * MIN, ongoing: false, checks: ['http-0'], reason: 'http-0 (http) down' }]);
  });

  it('answers the same downtime from one-minute minima past the raw retention', async () => {
    const rolled = new ServiceBook({ estate: new Estate(Inventory.parse({ ...inventory, services: [portal] })), read: samplesFromStore(store, { now: () => now, rawRetentionMs: 0 }) });
    const a = await rolled.availability('portal', T0, T0 + 50 * MIN);
    expect(a.downtimeSeconds).toBe(600);
    expect(a.incidents.map((i) => [i.from, i.to])).toEqual([[T0 + 20 * MIN, T0 + 30 * MIN]]);
  });

  it('reads the one-minute rollup once the raw points are past retention', async () => {
    const rolledDir = mkdtempSync(join(tmpdir(), 'wf-services-rolled-'));
    const rolledStore = await openEmbeddedStore({ dir: rolledDir, logger: silentLogger, clock: { now: () => now }, maintenanceIntervalMs: 0, tiers: { rawRetentionMs: 3_600_000 } });
    try {
      const [http, tls] = history();
      rolledStore.write((http ?? []).flatMap((r) => checkPoints('portal', 'http-0', 'http', r)));
      rolledStore.write((tls ?? []).flatMap((r) => checkPoints('portal', 'tls-1', 'tls', r)));
      await rolledStore.flush();
      await rolledStore.maintain();
      // The raw points of the outage are gone: only the rollup can answer.
      const [raw] = await rolledStore.points?.({ series: [{ device: 'service:portal:http-0', metric: 'check_up' }], from: T0, to: T0 + 50 * MIN }) ?? [];
      expect(raw?.ts.length ?? 0).toBe(0);
      const rolled = new ServiceBook({ estate: new Estate(Inventory.parse({ ...inventory, services: [portal] })), read: samplesFromStore(rolledStore, { now: () => now, rawRetentionMs: 3_600_000 }) });
      const a = await rolled.availability('portal', T0, T0 + 50 * MIN);
      expect(a.downtimeSeconds).toBe(600);
      expect(a.incidents.map((i) => [i.from, i.to])).toEqual([[T0 + 20 * MIN, T0 + 30 * MIN]]);
    } finally {
      await rolledStore.close();
    }
  });

  it('has no availability where nothing was measured', async () => {
    const a = await book.availability('portal', T0 - 48 * 3_600_000, T0 - 24 * 3_600_000);
    expect(a).toMatchObject({ availabilityPct: null, downtimeSeconds: 0, incidents: [] });
  });

  it('pages on the burn rate right after the outage, and the page stops once the short window is clean', async () => {
    const during = await book.burnAlerts('portal', T0 + 29 * MIN);
    expect(during.map((a) => `${a.severity} ${a.longWindow}/${a.shortWindow}`)).toContain('page 1h/5m');
    const after = await book.burnAlerts('portal', T0 + 45 * MIN);
    expect(after.map((a) => `${a.longWindow}/${a.shortWindow}`)).not.toContain('1h/5m');
  });

  it('makes the monthly report, with the SLO missed, as data and CSV', async () => {
    expect(monthBounds('2026-11', 'Asia/Ho_Chi_Minh')).toEqual({ from: Date.UTC(2026, 9, 31, 17), to: Date.UTC(2026, 10, 30, 17) });
    const r = await monthlyReport(book, '2026-11', 'Asia/Ho_Chi_Minh', now);
    expect(r?.services[0]).toMatchObject({ id: 'portal', downtimeSeconds: 600, sloTargetPct: 99.9, sloMet: false, maintenanceSeconds: 1800 });
    expect(r?.overall).toMatchObject({ incidents: 1, sloMet: 0, sloTotal: 1 });
    const csv = reportCsv(r as NonNullable<typeof r>).split('\r\n');
    expect(csv[0]).toBe('month,service_id,service_name,owner,availability_pct,downtime_seconds,maintenance_seconds,no_data_seconds,incidents,slo_target_pct,slo_met');
    expect(csv[1]).toMatch(/^2026-11,portal,Cổng dịch vụ công tỉnh,,\d+\.\d+,600,1800,\d+,1,99.9,no$/);
    expect(csv[2]).toMatch(/^2026-11,\*,all services,/);
  });
});

describe('the service book on disk', () => {
  it('keeps API services and ad hoc windows in services.json (mode 600) and reads them back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-services-file-'));
    const est = new Estate(Inventory.parse({ ...inventory, services: [portal] }));
    const book = new ServiceBook({ estate: est, dataDir: dir });
    book.create({ id: 'dms', name: 'Quản lý văn bản', checks: [{ type: 'tcp', host: 'dms.internal', port: 443 }], dependsOn: ['host-2'] });
    const w = book.addMaintenance('portal', { from: 1000, to: 2000, reason: 'upgrade' });
    const file = join(dir, 'services.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    // Inventory services stay in the inventory file; only their ad hoc windows are here.
    expect(saved.services.map((s: { id: string }) => s.id)).toEqual(['dms']);
    const again = new ServiceBook({ estate: est, dataDir: dir });
    expect(again.list().map((s) => [s.id, again.origin(s.id)])).toEqual([['portal', 'inventory'], ['dms', 'api']]);
    expect(again.windows('portal')).toEqual([{ ...w }]);
    expect(() => again.replace('portal', portal)).toThrow(/defined in the inventory/);
    expect(() => again.create({ id: 'dms', name: 'again' })).toThrow(/already exists/);
  });

  it('refuses to start over a services.json it cannot read, rather than overwrite it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-services-bad-'));
    writeFileSync(join(dir, 'services.json'), '{"version": 1, "services": [');
    let err: unknown;
    try {
      new ServiceBook({ estate, dataDir: dir });
    } catch (e) {
      err = e;
    }
    expect(isWfError(err, 'CONFIG')).toBe(true);
    expect(readFileSync(join(dir, 'services.json'), 'utf8')).toBe('{"version": 1, "services": [');
  });
});
