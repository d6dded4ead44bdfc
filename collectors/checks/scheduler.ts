/**
 * Runs checks on their own intervals: each check has its own timer on a fixed grid (interval plus
 * a per-run jitter, and a random phase so a thousand checks added at once do not fire at once),
 * a timeout by AbortSignal, and a global cap on probes in flight. A slow target only ever delays
 * itself: its next probe is planned when its current one ends, and it holds one slot of the cap.
 * A single lost probe is not an outage: the state turns down only after `retries + 1` consecutive
 * failures (Uptime Kuma's retries, Zabbix's attempts).
 */
import { silentLogger, type Clock, type Logger } from '../../core/index.ts';
import { down, runCheck, type CheckConfigBase, type CheckContext, type CheckResult } from './check.ts';

/** A clock that can also wake the scheduler; the system's by default, a manual one in tests. */
export interface TimerClock extends Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimerClock: TimerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A check's confirmed state: pending until its first result, down only after the retries are spent. */
export type CheckState = 'pending' | 'up' | 'down';

/** What the scheduler says with each result, beside the result and the state. */
export interface ResultInfo {
  /** When the probe started (clock time). */
  at: number;
  /** How late it started against its planned time. */
  lagMs: number;
  consecutiveFailures: number;
  previous: CheckState;
  changed: boolean;
}

export type OnResult = (checkId: string, result: CheckResult, state: CheckState, info: ResultInfo) => void;

export const SCHEDULER_DEFAULTS = {
  concurrency: 256,
  /** Each run lands within ± this share of the interval around its grid slot. */
  jitter: 0.05,
  /** A check that ignores its abort signal is abandoned this long after its timeout. */
  graceMs: 1000,
  lagSamples: 4096,
  /** The first runs of checks added together are spread over their interval, up to this. */
  maxPhaseMs: 300_000,
} as const;

export interface CheckSchedulerOptions {
  onResult: OnResult;
  clock?: TimerClock;
  logger?: Logger;
  /** Probes in flight at once, over all checks. */
  concurrency?: number;
  jitter?: number;
  random?: () => number;
  /** How one probe is run; the registered check types by default. */
  run?: (config: CheckConfigBase, ctx: CheckContext) => Promise<CheckResult>;
}

/** The state after one more result (pure; the scheduler's retry rule). */
export function nextCheckState(prev: { state: CheckState; failures: number }, ok: boolean, retries: number): { state: CheckState; failures: number } {
  if (ok) return { state: 'up', failures: 0 };
  const failures = prev.failures + 1;
  return { state: failures > retries ? 'down' : prev.state, failures };
}

interface Entry {
  id: string;
  config: CheckConfigBase;
  intervalMs: number;
  state: CheckState;
  failures: number;
  /** The grid slot the next run belongs to (jitter is added on top, never accumulated). */
  slot: number;
  timer?: unknown;
  running?: { controller: AbortController; settled: Promise<void> };
  removed: boolean;
}

/** Schedules and runs checks; results go to `onResult`. */
export class CheckScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Array<{ entry: Entry; dueAt: number }> = [];
  private readonly lags: number[] = [];
  private lagNext = 0;
  private active = 0;
  private stopped = false;
  private readonly clock: TimerClock;
  private readonly logger: Logger;
  private readonly concurrency: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly run: (config: CheckConfigBase, ctx: CheckContext) => Promise<CheckResult>;
  /** Counters since start. */
  readonly stats = { runs: 0, failures: 0, timeouts: 0, abandoned: 0, maxLagMs: 0 };

  constructor(private readonly options: CheckSchedulerOptions) {
    this.clock = options.clock ?? systemTimerClock;
    this.logger = options.logger ?? silentLogger;
    this.concurrency = Math.max(1, options.concurrency ?? SCHEDULER_DEFAULTS.concurrency);
    this.jitter = options.jitter ?? SCHEDULER_DEFAULTS.jitter;
    this.random = options.random ?? Math.random;
    this.run = options.run ?? runCheck;
  }

  /** Adds (or replaces) a parsed check; its first run falls at a random point of its first interval (5 min at most). */
  add(id: string, config: CheckConfigBase): void {
    if (this.stopped) throw new Error('the check scheduler is stopped');
    this.remove(id);
    const intervalMs = config.intervalSeconds * 1000;
    const entry: Entry = { id, config, intervalMs, state: 'pending', failures: 0, slot: this.clock.now() + this.random() * Math.min(intervalMs, SCHEDULER_DEFAULTS.maxPhaseMs), removed: false };
    this.entries.set(id, entry);
    this.plan(entry, entry.slot);
  }

  /** Removes a check; a probe in flight is aborted and its result dropped. */
  remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.removed = true;
    this.entries.delete(id);
    if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    entry.running?.controller.abort();
  }

  /** The confirmed state of a check, or undefined when it is not scheduled. */
  state(id: string): CheckState | undefined {
    return this.entries.get(id)?.state;
  }

  /** Checks scheduled, probes in flight and waiting for a slot. */
  get load(): { checks: number; active: number; queued: number } {
    return { checks: this.entries.size, active: this.active, queued: this.queue.length };
  }

  /** The q-quantile (0–1) of the recent scheduling lags, in ms. */
  lagQuantile(q: number): number {
    if (this.lags.length === 0) return 0;
    const sorted = [...this.lags].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  }

  /** Stops every timer, aborts the probes in flight and waits for them; no result is reported after. */
  async stop(): Promise<void> {
    this.stopped = true;
    const running: Array<Promise<void>> = [];
    for (const entry of [...this.entries.values()]) {
      if (entry.running) running.push(entry.running.settled);
      this.remove(entry.id);
    }
    this.queue.length = 0;
    await Promise.all(running);
  }

  private plan(entry: Entry, dueAt: number): void {
    entry.timer = this.clock.setTimeout(() => {
      entry.timer = undefined;
      if (entry.removed) return;
      this.queue.push({ entry, dueAt });
      this.pump();
    }, Math.max(0, dueAt - this.clock.now()));
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const item = this.queue.shift() as { entry: Entry; dueAt: number };
      if (!item.entry.removed) this.start(item.entry, item.dueAt);
    }
  }

  private recordLag(lag: number): void {
    if (this.lags.length < SCHEDULER_DEFAULTS.lagSamples) this.lags.push(lag);
    else this.lags[this.lagNext] = lag;
    this.lagNext = (this.lagNext + 1) % SCHEDULER_DEFAULTS.lagSamples;
    if (lag > this.stats.maxLagMs) this.stats.maxLagMs = lag;
  }

  private start(entry: Entry, dueAt: number): void {
    const at = this.clock.now();
    const lagMs = Math.max(0, at - dueAt);
    this.recordLag(lagMs);
    this.active++;
    this.stats.runs++;
    const controller = new AbortController();
    const timeoutMs = entry.config.timeoutSeconds * 1000;
    let settle!: (r: CheckResult) => void;
    const outcome = new Promise<CheckResult>((resolve) => (settle = resolve));
    let grace: unknown;
    const timeout = this.clock.setTimeout(() => {
      this.stats.timeouts++;
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      // A probe that ignores its signal must not hold its slot forever.
      grace = this.clock.setTimeout(() => {
        this.stats.abandoned++;
        settle(down(`timed out after ${timeoutMs} ms (the probe did not stop)`, timeoutMs));
      }, SCHEDULER_DEFAULTS.graceMs);
    }, timeoutMs);
    this.run(entry.config, { signal: controller.signal, clock: this.clock, logger: this.logger }).then(settle, (err: unknown) =>
      settle(down(`check failed: ${err instanceof Error ? err.message : String(err)}`, this.clock.now() - at)),
    );
    const settled = outcome.then((result) => {
      this.clock.clearTimeout(timeout);
      if (grace !== undefined) this.clock.clearTimeout(grace);
      this.active--;
      entry.running = undefined;
      if (!entry.removed && !this.stopped) this.finish(entry, result, at, lagMs);
      this.pump();
    });
    entry.running = { controller, settled };
  }

  private finish(entry: Entry, result: CheckResult, at: number, lagMs: number): void {
    const previous = entry.state;
    const next = nextCheckState({ state: entry.state, failures: entry.failures }, result.ok, entry.config.retries);
    entry.state = next.state;
    entry.failures = next.failures;
    if (!result.ok) this.stats.failures++;
    try {
      this.options.onResult(entry.id, result, entry.state, { at, lagMs, consecutiveFailures: next.failures, previous, changed: previous !== next.state });
    } catch (err) {
      this.logger.error({ err, check: entry.id }, 'check result handler failed');
    }
    const now = this.clock.now();
    // Still failing but not yet down: probe again sooner if asked (Uptime Kuma's retry interval).
    const retrying = !result.ok && entry.state !== 'down' && entry.config.retryIntervalSeconds !== undefined;
    if (retrying) {
      this.plan(entry, now + (entry.config.retryIntervalSeconds as number) * 1000);
      return;
    }
    // The next grid slot after now: a probe that overran its interval skips the slots it covered.
    const behind = Math.max(1, Math.ceil((now - entry.slot) / entry.intervalMs));
    entry.slot += behind * entry.intervalMs;
    const jitter = (this.random() * 2 - 1) * this.jitter * entry.intervalMs;
    this.plan(entry, Math.max(now, entry.slot + jitter));
  }
}
