import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Inventory, type InventoryInput } from '../core/index.ts';
import type { SimulatedAgent } from '../simulators/snmp/index.ts';
import { runCli } from './support/cli.ts';
import { startRecordedAgents } from './support/snmp-agents.ts';
import { eventually } from './support/net.ts';
import { api, login, smallInventory, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';

/*
 * Neighbours of the inventory's own SNMP devices, read without a sweep of ranges: each device is asked
 * at its own host and port with its own credentials (a credential profile, a community, v3 keys), and
 * what it hears on its ports is proposed as links and devices. Then the proposals are accepted: the
 * device first, then its link, which the running inventory, its export and a restart all keep.
 */
const REF = '/work/shared/reference/snmp';
const V3 = { user: 'neighbour-reader', authProtocol: 'sha' as const, authKey: 'nbr-auth-key-63a1', privProtocol: 'aes' as const, privKey: 'nbr-priv-key-90fd' };

const AGENTS = [
  { address: '127.0.0.2', file: 'cisco-catalyst-3560.snmprec', community: 'cat-community-2b7e' },
  { address: '127.0.0.3', file: 'cisco-nexus-5000.snmprec', community: 'nexus-community-4c1d' },
  { address: '127.0.0.4', file: 'linux-full-walk.snmprec', community: 'not-given-to-anyone-1', v3: V3 },
  { address: '127.0.0.5', file: 'apc-ap8641.snmprec', community: 'the-pdu-real-one-77' },
];

function inventoryFor(port: number): InventoryInput {
  const hourly = 3600;
  return {
    ...smallInventory,
    snmpProfiles: { 'access-v2': { version: '2c', community: 'cat-community-2b7e', intervalSeconds: hourly } },
    devices: [
      ...(smallInventory.devices ?? []),
      // The Catalyst's community comes from the credential profile; the Nexus has its own; the Linux host v3 keys.
      { id: 'access-cat', kind: 'switch', location: { room: 'room-1', x: 4, y: 5 }, snmp: { host: '127.0.0.2', port, credentials: 'access-v2' } },
      { id: 'core-nexus', kind: 'switch', location: { room: 'room-1', x: 5, y: 5 }, snmp: { host: '127.0.0.3', port, community: 'nexus-community-4c1d', intervalSeconds: hourly } },
      { id: 'linux-v3', kind: 'server', location: { rack: 'A01', u: 30 }, snmp: { host: '127.0.0.4', port, version: '3', v3: V3, intervalSeconds: hourly } },
      // Wrong community: it does not answer, and is not swept with anyone else's.
      { id: 'pdu-wrong', kind: 'pdu', location: { rack: 'A01', u: 1 }, snmp: { host: '127.0.0.5', port, community: 'stale-community-00', intervalSeconds: hourly } },
      // Known by name only (no SNMP): the Nexus' LLDP and CDP tables name it.
      { id: 'ca-5548-02', name: 'NWPU-CA-5548-02', kind: 'switch', location: { room: 'room-1', x: 6, y: 5 } },
    ],
  };
}

interface LinkEnd { device: string; interface: string; known: boolean }
interface View {
  id: string;
  source: string;
  state: string;
  devices?: string[];
  progress: { total: number; probed: number; responding: number; percent: number };
  found: { address: string; known?: string; snmp: { version: string; user?: string }; neighbours: { via: string }[] }[];
  proposals: { links: { kind: string; a: LinkEnd; b: LinkEnd; via: string[] }[]; linksInInventory: number; devices: { id: string; name: string; address?: string; source: string }[] };
}

describe('neighbours of the polled inventory, and accepting proposed links', () => {
  let product: StartedProduct;
  let admin: LoggedIn;
  let port = 0;
  let agents: SimulatedAgent[] = [];
  let inventory: InventoryInput;
  let sweep = '';

  beforeAll(async () => {
    ({ port, agents } = await startRecordedAgents(REF, AGENTS));
    inventory = inventoryFor(port);
    product = await startProduct({ inventory });
    admin = await login(product.base);
  }, 60_000);
  afterAll(async () => {
    await product?.app.stop();
    await Promise.all(agents.map((a) => a.close()));
  });

  const view = async (id: string): Promise<View> => {
    const r = await api(product.base, admin, `/api/v1/discovery/${id}`);
    expect(r.status).toBe(200);
    return r.body as View;
  };
  const settled = (id: string): Promise<View> => eventually(async () => {
    const v = await view(id);
    return v.state === 'done' ? v : undefined;
  }, 30_000, 50);
  const acceptLink = (id: string, body: unknown) => api(product.base, admin, `/api/v1/discovery/${id}/links/accept`, { method: 'POST', body });
  const inventoryLinks = async () => ((await api(product.base, admin, '/api/v1/inventory')).body as { links: { id: string; kind: string; a: { device: string; interface?: string }; b: { device: string; interface?: string } }[] }).links;

  it('reads every SNMP device of the inventory with its own credentials, and proposes links and devices as a sweep does', async () => {
    const before = agents.map((a) => a.requests);
    const started = await api(product.base, admin, '/api/v1/discovery/neighbours', { method: 'POST', body: { timeoutMs: 400 } });
    expect(started.status).toBe(202);
    sweep = (started.body as { id: string }).id;
    const done = await settled(sweep);
    expect(done).toMatchObject({ source: 'inventory', devices: ['access-cat', 'core-nexus', 'linux-v3', 'pdu-wrong'], progress: { total: 4, probed: 4, responding: 3, percent: 100 } });
    // Each found device is the inventory device it was read as, with the credential it has.
    expect(done.found.map((f) => [f.address, f.known, f.snmp.version, f.snmp.user ?? null])).toEqual([
      ['127.0.0.2', 'access-cat', '2c', null],
      ['127.0.0.3', 'core-nexus', '2c', null],
      ['127.0.0.4', 'linux-v3', '3', 'neighbour-reader'],
    ]);
    // The three with working credentials were read; the PDU's agent answered nothing (its community is not the device's).
    expect(agents.map((a, i) => a.requests > (before[i] as number))).toEqual([true, true, true, false]);
    expect(done.found.find((f) => f.address === '127.0.0.2')?.neighbours).toHaveLength(9);
    expect(done.found.find((f) => f.address === '127.0.0.3')?.neighbours).toHaveLength(14);

    // The Nexus to the switch known by name: three cables (mgmt0, Ethernet1/21, 1/22), each by LLDP and CDP.
    const between = done.proposals.links.filter((l) => l.a.device === 'core-nexus' && l.b.device === 'ca-5548-02');
    expect(between.map((l) => l.a.interface).sort()).toEqual(['Ethernet1/21', 'Ethernet1/22', 'mgmt0']);
    expect(between.every((l) => l.a.known && l.b.known && l.via.join() === 'lldp,cdp')).toBe(true);
    expect(done.proposals.linksInInventory).toBe(0);
    // Neighbours not in the inventory are proposed once each, with the address they gave, or none.
    expect(done.proposals.devices).toContainEqual(expect.objectContaining({ id: 'kexuehuitang', address: '10.1.100.141', source: 'neighbour' }));
    expect(done.proposals.devices).toContainEqual(expect.objectContaining({ id: 'procurve-6120xg-blade-switch', source: 'neighbour' }));
    expect(done.proposals.devices.find((d) => d.id === 'procurve-6120xg-blade-switch')?.address).toBeUndefined();
    expect(done.proposals.devices.filter((d) => d.id === 'nwpu-ucs-fi-a')).toHaveLength(1);
    expect(done.proposals.devices.map((d) => d.id)).not.toContain('ca-5548-02');
    // No answer shows a community or key.
    const text = JSON.stringify(done);
    for (const secret of ['cat-community-2b7e', 'nexus-community-4c1d', V3.authKey, V3.privKey]) expect(text).not.toContain(secret);
  }, 60_000);

  it('reads only the devices named, and refuses an unknown device or one without SNMP, naming the field', async () => {
    const one = await api(product.base, admin, '/api/v1/discovery/neighbours', { method: 'POST', body: { devices: ['core-nexus'], timeoutMs: 400 } });
    expect(one.status).toBe(202);
    const v = await settled((one.body as { id: string }).id);
    expect(v).toMatchObject({ devices: ['core-nexus'], progress: { total: 1, responding: 1 } });
    const post = (body: unknown) => api(product.base, admin, '/api/v1/discovery/neighbours', { method: 'POST', body });
    expect(await post({ devices: ['core-nexus', 'ghost'] })).toMatchObject({ status: 400, body: { error: { field: 'devices.1', message: expect.stringContaining('no device "ghost"') } } });
    expect(await post({ devices: ['ca-5548-02'] })).toMatchObject({ status: 400, body: { error: { field: 'devices.0', message: expect.stringContaining('no snmp block') } } });
    expect(await post({ devices: [] })).toMatchObject({ status: 400, body: { error: { field: 'devices' } } });
    expect(await post({ devices: 'core-nexus' })).toMatchObject({ status: 400, body: { error: { field: 'devices' } } });
    expect(await post({ timeoutMs: 10 })).toMatchObject({ status: 400, body: { error: { field: 'timeoutMs' } } });
  }, 30_000);

  it('accepts a proposed link between two inventory devices: in the running inventory, audited, not proposed again, 409 the second time', async () => {
    const bad = await acceptLink(sweep, { a: { device: 'core-nexus', interface: '' }, b: { device: 'ca-5548-02', interface: 'mgmt0' } });
    expect(bad).toMatchObject({ status: 400, body: { error: { field: 'a.interface' } } });
    expect(await acceptLink(sweep, { a: { device: 'core-nexus' }, b: { device: 'ca-5548-02', interface: 'mgmt0' } })).toMatchObject({ status: 400, body: { error: { field: 'a.interface' } } });
    expect((await acceptLink('no-such-sweep', { a: { device: 'core-nexus', interface: 'mgmt0' }, b: { device: 'ca-5548-02', interface: 'mgmt0' } })).status).toBe(404);
    expect((await acceptLink(sweep, { a: { device: 'core-nexus', interface: 'Ethernet1/7' }, b: { device: 'ca-5548-02', interface: 'mgmt0' } })).status).toBe(404);

    // Named from the far end first: the link is the same cable either way round.
    const ok = await acceptLink(sweep, { a: { device: 'ca-5548-02', interface: 'mgmt0' }, b: { device: 'core-nexus', interface: 'mgmt0' } });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ id: 'lan-core-nexus-mgmt0--ca-5548-02-mgmt0', kind: 'lan', a: { device: 'core-nexus', interface: 'mgmt0' }, b: { device: 'ca-5548-02', interface: 'mgmt0' }, label: 'discovered (LLDP, CDP)' });
    expect(await inventoryLinks()).toContainEqual({ id: 'lan-core-nexus-mgmt0--ca-5548-02-mgmt0', kind: 'lan', a: { device: 'core-nexus', interface: 'mgmt0' }, b: { device: 'ca-5548-02', interface: 'mgmt0' }, label: 'discovered (LLDP, CDP)' });

    const again = await acceptLink(sweep, { a: { device: 'core-nexus', interface: 'mgmt0' }, b: { device: 'ca-5548-02', interface: 'mgmt0' } });
    expect(again.status).toBe(409);
    const after = await view(sweep);
    expect(after.proposals.linksInInventory).toBe(1);
    expect(after.proposals.links.filter((l) => l.a.device === 'core-nexus' && l.b.device === 'ca-5548-02').map((l) => l.a.interface).sort()).toEqual(['Ethernet1/21', 'Ethernet1/22']);
    // A second cable between the same two switches is a link of its own, with an id of its own given.
    const second = await acceptLink(sweep, { a: { device: 'core-nexus', interface: 'Ethernet1/21' }, b: { device: 'ca-5548-02', interface: 'Eth1/21' }, id: 'nexus-ca-e1-21', bandwidthMbps: 10_000 });
    expect(second).toMatchObject({ status: 201, body: { id: 'nexus-ca-e1-21', bandwidthMbps: 10_000 } });
    const taken = await acceptLink(sweep, { a: { device: 'core-nexus', interface: 'Ethernet1/22' }, b: { device: 'ca-5548-02', interface: 'Eth1/22' }, id: 'nexus-ca-e1-21' });
    expect(taken.status).toBe(409);

    const log = (await api(product.base, admin, '/api/v1/audit?limit=200')).body as { entries?: { action: string; target?: string }[] } | { action: string; target?: string }[];
    const entries = Array.isArray(log) ? log : (log.entries ?? []);
    expect(entries).toContainEqual(expect.objectContaining({ action: 'discovery.link.accept', target: 'lan-core-nexus-mgmt0--ca-5548-02-mgmt0' }));
    expect(entries).toContainEqual(expect.objectContaining({ action: 'discovery.neighbours', target: sweep }));
  }, 30_000);

  it('a link to a proposed device waits until the device is accepted; a device heard of without an address is accepted by its proposal id', async () => {
    const toNew = { a: { device: 'access-cat', interface: 'Gi0/50' }, b: { device: 'kexuehuitang', interface: 'GigabitEthernet0/1' } };
    const early = await acceptLink(sweep, toNew);
    expect(early).toMatchObject({ status: 409, body: { error: { message: expect.stringContaining('accept it first') } } });

    const dev = await api(product.base, admin, `/api/v1/discovery/${sweep}/accept`, { method: 'POST', body: { address: '10.1.100.141', id: 'kexuehuitang' } });
    expect(dev).toMatchObject({ status: 201, body: { id: 'kexuehuitang', labels: { discoveredAddress: '10.1.100.141' } } });
    // Its neighbour is an inventory device now: the proposal's end says so, and the link is taken.
    const v = await view(sweep);
    expect(v.proposals.links.find((l) => l.b.device === 'kexuehuitang')?.b.known).toBe(true);
    expect(v.proposals.devices.map((d) => d.id)).not.toContain('kexuehuitang');
    expect((await acceptLink(sweep, toNew)).status).toBe(201);

    const byProposal = await api(product.base, admin, `/api/v1/discovery/${sweep}/accept`, { method: 'POST', body: { proposed: 'procurve-6120xg-blade-switch', id: 'blade-sw-1' } });
    expect(byProposal).toMatchObject({ status: 201, body: { id: 'blade-sw-1', name: 'ProCurve 6120XG Blade Switch', kind: 'switch', labels: { discoveredBy: 'snmp-sweep' } } });
    expect((await api(product.base, admin, `/api/v1/discovery/${sweep}/accept`, { method: 'POST', body: { proposed: 'nobody-here', id: 'x-1' } })).body).toMatchObject({ error: { field: 'proposed' } });
    expect((await api(product.base, admin, `/api/v1/discovery/${sweep}/accept`, { method: 'POST', body: { address: '10.1.100.141', proposed: 'kexuehuitang', id: 'x-2' } })).body).toMatchObject({ error: { field: 'address' } });
    // Read again from the inventory: the accepted neighbour is known, the accepted cables are not proposed again.
    const { id } = (await api(product.base, admin, '/api/v1/discovery/neighbours', { method: 'POST', body: { devices: ['access-cat', 'core-nexus'], timeoutMs: 400 } })).body as { id: string };
    const fresh = await settled(id);
    expect(fresh.proposals.linksInInventory).toBe(3);
    expect(fresh.proposals.links.some((l) => l.b.device === 'kexuehuitang')).toBe(false);
    expect(fresh.proposals.devices.map((d) => d.id)).not.toContain('kexuehuitang');
    expect(fresh.proposals.devices.map((d) => d.id)).not.toContain('procurve-6120xg-blade-switch');
  }, 40_000);

  it('is for admins only', async () => {
    expect((await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'nbr-noc', role: 'noc', password: 'noc-password-77' } })).status).toBe(201);
    const noc = await login(product.base, 'nbr-noc', 'noc-password-77');
    expect((await api(product.base, noc, '/api/v1/discovery/neighbours', { method: 'POST', body: {} })).status).toBe(403);
    const link = { a: { device: 'core-nexus', interface: 'Ethernet1/22' }, b: { device: 'ca-5548-02', interface: 'Eth1/22' } };
    expect((await api(product.base, noc, `/api/v1/discovery/${sweep}/links/accept`, { method: 'POST', body: link })).status).toBe(403);
    expect((await inventoryLinks()).some((l) => l.a.interface === 'Ethernet1/22')).toBe(false);
    expect((await api(product.base, undefined, '/api/v1/discovery/neighbours', { method: 'POST', body: {} })).status).toBe(401);
  });

  it('the accepted links are in the inventory export (API and CLI), survive a restart, and go with a removed device', async () => {
    const yaml = await fetch(`${product.base}/api/v1/inventory/export?secrets=true`, { headers: { cookie: admin.cookie } });
    expect(yaml.status).toBe(200);
    const exported = Inventory.parse(parse(await yaml.text()) as unknown);
    expect(exported.links.map((l) => l.id)).toEqual(expect.arrayContaining(['lan-core-nexus-mgmt0--ca-5548-02-mgmt0', 'nexus-ca-e1-21', 'lan-access-cat-Gi0-50--kexuehuitang-GigabitEthernet0-1']));

    // The CLI reads the data directory (the inventory file, devices.json and links.json).
    const dir = mkdtempSync(join(tmpdir(), 'wf-nbr-cli-'));
    writeFileSync(join(dir, 'inventory.json'), JSON.stringify(inventory));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `dataDir: ${product.dataDir}\ninventory: inventory.json\n`);
    const out = await runCli(product.dataDir, ['inventory', 'export', '--config', config]);
    expect(out.code).toBe(0);
    const fromCli = Inventory.parse(parse(out.stdout) as unknown);
    expect(fromCli.links).toContainEqual({ id: 'nexus-ca-e1-21', kind: 'lan', a: { device: 'core-nexus', interface: 'Ethernet1/21' }, b: { device: 'ca-5548-02', interface: 'Eth1/21' }, label: 'discovered (LLDP, CDP)', bandwidthMbps: 10_000 });
    expect(fromCli.devices.map((d) => d.id)).toContain('kexuehuitang');

    await product.app.stop();
    product = await startProduct({ dataDir: product.dataDir, inventory });
    admin = await login(product.base);
    expect((await inventoryLinks()).map((l) => l.id)).toEqual(expect.arrayContaining(['lan-core-nexus-mgmt0--ca-5548-02-mgmt0', 'nexus-ca-e1-21', 'lan-access-cat-Gi0-50--kexuehuitang-GigabitEthernet0-1']));

    // A removed device takes its links along: an export naming it would not load.
    expect((await api(product.base, admin, '/api/v1/devices/kexuehuitang', { method: 'DELETE' })).status).toBe(200);
    expect((await inventoryLinks()).map((l) => l.id)).not.toContain('lan-access-cat-Gi0-50--kexuehuitang-GigabitEthernet0-1');
    const again = await runCli(product.dataDir, ['inventory', 'export', '--config', config]);
    expect(Inventory.parse(parse(again.stdout) as unknown).links.map((l) => l.id).sort()).toEqual(['lan-core-nexus-mgmt0--ca-5548-02-mgmt0', 'nexus-ca-e1-21', ...(smallInventory.links ?? []).map((l) => l.id)].sort());
  }, 90_000);
});
