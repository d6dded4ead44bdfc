/*
 * The NetBox import format: the REST API's own answers saved in one JSON object,
 * `{sites, racks, devices, interfaces?, cables?, device_types?}`, each either a list answer
 * (`{count, next, previous, results: [...]}`, as GET /api/dcim/devices/?limit=0 gives it) or its
 * `results` array. Devices keep NetBox's name (made an id), role (-> kind), site, rack and position
 * (-> U); cables between two interfaces become LAN links. Racks and sites must already be in the
 * inventory: a Watchfloor rack has a place on a room's floor plan, which NetBox does not hold.
 */
import type { ImportOptions, ImportSource, ParsedImport } from './inventory-import.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);

/** A NetBox role slug (or name) to a Watchfloor kind: the first of these words it contains. */
const KIND_WORDS: readonly [string, string][] = [
  ['firewall', 'firewall'], ['router', 'router'], ['switch', 'switch'], ['storage', 'storage'], ['san', 'storage'], ['nas', 'storage'],
  ['ups', 'ups'], ['pdu', 'pdu'], ['crac', 'crac'], ['cooling', 'crac'], ['sensor', 'sensor'], ['server', 'server'], ['hypervisor', 'server'],
  ['workstation', 'workstation'], ['desktop', 'workstation'], ['laptop', 'workstation'], ['pc', 'workstation'], ['vm', 'vm'], ['iot', 'iot'],
];

/** A NetBox name as a Watchfloor id (an MQTT topic level): runs of other characters become "-". */
export function netboxId(name: string): string {
  return name.trim().replace(/[^A-Za-z0-9_.:-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').replace(/-+$/, '');
}

/** A list answer's objects, or the array itself; undefined when the key is absent. */
function listOf(json: Obj, key: string): Obj[] | undefined {
  const v = json[key];
  if (v === undefined) return undefined;
  const list = isObj(v) && Array.isArray(v.results) ? v.results : v;
  return Array.isArray(list) ? list.filter(isObj) : [];
}

const label = (endpoint: string, o: Obj): string => `dcim.${endpoint} id=${String(o.id ?? '?')}${str(o.name) ? ` "${String(o.name)}"` : ''}`;

/** Which NetBox field a device field came from. */
function fieldOf(path: readonly (string | number)[]): string {
  const [head, sub] = path;
  if (head === 'location') return sub === 'u' ? 'position' : sub === 'heightU' ? 'device_type.u_height' : sub === 'rack' ? 'rack' : 'site';
  if (head === 'snmp' || head === 'addresses') return 'primary_ip4';
  if (head === 'kind') return 'role';
  if (head === 'id') return 'name';
  return path.join('.');
}

/** The address of a NetBox IP address object without its prefix length ("10.0.0.1/24" -> "10.0.0.1"). */
const hostOf = (ip: unknown): string | undefined => (isObj(ip) ? str(ip.address)?.split('/')[0] : undefined);

/** Reads a NetBox export into raw devices and links (validated by the planner) and the errors of its own shape. */
export function parseNetboxImport(json: unknown, options: ImportOptions = {}): ParsedImport {
  const out: ParsedImport = { devices: [], links: [], errors: [] };
  if (!isObj(json)) {
    out.errors.push({ object: '(file)', field: '(root)', message: 'a NetBox export is an object {sites, racks, devices, interfaces, cables}' });
    return out;
  }
  const devices = listOf(json, 'devices');
  if (!devices) {
    out.errors.push({ object: '(file)', field: 'devices', message: 'no "devices" (the answer of GET /api/dcim/devices/)' });
    return out;
  }
  const heights = new Map((listOf(json, 'device_types') ?? []).map((t) => [t.id, num(t.u_height)]));
  const netboxDevice = new Map<unknown, string>();
  for (const d of devices) {
    const object = label('devices', d);
    const source: ImportSource = { object };
    const name = str(d.name);
    if (!name) {
      out.errors.push({ object, field: 'name', message: 'an unnamed NetBox device cannot be imported (the name becomes its id)' });
      continue;
    }
    const role = isObj(d.role) ? d.role : isObj(d.device_role) ? d.device_role : undefined;
    const roleWords = `${str(role?.slug) ?? ''} ${str(role?.name) ?? ''}`.toLowerCase();
    const kind = KIND_WORDS.find(([w]) => new RegExp(`(^|[^a-z])${w}([^a-z]|$)`).test(roleWords))?.[1];
    if (!kind) {
      out.errors.push({ object, field: 'role', message: `role "${str(role?.slug) ?? '(none)'}" maps to no Watchfloor kind (a role slug with one of: ${[...new Set(KIND_WORDS.map(([w]) => w))].join(', ')})` });
      continue;
    }
    const id = netboxId(name);
    netboxDevice.set(d.id, id);
    const rack = isObj(d.rack) ? str(d.rack.name) : undefined;
    const site = isObj(d.site) ? (str(d.site.slug) ?? str(d.site.name)) : undefined;
    const position = num(d.position);
    const heightU = isObj(d.device_type) ? heights.get(d.device_type.id) : undefined;
    const location = rack
      ? { rack: netboxId(rack), ...(position !== undefined ? { u: Math.floor(position) } : {}), ...(heightU ? { heightU } : {}) }
      : site ? { site } : undefined;
    if (!location) {
      out.errors.push({ object, field: 'site', message: 'a device needs a site or a rack' });
      continue;
    }
    const addresses = [hostOf(d.primary_ip4), hostOf(d.primary_ip6)].filter((a): a is string => a !== undefined);
    const host = hostOf(d.primary_ip4) ?? hostOf(d.primary_ip6);
    const raw: Obj = { id, kind, location, ...(id !== name ? { name } : {}), ...(addresses.length > 0 ? { addresses } : {}) };
    if (options.snmpProfile && host) raw.snmp = { host, profile: options.snmpProfile };
    out.devices.push({ source, raw, locate: (path) => ({ object, field: fieldOf(path) }) });
  }

  const interfaces = new Map((listOf(json, 'interfaces') ?? []).map((i) => [i.id, i]));
  for (const c of listOf(json, 'cables') ?? []) {
    const object = label('cables', c);
    const end = (side: 'a' | 'b'): { device: string; interface?: string } | string => {
      // NetBox 3.3+: a_terminations [{object_type, object_id, object}]; before: termination_a_type, termination_a.
      const terms = Array.isArray(c[`${side}_terminations`])
        ? (c[`${side}_terminations`] as unknown[]).filter(isObj)
        : isObj(c[`termination_${side}`]) ? [{ object_type: c[`termination_${side}_type`], object_id: (c[`termination_${side}`] as Obj).id, object: c[`termination_${side}`] }] : [];
      const t = terms.find((x) => x.object_type === 'dcim.interface');
      if (!t) return `${side}_terminations: no interface at this end (only interface-to-interface cables become links)`;
      const iface = isObj(t.object) ? t.object : interfaces.get(t.object_id);
      const nbDevice = isObj(iface?.device) ? iface.device.id : undefined;
      const device = netboxDevice.get(nbDevice);
      if (!device) return `${side}_terminations: interface ${String(t.object_id)} is on no imported device`;
      const name = str(iface?.name);
      return { device, ...(name ? { interface: name } : {}) };
    };
    const a = end('a');
    const b = end('b');
    for (const e of [a, b]) if (typeof e === 'string') out.errors.push({ object, field: e.split(':')[0], message: e });
    if (typeof a === 'string' || typeof b === 'string') continue;
    out.links.push({ source: { object }, raw: { id: `netbox-cable-${String(c.id)}`, kind: 'lan', a, b, ...(str(c.label) ? { label: c.label } : {}) } });
  }
  return out;
}
