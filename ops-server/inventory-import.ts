/*
 * Bulk import: a CSV file or a NetBox export read into raw devices (inventory-csv.ts,
 * inventory-netbox.ts), each checked as POST /api/v1/devices checks one, and compared with the
 * running estate: a dry run answers the diff, apply registers the added devices and changes the
 * changed ones through the same doors as the device routes.
 */
import { Device, Link, PlanLocation, RackLocation, SiteLocation, redactDevice, resolveDeviceSnmp, type Estate, type PublicDevice } from '../core/index.ts';
import { unknownReference } from './routes/devices.ts';
import { parseCsvImport } from './inventory-csv.ts';
import { parseNetboxImport } from './inventory-netbox.ts';

/** Where an import error is: the row and column of a CSV file, or the object and field of a NetBox export. */
export interface ImportError {
  row?: number;
  column?: string;
  object?: string;
  field?: string;
  message: string;
}
export type ImportSource = Pick<ImportError, 'row' | 'object'>;

/** A device as a parser read it, before validation; `locate` turns a field path of the device into the file's words. */
export interface RawImportDevice {
  source: ImportSource;
  raw: unknown;
  locate(path: readonly (string | number)[]): Omit<ImportError, 'message'>;
}

export interface ParsedImport {
  devices: RawImportDevice[];
  links: { source: ImportSource; raw: unknown }[];
  errors: ImportError[];
}

export type ImportFormat = 'csv' | 'netbox';

export interface ImportOptions {
  format?: ImportFormat;
  /** NetBox: the `snmpProfiles` entry every device with a primary IP is polled with (`snmp: {host, profile}`). */
  snmpProfile?: string;
}

/** The dry run's answer (and apply's, with `applied`). */
export interface ImportDiff {
  format: ImportFormat;
  added: PublicDevice[];
  changed: { id: string; fields: string[]; device: PublicDevice }[];
  unchanged: string[];
  errors: ImportError[];
  /** Links read from the file (NetBox cables): proposed, not applied at run time (the inventory file holds links). */
  links: { added: Link[]; unchanged: string[] };
}

/** What apply does: the devices to register and to replace, in an order where parents come first. */
export interface ImportPlan {
  diff: ImportDiff;
  add: Device[];
  change: Device[];
}

/** The format of an import body: `{`/`[` starts a NetBox export, anything else is CSV. */
export function sniffFormat(text: string): ImportFormat {
  return /^\s*[[{]/.test(text) ? 'netbox' : 'csv';
}

/** Reads an import file (CSV text or NetBox JSON) into raw devices and links. */
export function parseImport(text: string, options: ImportOptions = {}): { format: ImportFormat; parsed: ParsedImport } {
  const format = options.format ?? sniffFormat(text);
  if (format === 'csv') return { format, parsed: parseCsvImport(text) };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { format, parsed: { devices: [], links: [], errors: [{ object: '(file)', field: '(json)', message: `not JSON: ${(e as Error).message}` }] } };
  }
  return { format, parsed: parseNetboxImport(json, options) };
}

/** The dotted paths at which two values differ (arrays compared whole). */
export function changedFields(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedFields(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(device)'];
}

/** The location schema the raw location's keys name, for an error that says which field is wrong (a union's says only "invalid"). */
function locationIssue(raw: unknown): { path: (string | number)[]; message: string } | undefined {
  const loc = (raw as { location?: unknown } | undefined)?.location;
  if (typeof loc !== 'object' || loc === null) return undefined;
  const schema = 'rack' in loc ? RackLocation : 'room' in loc ? PlanLocation : 'site' in loc ? SiteLocation : undefined;
  if (!schema) return { path: ['location'], message: 'a location names a rack, a room or a site' };
  const r = schema.safeParse(loc);
  const issue = r.success ? undefined : r.error.issues[0];
  return issue ? { path: ['location', ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: issue.message } : undefined;
}

/** Checks every device of an import against the estate and compares it with what runs: the diff and what apply would do. */
export function planImport(estate: Estate, format: ImportFormat, parsed: ParsedImport): ImportPlan {
  const errors: ImportError[] = [...parsed.errors];
  const valid: { device: Device; item: RawImportDevice }[] = [];
  const seen = new Map<string, ImportSource>();
  for (const item of parsed.devices) {
    const raw = resolveDeviceSnmp(item.raw, estate.inventory.snmpProfiles);
    const loc = locationIssue(raw);
    if (loc) {
      errors.push({ ...item.locate(loc.path), message: `${loc.path.join('.')}: ${loc.message}` });
      continue;
    }
    const r = Device.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      const path = (issue?.path ?? []).map((p) => (typeof p === 'symbol' ? String(p) : p));
      errors.push({ ...item.locate(path), message: `${path.join('.') || '(device)'}: ${issue?.message ?? 'invalid'}` });
      continue;
    }
    const first = seen.get(r.data.id);
    if (first) {
      errors.push({ ...item.locate(['id']), message: `id: "${r.data.id}" appears twice in the file (first at ${first.row !== undefined ? `row ${first.row}` : first.object})` });
      continue;
    }
    seen.set(r.data.id, item.source);
    valid.push({ device: r.data, item });
  }
  const batch = new Set(valid.map((v) => v.device.id));
  const diff: ImportDiff = { format, added: [], changed: [], unchanged: [], errors, links: { added: [], unchanged: [] } };
  const add: Device[] = [];
  const change: Device[] = [];
  for (const { device, item } of valid) {
    const missing = unknownReference(estate, device, batch);
    if (missing) {
      errors.push({ ...item.locate(missing.field.split('.')), message: `${missing.field}: ${missing.message}` });
      continue;
    }
    const current = estate.devices.get(device.id);
    if (!current) {
      add.push(device);
      diff.added.push(redactDevice(device));
      continue;
    }
    const fields = changedFields(current, device);
    if (fields.length === 0) diff.unchanged.push(device.id);
    else if (estate.inventory.devices.some((d) => d.id === device.id))
      errors.push({ ...item.locate(['id']), message: `id: device "${device.id}" comes from the inventory file, the source of truth; change ${fields.join(', ')} there` });
    else {
      change.push(device);
      diff.changed.push({ id: device.id, fields, device: redactDevice(device) });
    }
  }
  const linkIds = new Set(estate.inventory.links.map((l) => l.id));
  for (const { source, raw } of parsed.links) {
    const r = Link.safeParse(raw);
    if (!r.success) {
      errors.push({ ...source, field: r.error.issues[0]?.path.join('.') || '(link)', message: r.error.issues[0]?.message ?? 'invalid link' });
      continue;
    }
    if (linkIds.has(r.data.id)) diff.links.unchanged.push(r.data.id);
    else diff.links.added.push(r.data);
  }
  return { diff, add: parentsFirst(add, estate), change };
}

/** Devices ordered so that a parent added by the same import is registered before its children. */
function parentsFirst(devices: Device[], estate: Estate): Device[] {
  const out: Device[] = [];
  const placed = new Set<string>();
  let rest = devices;
  while (rest.length > 0) {
    const ready = rest.filter((d) => d.parents.every((p) => placed.has(p) || (estate.devices.has(p) && !rest.some((r) => r.id === p))));
    // A cycle among the batch's parents: register the rest as they are (the estate does not check parents' order).
    const next = ready.length > 0 ? ready : rest;
    for (const d of next) {
      out.push(d);
      placed.add(d.id);
    }
    rest = rest.filter((d) => !placed.has(d.id));
  }
  return out;
}
