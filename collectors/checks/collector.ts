/*
 * The checks collector of the running product, registered as `checks` (collectors/checks/index.ts):
 * a CheckScheduler over the checks of every service, following the services as they are added,
 * changed and removed, and each result published through the broker like every other value, on
 * `services/{serviceId}/checks/{checkKey}` (report.ts). It never writes to the store: ingest does.
 */
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../core/index.ts';
import { partitionOf, type IngestPartition } from '../mqtt/index.ts';
import { connectPublisher, publisherClientId, publisherLogin } from '../publisher.ts';
import type { Collector, CollectorContext, CollectorPublishTarget, ServiceChecks, ServiceChecksEntry } from '../registry.ts';
import type { CheckResult } from './check.ts';
import { checkReportTopic, type CheckReport } from './report.ts';
import { CheckScheduler, systemTimerClock, type CheckState, type ResultInfo, type TimerClock } from './scheduler.ts';

export const CHECKS_COLLECTOR_ACCOUNT = 'checks-collector';

export interface ChecksCollectorOptions {
  services?: ServiceChecks;
  publishTo: CollectorPublishTarget;
  /** Run only this partition's services: the full nodes of a scale-out share them, each takes its part. */
  partition?: IngestPartition;
  logger: Logger;
  clock?: TimerClock;
  /** Probes in flight at once (the scheduler's cap). */
  concurrency?: number;
}

/** The report a result is published as: the scheduler's state with the probe's result, `ts` when it started. */
export function reportOf(result: CheckResult, state: CheckState, info: Pick<ResultInfo, 'at'>): CheckReport {
  const r: CheckReport = { ts: Math.round(info.at), state, ok: result.ok, latencyMs: Math.max(0, Math.round(result.latencyMs * 10) / 10) };
  if (result.reason !== undefined) r.reason = result.reason.slice(0, 2000);
  if (result.warning !== undefined) r.warning = result.warning.slice(0, 2000);
  if (result.phases) r.phases = result.phases;
  return r;
}

/** The scheduler's id of a service check: service ids and check keys hold no "/". */
const idOf = (serviceId: string, key: string): string => `${serviceId}/${key}`;

/** Runs the services' checks and publishes every result; a service's change takes effect at once. */
export class ChecksCollector implements Collector {
  readonly name = 'checks';
  private scheduler: CheckScheduler | undefined;
  private client: MqttClient | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly scheduled = new Map<string, string[]>();
  /** Results published since start. */
  published = 0;

  constructor(private readonly o: ChecksCollectorOptions) {}

  /** Reads its settings from the product's context (its services, the broker the collectors publish to). */
  static fromContext(c: CollectorContext): ChecksCollector {
    return new ChecksCollector({ services: c.services, publishTo: c.publishTo, partition: c.partition, logger: c.logger.child({ component: 'checks' }), clock: timerClockOf(c.clock) });
  }

  /** Scheduled checks, probes in flight and waiting (0s before start). */
  get load(): { checks: number; active: number; queued: number } {
    return this.scheduler?.load ?? { checks: 0, active: 0, queued: 0 };
  }

  /** The scheduler (for its stats and lag), once started. */
  get checks(): CheckScheduler | undefined {
    return this.scheduler;
  }

  async start(): Promise<void> {
    const services = this.o.services;
    if (!services || this.scheduler) return;
    this.client = await connect(this.o.publishTo, this.o.logger);
    const client = this.client;
    this.scheduler = new CheckScheduler({
      clock: this.o.clock ?? systemTimerClock,
      logger: this.o.logger,
      concurrency: this.o.concurrency,
      onResult: (id, result, state, info) => {
        const slash = id.indexOf('/');
        const report = reportOf(result, state, info);
        this.published++;
        // QoS 1: a result written while the link is down is sent once it is back (availability reads them).
        client.publish(checkReportTopic(id.slice(0, slash), id.slice(slash + 1)), JSON.stringify(report), { qos: 1 }, () => undefined);
      },
    });
    for (const s of services.list()) this.schedule(s);
    this.unsubscribe = services.onChange((c) => {
      this.unschedule(c.previous?.id ?? c.service.id);
      if (c.kind !== 'removed') this.schedule(c.service);
    });
    this.o.logger.info({ services: this.scheduled.size, checks: this.scheduler.load.checks }, 'service checks started');
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.scheduler?.stop();
    const client = this.client;
    this.client = undefined;
    if (client) await new Promise<void>((r) => client.end(false, {}, () => r()));
  }

  private mine(serviceId: string): boolean {
    const p = this.o.partition;
    return !p || partitionOf(serviceId, p.count) === p.index;
  }

  private schedule(s: ServiceChecksEntry): void {
    if (!this.scheduler || !this.mine(s.id)) return;
    const ids = s.checks.map((c) => {
      const id = idOf(s.id, c.key);
      this.scheduler?.add(id, c);
      return id;
    });
    this.scheduled.set(s.id, ids);
  }

  private unschedule(serviceId: string): void {
    for (const id of this.scheduled.get(serviceId) ?? []) this.scheduler?.remove(id);
    this.scheduled.delete(serviceId);
  }
}

/** The product's clock as the scheduler's (the system timers fire; time is read from the clock given). */
function timerClockOf(clock: { now(): number }): TimerClock {
  return { now: () => clock.now(), setTimeout: systemTimerClock.setTimeout, clearTimeout: systemTimerClock.clearTimeout };
}

/**
 * The MQTT link: the embedded broker as the `checks-collector` account (a fresh password each start,
 * held only in memory; it may publish service check results and nothing else), or the external
 * broker as the account configured for the collectors. Resolves once connected.
 */
async function connect(target: CollectorPublishTarget, logger: Logger): Promise<MqttClient> {
  const login = await publisherLogin(target, CHECKS_COLLECTOR_ACCOUNT, (accounts, username, password) => {
    if (!accounts.setServiceChecker) throw new Error('the broker accounts cannot make a checks collector account (setServiceChecker)');
    return accounts.setServiceChecker(username, password);
  });
  return connectPublisher(login, publisherClientId(CHECKS_COLLECTOR_ACCOUNT), logger, 'checks collector');
}
