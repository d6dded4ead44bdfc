/**
 * The services: those of the inventory (read-only here: the file is their source) and those made
 * through the API (kept in DATA_DIR/services.json), their ad hoc maintenance windows, and each check's
 * latest state as the scheduler reports it. Availability is read back from the store, not from here.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { badRequest, conflict, wfError, MaintenanceWindow, notFound, silentLogger, writeSecretFile, type Estate, type Logger } from '../../core/index.ts';
import { serviceTimeline, summarize, type Availability, type ReadSamples, type Segment } from './availability.ts';
import { BURN_WINDOWS_MS, burnRateAlerts, type BurnAlert, type BurnWindow } from './burn-rate.ts';
import { parseService, serviceDocument, type DependencyIds, type Service } from './schema.ts';
import { serviceStatus, type CheckStatus, type DependencyStatus, type ServiceStatus } from './state.ts';
import type { CheckReport } from './stored.ts';

export const SERVICES_FILE = 'services.json';

export type ServiceChange = { kind: 'added' | 'changed' | 'removed'; service: Service; previous?: Service };

export interface ServiceBookOptions {
  /** The estate: its services, and the devices and links a service may depend on. */
  estate: Estate;
  /** Where services.json lives; in memory only when absent. */
  dataDir?: string;
  logger?: Logger;
  /** Reads stored check results (samplesFromStore(store, ...)); without it, availability has no data. */
  read?: ReadSamples;
  /** Whether a device or link is down, for the reason of a down service. */
  dependency?: DependencyStatus;
}

const FileShape = z.object({
  version: z.literal(1),
  services: z.array(z.unknown()).default([]),
  maintenance: z.record(z.string(), z.array(z.unknown())).default({}),
});

/** The services, where each came from, their ad hoc windows and their checks' latest states. */
export class ServiceBook {
  private readonly services = new Map<string, { service: Service; origin: 'inventory' | 'api' }>();
  private readonly adHoc = new Map<string, MaintenanceWindow[]>();
  private readonly latest = new Map<string, Map<string, CheckStatus>>();
  private readonly listeners = new Set<(c: ServiceChange) => void>();
  private readonly logger: Logger;
  private readonly file?: string;
  private readonly unparsed: unknown[] = [];
  readonly ids: DependencyIds;
  read?: ReadSamples;
  dependency?: DependencyStatus;

  constructor(private readonly options: ServiceBookOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'services' });
    if (options.dataDir) this.file = join(options.dataDir, SERVICES_FILE);
    this.read = options.read;
    this.dependency = options.dependency;
    this.ids = {
      hasDevice: (id) => options.estate.devices.has(id),
      hasLink: (id) => options.estate.inventory.links.some((l) => l.id === id),
    };
    (options.estate.inventory.services ?? []).forEach((raw, i) => {
      const service = parseService(raw, this.ids, `services.${i}`);
      this.services.set(service.id, { service: withWindowIds(service), origin: 'inventory' });
    });
    this.load();
  }

  /** Every service, inventory ones first. */
  list(): Service[] {
    return [...this.services.values()].map((e) => e.service);
  }

  get(id: string): Service | undefined {
    return this.services.get(id)?.service;
  }

  /** Where a service is defined: the inventory file (change it there) or the API. */
  origin(id: string): 'inventory' | 'api' | undefined {
    return this.services.get(id)?.origin;
  }

  /** Adds a service (400 naming the field, 409 if the id is taken); persisted before it answers. */
  create(input: unknown): Service {
    const service = withWindowIds(parseService(input, this.ids));
    if (this.services.has(service.id)) throw conflict(`service "${service.id}" already exists`);
    this.services.set(service.id, { service, origin: 'api' });
    this.save();
    this.emit({ kind: 'added', service });
    return service;
  }

  /**
   * Adds a service the running product brings (the simulated estate's at `start --simulate`): like an
   * inventory service, read-only through the API and not written to services.json. 409 if the id is taken.
   */
  addBuiltIn(input: unknown): Service {
    const service = withWindowIds(parseService(input, this.ids));
    if (this.services.has(service.id)) throw conflict(`service "${service.id}" already exists`);
    this.services.set(service.id, { service, origin: 'inventory' });
    this.emit({ kind: 'added', service });
    return service;
  }

  /** Replaces a service made through the API; the path's id wins over the body's. */
  replace(id: string, input: unknown): Service {
    const previous = this.mutable(id);
    const body = typeof input === 'object' && input !== null ? { ...(input as object), id } : input;
    const service = withWindowIds(parseService(body, this.ids));
    this.services.set(id, { service, origin: 'api' });
    const states = this.latest.get(id);
    if (states) for (const key of states.keys()) if (!service.checks.some((c) => c.key === key)) states.delete(key);
    this.save();
    this.emit({ kind: 'changed', service, previous });
    return service;
  }

  remove(id: string): Service {
    const service = this.mutable(id);
    this.services.delete(id);
    this.adHoc.delete(id);
    this.latest.delete(id);
    this.save();
    this.emit({ kind: 'removed', service });
    return service;
  }

  /** Adds an ad hoc maintenance window (any service, the inventory's too). */
  addMaintenance(id: string, input: unknown): MaintenanceWindow {
    this.mustGet(id);
    const r = MaintenanceWindow.safeParse(input);
    if (!r.success) {
      const issue = r.error.issues[0];
      const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(body)';
      throw badRequest(field, `${field}: ${issue?.message ?? 'invalid'}`);
    }
    const w = r.data;
    const window = { ...w, id: w.id ?? `mw-${randomUUID().slice(0, 8)}` };
    this.adHoc.set(id, [...(this.adHoc.get(id) ?? []), window]);
    this.save();
    return window;
  }

  /** Removes an ad hoc window (ends it, for the time to come and the time past: availability counts it again). */
  removeMaintenance(id: string, windowId: string): MaintenanceWindow {
    this.mustGet(id);
    const list = this.adHoc.get(id) ?? [];
    const w = list.find((x) => x.id === windowId);
    if (!w) throw notFound(`maintenance window "${windowId}" of service "${id}"`);
    this.adHoc.set(id, list.filter((x) => x !== w));
    this.save();
    return w;
  }

  /** Scheduled (from its definition) and ad hoc windows of a service. */
  windows(id: string): MaintenanceWindow[] {
    return [...(this.get(id)?.maintenance ?? []), ...(this.adHoc.get(id) ?? [])];
  }

  /** Takes one check result as the scheduler reported it; an unknown service or check is ignored (it was removed). */
  record(serviceId: string, checkKey: string, report: CheckReport): void {
    const check = this.get(serviceId)?.checks.find((c) => c.key === checkKey);
    if (!check) return;
    let states = this.latest.get(serviceId);
    if (!states) this.latest.set(serviceId, (states = new Map()));
    const s: CheckStatus = { key: checkKey, type: check.type, state: report.state, at: report.ts, ok: report.ok, latencyMs: report.latencyMs };
    if (report.reason !== undefined) s.reason = report.reason;
    if (report.ok && report.warning !== undefined) s.warning = report.warning;
    states.set(checkKey, s);
  }

  /** Each check's latest word, in the service's order (pending for a check not heard from yet). */
  checks(id: string): CheckStatus[] {
    const service = this.mustGet(id);
    const states = this.latest.get(id);
    return service.checks.map((c) => states?.get(c.key) ?? { key: c.key, type: c.type, state: 'pending' });
  }

  status(id: string, now: number): ServiceStatus {
    return serviceStatus(this.mustGet(id), this.checks(id), this.windows(id), now, this.dependency);
  }

  /** The service's timeline over [from, to) from the stored results; empty without a reader. */
  async timeline(id: string, from: number, to: number): Promise<Segment[]> {
    const service = this.mustGet(id);
    if (!this.read) return [];
    return serviceTimeline(service, from, to, this.read, this.windows(id));
  }

  /** GET /services/{id}/availability: from the stored check results, maintenance left out. */
  async availability(id: string, from: number, to: number): Promise<Availability> {
    const service = this.mustGet(id);
    const live = this.latest.get(id);
    const reasonOf = (keys: string[], ongoing: boolean): string =>
      keys
        .map((k) => {
          const c = service.checks.find((x) => x.key === k);
          const why = ongoing ? live?.get(k)?.reason : undefined;
          return `${k} (${c?.type ?? 'check'}) down${why ? `: ${why}` : ''}`;
        })
        .join(', ');
    const a = summarize(await this.timeline(id, from, to), from, to, (keys) => reasonOf(keys, false));
    for (const inc of a.incidents) if (inc.ongoing) inc.reason = reasonOf(inc.checks, true);
    return a;
  }

  /** The burn-rate alerts a service with an SLO should have raised at `now` (none without an SLO). */
  async burnAlerts(id: string, now: number): Promise<BurnAlert[]> {
    const service = this.mustGet(id);
    if (!service.slo) return [];
    const longest = Math.max(...Object.values(BURN_WINDOWS_MS));
    const segments = await this.timeline(id, now - longest, now);
    const ratios: Partial<Record<BurnWindow, number | null>> = {};
    for (const [name, ms] of Object.entries(BURN_WINDOWS_MS) as [BurnWindow, number][]) ratios[name] = errorRatio(segments, now - ms, now);
    return burnRateAlerts(service.slo, ratios);
  }

  /** Told of every service added, changed or removed (the wiring adds and removes checks in the scheduler). */
  onChange(listener: (c: ServiceChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(c: ServiceChange): void {
    for (const l of this.listeners) {
      try {
        l(c);
      } catch (err) {
        this.logger.error({ err: (err as Error).message, service: c.service.id }, 'services: a change listener failed');
      }
    }
  }

  private mustGet(id: string): Service {
    const s = this.get(id);
    if (!s) throw notFound(`service "${id}"`);
    return s;
  }

  private mutable(id: string): Service {
    const e = this.services.get(id);
    if (!e) throw notFound(`service "${id}"`);
    if (e.origin === 'inventory') throw conflict(`service "${id}" is defined in the inventory file; change it there`);
    return e.service;
  }

  private load(): void {
    if (!this.file || !existsSync(this.file)) return;
    let text: unknown;
    try {
      text = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      // Starting without it would overwrite it at the first change: refuse, as for a bad config file.
      throw wfError('CONFIG', this.file, [(err as Error).message]);
    }
    const parsed = FileShape.safeParse(text);
    if (!parsed.success) throw wfError('CONFIG', this.file, [`not a services file (${parsed.error.issues[0]?.message ?? 'invalid'})`]);
    parsed.data.services.forEach((raw, i) => {
      try {
        const service = withWindowIds(parseService(raw, this.ids));
        if (this.services.has(service.id)) {
          this.logger.warn({ service: service.id }, 'services: a service of services.json has the id of an inventory service; the inventory wins');
          return;
        }
        this.services.set(service.id, { service, origin: 'api' });
      } catch (err) {
        // Kept as written (a device it depends on may come back) and written back on every save.
        this.unparsed.push(raw);
        this.logger.error({ index: i, err: (err as Error).message }, 'services: a service of services.json is not valid now; kept aside');
      }
    });
    for (const [id, list] of Object.entries(parsed.data.maintenance)) {
      if (!this.services.has(id)) continue;
      const ok = list.map((w) => MaintenanceWindow.safeParse(w)).filter((r) => r.success).map((r) => r.data);
      this.adHoc.set(id, ok);
    }
  }

  /** Writes services.json whole: a temp file renamed over the old one (mode 600: check headers may hold credentials). */
  private save(): void {
    if (!this.file) return;
    const services = [...this.services.values()].filter((e) => e.origin === 'api').map((e) => serviceDocument(e.service) as unknown);
    services.push(...this.unparsed);
    const maintenance = Object.fromEntries([...this.adHoc.entries()].filter(([, l]) => l.length > 0));
    writeSecretFile(this.file, `${JSON.stringify({ version: 1, services, maintenance }, null, 2)}\n`);
  }
}

/** Scheduled windows get a stable id from their position, so a page can name them. */
function withWindowIds(s: Service): Service {
  return { ...s, maintenance: s.maintenance.map((w, i) => ({ ...w, id: w.id ?? `scheduled-${i}` })) };
}

/** Share of measured time that was down over [from, to), null when nothing was measured. */
export function errorRatio(segments: readonly Segment[], from: number, to: number): number | null {
  let up = 0;
  let down = 0;
  for (const s of segments) {
    const overlap = Math.min(s.to, to) - Math.max(s.from, from);
    if (overlap <= 0) continue;
    if (s.state === 'up') up += overlap;
    else if (s.state === 'down') down += overlap;
  }
  return up + down > 0 ? down / (up + down) : null;
}
