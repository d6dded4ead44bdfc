import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Inventory, type InventoryInput } from '../core/index.ts';
import { parseCsvRecords } from '../ops-server/inventory-csv.ts';
import { runCli } from './support/cli.ts';
import { api, login, smallInventory, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';

const inventory: InventoryInput = { ...smallInventory, snmpProfiles: { 'lab-v2': { version: '2c', community: 'lab-community-7f3a' } } };
const NETBOX = readFileSync(join(import.meta.dirname, 'fixtures', 'netbox', 'export.json'), 'utf8');

interface Diff {
  dryRun: boolean;
  format: string;
  added: { id: string; kind: string; snmp?: { credentials?: string; communitySet: boolean }; location: Record<string, unknown> }[];
  changed: { id: string; fields: string[] }[];
  unchanged: string[];
  errors: { row?: number; column?: string; object?: string; field?: string; message: string }[];
  links: { added: { id: string; a: { device: string; interface?: string }; b: { device: string; interface?: string } }[]; unchanged: string[] };
  applied?: { added: number; changed: number };
}

/** POSTs an import body as the CLI or a script would: CSV as text/csv, a NetBox export as JSON. */
async function importBody(base: string, session: LoggedIn, body: string, query: string, type = 'text/csv'): Promise<{ status: number; body: Diff }> {
  const res = await fetch(`${base}/api/v1/inventory/import${query}`, {
    method: 'POST',
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, 'content-type': type },
    body,
  });
  return { status: res.status, body: (await res.json()) as Diff };
}

const GOOD_CSV = [
  'id,name,kind,rack,u,heightU,room,x,y,parents,snmp_host,snmp_port,snmp_profile,addresses,labels',
  'imp-sw-1,Import switch 1,switch,A01,30,1,,,,,127.0.0.1,9,lab-v2,10.9.0.1,team=net;tier=access',
  // A quoted name with a comma, a device on the room's plan with a parent from the same file.
  'imp-srv-1,"Server, rack-less",server,,,,room-1,1.5,2,imp-sw-1,,,,"10.9.0.5;10.9.0.6",',
  // Exactly as the inventory file has it: unchanged.
  'crac-1,,crac,,,,room-1,0.5,4,,,,,,',
].join('\r\n');

describe('inventory import and export over HTTP', () => {
  let p: StartedProduct;
  let admin: LoggedIn;
  beforeAll(async () => {
    p = await startProduct({ inventory });
    admin = await login(p.base);
  });
  afterAll(async () => {
    await p?.app.stop();
  });

  it('parses RFC 4180 records: quotes, doubled quotes, CRLF and line breaks in a cell', () => {
    const recs = parseCsvRecords('a,b\r\n"x, y","say ""hi"""\n"two\nlines",z\n');
    expect(recs.map((r) => r.cells)).toEqual([['a', 'b'], ['x, y', 'say "hi"'], ['two\nlines', 'z']]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 3]);
  });

  it('a CSV dry run answers the diff and changes nothing', async () => {
    const r = await importBody(p.base, admin, GOOD_CSV, '');
    expect(r.status).toBe(200);
    expect(r.body.dryRun).toBe(true);
    expect(r.body.errors).toEqual([]);
    expect(r.body.added.map((d) => d.id).sort()).toEqual(['imp-srv-1', 'imp-sw-1']);
    const sw = r.body.added.find((d) => d.id === 'imp-sw-1');
    // The credential profile is resolved (its community is set, never shown).
    expect(sw?.snmp).toMatchObject({ credentials: 'lab-v2', communitySet: true });
    expect(JSON.stringify(r.body)).not.toContain('lab-community-7f3a');
    expect(r.body.unchanged).toEqual(['crac-1']);
    expect((await api(p.base, admin, '/api/v1/devices/imp-sw-1')).status).toBe(404);
  });

  it('errors name the row and the column, and an apply with errors applies nothing', async () => {
    const csv = [
      'id,kind,rack,u,position,room,x,y,snmp_host,snmp_profile,parents',
      'bad-kind,toaster,A01,5,,,,,,,',
      'bad-u,switch,A01,abc,,,,,,,',
      'bad-rack,switch,Z99,5,,,,,,,',
      'bad-profile,switch,A01,6,,,,,127.0.0.1,no-such-profile,',
      'bad-parent,server,A01,7,,,,,,,ghost-1',
      'bad-place,server,,,,,,,,,',
      'ok-1,server,A01,8,,,,,,,',
      'ok-1,server,A01,9,,,,,,,',
    ].join('\n');
    const r = await importBody(p.base, admin, csv, '?dryRun=true');
    expect(r.status).toBe(200);
    const at = (row: number): { column?: string; message: string } | undefined => r.body.errors.find((e) => e.row === row);
    expect(at(2)).toMatchObject({ column: 'kind' });
    expect(at(3)).toMatchObject({ column: 'u' });
    expect(at(4)?.column).toBe('rack');
    expect(at(4)?.message).toContain('Z99');
    expect(at(5)?.column).toBe('snmp_profile');
    expect(at(5)?.message).toContain('lab-v2');
    expect(at(6)?.column).toBe('parents');
    expect(at(7)?.column).toBe('rack');
    expect(at(9)?.column).toBe('id');
    expect(at(9)?.message).toContain('row 8');
    expect(r.body.added.map((d) => d.id)).toEqual(['ok-1']);

    const applied = await importBody(p.base, admin, csv, '?dryRun=false');
    expect(applied.status).toBe(400);
    expect(applied.body.applied).toBeUndefined();
    expect((await api(p.base, admin, '/api/v1/devices/ok-1')).status).toBe(404);

    const header = await importBody(p.base, admin, 'id,kind,colour\nx,switch,red\n', '');
    expect(header.body.errors[0]).toMatchObject({ row: 1, column: 'colour' });
  });

  it('applies a CSV through the device routes: registered, persisted, polled, audited', async () => {
    const r = await importBody(p.base, admin, GOOD_CSV, '?dryRun=false');
    expect(r.status).toBe(200);
    expect(r.body.applied).toEqual({ added: 2, changed: 0 });
    const sw = await api(p.base, admin, '/api/v1/devices/imp-sw-1');
    expect(sw.status).toBe(200);
    expect(sw.body).toMatchObject({ name: 'Import switch 1', location: { rack: 'A01', u: 30, heightU: 1 }, labels: { team: 'net', tier: 'access' }, addresses: ['10.9.0.1'] });
    const srv = await api(p.base, admin, '/api/v1/devices/imp-srv-1');
    expect(srv.body).toMatchObject({ name: 'Server, rack-less', parents: ['imp-sw-1'], location: { room: 'room-1', x: 1.5, y: 2 }, addresses: ['10.9.0.5', '10.9.0.6'] });
    // The poller took the device with the profile's credentials.
    expect(p.app.snmp.poller.devices).toContain('imp-sw-1');
    expect(p.app.estate.devices.get('imp-sw-1')?.snmp?.community).toBe('lab-community-7f3a');
    // devices.json names the profile instead of repeating its community.
    const persisted = JSON.parse(readFileSync(join(p.dataDir, 'devices.json'), 'utf8')) as { id: string; snmp?: { community?: string; credentials?: string } }[];
    expect(persisted.find((d) => d.id === 'imp-sw-1')?.snmp).toEqual({ host: '127.0.0.1', port: 9, credentials: 'lab-v2', intervalSeconds: 60 });
    const audit = await api(p.base, admin, '/api/v1/audit?action=inventory.import');
    expect(JSON.stringify(audit.body)).toContain('imp-srv-1');

    // The same file again: nothing to do; a changed name is a change of that field only.
    const again = await importBody(p.base, admin, GOOD_CSV, '');
    expect(again.body.unchanged.sort()).toEqual(['crac-1', 'imp-srv-1', 'imp-sw-1']);
    const renamed = GOOD_CSV.replace('Import switch 1', 'Import switch one');
    const changed = await importBody(p.base, admin, renamed, '');
    expect(changed.body.changed).toEqual([{ id: 'imp-sw-1', fields: ['name'], device: expect.objectContaining({ id: 'imp-sw-1' }) }]);
    expect((await importBody(p.base, admin, renamed, '?dryRun=false')).body.applied).toEqual({ added: 0, changed: 1 });
    expect((await api(p.base, admin, '/api/v1/devices/imp-sw-1')).body).toMatchObject({ name: 'Import switch one' });

    // A device of the inventory file is the file's to change.
    const fileDevice = await importBody(p.base, admin, 'id,kind,room,x,y\ncrac-1,crac,room-1,3,3\n', '');
    expect(fileDevice.body.errors[0]).toMatchObject({ row: 2, column: 'id' });
    expect(fileDevice.body.errors[0]?.message).toContain('inventory file');
  });

  it('a NetBox export: devices with rack and position, interfaces and cables as links; errors name the object and field', async () => {
    const r = await importBody(p.base, admin, NETBOX, '?snmpProfile=lab-v2', 'application/json');
    expect(r.status).toBe(200);
    expect(r.body.format).toBe('netbox');
    expect(r.body.errors).toEqual([]);
    expect(r.body.added.map((d) => d.id).sort()).toEqual(['nb-db-01', 'nb-tor-a01', 'nb-web-01']);
    expect(r.body.added.find((d) => d.id === 'nb-tor-a01')).toMatchObject({ kind: 'switch', location: { rack: 'A01', u: 40, heightU: 1 }, snmp: { credentials: 'lab-v2' } });
    expect(r.body.added.find((d) => d.id === 'nb-web-01')).toMatchObject({ kind: 'server', location: { rack: 'A01', u: 10, heightU: 2 } });
    expect(r.body.links.added).toEqual([
      { id: 'netbox-cable-501', kind: 'lan', a: { device: 'nb-tor-a01', interface: 'GigabitEthernet1/0/1' }, b: { device: 'nb-web-01', interface: 'eno1' }, label: 'A01-01' },
      { id: 'netbox-cable-502', kind: 'lan', a: { device: 'nb-tor-a01', interface: 'GigabitEthernet1/0/2' }, b: { device: 'nb-db-01', interface: 'eno1' } },
    ]);

    const bad = JSON.parse(NETBOX) as { devices: { results: Record<string, unknown>[] } };
    const [first] = bad.devices.results;
    bad.devices.results.push(
      { ...first, id: 90, name: 'nb-patch-1', role: { id: 9, name: 'Patch Panel', slug: 'patch-panel' } },
      { ...first, id: 91, name: 'nb-b07-sw', rack: { id: 8, name: 'B07', display: 'B07' } },
      { ...first, id: 92, name: null },
    );
    const withErrors = await importBody(p.base, admin, JSON.stringify(bad), '', 'text/plain');
    expect(withErrors.body.errors).toEqual(expect.arrayContaining([
      expect.objectContaining({ object: 'dcim.devices id=90 "nb-patch-1"', field: 'role' }),
      expect.objectContaining({ object: 'dcim.devices id=91 "nb-b07-sw"', field: 'rack' }),
      expect.objectContaining({ object: 'dcim.devices id=92', field: 'name' }),
    ]));
    expect((await importBody(p.base, admin, JSON.stringify(bad), '?dryRun=false', 'text/plain')).status).toBe(400);

    const applied = await importBody(p.base, admin, NETBOX, '?dryRun=false&snmpProfile=lab-v2', 'application/json');
    expect(applied.body.applied).toEqual({ added: 3, changed: 0 });
    expect((await api(p.base, admin, '/api/v1/devices/nb-web-01')).body).toMatchObject({ name: 'nb-web 01', addresses: ['10.20.0.21'] });
  });

  it('exports the running inventory as YAML that loads back to the same inventory', async () => {
    // By default the secrets are left out, as from every answer of the API.
    const bare = await fetch(`${p.base}/api/v1/inventory/export`, { headers: { cookie: admin.cookie } });
    const bareText = await bare.text();
    expect(bareText).not.toContain('lab-community-7f3a');
    expect(bareText).toContain('left out');
    const res = await fetch(`${p.base}/api/v1/inventory/export?secrets=true`, { headers: { cookie: admin.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('yaml');
    const text = await res.text();
    const reloaded = Inventory.parse(parse(text));
    const running = p.app.estate;
    expect(reloaded.devices).toEqual([...running.devices.values()]);
    expect(reloaded.devices.map((d) => d.id)).toEqual(expect.arrayContaining(['imp-sw-1', 'nb-web-01', 'crac-1']));
    expect(reloaded.snmpProfiles).toEqual(running.inventory.snmpProfiles);
    expect({ ...reloaded, devices: [] }).toEqual({ ...running.inventory, devices: [] });
    // The profile's credentials are named, not repeated on every device.
    expect(text).toContain('credentials: lab-v2');
    expect(text.split('lab-community-7f3a').length - 1).toBe(1);
    // Only admins export (it holds secrets).
    await api(p.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'imp-noc', role: 'noc', password: 'noc-password-123' } });
    const noc = await login(p.base, 'imp-noc', 'noc-password-123');
    expect((await api(p.base, noc, '/api/v1/inventory/export')).status).toBe(403);
    expect((await importBody(p.base, noc, GOOD_CSV, '')).status).toBe(403);
  });
});

describe('watchfloor inventory (CLI)', () => {
  it('import dry run, --apply on the data directory, export --out that loads back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-inv-cli-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(join(dir, 'inventory.json'), JSON.stringify(inventory));
    writeFileSync(config, `dataDir: ${join(dir, 'data')}\ninventory: inventory.json\n`);
    const csv = join(dir, 'devices.csv');
    writeFileSync(csv, GOOD_CSV);
    const data = join(dir, 'data');

    const dry = await runCli(data, ['inventory', 'import', csv, '--config', config]);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('2 added, 0 changed, 1 unchanged, 0 errors');
    expect(dry.stdout).toContain('dry run');

    const applied = await runCli(data, ['inventory', 'import', csv, '--config', config, '--apply']);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('applied: 2 added');

    const out = join(dir, 'exported.yaml');
    const exported = await runCli(data, ['inventory', 'export', '--config', config, '--out', out]);
    expect(exported.code).toBe(0);
    const reloaded = Inventory.parse(parse(readFileSync(out, 'utf8')));
    expect(reloaded.devices.map((d) => d.id)).toEqual([...(smallInventory.devices ?? []).map((d) => d.id), 'imp-sw-1', 'imp-srv-1']);

    const removed = await runCli(data, ['inventory', 'remove', 'imp-srv-1', '--config', config]);
    expect(removed.code).toBe(0);
    const refused = await runCli(data, ['inventory', 'remove', 'crac-1', '--config', config]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('inventory file');
  }, 120_000);
});
