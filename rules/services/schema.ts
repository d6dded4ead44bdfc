/**
 * A service as the API and the inventory give it: the shape comes from core (ServiceSpec), each check
 * is then validated by its own type's schema in collectors/checks, and what it depends on must exist.
 */
import { badRequest, ServiceSpec, type MaintenanceWindow } from '../../core/index.ts';
import { parseCheck, type CheckConfigBase } from '../../collectors/checks/index.ts';

/** A check's key inside its service: a topic level and a store device suffix, so no ":" "/" "+" "#". */
const CHECK_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A service with every check parsed and its defaults filled. */
export interface Service {
  id: string;
  name: string;
  owner?: string;
  checks: ServiceCheck[];
  dependsOn: string[];
  public: boolean;
  slo?: { availabilityPct: number; windowDays: number };
  maintenance: MaintenanceWindow[];
  publicMessage?: string;
}

/** A parsed check with its key in the service (its `id`, else `<type>-<index>`). */
export type ServiceCheck = CheckConfigBase & { key: string };

/** What a dependency id can name: a device or a link of the estate. */
export interface DependencyIds {
  hasDevice(id: string): boolean;
  hasLink(id: string): boolean;
}

/**
 * Validates a service; a bad one throws a 400 naming the field (`checks.0.url`, `dependsOn.1`,
 * `slo.availabilityPct`), the same dotted paths as every other route's 400s.
 */
export function parseService(input: unknown, ids: DependencyIds, prefix = ''): Service {
  const at = (f: string): string => (prefix ? `${prefix}.${f}` : f);
  const r = ServiceSpec.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = at(issue && issue.path.length > 0 ? issue.path.join('.') : '(body)');
    throw badRequest(field, `${field}: ${issue?.message ?? 'invalid'}`);
  }
  const spec = r.data;
  const keys = new Set<string>();
  const checks = spec.checks.map((raw, i): ServiceCheck => {
    const config = parseCheck(raw, at(`checks.${i}`));
    const key = config.id ?? `${config.type}-${i}`;
    if (!CHECK_KEY.test(key)) throw badRequest(at(`checks.${i}.id`), `${at(`checks.${i}.id`)}: use letters, digits, "-", "_" or "." (64 at most)`);
    if (keys.has(key)) throw badRequest(at(`checks.${i}.id`), `${at(`checks.${i}.id`)}: duplicate check "${key}" in this service`);
    keys.add(key);
    return { ...config, key };
  });
  spec.dependsOn.forEach((d, i) => {
    if (!ids.hasDevice(d) && !ids.hasLink(d)) throw badRequest(at(`dependsOn.${i}`), `${at(`dependsOn.${i}`)}: unknown device or link "${d}"`);
  });
  const service: Service = { id: spec.id, name: spec.name, checks, dependsOn: spec.dependsOn, public: spec.public, maintenance: spec.maintenance };
  if (spec.owner !== undefined) service.owner = spec.owner;
  if (spec.slo) service.slo = spec.slo;
  if (spec.publicMessage !== undefined) service.publicMessage = spec.publicMessage;
  return service;
}

/** The service as it is written back (services.json, GET answers): the checks without their derived key. */
export function serviceDocument(s: Service): Record<string, unknown> {
  return { ...s, checks: s.checks.map(({ key: _key, ...c }) => c) };
}

/** Header values can carry credentials (Authorization, API keys): answers say only which headers are set. */
export function redactService(s: Service): Record<string, unknown> {
  const doc = serviceDocument(s);
  doc.checks = (doc.checks as Record<string, unknown>[]).map((c) => {
    const headers = c.headers as Record<string, string> | undefined;
    return headers ? { ...c, headers: Object.fromEntries(Object.keys(headers).map((h) => [h, '(set)'])) } : c;
  });
  return doc;
}
