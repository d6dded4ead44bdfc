import { z } from 'zod';
import { resolveSnmpProfiles, unknownSnmpProfile } from './snmp-profiles.ts';

export { compactDeviceSnmp, resolveDeviceSnmp, unknownSnmpProfile } from './snmp-profiles.ts';

/** Identifiers double as MQTT topic levels, so they may not hold `/`, `+`, `#` or spaces. */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'use letters, digits, "-", "_", "." or ":" (it is an MQTT topic level)');

export const DeviceKind = z.enum(['switch', 'router', 'firewall', 'server', 'storage', 'ups', 'pdu', 'crac', 'sensor', 'iot', 'host', 'vm', 'workstation']);
export type DeviceKind = z.infer<typeof DeviceKind>;

/** `enduser` and `server`: the offices' PCs and servers (end-user IT), e.g. registered by their line protocol agents. */
export const Layer = z.enum(['datacenter', 'network', 'cloud', 'iot', 'endpoint', 'enduser', 'server']);
export type Layer = z.infer<typeof Layer>;

/** Where a rack sensor sits: three heights on the front (cold aisle, the inlet) and the rear (hot aisle, the exhaust). */
export const SensorPosition = z.enum(['front-top', 'front-middle', 'front-bottom', 'rear']);
export type SensorPosition = z.infer<typeof SensorPosition>;

export const SensorType = z.enum(['temperature-humidity', 'door', 'smoke', 'water-leak', 'power', 'other']);
export type SensorType = z.infer<typeof SensorType>;

export const LinkKind = z.enum(['wan', 'man', 'lan', 'vpn', 'internet']);
export type LinkKind = z.infer<typeof LinkKind>;

/** The side of the rack its front (air inlet) faces on the floor plan; y grows downwards. */
export const Facing = z.enum(['north', 'south', 'east', 'west']);
export type Facing = z.infer<typeof Facing>;

export const Site = z.strictObject({
  id: Id,
  name: z.string().min(1),
  timezone: z.string().default('UTC'),
});
export type Site = z.infer<typeof Site>;

/** A room with a floor plan in metres: x across (width), y down (depth). */
export const Room = z.strictObject({
  id: Id,
  site: Id,
  name: z.string().min(1),
  serverRoom: z.boolean().default(true),
  width: z.number().positive().max(1000),
  depth: z.number().positive().max(1000),
});
export type Room = z.infer<typeof Room>;

/** A rack placed on a room's plan: (x, y) is its top-left corner in metres. */
export const Rack = z.strictObject({
  id: Id,
  room: Id,
  row: z.string().min(1),
  position: z.number().int().positive(),
  x: z.number().nonnegative(),
  y: z.number().nonnegative(),
  width: z.number().positive().default(0.6),
  depth: z.number().positive().default(1.2),
  heightU: z.number().int().positive().max(60).default(42),
  facing: Facing,
  /** The CRAC units whose air this rack breathes; a failed CRAC warms these racks first. */
  cooledBy: z.array(Id).default([]),
});
export type Rack = z.infer<typeof Rack>;

export const RackLocation = z.strictObject({
  rack: Id,
  u: z.number().int().positive().max(60).optional(),
  heightU: z.number().int().positive().max(60).optional(),
  position: SensorPosition.optional(),
});
export const PlanLocation = z.strictObject({ room: Id, x: z.number().nonnegative(), y: z.number().nonnegative() });
export const SiteLocation = z.strictObject({ site: Id, area: z.string().optional() });
/** Rack and U (or sensor position), x/y on a room's plan, or somewhere on a site outside the rooms (cloud, IoT). */
export const Location = z.union([RackLocation, PlanLocation, SiteLocation]);
export type Location = z.infer<typeof Location>;

/** SNMPv3's user-based security model (RFC 3414) as a device or a credential profile states it. */
export const SnmpV3 = z.strictObject({
  user: z.string().min(1),
  authProtocol: z.enum(['sha', 'sha256', 'sha512', 'md5']).default('sha'),
  authKey: z.string().min(8, 'an SNMPv3 key has at least 8 characters'),
  privProtocol: z.enum(['aes', 'des', 'none']).default('aes'),
  privKey: z.string().min(8, 'an SNMPv3 key has at least 8 characters').optional(),
});

/**
 * Credentials defined once in the inventory's `snmpProfiles` and named by devices (`snmp: {host,
 * profile: "core-v3"}` or `credentials: "core-v3"`); a device's own keys win over the profile's.
 */
export const SnmpCredentialProfile = z.strictObject({
  version: z.enum(['1', '2c', '3']).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  community: z.string().min(1).optional(),
  v3: SnmpV3.optional(),
  intervalSeconds: z.number().int().min(1).max(86_400).optional(),
});
export type SnmpCredentialProfile = z.infer<typeof SnmpCredentialProfile>;

/** How to reach a device over SNMP (RFC 3411-3418); the poller's defaults live in collectors/snmp. */
export const DeviceSnmp = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(161),
  version: z.enum(['1', '2c', '3']).default('2c'),
  community: z.string().min(1).optional(),
  v3: SnmpV3.optional(),
  intervalSeconds: z.number().int().min(1).max(86_400).default(60),
  /** A poll profile name (collectors/snmp/profiles.yaml); otherwise matched by sysObjectID. Naming an `snmpProfiles` entry, it is read as `credentials`. */
  profile: z.string().min(1).optional(),
  /** The inventory's `snmpProfiles` entry these credentials were resolved from (core/snmp-profiles.ts). */
  credentials: Id.optional(),
}).refine((s) => s.version !== '3' || s.v3 !== undefined, { path: ['v3'], message: 'SNMPv3 needs a v3 block {user, authKey, ...}' });
export type DeviceSnmp = z.infer<typeof DeviceSnmp>;

export const Device = z.strictObject({
  id: Id,
  name: z.string().min(1).optional(),
  kind: DeviceKind,
  layer: Layer.optional(),
  sensorType: SensorType.optional(),
  location: Location,
  parents: z.array(Id).default([]),
  labels: z.record(z.string(), z.string()).default({}),
  snmp: DeviceSnmp.optional(),
  /** The addresses the device sends from (syslog): a sender is mapped to the device by these first, then by hostname. */
  addresses: z.array(z.string().min(1).max(64)).max(64).optional(),
  /**
   * How often the device reports when all is well, in seconds: a battery sensor that wakes every
   * 5 minutes says 300. No-data rules with `intervals` wait that many of these before calling it
   * offline. Default: the SNMP poll interval for a polled device, else its kind's (EXPECTED_INTERVAL_SECONDS).
   */
  expectedIntervalSeconds: z.number().int().min(1).max(7 * 86_400).optional(),
});
export type Device = z.infer<typeof Device>;
export type DeviceInput = z.input<typeof Device>;

export const LinkEnd = z.strictObject({
  device: Id.optional(),
  interface: z.string().optional(),
  /** A peer outside the inventory: the ISP, a partner network, "Internet". */
  external: z.string().optional(),
});
export const Link = z.strictObject({
  id: Id,
  kind: LinkKind,
  a: LinkEnd,
  b: LinkEnd,
  bandwidthMbps: z.number().positive().optional(),
  label: z.string().optional(),
});
export type Link = z.infer<typeof Link>;

/** Epoch ms, an ISO 8601 date-time, or a YAML timestamp. */
const WindowTime = z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)), z.date().transform((d) => d.getTime())]);
/** A maintenance window (epoch ms or ISO 8601): the service is silenced and the time is left out of its availability. */
export const MaintenanceWindow = z.strictObject({
  id: z.string().min(1).max(64).optional(),
  from: WindowTime,
  to: WindowTime,
  reason: z.string().max(500).optional(),
}).refine((w) => w.to > w.from, { path: ['to'], message: 'a window ends after it starts' });
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>;

/** A service (issue 16); each check is checked in full by rules/services against collectors/checks' schemas. */
export const ServiceSpec = z.strictObject({
  id: Id,
  name: z.string().min(1).max(200),
  owner: z.string().min(1).max(200).optional(),
  checks: z.array(z.looseObject({ type: z.string().min(1) })).max(50).default([]),
  /** Device or link ids the service runs on. */
  dependsOn: z.array(Id).max(100).default([]),
  public: z.boolean().default(false),
  slo: z.strictObject({ availabilityPct: z.number().gt(0).lt(100), windowDays: z.number().int().min(1).max(366).default(30) }).optional(),
  maintenance: z.array(MaintenanceWindow).max(500).default([]),
  /** The only words of the estate the public status page shows for this service. */
  publicMessage: z.string().max(2000).optional(),
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;

/** The estate: sites, rooms with plans, racks, devices and the links between them, and the SNMP credential profiles devices name. */
const InventoryObject = z
  .strictObject({
    sites: z.array(Site).min(1),
    rooms: z.array(Room).default([]),
    racks: z.array(Rack).default([]),
    devices: z.array(Device).default([]),
    links: z.array(Link).default([]),
    services: z.array(ServiceSpec).default([]),
    snmpProfiles: z.record(Id, SnmpCredentialProfile).default({}),
  })
  .superRefine((inv, ctx) => {
    const ids = (list: { id: string }[], key: string): Set<string> => {
      const seen = new Set<string>();
      list.forEach((item, i) => {
        if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate id "${item.id}"` });
        seen.add(item.id);
      });
      return seen;
    };
    const sites = ids(inv.sites, 'sites');
    const rooms = ids(inv.rooms, 'rooms');
    const racks = ids(inv.racks, 'racks');
    const devices = ids(inv.devices, 'devices');
    const missing = (path: (string | number)[], what: string, id: string): void =>
      ctx.addIssue({ code: 'custom', path, message: `unknown ${what} "${id}"` });

    inv.rooms.forEach((r, i) => sites.has(r.site) || missing(['rooms', i, 'site'], 'site', r.site));
    const roomById = new Map(inv.rooms.map((r) => [r.id, r]));
    inv.racks.forEach((r, i) => {
      const room = roomById.get(r.room);
      r.cooledBy.forEach((c, j) => devices.has(c) || missing(['racks', i, 'cooledBy', j], 'device', c));
      if (!room) return missing(['racks', i, 'room'], 'room', r.room);
      if (r.x + r.width > room.width || r.y + r.depth > room.depth)
        ctx.addIssue({ code: 'custom', path: ['racks', i], message: `rack "${r.id}" lies outside room "${room.id}" (${room.width} x ${room.depth} m)` });
    });
    inv.devices.forEach((d, i) => {
      const loc = d.location;
      if ('rack' in loc) {
        if (!racks.has(loc.rack)) missing(['devices', i, 'location', 'rack'], 'rack', loc.rack);
      } else if ('room' in loc) {
        if (!rooms.has(loc.room)) missing(['devices', i, 'location', 'room'], 'room', loc.room);
      } else if (!sites.has(loc.site)) missing(['devices', i, 'location', 'site'], 'site', loc.site);
      d.parents.forEach((p, j) => {
        if (!devices.has(p)) missing(['devices', i, 'parents', j], 'parent device', p);
      });
      const unknownProfile = unknownSnmpProfile(d.snmp, inv.snmpProfiles);
      if (unknownProfile) ctx.addIssue({ code: 'custom', path: ['devices', i, 'snmp', unknownProfile.field], message: unknownProfile.message });
    });
    inv.links.forEach((l, i) => {
      for (const end of ['a', 'b'] as const) {
        const e = l[end];
        if (!e.device && !e.external)
          ctx.addIssue({ code: 'custom', path: ['links', i, end], message: 'a link end names a device or an external peer' });
        if (e.device && !devices.has(e.device)) missing(['links', i, end, 'device'], 'device', e.device);
      }
    });
    const links = new Set(inv.links.map((l) => l.id));
    ids(inv.services, 'services');
    inv.services.forEach((s, i) =>
      s.dependsOn.forEach((d, j) => devices.has(d) || links.has(d) || missing(['services', i, 'dependsOn', j], 'device or link', d)),
    );
  });
export type InventoryInput = z.input<typeof InventoryObject>;
/** The inventory file's schema: each device's SNMP credential profile is resolved (core/snmp-profiles.ts) before the devices are read. */
export const Inventory = z.preprocess<unknown, typeof InventoryObject, InventoryInput>(resolveSnmpProfiles, InventoryObject);
export type Inventory = z.infer<typeof Inventory>;

/**
 * The reporting interval assumed for a device that states none, by kind: network and power gear,
 * CRACs and servers are polled or report about every minute; sensors and IoT devices are often on
 * batteries and wake every few minutes (a LoRaWAN or Zigbee sensor's usual 5).
 */
export const EXPECTED_INTERVAL_SECONDS: Record<DeviceKind, number> = {
  switch: 60, router: 60, firewall: 60, server: 60, storage: 60, ups: 60, pdu: 60, crac: 60,
  sensor: 300, iot: 300, host: 60, vm: 60, workstation: 60,
};

/** A device's reporting interval in seconds, and whether the inventory states it (else it is the default for its kind or poll). */
export function expectedIntervalOf(device: Device): { seconds: number; stated: boolean } {
  if (device.expectedIntervalSeconds !== undefined) return { seconds: device.expectedIntervalSeconds, stated: true };
  return { seconds: device.snmp?.intervalSeconds ?? EXPECTED_INTERVAL_SECONDS[device.kind], stated: false };
}

/** The labels every point and alert of a device carries, derived from where it is in the estate. */
export type DeviceTags = Record<string, string>;

const layerOfKind: Record<DeviceKind, Layer> = {
  switch: 'network', router: 'network', firewall: 'network', server: 'datacenter', storage: 'datacenter',
  ups: 'datacenter', pdu: 'datacenter', crac: 'datacenter', sensor: 'datacenter', iot: 'iot', host: 'cloud', vm: 'cloud', workstation: 'enduser',
};

/** An inventory with its look-ups built once: devices by id and each device's tags. */
export class Estate {
  readonly devices = new Map<string, Device>();
  readonly racks = new Map<string, Rack>();
  readonly rooms = new Map<string, Room>();
  readonly sites = new Map<string, Site>();
  private readonly tags = new Map<string, DeviceTags>();

  constructor(readonly inventory: Inventory) {
    for (const s of inventory.sites) this.sites.set(s.id, s);
    for (const r of inventory.rooms) this.rooms.set(r.id, r);
    for (const r of inventory.racks) this.racks.set(r.id, r);
    for (const d of inventory.devices) this.add(d);
  }

  /** Adds or replaces a device (registered through the API); its references must already exist. */
  add(device: Device): void {
    this.devices.set(device.id, device);
    this.tags.set(device.id, this.computeTags(device));
  }

  /** Removes a device (DELETE /api/v1/devices/{id}); false when there was none. */
  remove(deviceId: string): boolean {
    this.tags.delete(deviceId);
    return this.devices.delete(deviceId);
  }

  /** Adds a link to the running inventory (an accepted discovery proposal, or one kept from before a restart); its devices must exist. */
  addLink(link: Link): void {
    this.inventory.links.push(link);
  }

  /** Removes the links that name a device (it is being removed) and answers them. */
  removeLinksOf(deviceId: string): Link[] {
    const gone = this.inventory.links.filter((l) => l.a.device === deviceId || l.b.device === deviceId);
    if (gone.length > 0) this.inventory.links.splice(0, this.inventory.links.length, ...this.inventory.links.filter((l) => !gone.includes(l)));
    return gone;
  }

  layerOf(device: Device): Layer {
    return device.layer ?? layerOfKind[device.kind];
  }

  tagsOf(deviceId: string): DeviceTags | undefined {
    return this.tags.get(deviceId);
  }

  private computeTags(d: Device): DeviceTags {
    const t: DeviceTags = { device: d.id, kind: d.kind, layer: this.layerOf(d) };
    if (d.sensorType) t.sensorType = d.sensorType;
    const loc = d.location;
    if ('rack' in loc) {
      const rack = this.racks.get(loc.rack);
      t.rack = loc.rack;
      if (rack) {
        t.row = rack.row;
        t.room = rack.room;
      }
      if (loc.position) {
        t.position = loc.position;
        t.aisle = loc.position === 'rear' ? 'hot' : 'cold';
      }
    } else if ('room' in loc) {
      t.room = loc.room;
    } else {
      t.site = loc.site;
      if (loc.area) t.area = loc.area;
    }
    if (t.room) {
      const room = this.rooms.get(t.room);
      if (room) t.site = room.site;
    }
    return { ...d.labels, ...t };
  }
}
