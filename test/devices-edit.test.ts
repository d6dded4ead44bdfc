import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory, type InventoryInput } from '../core/index.ts';
import { startAgent, syntheticSwitch, type SimulatedAgent } from '../simulators/snmp/index.ts';
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

  it('DELETE removes the device (its series kept: the store cannot drop them), refuses a parent with children, is audited', async () => {
    const drop = await api(p.base, admin, '/api/v1/devices/api-srv?dropSeries=true', { method: 'DELETE' });
    expect(drop.status).toBe(400);
    expect(drop.body).toMatchObject({ error: { field: 'dropSeries' } });
    expect((await api(p.base, admin, '/api/v1/devices/api-srv')).status).toBe(200);
    const parent = await api(p.base, admin, '/api/v1/devices/api-sw', { method: 'DELETE' });
    expect(parent.status).toBe(409);
    expect(JSON.stringify(parent.body)).toContain('api-srv');
    expect((await api(p.base, admin, '/api/v1/devices/crac-1', { method: 'DELETE' })).status).toBe(409);
    expect((await api(p.base, admin, '/api/v1/devices/ghost', { method: 'DELETE' })).status).toBe(404);

    const del = await api(p.base, admin, '/api/v1/devices/api-srv', { method: 'DELETE' });
    expect(del).toEqual({ status: 200, body: { id: 'api-srv', removed: true, seriesKept: true } });
    expect((await api(p.base, admin, '/api/v1/devices/api-srv')).status).toBe(404);
    expect(stored().map((d) => d.id)).toEqual(['api-sw']);
    expect((await api(p.base, admin, '/api/v1/devices/api-sw', { method: 'DELETE' })).status).toBe(200);
    expect(stored()).toEqual([]);

    const audit = (await api(p.base, admin, '/api/v1/audit?limit=200')).body as { entries?: { action: string; target?: string }[] } | { action: string; target?: string }[];
    const entries = Array.isArray(audit) ? audit : (audit.entries ?? []);
    const actions = entries.filter((e) => e.target === 'api-sw' || e.target === 'api-srv').map((e) => `${e.action} ${e.target}`);
    expect(actions).toEqual(expect.arrayContaining(['device.replace api-sw', 'device.patch api-sw', 'device.remove api-srv', 'device.remove api-sw']));
  });

  it('after a restart: a removed device stays removed, and a rotated profile reaches the devices naming it', async () => {
    expect((await api(p.base, admin, '/api/v1/devices', { method: 'POST', body: { id: 'api-keep', ...base } })).status).toBe(201);
    await p.app.stop();
    p = await startProduct({ dataDir: p.dataDir, inventory: { ...smallInventory, snmpProfiles: { 'lab-v2': { version: '1', community: 'rotated-community-2' } } } });
    admin = await login(p.base);
    expect((await api(p.base, admin, '/api/v1/devices/api-sw')).status).toBe(404);
    expect(p.app.estate.devices.get('api-keep')?.snmp).toMatchObject({ version: '1', community: 'rotated-community-2', credentials: 'lab-v2' });
  });
});
