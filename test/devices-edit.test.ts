import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory, silentLogger, type InventoryInput } from '../core/index.ts';
import { openEmbeddedStore, type EmbeddedTimeSeriesStore } from '../store/index.ts';
import { startAgent, syntheticSwitch, type SimulatedAgent } from '../simulators/snmp/index.ts';
import { runCli } from './support/cli.ts';
import { api, login, smallInventory, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';

const V3 = { user: 'wf-core', authProtocol: 'sha' as const, authKey: 'core-auth-key-51d2', privProtocol: 'aes' as const, privKey: 'core-priv-key-8e07' };

function withProfiles(port: number): InventoryInput {
  return {
    ...smallInventory,
    snmpProfiles: {
      'core-v3': { version: '3', v3: V3, intervalSeconds: 3600 },
      'wrong-v3': { version: '3', v3: { ...V3, authKey: 'not-the-key-0000' }, intervalSeconds: 3600 },
      'lab-v2': { version: '2c', community: 'lab-community-7f3a' },
    },
    devices: [
      ...(smallInventory.devices ?? []),
      { id: 'core-sw', kind: 'switch', location: { rack: 'A01', u: 40 }, snmp: { host: '127.0.0.1', port, profile: 'core-v3' } },
      { id: 'core-sw-bad', kind: 'switch', location: { rack: 'A01', u: 39 }, snmp: { host: '127.0.0.1', port, credentials: 'wrong-v3' } },
    ],
  };
}

describe('SNMP credential profiles', () => {
  it('resolves a named profile at load time; the device\'s own keys win', () => {
    const inv = Inventory.parse({
      ...withProfiles(1161),
      devices: [
        ...(smallInventory.devices ?? []),
        { id: 'a', kind: 'switch', location: { rack: 'A01' }, snmp: { host: '10.0.0.1', profile: 'core-v3' } },
        { id: 'b', kind: 'switch', location: { rack: 'A01' }, snmp: { host: '10.0.0.2', credentials: 'lab-v2', community: 'own-community', profile: 'net-snmp-linux' } },
      ],
    });
    const a = inv.devices.find((d) => d.id === 'a')?.snmp;
    expect(a).toEqual({ host: '10.0.0.1', port: 161, version: '3', v3: V3, intervalSeconds: 3600, credentials: 'core-v3' });
    const b = inv.devices.find((d) => d.id === 'b')?.snmp;
    // `credentials` names the profile, so `profile` stays a poll profile; the device's community wins.
    expect(b).toMatchObject({ version: '2c', community: 'own-community', credentials: 'lab-v2', profile: 'net-snmp-linux' });
  });

  it('refuses an unknown profile with the device and field named', () => {
    const unknown = Inventory.safeParse({
      ...smallInventory,
      snmpProfiles: { 'core-v3': { version: '3', v3: V3 } },
      devices: [...(smallInventory.devices ?? []), { id: 'c', kind: 'switch', location: { rack: 'A01' }, snmp: { host: '10.0.0.3', credentials: 'core-v4' } }],
    });
    expect(unknown.success).toBe(false);
    const issue = unknown.error?.issues[0];
    expect(issue?.path).toEqual(['devices', 5, 'snmp', 'credentials']);
    expect(issue?.message).toContain('unknown SNMP credential profile "core-v4" (snmpProfiles: core-v3)');
    const typo = Inventory.safeParse({
      ...smallInventory,
      snmpProfiles: { 'core-v3': { version: '3', v3: V3 } },
      devices: [...(smallInventory.devices ?? []), { id: 'c', kind: 'switch', location: { rack: 'A01' }, snmp: { host: '10.0.0.3', profile: 'core-3v' } }],
    });
    expect(typo.error?.issues[0]?.path).toEqual(['devices', 5, 'snmp', 'profile']);
    // A profile key the schema does not know is named too.
    const badProfile = Inventory.safeParse({ ...smallInventory, snmpProfiles: { x: { version: '3', v3: { user: 'u', authKey: 'short' } } } });
    expect(badProfile.error?.issues[0]?.path).toEqual(['snmpProfiles', 'x', 'v3', 'authKey']);
  });

  describe('the poller uses the resolved credentials (simulated SNMPv3 agent)', () => {
    let agent: SimulatedAgent;
    let p: StartedProduct;
    beforeAll(async () => {
      agent = await startAgent(syntheticSwitch({ name: 'core-sw', interfaces: 2 }).store, { community: 'not-public-x', v3: V3 });
      p = await startProduct({ inventory: withProfiles(agent.port) });
    });
    afterAll(async () => {
      await p?.app.stop();
      await agent?.close();
    });

    it('polls the device naming core-v3 with its v3 keys, and fails the one naming wrong keys', async () => {
      // The agent knows no community the device could fall back to: only the profile's v3 keys get an answer.
      const [ok, bad] = await Promise.all([p.app.snmp.poller.pollNow('core-sw'), p.app.snmp.poller.pollNow('core-sw-bad')]);
      expect(ok).not.toBeInstanceOf(Error);
      expect(Object.keys((ok as { metrics: Record<string, number> }).metrics).length).toBeGreaterThan(0);
      // Wrong keys: the agent's reports are not answers; the poll fails after the poller's retries.
      expect(bad).toBeInstanceOf(Error);
    }, 60_000);
  });
});

describe('devices edited and removed over the API', () => {
  let p: StartedProduct;
  let admin: LoggedIn;
  let noc: LoggedIn;
  let viewer: LoggedIn;
  const base = { kind: 'switch', location: { rack: 'A01', u: 20 }, snmp: { host: '127.0.0.1', port: 9, profile: 'lab-v2' } };

  beforeAll(async () => {
    p = await startProduct({ inventory: { ...smallInventory, snmpProfiles: { 'lab-v2': { version: '2c', community: 'lab-community-7f3a' } } } });
    admin = await login(p.base);
    for (const [username, role] of [['ed-noc', 'noc'], ['ed-viewer', 'viewer']]) {
      expect((await api(p.base, admin, '/api/v1/users', { method: 'POST', body: { username, role, password: `${role}-password-123` } })).status).toBe(201);
    }
    noc = await login(p.base, 'ed-noc', 'noc-password-123');
    viewer = await login(p.base, 'ed-viewer', 'viewer-password-123');
    expect((await api(p.base, admin, '/api/v1/devices', { method: 'POST', body: { id: 'api-sw', name: 'API switch', ...base } })).status).toBe(201);
    expect((await api(p.base, admin, '/api/v1/devices', { method: 'POST', body: { id: 'api-srv', kind: 'server', location: { rack: 'A01', u: 10 }, parents: ['api-sw'] } })).status).toBe(201);
  });
  afterAll(async () => {
    await p?.app.stop();
  });

  const stored = (): { id: string; name?: string; snmp?: { community?: string } }[] => JSON.parse(readFileSync(join(p.dataDir, 'devices.json'), 'utf8'));

  it('POST resolves the credential profile the body names', async () => {
    const d = await api(p.base, admin, '/api/v1/devices/api-sw');
    expect(d.body).toMatchObject({ snmp: { credentials: 'lab-v2', communitySet: true, version: '2c' } });
    // Stored naming the profile, its community left to the profile.
    expect(stored().find((x) => x.id === 'api-sw')?.snmp).toMatchObject({ credentials: 'lab-v2' });
    expect(stored().find((x) => x.id === 'api-sw')?.snmp?.community).toBeUndefined();
    expect(p.app.estate.devices.get('api-sw')?.snmp?.community).toBe('lab-community-7f3a');
    const unknown = await api(p.base, admin, '/api/v1/devices', { method: 'POST', body: { id: 'api-x', ...base, snmp: { host: '127.0.0.1', credentials: 'nope' } } });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: { field: 'snmp.credentials' } });
  });

  it('only admins change or remove devices', async () => {
    for (const who of [noc, viewer]) {
      expect((await api(p.base, who, '/api/v1/devices/api-sw', { method: 'PUT', body: { ...base, name: 'x' } })).status).toBe(403);
      expect((await api(p.base, who, '/api/v1/devices/api-sw', { method: 'PATCH', body: { name: 'x' } })).status).toBe(403);
      expect((await api(p.base, who, '/api/v1/devices/api-sw', { method: 'DELETE' })).status).toBe(403);
    }
    expect((await api(p.base, admin, '/api/v1/devices/api-sw')).body).toMatchObject({ name: 'API switch' });
  });

  it('PUT replaces the whole device; 400 names the field, 404 for an unknown one, 409 for a device of the inventory file', async () => {
    const put = await api(p.base, admin, '/api/v1/devices/api-sw', { method: 'PUT', body: { ...base, name: 'Core switch', location: { rack: 'A01', u: 21 } } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: 'api-sw', name: 'Core switch', location: { rack: 'A01', u: 21 }, tags: { rack: 'A01' } });
    expect(stored().find((x) => x.id === 'api-sw')?.name).toBe('Core switch');
    expect(p.app.snmp.poller.devices).toContain('api-sw');

    const badKind = await api(p.base, admin, '/api/v1/devices/api-sw', { method: 'PUT', body: { ...base, kind: 'toaster' } });
    expect(badKind.status).toBe(400);
    expect(badKind.body).toMatchObject({ error: { code: 'WF_ERR_BAD_REQUEST', field: 'kind' } });
    const badRack = await api(p.base, admin, '/api/v1/devices/api-sw', { method: 'PUT', body: { ...base, location: { rack: 'Z9' } } });
    expect(badRack.body).toMatchObject({ error: { field: 'location.rack' } });
    const otherId = await api(p.base, admin, '/api/v1/devices/api-sw', { method: 'PUT', body: { ...base, id: 'renamed' } });
    expect(otherId.body).toMatchObject({ error: { field: 'id' } });
    expect((await api(p.base, admin, '/api/v1/devices/no-such', { method: 'PUT', body: base })).status).toBe(404);
    const file = await api(p.base, admin, '/api/v1/devices/crac-1', { method: 'PUT', body: { kind: 'crac', location: { room: 'room-1', x: 1, y: 1 } } });
    expect(file.status).toBe(409);
    expect(JSON.stringify(file.body)).toContain('inventory file');
  });

  it('PATCH merges over the stored device and keeps its secrets; its SNMP block off, the poller lets it go', async () => {
    const patched = await api(p.base, admin, '/api/v1/devices/api-sw', { method: 'PATCH', body: { name: 'Core switch 2', labels: { team: 'net' } } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Core switch 2', labels: { team: 'net' }, location: { u: 21 }, snmp: { communitySet: true } });
    expect(p.app.estate.devices.get('api-sw')?.snmp?.community).toBe('lab-community-7f3a');
    const bad = await api(p.base, admin, '/api/v1/devices/api-sw', { method: 'PATCH', body: { location: { u: 99 } } });
    expect(bad.body).toMatchObject({ error: { field: 'location.u' } });
    const off = await api(p.base, admin, '/api/v1/devices/api-sw', { method: 'PATCH', body: { snmp: null } });
    expect(off.status).toBe(200);
    expect(p.app.snmp.poller.devices).not.toContain('api-sw');
    expect((await api(p.base, admin, '/api/v1/devices/api-sw', { method: 'PATCH', body: [1] })).status).toBe(400);
  });

  const MIN = 60_000;
  /** Two hours of minute readings of two metrics, settled: the maintenance pass folds them into every rollup tier. */
  const T0 = Math.floor(Date.now() / (60 * MIN)) * 60 * MIN - 3 * 60 * MIN;
  const readings = (device: string) =>
    Array.from({ length: 120 }, (_, i) => [
      { device, metric: 'temperature', ts: T0 + i * MIN, value: 20 + (i % 7) },
      { device, metric: 'humidity', ts: T0 + i * MIN, value: 40 + (i % 5) },
    ]).flat();
  const range = async (device: string, step: number): Promise<(number | null)[]> => {
    const q = new URLSearchParams({ device, metric: 'temperature', from: String(T0), to: String(T0 + 120 * MIN - 1), step: String(step), agg: 'mean' });
    const r = await api(p.base, admin, `/api/v1/metrics/range?${q}`);
    expect(r.status).toBe(200);
    return (r.body as { points: [number, number | null][] }).points.map(([, v]) => v);
  };

  it('DELETE removes the device; dropSeries=true deletes its series in every tier, false keeps them; a parent with children is refused; audited', async () => {
    const store = p.app.store as EmbeddedTimeSeriesStore;
    store.write([...readings('api-srv'), ...readings('api-sw'), ...readings('gone-before')]);
    await store.flush();
    const rolled = await store.maintain();
    expect(rolled.rolledUp.hour).toBeGreaterThan(0);
    // Before: both devices answer from the raw points (1-minute step) and from the hour tier.
    expect((await range('api-srv', MIN)).filter((v) => v !== null)).toHaveLength(120);
    expect((await range('api-srv', 60 * MIN)).filter((v) => v !== null)).toHaveLength(2);

    const parent = await api(p.base, admin, '/api/v1/devices/api-sw?dropSeries=true', { method: 'DELETE' });
    expect(parent.status).toBe(409);
    expect(JSON.stringify(parent.body)).toContain('api-srv');
    // Refused before anything went: the parent's series are all there.
    expect((await range('api-sw', MIN)).filter((v) => v !== null)).toHaveLength(120);
    expect((await api(p.base, admin, '/api/v1/devices/crac-1?dropSeries=true', { method: 'DELETE' })).status).toBe(409);
    expect((await api(p.base, admin, '/api/v1/devices/ghost', { method: 'DELETE' })).status).toBe(404);
    expect((await api(p.base, admin, '/api/v1/devices/ghost?dropSeries=true', { method: 'DELETE' })).status).toBe(404);
    expect(await api(p.base, admin, '/api/v1/devices/api-srv?dropSeries=maybe', { method: 'DELETE' })).toMatchObject({ status: 400, body: { error: { field: 'dropSeries' } } });

    const del = await api(p.base, admin, '/api/v1/devices/api-srv?dropSeries=true', { method: 'DELETE' });
    expect(del.status).toBe(200);
    // 2 series x 120 raw points; rollup rows: 120 minutes + 24 five-minute + 2 hour buckets, per series.
    expect(del.body).toEqual({ id: 'api-srv', removed: true, seriesKept: false, seriesDeleted: { series: 2, points: 240, rollupRows: 2 * (120 + 24 + 2) } });
    expect((await api(p.base, admin, '/api/v1/devices/api-srv')).status).toBe(404);
    expect(await range('api-srv', MIN)).toEqual(Array(120).fill(null));
    expect(await range('api-srv', 5 * MIN)).toEqual(Array(24).fill(null));
    expect(await range('api-srv', 60 * MIN)).toEqual([null, null]);
    expect(store.series({ device: 'api-srv' })).toEqual([]);
    expect(store.latest({ device: 'api-srv' })).toEqual([]);
    expect((await api(p.base, admin, '/api/v1/metrics/latest?device=api-srv')).body).toEqual([]);
    // Another device's series are untouched.
    expect((await range('api-sw', MIN)).filter((v) => v !== null)).toHaveLength(120);

    const kept = await api(p.base, admin, '/api/v1/devices/api-sw?dropSeries=false', { method: 'DELETE' });
    expect(kept).toEqual({ status: 200, body: { id: 'api-sw', removed: true, seriesKept: true } });
    expect((await range('api-sw', MIN)).filter((v) => v !== null)).toHaveLength(120);
    expect((await range('api-sw', 60 * MIN)).filter((v) => v !== null)).toHaveLength(2);
    expect(stored()).toEqual([]);

    // A device no longer in the inventory whose series stayed: dropSeries=true deletes them now.
    const late = await api(p.base, admin, '/api/v1/devices/gone-before?dropSeries=true', { method: 'DELETE' });
    expect(late).toMatchObject({ status: 200, body: { id: 'gone-before', removed: false, seriesKept: false, seriesDeleted: { series: 2, points: 240 } } });
    expect(await range('gone-before', MIN)).toEqual(Array(120).fill(null));

    const audit = (await api(p.base, admin, '/api/v1/audit?limit=200')).body as { entries?: { action: string; target?: string; detail?: Record<string, unknown> }[] } | { action: string; target?: string; detail?: Record<string, unknown> }[];
    const entries = Array.isArray(audit) ? audit : (audit.entries ?? []);
    const actions = entries.filter((e) => ['api-sw', 'api-srv', 'gone-before'].includes(e.target ?? '')).map((e) => `${e.action} ${e.target}`);
    expect(actions).toEqual(expect.arrayContaining(['device.replace api-sw', 'device.patch api-sw', 'device.remove api-srv', 'device.remove api-sw', 'device.series.delete gone-before']));
    expect(entries.find((e) => e.action === 'device.remove' && e.target === 'api-srv')?.detail).toMatchObject({ seriesKept: false, series: 2, points: 240 });
    expect(entries.find((e) => e.action === 'device.remove' && e.target === 'api-sw')?.detail).toMatchObject({ seriesKept: true });
  });

  it('after a restart: a removed device stays removed, and a rotated profile reaches the devices naming it', async () => {
    expect((await api(p.base, admin, '/api/v1/devices', { method: 'POST', body: { id: 'api-keep', ...base } })).status).toBe(201);
    await p.app.stop();
    p = await startProduct({ dataDir: p.dataDir, inventory: { ...smallInventory, snmpProfiles: { 'lab-v2': { version: '1', community: 'rotated-community-2' } } } });
    admin = await login(p.base);
    expect((await api(p.base, admin, '/api/v1/devices/api-sw')).status).toBe(404);
    // The deleted series stay deleted on disk; the kept ones are still there.
    expect(p.app.store.series({ device: 'api-srv' })).toEqual([]);
    expect(p.app.store.series({ device: 'api-sw' }).map((x) => x.metric)).toEqual(expect.arrayContaining(['humidity', 'temperature']));
    expect((await range('api-sw', MIN)).filter((v) => v !== null)).toHaveLength(120);
    expect(p.app.estate.devices.get('api-keep')?.snmp).toMatchObject({ version: '1', community: 'rotated-community-2', credentials: 'lab-v2' });
  });
});

describe('watchfloor inventory remove --drop-series (CLI, a stopped product)', () => {
  it('removes the device and deletes its series; without the flag they are kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-drop-cli-'));
    const data = join(dir, 'data');
    const config = join(dir, 'config.yaml');
    writeFileSync(join(dir, 'inventory.json'), JSON.stringify(smallInventory));
    writeFileSync(config, `dataDir: ${data}\ninventory: inventory.json\n`);
    mkdirSync(data, { recursive: true });
    const device = (id: string) => ({ id, kind: 'server', location: { rack: 'A01', u: 5 }, parents: [], labels: {} });
    writeFileSync(join(data, 'devices.json'), JSON.stringify([device('cli-a'), device('cli-b')]));
    const t0 = Date.now() - 600_000;
    const store = await openEmbeddedStore({ dir: join(data, 'tsdb'), logger: silentLogger, maintenanceIntervalMs: 0 });
    store.write(['cli-a', 'cli-b'].flatMap((d) => Array.from({ length: 10 }, (_, i) => ({ device: d, metric: 'load', ts: t0 + i * 1000, value: i }))));
    await store.close();

    const dropped = await runCli(data, ['inventory', 'remove', 'cli-a', '--drop-series', '--config', config]);
    expect(dropped.stderr).toBe('');
    expect(dropped).toMatchObject({ code: 0, stdout: 'cli-a: removed, and its series deleted (1 series, 10 points, 0 rollup rows)\n' });
    const kept = await runCli(data, ['inventory', 'remove', 'cli-b', '--config', config]);
    expect(kept).toMatchObject({ code: 0, stdout: expect.stringContaining('its series are kept') });
    expect((await runCli(data, ['inventory', 'remove', 'cli-zz', '--drop-series', '--config', config])).code).toBe(2);

    const after = await openEmbeddedStore({ dir: join(data, 'tsdb'), logger: silentLogger, maintenanceIntervalMs: 0 });
    try {
      expect(after.series({ device: 'cli-a' })).toEqual([]);
      const q = { metric: 'load', from: t0, to: t0 + 10_000, stepMs: 1000, agg: 'max' as const };
      expect((await after.range({ ...q, device: 'cli-a' })).every((b) => b.value === null)).toBe(true);
      expect((await after.range({ ...q, device: 'cli-b' })).filter((b) => b.value !== null)).toHaveLength(10);
    } finally {
      await after.close();
    }
    expect(JSON.parse(readFileSync(join(data, 'devices.json'), 'utf8'))).toEqual([]);
  }, 60_000);
});

describe('the embedded store deletes a device\'s series', () => {
  it('takes the points still queued too, and a point written after starts a new series that a restart keeps apart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-del-store-'));
    const t0 = Date.now() - 600_000;
    // A long flush interval: the points are still queued when the delete comes.
    let store = await openEmbeddedStore({ dir, logger: silentLogger, flushIntervalMs: 60_000, maintenanceIntervalMs: 0 });
    store.write(Array.from({ length: 50 }, (_, i) => ({ device: 'dev-q', metric: 'load', ts: t0 + i * 1000, value: i })));
    store.write([{ device: 'dev-other', metric: 'load', ts: t0, value: 7 }]);
    expect(store.stats().pending).toBe(51);
    expect(await store.deleteSeries({ device: 'dev-q' })).toEqual({ device: 'dev-q', series: 1, points: 50, rollupRows: 0 });
    expect(await store.deleteSeries({ device: 'dev-q' })).toEqual({ device: 'dev-q', series: 0, points: 0, rollupRows: 0 });
    store.write([{ device: 'dev-q', metric: 'load', ts: t0 + 100_000, value: 99 }]);
    await store.close();

    store = await openEmbeddedStore({ dir, logger: silentLogger, maintenanceIntervalMs: 0 });
    try {
      expect(store.series({ device: 'dev-q' })).toHaveLength(1);
      expect(store.latest({ device: 'dev-q' })).toMatchObject([{ value: 99 }]);
      const points = await (store.points as NonNullable<typeof store.points>).call(store, { series: [{ device: 'dev-q', metric: 'load' }, { device: 'dev-other', metric: 'load' }], from: t0, to: t0 + 200_000 });
      expect(Array.from(points[0]?.value ?? [])).toEqual([99]);
      expect(Array.from(points[1]?.value ?? [])).toEqual([7]);
    } finally {
      await store.close();
    }
  }, 30_000);
});
