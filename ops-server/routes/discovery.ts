import { Router } from 'express';
import { z } from 'zod';
import { Device, DeviceKind, Id, Link, Location, badRequest, conflict, notFound, redactDevice, wfError, type Estate } from '../../core/index.ts';
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

/** POST /api/v1/discovery/neighbours: the inventory's SNMP devices (all, or those named) asked for their LLDP/CDP neighbours, each with its own credentials. */
export const NeighboursBody = z.strictObject({
  /** Inventory device ids; every device with an `snmp` block when absent. */
  devices: z.array(Id).max(10_000).optional(),
  /** Per request; the config's discovery.timeoutMs when absent. */
  timeoutMs: z.number().int().min(50).max(30_000).optional(),
});

/** POST /api/v1/discovery/{id}/accept: a found address (or a proposed device) registered as an inventory device (the admin names it and places it). */
export const AcceptBody = z
  .strictObject({
    /** The address found or heard of; or `proposed`, the id the sweep suggested for a neighbour heard of without an address. */
    address: z.string().min(1).max(64).optional(),
    proposed: z.string().min(1).max(128).optional(),
    id: Id,
    name: z.string().min(1).max(200).optional(),
    /** Where it stands; the inventory's first site when absent (move it to its rack later). */
    location: Location.optional(),
    kind: DeviceKind.optional(),
    parents: z.array(Id).max(16).optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.address === undefined) === (b.proposed === undefined)) ctx.addIssue({ code: 'custom', path: ['address'], message: 'give the address found, or `proposed` (a proposed device\'s id), one of them' });
  });

const LinkEndBody = z.strictObject({ device: Id, interface: z.string().min(1).max(200) });
/** POST /api/v1/discovery/{id}/links/accept: a proposed LAN link, named by its two ends (device and port, either way round), into the inventory. */
export const AcceptLinkBody = z.strictObject({
  a: LinkEndBody,
  b: LinkEndBody,
  /** The link's id; made from its ends when absent. */
  id: Id.optional(),
  label: z.string().min(1).max(200).optional(),
  bandwidthMbps: z.number().positive().max(10_000_000).optional(),
});

/** A link id from its ends, in the Id alphabet ("Gi1/0/1" becomes "Gi1-0-1"), at most 128 characters. */
function linkId(a: { device: string; interface: string }, b: { device: string; interface: string }): string {
  const part = (s: string): string => s.replace(/[^A-Za-z0-9_.:-]+/g, '-').replace(/^-+|-+$/g, '');
  return `lan-${part(a.device)}-${part(a.interface)}--${part(b.device)}-${part(b.interface)}`.slice(0, 128).replace(/-+$/, '');
}

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
  r.post(
    '/discovery/neighbours',
    requireRole('admin'),
    route((req, res) => {
      const body = parseInput(NeighboursBody, req.body, 'body');
      const { id } = discovery.startInventory(body, req.session?.username ?? '-');
      const view = discovery.get(id) as { devices?: string[] } | undefined;
      audit(req, { action: 'discovery.neighbours', target: id, detail: { devices: view?.devices?.length ?? 0 } });
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
      let found: ReturnType<DiscoveryDoor['candidate']>;
      if (body.address !== undefined) {
        found = discovery.candidate(sweep, body.address);
        if (!found) throw badRequest('address', `address: ${body.address} was neither found nor heard of as a neighbour in sweep ${sweep}`);
      } else {
        const p = discovery.proposedDevice(sweep, body.proposed as string);
        if (!p) throw badRequest('proposed', `proposed: sweep ${sweep} proposes no device "${body.proposed}" (it may be in the inventory by now)`);
        found = p.address !== undefined ? discovery.candidate(sweep, p.address) : { address: '', name: p.name, kind: p.kind };
        if (!found) throw badRequest('proposed', `proposed: "${body.proposed}" is not a device this sweep can register`);
      }
      if (found.known) throw conflict(`${body.address ?? body.proposed} is in the inventory already, as device "${found.known}"`);
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
          labels: { discoveredBy: 'snmp-sweep', ...(found.address ? { discoveredAddress: found.address } : {}) },
          ...(found.snmp ? { snmp: found.snmp } : {}),
        },
        'body',
      );
      const missing = unknownLocation(ctx.estate, device);
      if (missing) throw badRequest(missing.field, `${missing.field}: unknown "${missing.id}"`);
      await ctx.registerDevice(device, undefined);
      audit(req, { action: 'discovery.accept', target: device.id, detail: { sweep, address: found.address || null, ...(body.proposed ? { proposed: body.proposed } : {}), kind: device.kind, snmp: device.snmp?.version ?? null } });
      res.status(201).json({ ...redactDevice(device), tags: ctx.estate.tagsOf(device.id) });
    }),
  );
  r.post(
    '/discovery/:id/links/accept',
    requireRole('admin'),
    route(async (req, res) => {
      const sweep = String(req.params.id);
      if (!discovery.get(sweep)) throw notFound(`discovery sweep "${sweep}"`);
      const body = parseInput(AcceptLinkBody, req.body, 'body');
      const where = `${body.a.device} ${body.a.interface} ~ ${body.b.device} ${body.b.interface}`;
      const proposal = discovery.linkProposal(sweep, body.a, body.b);
      if (proposal === 'in-inventory') throw conflict(`the inventory has a link ${where} already`);
      if (proposal === undefined || proposal === 'unknown') throw notFound(`a link ${where} proposed by sweep ${sweep}`);
      const unknownEnd = [proposal.a, proposal.b].find((e) => !e.known || !ctx.estate.devices.has(e.device));
      if (unknownEnd) throw conflict(`device "${unknownEnd.device}" is not in the inventory yet: accept it first (POST /api/v1/discovery/${sweep}/accept), then its link`);
      if (!ctx.addLink) throw wfError('UNAVAILABLE', 'links cannot be added in this deployment');
      const taken = (id: string): boolean => ctx.estate.inventory.links.some((l) => l.id === id) || ctx.estate.devices.has(id);
      if (body.id !== undefined && taken(body.id)) throw conflict(`id "${body.id}" is taken by a link or device already`);
      // The ends as the proposal has them (its own orientation and port names).
      const ends = { a: { device: proposal.a.device, interface: proposal.a.interface }, b: { device: proposal.b.device, interface: proposal.b.interface } };
      let id = body.id ?? linkId(ends.a, ends.b);
      for (let i = 2; body.id === undefined && taken(id); i++) id = `${linkId(ends.a, ends.b).slice(0, 120)}-${i}`;
      const link = parseInput(Link, { id, kind: 'lan', ...ends, label: body.label ?? `discovered (${proposal.via.join(', ').toUpperCase()})`, ...(body.bandwidthMbps !== undefined ? { bandwidthMbps: body.bandwidthMbps } : {}) }, 'body');
      await ctx.addLink(link);
      audit(req, { action: 'discovery.link.accept', target: link.id, detail: { sweep, a: link.a, b: link.b, via: proposal.via } });
      res.status(201).json(link);
    }),
  );
  return r;
}
