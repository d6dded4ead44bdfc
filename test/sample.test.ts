import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, Inventory, bundledConfigDir, readDataFile, type Device } from '../core/index.ts';
import { sampleInventoryYaml } from '../simulators/index.ts';

const sampleFile = resolve(bundledConfigDir, 'sample-datacenter.yaml');
const inv = readDataFile(sampleFile, Inventory);
const serverRooms = inv.rooms.filter((r) => r.serverRoom);
const devices = (pred: (d: Device) => boolean): Device[] => inv.devices.filter(pred);
const sensorsOf = (type: string): Device[] => devices((d) => d.kind === 'sensor' && d.sensorType === type);
const roomOf = (d: Device): string | undefined => ('room' in d.location ? d.location.room : undefined);

describe('the bundled sample data center', () => {
  it('is what config/generate-sample.ts writes', () => {
    expect(readFileSync(sampleFile, 'utf8')).toBe(sampleInventoryYaml());
  });

  it('has one site in Vietnam and at least 20 racks in at least two server rooms', () => {
    expect(inv.sites).toEqual([expect.objectContaining({ id: 'qnm-dc1', timezone: 'Asia/Ho_Chi_Minh' })]);
    expect(serverRooms.length).toBeGreaterThanOrEqual(2);
    expect(inv.racks.length).toBeGreaterThanOrEqual(20);
    for (const room of serverRooms) expect(inv.racks.some((r) => r.room === room.id)).toBe(true);
  });

  it('places racks in hot/cold-aisle rows: facing rows meet across a 1.2 m cold aisle, their backs across a hot aisle', () => {
    const rows = new Map<string, typeof inv.racks>();
    for (const r of inv.racks) rows.set(`${r.room}/${r.row}`, [...(rows.get(`${r.room}/${r.row}`) ?? []), r]);
    for (const racks of rows.values()) {
      // A row is straight, one way, and its racks stand side by side.
      expect(new Set(racks.map((r) => r.facing)).size).toBe(1);
      expect(new Set(racks.map((r) => r.y)).size).toBe(1);
      const xs = racks.map((r) => r.x).sort((a, b) => a - b);
      xs.slice(1).forEach((x, i) => expect(x - xs[i]!).toBeCloseTo(0.6, 5));
    }
    for (const rack of inv.racks) {
      // The next rack down the plan (y grows southwards) in the same column.
      const next = inv.racks
        .filter((r) => r.room === rack.room && Math.abs(r.x - rack.x) < 1e-9 && r.y > rack.y)
        .sort((a, b) => a.y - b.y)[0];
      if (rack.facing === 'south') {
        // Front to front across the cold aisle.
        expect(next?.facing, `rack across the cold aisle from ${rack.id}`).toBe('north');
      } else if (next) {
        // Back to back across the hot aisle.
        expect(next.facing, `rack across the hot aisle from ${rack.id}`).toBe('south');
      } else continue;
      expect(next!.y - (rack.y + rack.depth)).toBeCloseTo(1.2, 5);
    }
  });

  it('gives every rack temperature-humidity sensors at front top, middle, bottom and rear', () => {
    for (const rack of inv.racks) {
      const positions = sensorsOf('temperature-humidity')
        .map((d) => d.location)
        .filter((l) => 'rack' in l && l.rack === rack.id)
        .map((l) => ('position' in l ? l.position : undefined))
        .sort();
      expect(positions, rack.id).toEqual(['front-bottom', 'front-middle', 'front-top', 'rear']);
    }
    expect(sensorsOf('temperature-humidity').map((d) => d.id)).toContain('s-a01-ft');
  });

  it('has a door contact and a smoke detector in every room and a door contact on every row', () => {
    for (const room of inv.rooms) {
      expect(sensorsOf('door').some((d) => roomOf(d) === room.id), `door in ${room.id}`).toBe(true);
      expect(sensorsOf('smoke').some((d) => roomOf(d) === room.id), `smoke in ${room.id}`).toBe(true);
    }
    const rows = new Set(inv.racks.map((r) => r.row));
    for (const row of rows) expect(sensorsOf('door').some((d) => d.id === `door-row-${row.toLowerCase()}`), `door on row ${row}`).toBe(true);
  });

  it('cools every rack from an existing CRAC, each CRAC cooling a group, with a leak sensor under every CRAC', () => {
    const cracs = devices((d) => d.kind === 'crac');
    expect(cracs.length).toBeGreaterThanOrEqual(4);
    const cracIds = new Set(cracs.map((c) => c.id));
    for (const rack of inv.racks) {
      expect(rack.cooledBy.length, rack.id).toBeGreaterThanOrEqual(1);
      for (const c of rack.cooledBy) expect(cracIds.has(c), `${rack.id} cooled by ${c}`).toBe(true);
      // The CRAC is in the rack's room.
      for (const c of rack.cooledBy) expect(roomOf(cracs.find((d) => d.id === c)!)).toBe(rack.room);
    }
    for (const crac of cracs) {
      expect(inv.racks.filter((r) => r.cooledBy.includes(crac.id)).length, crac.id).toBeGreaterThanOrEqual(2);
      const leak = sensorsOf('water-leak').find((d) => 'room' in d.location && 'room' in crac.location && d.location.room === crac.location.room && d.location.x === crac.location.x && d.location.y === crac.location.y);
      expect(leak, `leak sensor under ${crac.id}`).toBeDefined();
    }
  });

  it('has UPS-fed PDUs in every rack, core and access switches, a router and a firewall', () => {
    const ups = new Set(devices((d) => d.kind === 'ups').map((d) => d.id));
    expect(ups.size).toBeGreaterThanOrEqual(1);
    for (const rack of inv.racks) {
      const pdus = devices((d) => d.kind === 'pdu' && 'rack' in d.location && d.location.rack === rack.id);
      expect(pdus.length, rack.id).toBeGreaterThanOrEqual(1);
      for (const p of pdus) expect(p.parents.some((x) => ups.has(x))).toBe(true);
    }
    expect(devices((d) => d.kind === 'switch' && d.id.startsWith('core-')).length).toBe(2);
    expect(devices((d) => d.kind === 'switch' && d.id.startsWith('acc-')).length).toBeGreaterThanOrEqual(2);
    expect(devices((d) => d.kind === 'router').length).toBeGreaterThanOrEqual(1);
    expect(devices((d) => d.kind === 'firewall').length).toBeGreaterThanOrEqual(1);
  });

  it('has WAN, MAN, Internet and VPN links to external peers and a LAN', () => {
    for (const kind of ['wan', 'man', 'internet', 'vpn'] as const) {
      const links = inv.links.filter((l) => l.kind === kind);
      expect(links.length, kind).toBeGreaterThanOrEqual(1);
      for (const l of links) expect(l.a.external ?? l.b.external, l.id).toBeTruthy();
    }
    expect(inv.links.filter((l) => l.kind === 'lan').length).toBeGreaterThanOrEqual(4);
  });

  it('has cloud hosts running VMs, and IoT devices outside the server rooms', () => {
    const hosts = new Set(devices((d) => d.kind === 'host').map((d) => d.id));
    expect(hosts.size).toBeGreaterThanOrEqual(2);
    const vms = devices((d) => d.kind === 'vm');
    expect(vms.length).toBeGreaterThanOrEqual(3);
    for (const vm of vms) expect(vm.parents.some((p) => hosts.has(p)), vm.id).toBe(true);
    const iot = devices((d) => d.kind === 'iot');
    expect(iot.length).toBeGreaterThanOrEqual(3);
    const serverRoomIds = new Set(serverRooms.map((r) => r.id));
    for (const d of iot) expect('site' in d.location || !serverRoomIds.has(roomOf(d) ?? ''), d.id).toBe(true);
  });

  it('answers SNMP on loopback with a port and a community of its own per device, the SAN, hosts and VMs every 30 s on 16140-16159', () => {
    const polled = devices((d) => d.snmp !== undefined);
    expect(polled).toHaveLength(100);
    for (const d of polled) expect(d.snmp!.host, d.id).toBe('127.0.0.1');
    expect(new Set(polled.map((d) => d.snmp!.port)).size).toBe(polled.length);
    const communities = polled.filter((d) => d.snmp!.version !== '3').map((d) => d.snmp!.community);
    expect(new Set(communities).size).toBe(communities.length);
    const cloud = devices((d) => d.kind === 'storage' || d.kind === 'host' || d.kind === 'vm');
    expect(cloud).toHaveLength(13);
    for (const d of cloud) {
      expect(d.snmp, d.id).toMatchObject({ version: '2c', community: `${d.id}-ro`, intervalSeconds: 30 });
      expect(d.snmp!.port, d.id).toBeGreaterThanOrEqual(16140);
      expect(d.snmp!.port, d.id).toBeLessThanOrEqual(16159);
    }
  });
});

describe('a broken copy of the sample', () => {
  const dir = mkdtempSync(join(tmpdir(), 'watchfloor-sample-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const broken = (edit: (raw: { racks: Record<string, unknown>[]; devices: Record<string, unknown>[] }) => void): string => {
    const raw = parse(readFileSync(sampleFile, 'utf8'));
    edit(raw);
    const file = join(dir, `broken-${Math.random().toString(16).slice(2)}.yaml`);
    writeFileSync(file, stringify(raw));
    return file;
  };
  const issuesOf = (file: string): string[] => {
    try {
      readDataFile(file, Inventory);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain(file);
      return (err as ConfigError).issues;
    }
    throw new Error('the broken inventory validated');
  };

  it('names the path of a rack in an unknown room', () => {
    const file = broken((raw) => void (raw.racks[3]!.room = 'sr9'));
    expect(issuesOf(file)).toContain('racks.3.room: unknown room "sr9"');
  });

  it('names the path of a device with a bad kind', () => {
    const file = broken((raw) => void (raw.devices[5]!.kind = 'toaster'));
    expect(issuesOf(file).some((l) => l.startsWith('devices.5.kind:'))).toBe(true);
  });

  it('names the path of a rack cooled by a CRAC that does not exist', () => {
    const file = broken((raw) => void (raw.racks[0]!.cooledBy = ['crac-99']));
    expect(issuesOf(file)).toContain('racks.0.cooledBy.0: unknown device "crac-99"');
  });
});
