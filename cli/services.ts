/*
 * Services in the running product (issue 16): the ServiceBook over the inventory's services and the
 * API's, fed by the checks collector's results as ingest decodes them
 *
 *   services/{id}/checks/{key} -> decodeCheckReport (ingest) -> store (checkPoints) -> book.record
 *     -> state -> availability alerts (named after what the service runs on, linked to their alerts)
 *     -> the screens (socket.io `service`)
 *
 * and, every minute, the error-budget burn rates of the services with an SLO.
 */
import type { ServiceCheckMessage } from '../collectors/index.ts';
import type { Alert, Clock, Estate, Logger } from '../core/index.ts';
import type { OpsServer } from '../ops-server/index.ts';
import {
  checkPoints, dependencyTree, samplesFromStore, serviceAlertOpenings, ServiceBook, SERVICE_RULE_PREFIX,
  type BurnAlert, type RuleEngine, type Service, type ServiceState,
} from '../rules/index.ts';
import type { TimeSeriesStore } from '../store/index.ts';
import type { Fanout } from './fanout.ts';
import type { PresenceBook } from './presence.ts';

export interface ProductServicesOptions {
  estate: Estate;
  dataDir: string;
  store: TimeSeriesStore;
  rules: RuleEngine;
  fanout: Fanout;
  presence: PresenceBook;
  clock: Clock;
  logger: Logger;
}

/** What the screens get on each change of a service's state (socket.io `service`). */
export interface ServiceUpdate {
  id: string;
  state: ServiceState;
  reason?: string;
  causes: string[];
  at: number;
}

/** How often states are looked at again without a new result (maintenance starting or ending, a dependency going down). */
const STATE_EVERY_MS = 5_000;
/** How often the burn rates are read from the store (the SRE workbook's shortest window is 5 minutes). */
const BURN_EVERY_MS = 60_000;

/** Alert kinds that mean a device or link is down, not only unwell. */
const DOWN_KINDS: ReadonlySet<Alert['kind']> = new Set(['availability', 'power']);

/** The services of the running product: the book, the ingest step of their results, their alerts and the screens. */
export class ProductServices {
  readonly book: ServiceBook;
  private readonly burning = new Map<string, BurnAlert[]>();
  private readonly last = new Map<string, string>();
  private readonly ancestorsOf: (device: string) => readonly string[];
  private screens: OpsServer['realtime'] | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly o: ProductServicesOptions) {
    this.ancestorsOf = dependencyTree(o.estate);
    this.book = new ServiceBook({
      estate: o.estate, dataDir: o.dataDir, logger: o.logger,
      read: samplesFromStore(o.store, { now: () => o.clock.now() }),
      dependency: (id) => this.dependency(id),
    });
    // Service alerts kept from before a restart wait for their service's first confirmed state.
    o.rules.keepsOwnAlerts(SERVICE_RULE_PREFIX);
    this.book.onChange((c) => {
      if (c.kind === 'removed') {
        this.burning.delete(c.service.id);
        this.last.delete(c.service.id);
        this.o.fanout.alerts(this.o.rules.reconcile(SERVICE_RULE_PREFIX, { service: c.service.id }, [], this.o.clock.now()));
      } else this.evaluate(c.service.id);
    });
  }

  /** The ops server's socket.io feed, for `service` updates. */
  attachScreens(screens: OpsServer['realtime']): void {
    this.screens = screens;
  }

  /** Starts the state and burn-rate evaluations; alerts of services no longer defined are resolved now. */
  start(): void {
    const now = this.o.clock.now();
    const stale = new Set(this.o.rules.alerts({ state: 'firing' }).filter((a) => a.rule.startsWith(SERVICE_RULE_PREFIX) && !this.book.get(a.labels.service ?? '')).map((a) => a.labels.service ?? ''));
    for (const id of stale) this.o.fanout.alerts(this.o.rules.reconcile(SERVICE_RULE_PREFIX, { service: id }, [], now));
    const every = (ms: number, what: string, fn: () => unknown): void => {
      const t = setInterval(() => {
        // A throw from a timer is an uncaught exception: logged, never fatal.
        Promise.resolve()
          .then(fn)
          .catch((err: unknown) => this.o.logger.error({ err: err instanceof Error ? err.message : String(err) }, `services: ${what} failed; skipped`));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(STATE_EVERY_MS, 'state evaluation', () => {
      for (const s of this.book.list()) this.evaluate(s.id);
    });
    every(BURN_EVERY_MS, 'burn-rate evaluation', () => this.evaluateBurnRates());
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** The ingest step of one check result: stored (checkPoints), recorded, the service evaluated. */
  readonly onCheck = (m: ServiceCheckMessage): void => {
    const check = this.book.get(m.serviceId)?.checks.find((c) => c.key === m.checkKey);
    // A result of a service or check removed meanwhile (one probe was in flight): dropped.
    if (!check) return;
    this.o.store.write(checkPoints(m.serviceId, m.checkKey, check.type, m.report));
    this.book.record(m.serviceId, m.checkKey, m.report);
    this.evaluate(m.serviceId);
  };

  /** Every service with an SLO: its multi-window burn rates from the stored results, then its alerts. */
  async evaluateBurnRates(): Promise<void> {
    const now = this.o.clock.now();
    for (const s of this.book.list()) {
      if (!s.slo) continue;
      this.burning.set(s.id, await this.book.burnAlerts(s.id, now));
      this.evaluate(s.id);
    }
  }

  /** The service's state now, its alerts opened or resolved to match, and the screens told of a change. */
  evaluate(id: string): void {
    const service = this.book.get(id);
    if (!service) return;
    const now = this.o.clock.now();
    const status = this.book.status(id, now);
    // Before its first result nothing is known: an alert from before a restart stays as it was.
    if (status.state !== 'pending') {
      const openings = serviceAlertOpenings(service, status, this.burning.get(id) ?? [], now, (dep) => this.alertsOf(dep));
      const changes = this.o.rules.reconcile(SERVICE_RULE_PREFIX, { service: id }, openings, now);
      if (changes.length > 0) this.o.fanout.alerts(changes);
    }
    const key = `${status.state}|${status.reason ?? ''}`;
    if (this.last.get(id) === key) return;
    this.last.set(id, key);
    const update: ServiceUpdate = { id, state: status.state, causes: status.causes, at: now, ...(status.reason ? { reason: status.reason } : {}) };
    this.screens?.service(update);
  }

  /** Adds services the running product brings (the simulated estate's): read-only through the API, like the inventory's. */
  addBuiltIn(inputs: readonly unknown[]): Service[] {
    const added: Service[] = [];
    for (const input of inputs) {
      try {
        added.push(this.book.addBuiltIn(input));
      } catch (err) {
        this.o.logger.warn({ err: (err as Error).message }, 'services: a simulated service was not added');
      }
    }
    return added;
  }

  /** The firing alerts of a device or link (and of what it hangs from), not the services' own. */
  private firingOf(id: string): Alert[] {
    return this.o.rules.alerts({ state: 'firing' }).filter((a) => !a.rule.startsWith(SERVICE_RULE_PREFIX) && (a.labels.device === id || a.labels.link === id));
  }

  /** Whether a device or link a service depends on is down, in words: unreachable, down, or its power alert. */
  private dependency(id: string): { down: boolean; reason?: string } {
    const own = this.wordsFor(id);
    if (!own) return { down: false };
    // What it hangs from that is down too (its rack's PDU, its switch), named once after it.
    const above = this.o.estate.devices.has(id) ? this.ancestorsOf(id).map((a) => this.wordsFor(a)).filter((w): w is string => w !== undefined) : [];
    return { down: true, reason: [own, ...above].join(', ') };
  }

  private wordsFor(id: string): string | undefined {
    if (this.o.presence.get(id)?.status === 'offline') return `${id} unreachable`;
    const alert = this.firingOf(id).find((a) => DOWN_KINDS.has(a.kind));
    if (!alert) return undefined;
    return alert.kind === 'power' ? alert.summary : `${id} down`;
  }

  /** The alert ids a service's down alert links to: each down dependency's, and those of what it hangs from. */
  private alertsOf(id: string): string[] {
    const ids = [id, ...(this.o.estate.devices.has(id) ? this.ancestorsOf(id) : [])];
    return [...new Set(ids.flatMap((d) => this.firingOf(d).filter((a) => DOWN_KINDS.has(a.kind)).map((a) => a.id)))];
  }
}
