import { Router } from 'express';
import { z } from 'zod';
import { Device, DeviceKind, Id, Location, badRequest, conflict, notFound, redactDevice, type Estate } from '../../core/index.ts';
import { audit } from '../audit.ts';
import type { DiscoveryDoor, OpsContext } from '../deps.ts';
import { requireRole, route } from '../guards.ts';
import { parseInput } from '../validate.ts';

const Port = z.number().int().min(1).max(65535);
const Key = z.string().min(8, 'an SNMPv3 key has at least 8 characters').max(256);
const V3User = z.strictObject({
  user: z.string().min(1).max(128),
  authProtocol: z.enum(['sha', 'sha256', 'sha512', 'md5']).optional(),
  authKey: Key,
  privProtocol: z.enum(['aes', 'des', 'none']).optional(),
  privKey: Key.optional(),
});

/** POST /api/v1/discovery: the ranges (only these are swept) and the SNMP credentials to try, in order. */
export const DiscoveryBody = z.strictObject({
  cidrs: z.array(z.string().min(1).max(64)).min(1, 'give at least one range, e.g. "10.0.0.0/24"').max(64),
  snmp: z.strictObject({
    versions: z.array(z.enum(['1', '2c', '3'])).min(1).max(3),
    communities: z.array(z.string().min(1).max(128)).max(16).optional(),
    v3: z.array(V3User).max(16).optional(),
    /** The agents' UDP port (161 when absent). */
    port: Port.optional(),
    /** Per request; the config's discovery.timeoutMs when absent. */
    timeoutMs: z.number().int().min(50).max(30_000).optional(),
  }),
  /** More UDP ports to try SNMP on after snmp.port. */
  ports: z.array(Port).max(8).optional(),
  /** Needed for a range larger than a /16 (discovery.maxPrefixWithoutForce). */
  force: z.boolean().optional(),
});

/** POST /api/v1/discovery/{id}/accept: a found address registered as an inventory device (the admin names it and places it). */
export const AcceptBody = z.strictObject({
  address: z.string().min(1).max(64),
  id: Id,
  name: z.string().min(1).max(200).optional(),
  /** Where it stands; the inventory's first site when absent (move it to its rack later). */
  location: Location.optional(),
  kind: DeviceKind.optional(),
  parents: z.array(Id).max(16).optional(),
});

function unknownLocation(estate: Estate, d: Device): { field: string; id: string } | undefined {
  const loc = d.location;
  if ('rack' in loc && !estate.racks.has(loc.rack)) return { field: 'location.rack', id: loc.rack };
  if ('room' in loc && !estate.rooms.has(loc.room)) return { field: 'location.room', id: loc.room };
  if ('site' in loc && !estate.sites.has(loc.site)) return { field: 'location.site', id: loc.site };
  const i = d.parents.findIndex((p) => !estate.devices.has(p));
  if (i >= 0) return { field: `parents.${i}`, id: d.parents[i] as string };
  return undefined;
}

/** Network discovery: admins start, read, cancel sweeps and accept what they found; nothing found is applied by itself. */
export function discoveryRoutes(discovery: DiscoveryDoor, ctx: OpsContext): Router {
  const r = Router();
  r.get('/discovery', requireRole('admin'), (_req, res) => {
    res.json(discovery.list());
  });
  r.post(
    '/discovery',
    requireRole('admin'),
    route((req, res) => {
      const body = parseInput(DiscoveryBody, req.body, 'body');
      const { id } = discovery.start(body, req.session?.username ?? '-');
      // Which ranges and versions, never a community or key.
      audit(req, { action: 'discovery.start', target: id, detail: { cidrs: body.cidrs, versions: body.snmp.versions, force: body.force === true } });
      res.status(202).location(`/api/v1/discovery/${id}`).json({ id });
    }),
  );
  r.get('/discovery/:id', requireRole('admin'), (req, res) => {
    const view = discovery.get(String(req.params.id));
    if (!view) throw notFound(`discovery sweep "${req.params.id}"`);
    res.json(view);
  });
  r.delete('/discovery/:id', requireRole('admin'), (req, res) => {
    const id = String(req.params.id);
    if (!discovery.cancel(id)) throw notFound(`discovery sweep "${id}"`);
    audit(req, { action: 'discovery.cancel', target: id });
    res.json(discovery.get(id) ?? { id, state: 'cancelled' });
  });
  r.post(
    '/discovery/:id/accept',
    requireRole('admin'),
    route(async (req, res) => {
      const sweep = String(req.params.id);
      if (!discovery.get(sweep)) throw notFound(`discovery sweep "${sweep}"`);
      const body = parseInput(AcceptBody, req.body, 'body');
      const found = discovery.candidate(sweep, body.address);
      if (!found) throw badRequest('address', `address: ${body.address} was neither found nor heard of as a neighbour in sweep ${sweep}`);
      if (ctx.estate.devices.has(body.id)) throw conflict(`device "${body.id}" already exists`);
      const site = ctx.estate.inventory.sites[0]?.id as string;
      const kind = body.kind ?? found.kind;
      const device = parseInput(
        Device,
        {
          id: body.id,
          name: body.name ?? found.name,
          kind,
          ...(kind === 'sensor' && found.sensorType ? { sensorType: found.sensorType } : {}),
          location: body.location ?? { site },
          parents: body.parents ?? [],
          labels: { discoveredBy: 'snmp-sweep', discoveredAddress: body.address },
          ...(found.snmp ? { snmp: found.snmp } : {}),
        },
        'body',
      );
      const missing = unknownLocation(ctx.estate, device);
      if (missing) throw badRequest(missing.field, `${missing.field}: unknown "${missing.id}"`);
      await ctx.registerDevice(device, undefined);
      audit(req, { action: 'discovery.accept', target: device.id, detail: { sweep, address: body.address, kind: device.kind, snmp: device.snmp?.version ?? null } });
      res.status(201).json({ ...redactDevice(device), tags: ctx.estate.tagsOf(device.id) });
    }),
  );
  return r;
}
