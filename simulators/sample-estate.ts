/**
 * The bundled sample data center, built in code so the floor plan stays consistent (racks to
 * scale, aisles 1.2 m, every rack with its sensors, PDUs and cooling CRAC); the YAML in
 * config/sample-datacenter.yaml is this, written by config/generate-sample.ts.
 */
import { Document, visit, isPair, isScalar } from 'yaml';
import type { DeviceInput, InventoryInput, SensorPosition } from '../core/index.ts';
import type { Workload } from './cloud.ts';

const SITE = 'qnm-dc1';
const RACK_WIDTH = 0.6;
const RACK_DEPTH = 1.2;

/** One row of racks: a straight line west to east, its fronts all facing one way. */
interface RowPlan {
  room: string;
  row: string;
  racks: number;
  /** West edge of the first rack and the row's north edge, in metres on the room plan. */
  x: number;
  y: number;
  facing: 'north' | 'south';
  /** The CRAC that cools the rack at this position (1-based, from the west). */
  cracFor: (position: number) => string;
}

/** A CRAC against a wall, at the end of the cold aisle it feeds. */
interface CracPlan {
  id: string;
  room: string;
  x: number;
  y: number;
  name: string;
}

// Server room 1: rows A-D. A faces south and B north across a cold aisle (y 3.0-4.2); a hot
// aisle (y 5.4-6.6) behind B and C; C faces D across the second cold aisle (y 7.8-9.0).
// Server room 2: rows E and F across one cold aisle. Each cold aisle is fed from both ends.
const rows: RowPlan[] = [
  { room: 'sr1', row: 'A', racks: 6, x: 3.2, y: 1.8, facing: 'south', cracFor: (p) => (p <= 3 ? 'crac-1' : 'crac-2') },
  { room: 'sr1', row: 'B', racks: 6, x: 3.2, y: 4.2, facing: 'north', cracFor: (p) => (p <= 3 ? 'crac-1' : 'crac-2') },
  { room: 'sr1', row: 'C', racks: 6, x: 3.2, y: 6.6, facing: 'south', cracFor: (p) => (p <= 3 ? 'crac-3' : 'crac-4') },
  { room: 'sr1', row: 'D', racks: 6, x: 3.2, y: 9.0, facing: 'north', cracFor: (p) => (p <= 3 ? 'crac-3' : 'crac-4') },
  { room: 'sr2', row: 'E', racks: 5, x: 2.5, y: 1.8, facing: 'south', cracFor: (p) => (p <= 3 ? 'crac-5' : 'crac-6') },
  { room: 'sr2', row: 'F', racks: 5, x: 2.5, y: 4.2, facing: 'north', cracFor: (p) => (p <= 3 ? 'crac-5' : 'crac-6') },
];

const cracs: CracPlan[] = [
  { id: 'crac-1', room: 'sr1', x: 0.5, y: 3.6, name: 'CRAC 1 (server room 1, west wall, cold aisle A/B)' },
  { id: 'crac-2', room: 'sr1', x: 9.5, y: 3.6, name: 'CRAC 2 (server room 1, east wall, cold aisle A/B)' },
  { id: 'crac-3', room: 'sr1', x: 0.5, y: 8.4, name: 'CRAC 3 (server room 1, west wall, cold aisle C/D)' },
  { id: 'crac-4', room: 'sr1', x: 9.5, y: 8.4, name: 'CRAC 4 (server room 1, east wall, cold aisle C/D)' },
  { id: 'crac-5', room: 'sr2', x: 0.5, y: 3.6, name: 'CRAC 5 (server room 2, west wall)' },
  { id: 'crac-6', room: 'sr2', x: 7.5, y: 3.6, name: 'CRAC 6 (server room 2, east wall)' },
];

const positions: { position: SensorPosition; suffix: string; label: string }[] = [
  { position: 'front-top', suffix: 'ft', label: 'front top' },
  { position: 'front-middle', suffix: 'fm', label: 'front middle' },
  { position: 'front-bottom', suffix: 'fb', label: 'front bottom' },
  { position: 'rear', suffix: 'r', label: 'rear' },
];

/** Metres with centimetre precision, so 3.2 + 5 x 0.6 prints as 6.2 and not 6.200000000000001. */
const m = (v: number): number => Math.round(v * 100) / 100;
const rackId = (row: string, position: number): string => `${row.toLowerCase()}${String(position).padStart(2, '0')}`;

/** The sample estate as inventory input (defaults left to the schema). */
export function buildSampleInventory(): InventoryInput {
  const racks: NonNullable<InventoryInput['racks']> = [];
  const devices: DeviceInput[] = [];
  const links: NonNullable<InventoryInput['links']> = [];
  const access: NonNullable<InventoryInput['links']> = [];
  const add = (d: DeviceInput): void => void devices.push(d);

  // Cooling first: racks name their CRAC in cooledBy, and a leak sensor lies under each unit.
  for (const c of cracs) {
    add({ id: c.id, name: c.name, kind: 'crac', location: { room: c.room, x: c.x, y: c.y }, labels: { capacityKw: '60' } });
  }
  for (const c of cracs) {
    add({
      id: `leak-${c.id}`,
      name: `Water leak under ${c.id.toUpperCase()}`,
      kind: 'sensor',
      sensorType: 'water-leak',
      location: { room: c.room, x: c.x, y: c.y },
    });
  }

  // Power: a 2N UPS pair in the electrical room, each feeding one PDU in every rack.
  add({ id: 'ups-a', name: 'UPS A (200 kW, feed A)', kind: 'ups', location: { room: 'elec', x: 1.5, y: 1.5 }, labels: { capacityKw: '200', feed: 'A' } });
  add({ id: 'ups-b', name: 'UPS B (200 kW, feed B)', kind: 'ups', location: { room: 'elec', x: 4.5, y: 1.5 }, labels: { capacityKw: '200', feed: 'B' } });

  for (const r of rows) {
    for (let p = 1; p <= r.racks; p++) {
      const id = rackId(r.row, p);
      racks.push({ id, room: r.room, row: r.row, position: p, x: m(r.x + (p - 1) * RACK_WIDTH), y: r.y, facing: r.facing, cooledBy: [r.cracFor(p)] });
      for (const s of positions) {
        add({
          id: `s-${id}-${s.suffix}`,
          name: `Rack ${id.toUpperCase()} ${s.label}`,
          kind: 'sensor',
          sensorType: 'temperature-humidity',
          location: { rack: id, position: s.position },
        });
      }
      for (const feed of ['a', 'b'] as const) {
        add({
          id: `pdu-${id}-${feed}`,
          name: `Rack ${id.toUpperCase()} PDU ${feed.toUpperCase()}`,
          kind: 'pdu',
          location: { rack: id },
          parents: [`ups-${feed}`],
          labels: { feed: feed.toUpperCase() },
        });
      }
    }
  }

  // Physical security and fire: a door contact on every room and at the end of every row
  // (the aisle-containment door), one smoke detector per room.
  const rooms: NonNullable<InventoryInput['rooms']> = [
    { id: 'sr1', site: SITE, name: 'Server room 1 (main hall)', width: 10, depth: 12 },
    { id: 'sr2', site: SITE, name: 'Server room 2 (network and DR)', width: 8, depth: 7.2 },
    { id: 'elec', site: SITE, name: 'Electrical room (UPS and batteries)', serverRoom: false, width: 6, depth: 5 },
  ];
  const roomDoors: Record<string, [number, number]> = { sr1: [5, 11.9], sr2: [4, 7.1], elec: [3, 4.9] };
  for (const room of rooms) {
    const [x, y] = roomDoors[room.id] ?? [0, 0];
    add({ id: `door-${room.id}`, name: `${room.name} entrance door`, kind: 'sensor', sensorType: 'door', location: { room: room.id, x, y } });
    add({
      id: `smoke-${room.id}`,
      name: `${room.name} smoke detector`,
      kind: 'sensor',
      sensorType: 'smoke',
      location: { room: room.id, x: m(room.width / 2), y: m(room.depth / 2) },
    });
  }
  for (const r of rows) {
    add({
      id: `door-row-${r.row.toLowerCase()}`,
      name: `Row ${r.row} end door`,
      kind: 'sensor',
      sensorType: 'door',
      location: { room: r.room, x: m(r.x - 0.3), y: m(r.y + RACK_DEPTH / 2) },
    });
  }
  // The batteries age fast above 25 degC, so the electrical room has its own climate sensor.
  add({ id: 's-elec-th', name: 'Electrical room climate', kind: 'sensor', sensorType: 'temperature-humidity', location: { room: 'elec', x: 3, y: 2.5 } });

  // Network: edge router and firewall pair in row E (the network row), a core pair, an
  // end-of-row access switch for every row, and the SAN behind the private cloud.
  add({ id: 'edge-rtr-1', name: 'Edge router', kind: 'router', location: { rack: 'e01', u: 40, heightU: 2 } });
  add({ id: 'fw-1', name: 'Perimeter firewall 1', kind: 'firewall', location: { rack: 'e01', u: 37, heightU: 2 }, parents: ['edge-rtr-1'] });
  add({ id: 'fw-2', name: 'Perimeter firewall 2', kind: 'firewall', location: { rack: 'f01', u: 37, heightU: 2 }, parents: ['edge-rtr-1'] });
  add({ id: 'core-sw-1', name: 'Core switch 1', kind: 'switch', location: { rack: 'e01', u: 33, heightU: 2 }, parents: ['fw-1', 'fw-2'] });
  add({ id: 'core-sw-2', name: 'Core switch 2', kind: 'switch', location: { rack: 'f01', u: 33, heightU: 2 }, parents: ['fw-1', 'fw-2'] });
  rows.forEach((r, i) => {
    const id = `acc-sw-${r.row.toLowerCase()}`;
    add({ id, name: `Row ${r.row} access switch`, kind: 'switch', location: { rack: rackId(r.row, 1), u: 42 }, parents: ['core-sw-1', 'core-sw-2'] });
    access.push({ id: `lan-core-1-${id}`, kind: 'lan', a: { device: 'core-sw-1', interface: `Te1/0/${i + 1}` }, b: { device: id, interface: 'Te1/1/1' }, bandwidthMbps: 10000 });
    access.push({ id: `lan-core-2-${id}`, kind: 'lan', a: { device: 'core-sw-2', interface: `Te1/0/${i + 1}` }, b: { device: id, interface: 'Te1/1/2' }, bandwidthMbps: 10000 });
  });
  add({ id: 'san-1', name: 'SAN storage array', kind: 'storage', location: { rack: 'b01', u: 1, heightU: 4 }, parents: ['core-sw-1', 'core-sw-2'] });

  links.push(
    { id: 'inet-vnpt', kind: 'internet', a: { device: 'edge-rtr-1', interface: 'Gi0/0/0' }, b: { external: 'VNPT Internet' }, bandwidthMbps: 1000, label: 'Primary Internet' },
    { id: 'inet-viettel', kind: 'internet', a: { device: 'edge-rtr-1', interface: 'Gi0/0/1' }, b: { external: 'Viettel Internet' }, bandwidthMbps: 500, label: 'Backup Internet' },
    { id: 'wan-tslcd', kind: 'wan', a: { device: 'edge-rtr-1', interface: 'Gi0/0/2' }, b: { external: 'Government specialised data network (TSLCD)' }, bandwidthMbps: 1000, label: 'National government WAN' },
    { id: 'man-qnm', kind: 'man', a: { device: 'edge-rtr-1', interface: 'Te0/1/0' }, b: { external: 'Quảng Nam provincial MAN' }, bandwidthMbps: 10000, label: 'Departments, districts and communes' },
    { id: 'vpn-national-dc', kind: 'vpn', a: { device: 'fw-1', interface: 'tunnel1' }, b: { external: 'National Data Center (Hanoi)' }, bandwidthMbps: 200, label: 'IPsec to the national data-sharing platform' },
    { id: 'vpn-dr-site', kind: 'vpn', a: { device: 'fw-1', interface: 'tunnel2' }, b: { external: 'Disaster-recovery site' }, bandwidthMbps: 500, label: 'IPsec replication to the DR site' },
    { id: 'lan-rtr-fw-1', kind: 'lan', a: { device: 'edge-rtr-1', interface: 'Gi0/0/4' }, b: { device: 'fw-1', interface: 'eth1' }, bandwidthMbps: 10000 },
    { id: 'lan-rtr-fw-2', kind: 'lan', a: { device: 'edge-rtr-1', interface: 'Gi0/0/5' }, b: { device: 'fw-2', interface: 'eth1' }, bandwidthMbps: 10000 },
    { id: 'lan-fw-1-core-1', kind: 'lan', a: { device: 'fw-1', interface: 'eth2' }, b: { device: 'core-sw-1', interface: 'Te1/0/24' }, bandwidthMbps: 10000 },
    { id: 'lan-fw-2-core-2', kind: 'lan', a: { device: 'fw-2', interface: 'eth2' }, b: { device: 'core-sw-2', interface: 'Te1/0/24' }, bandwidthMbps: 10000 },
    { id: 'lan-core-isl', kind: 'lan', a: { device: 'core-sw-1', interface: 'Hu1/0/49' }, b: { device: 'core-sw-2', interface: 'Hu1/0/49' }, bandwidthMbps: 100000, label: 'Core inter-switch link' },
    { id: 'lan-san-core-1', kind: 'lan', a: { device: 'san-1', interface: 'ctrl-a' }, b: { device: 'core-sw-1', interface: 'Te1/0/20' }, bandwidthMbps: 10000 },
    { id: 'lan-san-core-2', kind: 'lan', a: { device: 'san-1', interface: 'ctrl-b' }, b: { device: 'core-sw-2', interface: 'Te1/0/20' }, bandwidthMbps: 10000 },
    ...access,
  );

  // The provincial private cloud: hypervisor hosts and the e-government systems they run. The
  // labels size them (logical CPUs, GB of RAM) and say when a VM is busy; the simulator's load
  // follows them (simulators/cloud.ts).
  const cloud = { site: SITE, area: 'private-cloud' };
  for (let h = 1; h <= 4; h++) {
    add({ id: `cloud-host-${h}`, name: `Hypervisor host ${h}`, kind: 'host', location: cloud, parents: ['core-sw-1', 'core-sw-2', 'san-1'], labels: { cpus: '32', memoryGb: '256' } });
  }
  const vms: [string, string, number, Workload, number, number][] = [
    ['vm-egov-portal-1', 'Provincial e-government portal (web 1)', 1, 'office', 16, 32],
    ['vm-egov-portal-2', 'Provincial e-government portal (web 2)', 2, 'office', 16, 32],
    ['vm-public-services', 'Online public services and one-stop-shop system', 1, 'office', 24, 64],
    ['vm-lgsp', 'Local government service platform (LGSP)', 2, 'office', 24, 48],
    ['vm-document-mgmt', 'Document management and e-office', 3, 'office', 24, 64],
    ['vm-mail', 'Official e-mail', 3, 'office', 16, 32],
    ['vm-db-1', 'Shared database server', 4, 'database', 24, 128],
    ['vm-siem', 'SIEM log collector', 4, 'steady', 16, 64],
  ];
  for (const [id, name, host, workload, vcpus, memoryGb] of vms) {
    add({ id, name, kind: 'vm', location: cloud, parents: [`cloud-host-${host}`], labels: { workload, vcpus: String(vcpus), memoryGb: String(memoryGb) } });
  }

  // IoT outside the server rooms; `environment: outdoor` tells the simulator to use tropical outdoor air.
  const outdoor = { environment: 'outdoor' };
  add({ id: 'iot-office-th-1', name: 'Office climate sensor (2nd floor)', kind: 'iot', sensorType: 'temperature-humidity', location: { site: SITE, area: 'office' } });
  add({ id: 'iot-noc-th-1', name: 'NOC/SOC operations room climate sensor', kind: 'iot', sensorType: 'temperature-humidity', location: { site: SITE, area: 'operations-room' } });
  add({ id: 'iot-weather-1', name: 'Rooftop weather station', kind: 'iot', sensorType: 'temperature-humidity', location: { site: SITE, area: 'roof' }, labels: outdoor });
  add({ id: 'iot-meter-main', name: 'Main incoming power meter', kind: 'iot', sensorType: 'power', location: { site: SITE, area: 'switchgear' } });
  add({ id: 'iot-gen-1', name: 'Diesel generator controller (500 kVA)', kind: 'iot', sensorType: 'other', location: { site: SITE, area: 'generator-yard' }, labels: outdoor });
  add({ id: 'iot-door-gen', name: 'Generator enclosure door', kind: 'iot', sensorType: 'door', location: { site: SITE, area: 'generator-yard' }, labels: outdoor });
  add({ id: 'iot-door-lobby', name: 'Lobby access-control door', kind: 'iot', sensorType: 'door', location: { site: SITE, area: 'lobby' } });
  add({ id: 'iot-cam-gate', name: 'Main gate camera', kind: 'iot', location: { site: SITE, area: 'gate' }, labels: outdoor });

  addSampleSnmp(devices);

  return {
    sites: [{ id: SITE, name: 'Quảng Nam provincial data center', timezone: 'Asia/Ho_Chi_Minh' }],
    rooms,
    racks,
    devices,
    links,
  };
}

/**
 * The sample's network, power, cooling and cloud gear answers SNMP on loopback, played by the agents
 * of simulators/snmp (startSnmpEstate) when `npm start` runs. Fixed UDP ports so the inventory stays
 * static data: 16100-16119 network (router, firewalls, switches), 16120-16129 UPS, 16130-16139
 * CRACs, 16140-16159 cloud (SAN, hypervisor hosts, VMs: Net-SNMP's HOST-RESOURCES-MIB), 16200-16299
 * PDUs in rack order. v2c with a read community per device; the firewalls show SNMPv3 authPriv
 * (SHA-256, AES). Sample credentials only: real gear has its own.
 */
export const SAMPLE_SNMP_PORTS = { network: 16100, ups: 16120, crac: 16130, cloud: 16140, pdu: 16200 } as const;

const CLOUD_KINDS = new Set<DeviceInput['kind']>(['storage', 'host', 'vm']);

function addSampleSnmp(devices: DeviceInput[]): void {
  const next: Record<keyof typeof SAMPLE_SNMP_PORTS, number> = { ...SAMPLE_SNMP_PORTS };
  const network = ['edge-rtr-1', 'fw-1', 'fw-2', 'core-sw-1', 'core-sw-2', ...devices.filter((d) => d.id.startsWith('acc-sw-')).map((d) => d.id)];
  const byId = new Map(devices.map((d) => [d.id, d]));
  for (const id of network) {
    const d = byId.get(id);
    if (!d) continue;
    const port = next.network++;
    d.snmp =
      d.kind === 'firewall'
        ? { host: '127.0.0.1', port, version: '3', v3: { user: `${id}-monitor`, authProtocol: 'sha256', authKey: `auth-${id}-sample`, privProtocol: 'aes', privKey: `priv-${id}-sample` }, intervalSeconds: 15 }
        : { host: '127.0.0.1', port, version: '2c', community: `${id}-ro`, intervalSeconds: 15 };
  }
  for (const d of devices) {
    if (d.kind !== 'ups' && d.kind !== 'crac' && d.kind !== 'pdu') continue;
    d.snmp = { host: '127.0.0.1', port: next[d.kind]++, version: '2c', community: `${d.id}-ro`, intervalSeconds: d.kind === 'pdu' ? 60 : 30 };
  }
  for (const d of devices) {
    if (CLOUD_KINDS.has(d.kind)) d.snmp = { host: '127.0.0.1', port: next.cloud++, version: '2c', community: `${d.id}-ro`, intervalSeconds: 30 };
  }
}

const HEADER = `Watchfloor sample data center: the Quảng Nam provincial e-government data center (qnm-dc1).
Server room 1 holds rows A-D (6 racks each), server room 2 rows E-F (5 racks each); racks
are 0.6 x 1.2 m, (x, y) is a rack's top-left corner in metres, aisles are 1.2 m wide, and
rows face each other across cold aisles. Each rack is cooled mainly by one CRAC (cooledBy).
The router, firewalls, switches, UPSes, CRACs, PDUs, the SAN, the hypervisor hosts and their
VMs answer SNMP on 127.0.0.1, UDP ports 16100-16299, played by the simulated agents that
\`npm start\` (start --simulate) runs.

GENERATED by config/generate-sample.ts; edit the generator, then run
  node bin/run-ts.js config/generate-sample.ts`;

/** Keys whose values print on one line: a device, rack or link each reads as one row. */
const FLOW_IN = new Set(['rooms', 'racks', 'devices', 'links']);

/** The sample as YAML text: one line per rack, device and link, with a header that says how it is made. */
export function sampleInventoryYaml(): string {
  const doc = new Document(buildSampleInventory(), { aliasDuplicateObjects: false });
  doc.commentBefore = HEADER.split('\n').map((l) => (l ? ` ${l}` : '')).join('\n');
  visit(doc, {
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && FLOW_IN.has(String(pair.key.value))) {
        visit(pair.value as Parameters<typeof visit>[0], {
          Map(_k, node, path) {
            // The list items themselves (and everything inside them) are flow collections.
            if (path.length >= 1) node.flow = true;
          },
          Seq(_k, node, path) {
            if (path.length >= 1) node.flow = true;
          },
        });
      }
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true });
}
