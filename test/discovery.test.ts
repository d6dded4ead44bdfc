import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort, NetworkDiscovery, parseCidr, parseDiscoveryConfig, propose, refusal, hostCount, type Cidr } from '../collectors/index.ts';
import { Estate, Inventory, isWfError } from '../core/index.ts';
import { readSnmprec, RecordStore, startAgent, type SimulatedAgent } from '../simulators/snmp/index.ts';
import { startRecordedAgents } from './support/snmp-agents.ts';
import { eventually } from './support/net.ts';
import { api, login, smallInventory, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';

const REF = '/work/shared/reference/snmp';
const COMMUNITY = 'sweep-c0mmunity-8d2f';
const V3 = { user: 'sweeper', authProtocol: 'sha' as const, authKey: 'sweep-auth-key-41c9', privProtocol: 'aes' as const, privKey: 'sweep-priv-key-7e05' };

/** Real recordings on loopback addresses of 127.0.0.0/29; .1 and .6 stay silent. */
const AGENTS = [
  { address: '127.0.0.2', file: 'cisco-catalyst-3560.snmprec', community: COMMUNITY },
  { address: '127.0.0.3', file: 'cisco-nexus-5000.snmprec', community: COMMUNITY },
  // Answers v3 only (its community is one the sweep does not know).
  { address: '127.0.0.4', file: 'linux-full-walk.snmprec', community: 'not-the-sweeps-community', v3: V3 },
  { address: '127.0.0.5', file: 'apc-ap8641.snmprec', community: 'public' },
];

const inventory = {
  ...smallInventory,
  devices: [
    ...(smallInventory.devices ?? []),
    // The Nexus is known by its address; the switch its LLDP and CDP tables name is known by its name.
    { id: 'nexus-core', kind: 'switch' as const, location: { room: 'room-1', x: 5, y: 5 }, addresses: ['127.0.0.3'] },
    { id: 'ca-5548-02', name: 'NWPU-CA-5548-02', kind: 'switch' as const, location: { room: 'room-1', x: 6, y: 5 } },
  ],
};

interface View {
  id: string;
  state: string;
  progress: { total: number; probed: number; responding: number; percent: number };
  found: { address: string; sysName: string; sysObjectID: string; profile: string; kind: string; known?: string; snmp: { version: string; user?: string }; neighbours: { localPort: string; remoteName: string; remoteAddress?: string; remotePort: string; via: string }[] }[];
  proposals: { links: { kind: string; a: { device: string; interface: string; known: boolean }; b: { device: string; interface: string; known: boolean }; via: string[] }[]; devices: { id: string; name: string; address?: string; kind: string; source: string }[] };
}

describe('network discovery: ranges a sweep may take', () => {
  const allowed = ['10.0.0.0/8', '127.0.0.0/8'].map((t) => parseCidr(t) as Cidr);
  it.each([
    ['10.0.0.300/24', 'is not a CIDR range'],
    ['10.1.2.3/24', 'host bits set; the range is 10.1.2.0/24'],
    ['10.0.0.0/33', 'prefix length is 0 to 32'],
    ['fd00::/64', 'IPv6 ranges are not swept'],
  ])('refuses %s as a range', (text, why) => {
    expect(parseCidr(text)).toContain(why);
  });
  it('says why a public, an unlisted private and a reserved range are refused', () => {
    expect(refusal(parseCidr('8.8.8.0/24') as Cidr, allowed)).toMatch(/8\.8\.8\.0\/24 is a public range, not in discovery\.allowedCidrs/);
    expect(refusal(parseCidr('192.168.1.0/24') as Cidr, allowed)).toMatch(/^192\.168\.1\.0\/24 is not in discovery\.allowedCidrs \(10\.0\.0\.0\/8, 127\.0\.0\.0\/8\)$/);
    expect(refusal(parseCidr('169.254.0.0/16') as Cidr, allowed)).toMatch(/never swept/);
    expect(refusal(parseCidr('10.20.0.0/16') as Cidr, allowed)).toBeUndefined();
    expect(hostCount(parseCidr('127.0.0.0/29') as Cidr)).toBe(6);
    expect(hostCount(parseCidr('10.0.0.7/32') as Cidr)).toBe(1);
  });
  it('refuses a range outside the configured list, and a /8 without force, naming the field', () => {
    const estate = new Estate(Inventory.parse(smallInventory));
    const d = new NetworkDiscovery({ estate, config: parseDiscoveryConfig({ allowedCidrs: ['127.0.0.0/8'] }) });
    const snmp = { versions: ['2c' as const], communities: ['public'] };
    const refused = (cidrs: string[], force?: boolean): unknown => {
      try {
        d.start({ cidrs, snmp, force }, 'test');
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const unlisted = refused(['127.0.0.0/30', '10.0.0.0/24']);
    expect(isWfError(unlisted, 'DISCOVERY_RANGE')).toBe(true);
    expect(unlisted).toMatchObject({ field: 'cidrs.1', status: 400, message: expect.stringContaining('10.0.0.0/24 is not in discovery.allowedCidrs (127.0.0.0/8)') });
    expect(refused(['127.0.0.0/8'])).toMatchObject({ field: 'cidrs.0', message: expect.stringContaining('more than a /16') });
    expect(() => parseDiscoveryConfig({ allowedCidrs: ['10.0.0.1/8'] })).toThrow(/discovery.allowedCidrs.0: "10.0.0.1\/8" has host bits set/);
    expect(d.list()).toEqual([]);
  });
});

describe('network discovery: proposals and SNMPv1', () => {
  const estate = new Estate(Inventory.parse({ ...smallInventory, devices: [...(smallInventory.devices ?? []), { id: 'sw-a', kind: 'switch', location: { room: 'room-1', x: 1, y: 1 } }] }));
  const base = { port: 161, attempt: { version: '2c' as const, community: 'x' }, sysObjectID: '1.3.6.1.4.1.9.1.617', sysDescr: '', profile: 'cisco-ios', kind: 'switch' as const, warnings: [] };

  it('proposes a cable seen from both ends (LLDP one side, CDP the other) once, and the unknown end as a device', () => {
    const found = [
      { ...base, address: '10.0.0.1', sysName: 'sw-a', neighbours: [{ localPort: 'Gi1/0/1', remoteName: 'sw-b', remoteAddress: '10.0.0.2', remotePort: 'Gi1/0/2', via: 'lldp' as const }] },
      { ...base, address: '10.0.0.2', sysName: 'sw-b.example.org', neighbours: [{ localPort: 'Gi1/0/2', remoteName: 'SW-A(FOC1234X)', remotePort: 'GigabitEthernet1/0/1', via: 'cdp' as const }] },
    ];
    const { proposals, knownAs } = propose(found, estate.devices.values(), estate.inventory);
    expect(knownAs.get('10.0.0.1')).toBe('sw-a');
    expect(proposals.links).toEqual([{ kind: 'lan', a: { device: 'sw-a', interface: 'Gi1/0/1', known: true }, b: { device: 'sw-b', interface: 'Gi1/0/2', known: false }, via: ['lldp', 'cdp'] }]);
    expect(proposals.linksInInventory).toBe(0);
    expect(proposals.devices).toEqual([{ id: 'sw-b', name: 'sw-b.example.org', address: '10.0.0.2', kind: 'switch', source: 'sweep', seenBy: [{ device: 'sw-a', port: 'Gi1/0/1', via: 'lldp' }] }]);
  });

  it('keeps to its rate limit over silent addresses, and refuses a sweep beyond maxRunning', async () => {
    const d = new NetworkDiscovery({ estate, config: parseDiscoveryConfig({ ratePerSecond: 20, concurrency: 16, maxRunning: 1 }) });
    const port = await freeUdpPort('127.0.1.1');
    const t0 = performance.now();
    // 14 hosts, nothing listening: 14 requests at 20 a second take at least 13 intervals of 50 ms, though 16 could run at once.
    const { id } = d.start({ cidrs: ['127.0.1.0/28'], snmp: { versions: ['2c'], communities: ['public'], port, timeoutMs: 100 } }, 'test');
    let busy: unknown;
    try {
      d.start({ cidrs: ['127.0.2.0/30'], snmp: { versions: ['2c'], communities: ['public'], port } }, 'test');
    } catch (err) {
      busy = err;
    }
    expect(isWfError(busy, 'DISCOVERY_BUSY')).toBe(true);
    await d.settled(id);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(13 * 50 - 5);
    expect(d.get(id)).toMatchObject({ state: 'done', progress: { total: 14, probed: 14, responding: 0, percent: 100 }, found: [] });
  });

  it('reads a recording over SNMPv1 (noSuchName for what it lacks), the community tried after a wrong one', async () => {
    const address = '127.0.0.9';
    const port = await freeUdpPort(address);
    const agent = await startAgent(new RecordStore(readSnmprec(`${REF}/geist-watchdog15p.snmprec`).records), { address, port, community: 'v1-community' });
    try {
      const d = new NetworkDiscovery({ estate });
      const { id } = d.start({ cidrs: [`${address}/32`], snmp: { versions: ['1'], communities: ['wrong-one', 'v1-community'], port, timeoutMs: 300 } }, 'test');
      await d.settled(id);
      const v = d.get(id);
      expect(v?.state).toBe('done');
      expect(v?.found).toEqual([expect.objectContaining({ address, sysName: 'pwr-dc01-temp-rack1-01', profile: 'geist-environment', kind: 'sensor', snmp: { version: '1' }, neighbours: [] })]);
      expect(d.candidate(id, address)).toMatchObject({ kind: 'sensor', sensorType: 'temperature-humidity', snmp: { host: address, port, version: '1', community: 'v1-community' } });
    } finally {
      await agent.close();
    }
  });
});

describe('network discovery: a sweep of simulated agents on loopback', () => {
  let product: StartedProduct;
  let admin: LoggedIn;
  let port = 0;
  let agents: SimulatedAgent[] = [];

  beforeAll(async () => {
    ({ port, agents } = await startRecordedAgents(REF, AGENTS));
    product = await startProduct({ inventory });
    admin = await login(product.base);
  }, 60_000);
  afterAll(async () => {
    await product?.app.stop();
    await Promise.all(agents.map((a) => a.close()));
  });

  const sweepBody = (cidrs: string[], extra: Record<string, unknown> = {}) => ({
    cidrs,
    snmp: { versions: ['2c', '3'], communities: ['public', COMMUNITY], v3: [V3], port, timeoutMs: 300 },
    ...extra,
  });
  const view = async (id: string): Promise<View> => {
    const r = await api(product.base, admin, `/api/v1/discovery/${id}`);
    expect(r.status).toBe(200);
    return r.body as View;
  };

  it('finds the agents of 127.0.0.0/29 with sysName and profile, their LLDP and CDP neighbours, and proposes links and devices', async () => {
    const started = await api(product.base, admin, '/api/v1/discovery', { method: 'POST', body: sweepBody(['127.0.0.0/29']) });
    expect(started.status).toBe(202);
    const { id } = started.body as { id: string };
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    // Progress moves while it runs: probed counts up to the 6 hosts of a /29.
    const seen: number[] = [];
    const done = await eventually(async () => {
      const v = await view(id);
      seen.push(v.progress.probed);
      return v.state === 'done' ? v : undefined;
    }, 30_000, 50);
    expect(seen.some((n) => n < 6)).toBe(true);
    expect(new Set(seen).size).toBeGreaterThan(1);
    expect(done.progress).toEqual({ total: 6, probed: 6, responding: 4, percent: 100 });

    const byAddress = new Map(done.found.map((f) => [f.address, f]));
    expect([...byAddress.keys()]).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']);
    expect(byAddress.get('127.0.0.2')).toMatchObject({ sysName: 'DUMSYS-04', sysObjectID: '1.3.6.1.4.1.9.1.617', profile: 'cisco-ios', kind: 'switch', snmp: { version: '2c' } });
    expect(byAddress.get('127.0.0.3')).toMatchObject({ sysName: 'DUMSYS-52', sysObjectID: '1.3.6.1.4.1.9.12.3.1.3.1084', profile: 'cisco-nxos', known: 'nexus-core' });
    expect(byAddress.get('127.0.0.4')).toMatchObject({ sysName: 'tt', profile: 'net-snmp-host', kind: 'server', snmp: { version: '3', user: 'sweeper' } });
    expect(byAddress.get('127.0.0.5')).toMatchObject({ sysName: 'pwr-dc01-pdu-rack1-01', profile: 'apc-pdu', kind: 'pdu' });

    // The Catalyst tells its neighbours by CDP only (its recording has no lldpRemTable): 9 rows.
    const catalyst = byAddress.get('127.0.0.2')?.neighbours ?? [];
    expect(catalyst).toHaveLength(9);
    expect(catalyst.every((n) => n.via === 'cdp')).toBe(true);
    expect(catalyst).toContainEqual({ localPort: expect.stringMatching(/^Gi/), remoteName: 'kexuehuitang', remoteAddress: '10.1.100.141', remotePort: 'GigabitEthernet0/1', via: 'cdp', platform: expect.any(String) });
    // The Nexus by both: 9 LLDP rows (sysName, port, management address) and 5 CDP rows.
    const nexus = byAddress.get('127.0.0.3')?.neighbours ?? [];
    expect(nexus.filter((n) => n.via === 'lldp')).toHaveLength(9);
    expect(nexus.filter((n) => n.via === 'cdp')).toHaveLength(5);
    expect(nexus).toContainEqual(expect.objectContaining({ localPort: 'mgmt0', remoteName: 'NWPU-CA-5548-02', remoteAddress: '10.40.1.20', remotePort: 'mgmt0', via: 'lldp' }));
    expect(nexus).toContainEqual(expect.objectContaining({ localPort: 'mgmt0', remoteName: 'NWPU-CA-5548-02(SSI183706KA)', remotePort: 'mgmt0', via: 'cdp' }));

    // A LAN link between two inventory devices, seen by LLDP and CDP alike, proposed once.
    const between = done.proposals.links.filter((l) => l.a.device === 'nexus-core' && l.b.device === 'ca-5548-02');
    expect(between.length).toBeGreaterThanOrEqual(3);
    expect(between.find((l) => l.a.interface === 'mgmt0')).toMatchObject({ kind: 'lan', a: { known: true }, b: { interface: 'mgmt0', known: true }, via: ['lldp', 'cdp'] });
    // Neighbours the inventory lacks are proposed as new devices, and found devices not in it too.
    expect(done.proposals.devices).toContainEqual(expect.objectContaining({ id: 'kexuehuitang', address: '10.1.100.141', source: 'neighbour' }));
    expect(done.proposals.devices).toContainEqual(expect.objectContaining({ id: 'dumsys-04', address: '127.0.0.2', source: 'sweep', kind: 'switch' }));
    expect(done.proposals.devices.map((d) => d.id)).not.toContain('nexus-core');
    // Proposals only: the inventory did not change, and no answer shows a community or key.
    expect((await api(product.base, admin, '/api/v1/devices/dumsys-04')).status).toBe(404);
    const text = JSON.stringify(done);
    for (const secret of [COMMUNITY, V3.authKey, V3.privKey]) expect(text).not.toContain(secret);
  }, 60_000);

  it('registers an accepted device through device registration, audited, with the credential that answered', async () => {
    const { id } = (await api(product.base, admin, '/api/v1/discovery', { method: 'POST', body: sweepBody(['127.0.0.4/31']) })).body as { id: string };
    await eventually(async () => ((await view(id)).state === 'done' ? true : undefined), 20_000, 50);
    const badRack = await api(product.base, admin, `/api/v1/discovery/${id}/accept`, { method: 'POST', body: { address: '127.0.0.5', id: 'pdu-found-2', location: { rack: 'Z99' } } });
    expect(badRack).toMatchObject({ status: 400, body: { error: { field: 'location.rack' } } });
    const neither = await api(product.base, admin, `/api/v1/discovery/${id}/accept`, { method: 'POST', body: { id: 'pdu-found-2' } });
    expect(neither).toMatchObject({ status: 400, body: { error: { field: 'address' } } });
    const accepted = await api(product.base, admin, `/api/v1/discovery/${id}/accept`, { method: 'POST', body: { address: '127.0.0.5', id: 'pdu-found-1', location: { rack: 'A01', u: 40 } } });
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ id: 'pdu-found-1', name: 'pwr-dc01-pdu-rack1-01', kind: 'pdu', snmp: { host: '127.0.0.5', port, version: '2c', communitySet: true } });
    const linux = await api(product.base, admin, `/api/v1/discovery/${id}/accept`, { method: 'POST', body: { address: '127.0.0.4', id: 'linux-found-1', name: 'Linux tt' } });
    expect(linux.status).toBe(201);
    expect(linux.body).toMatchObject({ kind: 'server', location: { site: 'dc1' }, snmp: { version: '3', v3: { user: 'sweeper', authKeySet: true, privKeySet: true } } });
    expect(JSON.stringify(linux.body)).not.toContain(V3.authKey);
    expect((await api(product.base, admin, '/api/v1/devices/pdu-found-1')).status).toBe(200);

    const again = await api(product.base, admin, `/api/v1/discovery/${id}/accept`, { method: 'POST', body: { address: '127.0.0.5', id: 'pdu-found-1' } });
    expect(again.status).toBe(409);
    const stranger = await api(product.base, admin, `/api/v1/discovery/${id}/accept`, { method: 'POST', body: { address: '127.0.0.9', id: 'nobody' } });
    expect(stranger).toMatchObject({ status: 400, body: { error: { field: 'address' } } });
    // Found again under another id: it is in the inventory already.
    const twice = await api(product.base, admin, `/api/v1/discovery/${id}/accept`, { method: 'POST', body: { address: '127.0.0.5', id: 'pdu-found-2' } });
    expect(twice).toMatchObject({ status: 409, body: { error: { message: expect.stringContaining('as device "pdu-found-1"') } } });

    const log = (await api(product.base, admin, '/api/v1/audit?limit=200')).body as { entries?: { action: string; target?: string }[] } | { action: string; target?: string }[];
    const entries = Array.isArray(log) ? log : (log.entries ?? []);
    expect(entries).toContainEqual(expect.objectContaining({ action: 'discovery.accept', target: 'pdu-found-1' }));
    expect(entries).toContainEqual(expect.objectContaining({ action: 'discovery.start', target: id }));
    expect(JSON.stringify(entries)).not.toContain(COMMUNITY);
  }, 40_000);

  it('cancels a running sweep: no request is started after, and it stays cancelled', async () => {
    // A /24 of mostly silent addresses at 2 s a request takes minutes; it is cancelled after the first few.
    const started = await api(product.base, admin, '/api/v1/discovery', { method: 'POST', body: { ...sweepBody(['127.0.0.0/24']), snmp: { ...sweepBody([]).snmp, timeoutMs: 2000 } } });
    expect(started.status).toBe(202);
    const { id } = started.body as { id: string };
    await eventually(async () => ((await view(id)).progress.probed >= 2 ? true : undefined), 20_000, 50);
    const cancelled = await api(product.base, admin, `/api/v1/discovery/${id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id, state: 'cancelled' });
    const at = (await view(id)).progress.probed;
    const requests = agents.map((a) => a.requests);
    // Longer than a request's timeout: anything in flight has ended, nothing new began.
    await new Promise((r) => setTimeout(r, 2500));
    const after = await view(id);
    expect(after.state).toBe('cancelled');
    expect(after.progress.probed).toBe(at);
    expect(after.progress.probed).toBeLessThan(after.progress.total);
    expect(agents.map((a) => a.requests)).toEqual(requests);
    expect((await api(product.base, admin, '/api/v1/discovery/no-such-sweep', { method: 'DELETE' })).status).toBe(404);
  }, 40_000);

  it('refuses a /8 without force, a public range, and a bad range, naming the field', async () => {
    const post = (body: unknown) => api(product.base, admin, '/api/v1/discovery', { method: 'POST', body });
    const big = await post(sweepBody(['127.0.0.0/29', '10.0.0.0/8']));
    expect(big).toMatchObject({ status: 400, body: { error: { code: 'WF_ERR_DISCOVERY_RANGE', field: 'cidrs.1', message: expect.stringContaining('16,777,214 hosts, more than a /16') } } });
    const pub = await post(sweepBody(['8.8.8.0/24']));
    expect(pub).toMatchObject({ status: 400, body: { error: { code: 'WF_ERR_DISCOVERY_RANGE', field: 'cidrs.0', message: expect.stringContaining('public range') } } });
    expect(await post(sweepBody(['10.0.0.0/33']))).toMatchObject({ status: 400, body: { error: { code: 'WF_ERR_BAD_REQUEST', field: 'cidrs.0' } } });
    expect(await post({ ...sweepBody(['127.0.0.0/30']), snmp: { versions: ['3'] } })).toMatchObject({ status: 400, body: { error: { field: 'snmp.v3' } } });
    expect(await post({ cidrs: '127.0.0.0/30' })).toMatchObject({ status: 400, body: { error: { field: 'cidrs' } } });
    // With force a /8 in the allowed list is taken (and cancelled here at once).
    const forced = await post(sweepBody(['127.0.0.0/8'], { force: true }));
    expect(forced.status).toBe(202);
    const { id } = forced.body as { id: string };
    expect((await view(id)).progress.total).toBe(16_777_214);
    expect((await api(product.base, admin, `/api/v1/discovery/${id}`, { method: 'DELETE' })).status).toBe(200);
  }, 20_000);

  it('is for admins only', async () => {
    const { id } = (await api(product.base, admin, '/api/v1/discovery', { method: 'POST', body: sweepBody(['127.0.0.5/32']) })).body as { id: string };
    for (const role of ['noc', 'soc', 'viewer'] as const) {
      expect((await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username: `d-${role}`, role, password: `${role}-password-9` } })).status).toBe(201);
      const s = await login(product.base, `d-${role}`, `${role}-password-9`);
      expect((await api(product.base, s, '/api/v1/discovery', { method: 'POST', body: sweepBody(['127.0.0.5/32']) })).status).toBe(403);
      expect((await api(product.base, s, `/api/v1/discovery/${id}`)).status).toBe(403);
      expect((await api(product.base, s, `/api/v1/discovery/${id}`, { method: 'DELETE' })).status).toBe(403);
      expect((await api(product.base, s, `/api/v1/discovery/${id}/accept`, { method: 'POST', body: { address: '127.0.0.5', id: `x-${role}` } })).status).toBe(403);
    }
    expect((await api(product.base, undefined, `/api/v1/discovery/${id}`)).status).toBe(401);
    const list = (await api(product.base, admin, '/api/v1/discovery')).body as { id: string }[];
    expect(list[0]?.id).toBe(id);
  }, 30_000);
});
