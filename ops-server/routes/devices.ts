import { Router } from 'express';
import { z } from 'zod';
import { Device, WatchfloorError, badRequest, conflict, notFound, redactDevice, resolveDeviceSnmp, unknownSnmpProfile, wfError, type Estate } from '../../core/index.ts';
import type { SeriesDeletion } from '../../store/index.ts';
import { audit } from '../audit.ts';
import type { OpsContext } from '../deps.ts';
import { requireRole, route } from '../guards.ts';
import { parseInput } from '../validate.ts';

export const RegisterDevice = Device.extend({ mqtt: z.strictObject({ password: z.string().min(8, 'at least 8 characters').max(256) }).optional() });

/**
 * A device's SNMP block as every answer shows it: the community and v3 keys are write-only, so an
 * answer says only whether each is set (`communitySet`, `v3.authKeySet`, `v3.privKeySet`).
 */
export const PublicDeviceSnmp = z.object({
  host: z.string(),
  port: z.number().int(),
  version: z.enum(['1', '2c', '3']),
  communitySet: z.boolean().describe('a v1/v2c community is configured (its value is never shown)'),
  v3: z
    .object({
      user: z.string(),
      authProtocol: z.enum(['sha', 'sha256', 'sha512', 'md5']),
      privProtocol: z.enum(['aes', 'des', 'none']),
      authKeySet: z.boolean().describe('an authentication key is configured (never shown)'),
      privKeySet: z.boolean().describe('a privacy key is configured (never shown)'),
    })
    .optional(),
  intervalSeconds: z.number().int(),
  profile: z.string().optional(),
  credentials: z.string().optional().describe('the inventory\'s snmpProfiles entry the credentials come from'),
});
/** A device as GET /devices, /devices/{id} and /inventory answer it. */
export const PublicDevice = z.looseObject({ id: z.string(), kind: z.string(), snmp: PublicDeviceSnmp.optional() });

/** Why a registered device would dangle: a rack, room, site or parent the inventory (or `alsoKnown`, an import's batch) does not have. */
export function unknownReference(estate: Estate, d: Device, alsoKnown: ReadonlySet<string> = new Set()): { field: string; message: string } | undefined {
  const loc = d.location;
  if ('rack' in loc && !estate.racks.has(loc.rack)) return { field: 'location.rack', message: `unknown rack "${loc.rack}"` };
  if ('room' in loc && !estate.rooms.has(loc.room)) return { field: 'location.room', message: `unknown room "${loc.room}"` };
  if ('site' in loc && !estate.sites.has(loc.site)) return { field: 'location.site', message: `unknown site "${loc.site}"` };
  const i = d.parents.findIndex((p) => !estate.devices.has(p) && !alsoKnown.has(p));
  if (i >= 0) return { field: `parents.${i}`, message: `unknown parent device "${d.parents[i]}"` };
  const profile = unknownSnmpProfile(d.snmp, estate.inventory.snmpProfiles);
  if (profile) return { field: `snmp.${profile.field}`, message: profile.message };
  return undefined;
}

/** A device body parsed against the inventory: its SNMP credential profile resolved, its references checked; 400 naming the field. */
function parseDevice(estate: Estate, body: unknown): z.infer<typeof RegisterDevice> {
  const parsed = parseInput(RegisterDevice, resolveDeviceSnmp(body, estate.inventory.snmpProfiles), 'body');
  const missing = unknownReference(estate, parsed);
  if (missing) throw badRequest(missing.field, `${missing.field}: ${missing.message}`);
  return parsed;
}

/** An RFC 7396 JSON merge patch: `null` removes a key, objects merge, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export const DeleteDeviceQuery = z.strictObject({
  dropSeries: z
    .enum(['true', 'false'])
    .default('false')
    .describe('true: also delete its series and their points in every tier (and InfluxDB\'s copy with store: influxdb); false: they are kept and age out with retention. On a device already removed, true deletes the series it left.'),
});

/** The answer's account of a deletion: counts as the store gives them. */
const deletionOf = (d: SeriesDeletion): Record<string, number> => ({ series: d.series, ...(d.points !== undefined ? { points: d.points } : {}), ...(d.rollupRows !== undefined ? { rollupRows: d.rollupRows } : {}) });

/**
 * Devices of the inventory file are its to change (the file is the source of truth, and it wins over
 * devices.json at start): PUT, PATCH and DELETE answer 409 for them. Devices added over the API are
 * changed in devices.json.
 */
function apiDevice(ctx: OpsContext, id: string): Device {
  const d = ctx.estate.devices.get(id);
  if (!d) throw notFound(`device "${id}"`);
  if (ctx.estate.inventory.devices.some((f) => f.id === id))
    throw conflict(`device "${id}" comes from the inventory file, the source of truth: change it there (watchfloor inventory export writes the running inventory back as YAML) and restart`);
  return d;
}

/** The inventory and its devices, never their SNMP secrets; registering a device is for admins. */
export function deviceRoutes(ctx: OpsContext): Router {
  const r = Router();
  r.get('/inventory', (_req, res) => {
    const inv = ctx.estate.inventory;
    res.json({ sites: inv.sites, rooms: inv.rooms, racks: inv.racks, devices: [...ctx.estate.devices.values()].map(redactDevice), links: inv.links });
  });
  r.get('/devices', (_req, res) => {
    res.json([...ctx.estate.devices.values()].map((d) => ({ ...redactDevice(d), tags: ctx.estate.tagsOf(d.id), presence: ctx.presence(d.id) ?? null })));
  });
  r.get('/devices/:id', (req, res) => {
    const d = ctx.estate.devices.get(String(req.params.id));
    if (!d) throw notFound(`device "${req.params.id}"`);
    res.json({ ...redactDevice(d), tags: ctx.estate.tagsOf(d.id), presence: ctx.presence(d.id) ?? null, latest: ctx.latest({ device: d.id }) });
  });
  r.post(
    '/devices',
    requireRole('admin'),
    route(async (req, res) => {
      const { mqtt, ...device } = parseDevice(ctx.estate, req.body);
      if (ctx.estate.devices.has(device.id)) throw conflict(`device "${device.id}" already exists`);
      await ctx.registerDevice(device, mqtt?.password);
      audit(req, { action: 'device.register', target: device.id, detail: { kind: device.kind, mqtt: mqtt !== undefined } });
      res.status(201).json({ ...redactDevice(device), tags: ctx.estate.tagsOf(device.id) });
    }),
  );

  const replace = async (req: Parameters<typeof audit>[0], id: string, body: unknown, action: string): Promise<Device> => {
    const previous = apiDevice(ctx, id);
    if (!ctx.updateDevice) throw wfError('UNAVAILABLE', 'devices cannot be changed in this deployment');
    const bodyId = (body as { id?: unknown } | undefined)?.id;
    if (bodyId !== undefined && bodyId !== id) throw badRequest('id', `id: the body's id "${String(bodyId)}" is not the path's "${id}" (a device is not renamed; remove it and add the new one)`);
    const { mqtt, ...device } = parseDevice(ctx.estate, { ...(body as object), id });
    if (device.parents.includes(id)) throw badRequest('parents', `parents: device "${id}" cannot be its own parent`);
    await ctx.updateDevice(device);
    if (mqtt) await ctx.mqttAccounts?.setDevicePassword(id, mqtt.password);
    audit(req, { action, target: id, detail: { kind: device.kind, was: previous.kind, mqtt: mqtt !== undefined } });
    return device;
  };
  // PUT: the whole device again (its SNMP secrets too: answers never show them, so a PUT without them removes them).
  r.put(
    '/devices/:id',
    requireRole('admin'),
    route(async (req, res) => {
      const device = await replace(req, String(req.params.id), req.body, 'device.replace');
      res.json({ ...redactDevice(device), tags: ctx.estate.tagsOf(device.id) });
    }),
  );
  // PATCH: an RFC 7396 merge patch over the stored device (secrets kept unless the patch sets them); an `snmp` naming a credential profile is taken whole.
  r.patch(
    '/devices/:id',
    requireRole('admin'),
    route(async (req, res) => {
      const id = String(req.params.id);
      const previous = apiDevice(ctx, id);
      const patch = req.body as { snmp?: { profile?: unknown; credentials?: unknown } } | undefined;
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw badRequest('(body)', '(body): a JSON merge patch is an object');
      const profiles = ctx.estate.inventory.snmpProfiles;
      const namesProfile = (v: unknown): boolean => typeof v === 'string' && Object.hasOwn(profiles, v);
      const base = patch.snmp && (namesProfile(patch.snmp.credentials) || namesProfile(patch.snmp.profile)) ? { ...previous, snmp: undefined } : previous;
      const device = await replace(req, id, mergePatch(JSON.parse(JSON.stringify(base)), patch), 'device.patch');
      res.json({ ...redactDevice(device), tags: ctx.estate.tagsOf(device.id) });
    }),
  );
  r.delete(
    '/devices/:id',
    requireRole('admin'),
    route(async (req, res) => {
      const id = String(req.params.id);
      const drop = parseInput(DeleteDeviceQuery, req.query, 'query').dropSeries === 'true';
      const store = ctx.timeseries;
      // Refused before anything is removed when the store cannot delete: never half done.
      if (drop && !store?.deleteSeries) throw badRequest('dropSeries', 'dropSeries: this deployment\'s time-series store cannot delete series; remove the device without it, and its series age out with the store\'s retention');
      const deleteSeries = async (): Promise<SeriesDeletion> => {
        if (!store?.deleteSeries) throw wfError('UNAVAILABLE', 'the time-series store cannot delete series');
        return store.deleteSeries({ device: id });
      };
      if (drop && !ctx.estate.devices.has(id) && (store?.series({ device: id }).length ?? 0) > 0) {
        // A device removed before, or whose series deletion failed after its removal: its series can still go.
        const deleted = await deleteSeries();
        audit(req, { action: 'device.series.delete', target: id, detail: deletionOf(deleted) });
        res.json({ id, removed: false, seriesKept: false, seriesDeleted: deletionOf(deleted) });
        return;
      }
      apiDevice(ctx, id);
      const children = [...ctx.estate.devices.values()].filter((d) => d.parents.includes(id)).map((d) => d.id);
      if (children.length > 0) throw conflict(`device "${id}" is the parent of ${children.join(', ')}: change or remove those first`);
      if (!ctx.removeDevice) throw wfError('UNAVAILABLE', 'devices cannot be removed in this deployment');
      // Removed first, so ingest refuses its points (an unknown device) and none arrives after the delete.
      await ctx.removeDevice(id);
      if (!drop) {
        audit(req, { action: 'device.remove', target: id, detail: { seriesKept: true } });
        res.json({ id, removed: true, seriesKept: true });
        return;
      }
      let deleted: SeriesDeletion;
      try {
        deleted = await deleteSeries();
      } catch (err) {
        audit(req, { action: 'device.remove', target: id, detail: { seriesKept: true, seriesError: (err as Error).message } });
        const e = err instanceof WatchfloorError ? err : wfError('STORE_WRITE', (err as Error).message);
        throw new WatchfloorError(e.code, `device "${id}" was removed, but its series were not deleted: ${e.message}. DELETE /api/v1/devices/${id}?dropSeries=true again deletes them.`, e.status);
      }
      audit(req, { action: 'device.remove', target: id, detail: { seriesKept: false, ...deletionOf(deleted) } });
      res.json({ id, removed: true, seriesKept: false, seriesDeleted: deletionOf(deleted) });
    }),
  );

  return r;
}
