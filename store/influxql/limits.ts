/*
 * Bounds on one /query request, so that no reader can stall or exhaust the one process that also
 * runs the broker and ingest. They are InfluxDB 1.x's [coordinator] settings, answered in its words
 * (influxdb coordinator/statement_executor.go, query/executor.go, as influxd 1.6 answers them):
 *
 *   max-select-point    "max-select-point limit exceeed: (N/M)"   (sic: InfluxDB's own spelling)
 *   max-select-series   "max-select-series limit exceeded: (N/M)"
 *   max-select-buckets  "max-select-buckets limit exceeded: (N/M)"
 *   query-timeout       "query-timeout limit exceeded"
 *
 * each as the failing statement's `error` in a 200 answer, the statements after it "not executed".
 * Two differences, both because every bucket here is a JavaScript object built on the event loop:
 * the budget is the whole request's, not each statement's, and buckets are counted over every group
 * (GROUP BY tags) and every field, not once per statement. InfluxDB's defaults are 0 (no limit);
 * ours are finite (core/store-config.ts). A cap on statements, which InfluxDB lacks, is a 400.
 *
 * Where the work runs: DuckDB already scans on its own threads (libuv's pool and DuckDB's), so what
 * held the event loop was the JavaScript after it: rows, time stamps and JSON. That work is bounded
 * by the caps here and cut into slices of a few ms with a turn of the event loop between them
 * (QueryBudget.work/map, json.ts), and the deadline is checked at every turn; a store query past it
 * is interrupted (DuckDB's connection interrupt). A worker thread was weighed and not taken: it
 * cannot share the store's one DuckDB instance (a second instance on the file corrupts it) nor its
 * in-memory series book, and the buckets it would need cross threads by structured clone, a copy on
 * the event loop as costly as the slices it would save. Measured (test/security/query-limits.test.ts,
 * 2-core machine at load 20): the probe's 5 groups x 518,400 buckets is refused in ~0.1-0.3 s
 * (was 10 s, RSS +1 GB); an allowed 95,005-bucket answer (2.8 MB) runs 2.5-5 s while /healthz from
 * another process answers in 2-60 ms typically, 160-280 ms at worst (GC pauses stretched by the load);
 * before, it waited 0.5-2 s.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { TimeSeriesStore } from '../types.ts';

export interface QueryLimits {
  /** Raw points a request may cover (what InfluxDB would read); 0 = no limit. */
  maxSelectPoint: number;
  /** Series (device + metric) a request may select; 0 = no limit. */
  maxSelectSeries: number;
  /** Buckets a request may answer, over every group, field and statement; 0 = no limit. */
  maxSelectBuckets: number;
  /** Wall time of a request, in ms; 0 = no limit. */
  timeoutMs: number;
  /** Statements in one request; 0 = no limit. */
  maxStatements: number;
}

/**
 * Defaults: raw points are read into JavaScript (~150 bytes each as rows), so 2 million is ~300 MB at
 * worst; aggregates over time buckets come from DuckDB's rollups and are bounded by buckets instead.
 * 100,000 buckets are ~3 MB of JSON and well under a second of sliced work; a Grafana panel
 * asks for at most its width in pixels per series (maxDataPoints), so 50 series of a wide panel fit.
 */
export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxSelectPoint: 2_000_000,
  maxSelectSeries: 10_000,
  maxSelectBuckets: 100_000,
  timeoutMs: 30_000,
  maxStatements: 100,
};

/** A limit reached; the message is InfluxDB's. */
export class QueryLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryLimitError';
  }
}

export const TIMEOUT_MESSAGE = 'query-timeout limit exceeded';
/** InfluxDB's answer for the statements after one that failed (query/executor.go ErrNotExecuted). */
export const NOT_EXECUTED = 'not executed';

/** The statement cap, checked before anything runs; undefined when the request is within it. */
export function statementCapError(count: number, limits: QueryLimits): string | undefined {
  return limits.maxStatements > 0 && count > limits.maxStatements ? `max-statements limit exceeded: (${count}/${limits.maxStatements})` : undefined;
}

/**
 * Work between two turns of the event loop: about 2-5 ms of building rows here, so a request at the
 * bucket cap yields ~20-60 times and nothing else waits long behind it.
 */
const SLICE_UNITS = 2_000;

/** What one request has spent, charged by the executor as it goes. */
export class QueryBudget {
  private points = 0;
  private series = 0;
  private buckets = 0;
  private sinceYield = 0;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(readonly limits: QueryLimits = DEFAULT_QUERY_LIMITS) {
    if (limits.timeoutMs > 0) {
      this.timer = setTimeout(() => this.controller.abort(new QueryLimitError(TIMEOUT_MESSAGE)), limits.timeoutMs);
      this.timer.unref();
    }
  }

  /** Aborted at the deadline: store calls given it stop (DuckDB's interrupt) and the request answers the timeout. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  chargePoints(n: number): void {
    this.points += n;
    const max = this.limits.maxSelectPoint;
    if (max > 0 && this.points > max) throw new QueryLimitError(`max-select-point limit exceeed: (${this.points}/${max})`);
  }

  chargeSeries(n: number): void {
    this.series += n;
    const max = this.limits.maxSelectSeries;
    if (max > 0 && this.series > max) throw new QueryLimitError(`max-select-series limit exceeded: (${this.series}/${max})`);
  }

  chargeBuckets(n: number): void {
    this.buckets += n;
    const max = this.limits.maxSelectBuckets;
    if (max > 0 && this.buckets > max) throw new QueryLimitError(`max-select-buckets limit exceeded: (${this.buckets}/${max})`);
  }

  /** Throws the timeout error once the deadline has passed. */
  check(): void {
    if (this.controller.signal.aborted) throw this.controller.signal.reason as QueryLimitError;
  }

  /** Counts `units` of JavaScript work; every SLICE_UNITS, lets the event loop run, then checks the deadline. */
  async work(units: number): Promise<void> {
    await this.breathe(units);
    this.check();
  }

  /** As work(), without the deadline: for writing an answer already computed. */
  async breathe(units: number): Promise<void> {
    this.sinceYield += units;
    if (this.sinceYield < SLICE_UNITS) return;
    this.sinceYield = 0;
    await nextTurn();
  }

  /** `xs.map(f)` a slice at a time (each element `weight` units), the event loop running in between. */
  async map<T, U>(xs: readonly T[], f: (x: T, i: number) => U, weight = 1): Promise<U[]> {
    const out = new Array<U>(xs.length);
    const per = Math.max(1, Math.floor(SLICE_UNITS / weight));
    for (let i = 0; i < xs.length; ) {
      const end = Math.min(xs.length, i + per);
      const n = end - i;
      for (; i < end; i++) out[i] = f(xs[i] as T, i);
      await this.work(n * weight);
    }
    return out;
  }

  /** Lets the event loop run once, then checks the deadline (between statements). */
  async turn(): Promise<void> {
    this.sinceYield = 0;
    await nextTurn();
    this.check();
  }

  /** `p`, or the timeout error if the deadline comes first. */
  within<T>(p: Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) {
      // `p` is dropped: its own rejection (the store stopped it) must not go unhandled.
      p.catch(() => undefined);
      return Promise.reject(signal.reason as QueryLimitError);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as QueryLimitError);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err as Error);
        },
      );
    });
  }

  /** Ends the deadline timer (the request is answered). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** Figures for a log line. */
  spent(): { points: number; series: number; buckets: number } {
    return { points: this.points, series: this.series, buckets: this.buckets };
  }
}

/**
 * Deepest object nesting of parsed statements: the parser caps parentheses (parse.ts MAX_NESTING),
 * but `a OR b OR c ...` or `x + x + x ...` builds a left-deep tree without one, and the executor
 * walks trees recursively. Walked here without recursion, over any statement shape.
 */
export const MAX_TREE_DEPTH = 1_000;

/** An error message when a statement's tree is deeper than MAX_TREE_DEPTH, else undefined. */
export function treeDepthError(statements: readonly unknown[]): string | undefined {
  const stack: Array<[unknown, number]> = statements.map((s) => [s, 1]);
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (depth > MAX_TREE_DEPTH) return `expression nested deeper than ${MAX_TREE_DEPTH} levels`;
    if (typeof node !== 'object' || node === null) continue;
    for (const child of Array.isArray(node) ? node : Object.values(node)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return undefined;
}

/** `xs.map(f)`, a slice at a time through `budget` when there is one (QueryBudget.map). */
export function sliced<T, U>(budget: QueryBudget | undefined, xs: readonly T[], f: (x: T, i: number) => U, weight = 1): Promise<U[]> {
  return budget ? budget.map(xs, f, weight) : Promise.resolve(xs.map(f));
}

const HOUR_MS = 3_600_000;

/**
 * Charges the raw points `series` hold in [from, to] before they are read: one count() whose
 * whole-hour step reads the hour rollups (cheap), the newest hour from raw points. Skipped when
 * points are not limited.
 */
export async function chargePointsAhead(
  store: Pick<TimeSeriesStore, 'rangeGroups'>,
  budget: QueryBudget | undefined,
  series: ReadonlyArray<{ device: string; metric: string }>,
  from: number,
  to: number,
): Promise<void> {
  if (!budget || budget.limits.maxSelectPoint <= 0 || series.length === 0) return;
  const stepMs = (Math.floor(to / HOUR_MS) + 1) * HOUR_MS;
  const [counted] = await budget.within(store.rangeGroups({ groups: [series], from, to, stepMs, agg: 'count', signal: budget.signal }));
  budget.chargePoints((counted ?? []).reduce((n, b) => n + (b.value ?? 0), 0));
}
