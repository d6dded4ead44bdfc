import { Router } from 'express';
import { z } from 'zod';
import { Device, badRequest, conflict, notFound, redactDevice, type Estate } from '../../core/index.ts';
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
});
/** A device as GET /devices, /devices/{id} and /inventory answer it. */
export const PublicDevice = z.looseObject({ id: z.string(), kind: z.string(), snmp: PublicDeviceSnmp.optional() });

/** Why a registered device would dangle: a rack, room, site or parent the inventory does not have. */
function unknownReference(estate: Estate, d: Device): { field: string; id: string } | undefined {
  const loc = d.location;
  if ('rack' in loc && !estate.racks.has(loc.rack)) return { field: 'location.rack', id: loc.rack };
  if ('room' in loc && !estate.rooms.has(loc.room)) return { field: 'location.room', id: loc.room };
  if ('site' in loc && !estate.sites.has(loc.site)) return { field: 'location.site', id: loc.site };
  const i = d.parents.findIndex((p) => !estate.devices.has(p));
  if (i >= 0) return { field: `parents.${i}`, id: d.parents[i] as string };
  return undefined;
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
      const { mqtt, ...device } = parseInput(RegisterDevice, req.body, 'body');
      if (ctx.estate.devices.has(device.id)) throw conflict(`device "${device.id}" already exists`);
      const missing = unknownReference(ctx.estate, device);
      if (missing) throw badRequest(missing.field, `${missing.field}: unknown "${missing.id}"`);
      await ctx.registerDevice(device, mqtt?.password);
      audit(req, { action: 'device.register', target: device.id, detail: { kind: device.kind, mqtt: mqtt !== undefined } });
      res.status(201).json({ ...redactDevice(device), tags: ctx.estate.tagsOf(device.id) });
    }),
  );

  return r;
}
