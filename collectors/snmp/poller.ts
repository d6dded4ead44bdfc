import { systemClock, type Clock, type DeviceSnmp, type Logger } from '../../core/index.ts';
import type { Accumulator, Collector } from '../registry.ts';
import { DevicePoll } from './device-poll.ts';
import type { PollOutcome } from './poll-outcome.ts';
import { builtinProfiles, type ProfileSet } from './profiles.ts';
import { SNMP_DEFAULTS, SnmpClient } from './session.ts';

/** One device to poll: its inventory id and its `snmp` block. */
export interface SnmpTarget {
  device: string;
  snmp: DeviceSnmp;
}

export interface SnmpPollerOptions {
  targets: SnmpTarget[];
  accumulator: Accumulator;
  logger: Logger;
  clock?: Clock;
  profiles?: ProfileSet;
  /** Polls in flight at once, over all devices (default 64). */
  concurrency?: number;
  timeoutMs?: number;
  retries?: number;
  maxRepetitions?: number;
  maxRows?: number;
  /** Each interval is stretched or shrunk by up to this fraction, so a fleet does not poll in lock step (default 0.1). */
  jitter?: number;
}

export interface SnmpPollerStats {
  polls: number;
  failures: number;
  varbinds: number;
  /** Polls skipped because the previous poll of the same device was still running. */
  overruns: number;
}

interface DeviceSlot {
  target: SnmpTarget;
  client: SnmpClient;
  state: DevicePoll;
  up: boolean | undefined;
  busy: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * Polls every target on its own interval with bounded concurrency. A device that stops answering
 * publishes `snmp_up = 0` and goes offline once; while it is down it is probed without retries, so one
 * dead or slow device holds one slot for one timeout and never delays the others.
 */
export class SnmpPoller implements Collector {
  readonly name = 'snmp';
  readonly stats: SnmpPollerStats = { polls: 0, failures: 0, varbinds: 0, overruns: 0 };
  private readonly slots = new Map<string, DeviceSlot>();
  private readonly clock: Clock;
  private readonly profiles: ProfileSet;
  private readonly concurrency: number;
  private readonly retries: number;
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private stopped = false;
  private started = false;

  constructor(private readonly o: SnmpPollerOptions) {
    this.clock = o.clock ?? systemClock;
    this.profiles = o.profiles ?? builtinProfiles();
    this.concurrency = Math.max(1, o.concurrency ?? 64);
    this.retries = o.retries ?? SNMP_DEFAULTS.retries;
    for (const t of o.targets) this.add(t);
  }

  /** The devices this poller polls. */
  get devices(): string[] {
    return [...this.slots.keys()];
  }

  /** Adds (or replaces) a device; it is polled from the next start or at once when running. */
  add(target: SnmpTarget): void {
    this.remove(target.device);
    const client = new SnmpClient(target.snmp, { timeoutMs: this.o.timeoutMs, retries: this.retries, maxRepetitions: this.o.maxRepetitions, maxRows: this.o.maxRows });
    const slot: DeviceSlot = { target, client, state: new DevicePoll(this.profiles, target.snmp.profile), up: undefined, busy: false };
    this.slots.set(target.device, slot);
    if (this.started && !this.stopped) this.schedule(slot, target.snmp.intervalSeconds * 1000);
  }

  remove(device: string): void {
    const slot = this.slots.get(device);
    if (!slot) return;
    clearTimeout(slot.timer);
    slot.client.close();
    this.slots.delete(device);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.started = true;
    for (const slot of this.slots.values()) {
      // The first poll lands anywhere in the first interval, spreading a fleet's load over the cycle.
      const first = Math.random() * Math.min(slot.target.snmp.intervalSeconds * 1000, 5000);
      this.schedule(slot, first);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const slot of this.slots.values()) {
      clearTimeout(slot.timer);
      slot.client.close();
    }
    this.slots.clear();
    for (const wake of this.queue.splice(0)) wake();
  }

  /** Polls one device now and publishes the result; resolves with the outcome or the error (never rejects). */
  async pollNow(device: string): Promise<PollOutcome | Error> {
    const slot = this.slots.get(device);
    if (!slot) return new Error(`no SNMP target "${device}"`);
    return this.pollSlot(slot);
  }

  /** Polls every device once, all through the concurrency bound; for tests and the benchmark. */
  async pollAll(): Promise<(PollOutcome | Error)[]> {
    return Promise.all([...this.slots.keys()].map((d) => this.pollNow(d)));
  }

  private schedule(slot: DeviceSlot, delayMs: number): void {
    if (this.stopped) return;
    slot.timer = setTimeout(() => {
      const interval = slot.target.snmp.intervalSeconds * 1000;
      const jitter = this.o.jitter ?? 0.1;
      this.schedule(slot, interval * (1 + jitter * (Math.random() * 2 - 1)));
      if (slot.busy) {
        this.stats.overruns++;
        return;
      }
      void this.pollSlot(slot);
    }, delayMs);
    slot.timer.unref();
  }

  private async acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return;
    }
    await new Promise<void>((wake) => this.queue.push(wake));
    this.running++;
  }

  private release(): void {
    this.running--;
    this.queue.shift()?.();
  }

  private async pollSlot(slot: DeviceSlot): Promise<PollOutcome | Error> {
    slot.busy = true;
    await this.acquire();
    const { device } = slot.target;
    const acc = this.o.accumulator;
    try {
      if (this.stopped) return new Error('poller stopped');
      const started = this.clock.now();
      const outcome = await slot.state.poll(slot.client, started);
      const ts = this.clock.now();
      this.stats.polls++;
      this.stats.varbinds += outcome.varbinds;
      if (slot.up !== true) {
        if (slot.up === false) this.o.logger.info({ device }, 'SNMP device answers again');
        acc.status(device, 'online');
        slot.client.setRetries(this.retries);
      }
      slot.up = true;
      acc.telemetry(device, ts, { ...outcome.metrics, snmp_up: 1, snmp_poll_ms: ts - started });
      for (const e of outcome.events) acc.event(device, { ts, ...e });
      if (outcome.warnings.length > 0) this.o.logger.warn({ device, warnings: outcome.warnings.slice(0, 10) }, 'SNMP poll finished with warnings');
      return outcome;
    } catch (err) {
      this.stats.failures++;
      const error = err instanceof Error ? err : new Error(String(err));
      if (slot.up !== false) {
        this.o.logger.warn({ device, host: slot.target.snmp.host, err: error.message }, 'SNMP device does not answer');
        // snmp_up = 0 first, then offline: ingest treats telemetry as a sign of life, so the status must come last.
        acc.telemetry(device, this.clock.now(), { snmp_up: 0 });
        acc.status(device, 'offline');
        slot.client.setRetries(0);
      }
      slot.up = false;
      return error;
    } finally {
      this.release();
      slot.busy = false;
    }
  }
}
