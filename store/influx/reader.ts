/*
 * Reads from InfluxDB through InfluxQL on its v1 `/query` endpoint (served by 1.x, by 2.x for a bucket
 * with a DBRP mapping, and by 3.x), with the writer's mapping (store/influx/line.ts): measurement = the
 * device kind, field = the metric, tags = inventory tags plus `device`. Queries go as GET, but GET is
 * not a safeguard: influxd 1.6.7 runs `DROP DATABASE` sent by GET with only a deprecation warning. So
 * what is proxied for users passes readOnly() first: SELECT (without INTO) and SHOW statements only.
 */
import { wfError } from '../../core/index.ts';
import { emptyBuckets, planBuckets, planSpan } from '../range.ts';
import type { GroupRangeQuery, RangeBucket, RangeQuery } from '../types.ts';
import { authOf, baseOf, databaseOf, type InfluxTarget } from './target.ts';

/** InfluxQL quoting (docs.influxdata.com, "InfluxQL reference", identifiers and string literals). */
const ident = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
const literal = (s: string): string => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;

/** Words outside quoted strings and quoted identifiers, per statement (statements split on ";" outside quotes). */
function statementWords(q: string): string[][] {
  const statements: string[][] = [[]];
  const re = /'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|(;)|([A-Za-z_]+)/g;
  for (const m of q.matchAll(re)) {
    if (m[1] !== undefined) statements.push([]);
    else if (m[2] !== undefined) (statements[statements.length - 1] as string[]).push(m[2].toUpperCase());
  }
  return statements.filter((w) => w.length > 0);
}

/**
 * Why a query is not a pure read, or undefined when every statement is a SELECT without INTO or a SHOW.
 * Conservative: a regex literal holding the word "into" is refused too.
 */
export function notReadOnly(q: string): string | undefined {
  for (const words of statementWords(q)) {
    const first = words[0] as string;
    if (first !== 'SELECT' && first !== 'SHOW') return `${first} is not allowed here: only SELECT and SHOW statements are served (read-only)`;
    if (words.includes('INTO')) return 'SELECT ... INTO is not allowed here: only reads are served';
  }
  return undefined;
}

/** A reply of InfluxDB's /query, as it came. */
export interface InfluxQueryReply {
  status: number;
  body: unknown;
}

interface QueryBody {
  error?: string;
  results?: { error?: string; series?: { name: string; columns: string[]; values?: unknown[][] }[] }[];
}

export interface InfluxReaderOptions extends InfluxTarget {
  /** How long one query may take (default 30 s). */
  timeoutMs?: number;
}

export class InfluxReader {
  private readonly base: string;
  private readonly db: { db: string; rp?: string };
  private readonly auth: ReturnType<typeof authOf>;
  private readonly timeoutMs: number;

  constructor(options: InfluxReaderOptions) {
    this.base = baseOf(options);
    this.db = databaseOf(options);
    this.auth = authOf(options.token);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** A user's InfluxQL, read statements only (403 in InfluxDB's error shape otherwise); InfluxDB's answer untouched. */
  async proxy(q: string, epoch?: string): Promise<InfluxQueryReply> {
    const refused = notReadOnly(q);
    if (refused !== undefined) return { status: 403, body: { error: refused } };
    return this.query(q, epoch);
  }

  /** Sends InfluxQL to the configured database and hands back InfluxDB's answer untouched (status and JSON body). */
  async query(q: string, epoch?: string): Promise<InfluxQueryReply> {
    const params = new URLSearchParams({ db: this.db.db, q, ...this.auth.params });
    if (this.db.rp !== undefined) params.set('rp', this.db.rp);
    if (epoch !== undefined) params.set('epoch', epoch);
    let r: Response;
    try {
      r = await fetch(`${this.base}/query?${params}`, { headers: this.auth.headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw wfError('STORE_UNAVAILABLE', `InfluxDB at ${this.base} did not answer: ${(err as Error).message}`);
    }
    const text = await r.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: text.trim() || `InfluxDB answered ${r.status}` };
    }
    return { status: r.status, body };
  }

  /**
   * One series in buckets, as the embedded store answers: InfluxDB's GROUP BY time() aligns buckets to
   * multiples of the step from the epoch, as planBuckets does. `measurement` is the device kind when the
   * caller knows it; without it every measurement is searched (`FROM /.*\/`) for the device.
   */
  async range(q: RangeQuery, measurement?: string): Promise<RangeBucket[]> {
    const plan = planBuckets(q);
    const buckets = emptyBuckets(plan);
    if (plan.count === 0) return buckets;
    const from = measurement !== undefined ? ident(measurement) : '/.*/';
    const sql = `SELECT ${q.agg}(${ident(q.metric)}) FROM ${from} WHERE "device" = ${literal(q.device)} AND time >= ${plan.from}ms AND time <= ${plan.to}ms GROUP BY time(${plan.step}ms) fill(none)`;
    this.fill(buckets, plan.start, plan.step, await this.rows(sql));
    return buckets;
  }

  /**
   * Groups aggregated across their members in InfluxDB. A group whose members share one measurement and
   * one metric is one query (`WHERE "device" = 'a' OR ...`), which is every group the InfluxQL executor
   * builds; other groups answer undefined, for the caller to take from elsewhere.
   */
  async rangeGroups(q: GroupRangeQuery, measurementOf: (device: string, metric: string) => string | undefined): Promise<(RangeBucket[] | undefined)[]> {
    const plan = planSpan(q);
    return Promise.all(
      q.groups.map(async (group) => {
        const buckets = emptyBuckets(plan);
        const known = group.filter((m) => measurementOf(m.device, m.metric) !== undefined);
        if (known.length === 0 || plan.count === 0) return buckets;
        const first = known[0] as { device: string; metric: string };
        const measurement = measurementOf(first.device, first.metric) as string;
        if (known.some((m) => m.metric !== first.metric || measurementOf(m.device, m.metric) !== measurement)) return undefined;
        const devices = [...new Set(known.map((m) => m.device))].map((d) => `"device" = ${literal(d)}`).join(' OR ');
        const sql = `SELECT ${q.agg}(${ident(first.metric)}) FROM ${ident(measurement)} WHERE (${devices}) AND time >= ${plan.from}ms AND time <= ${plan.to}ms GROUP BY time(${plan.step}ms) fill(none)`;
        this.fill(buckets, plan.start, plan.step, await this.rows(sql));
        return buckets;
      }),
    );
  }

  /** The [time, value] rows of a one-statement answer, every series of it; an InfluxDB error becomes a 502 naming it. */
  private async rows(sql: string): Promise<unknown[][]> {
    const { status, body } = await this.query(sql, 'ms');
    const b = body as QueryBody;
    const error = b.error ?? b.results?.[0]?.error;
    if (status !== 200 || error !== undefined) {
      throw wfError('STORE_QUERY', `InfluxDB refused the range query (${status}): ${error ?? 'no answer'}`);
    }
    return (b.results?.[0]?.series ?? []).flatMap((s) => s.values ?? []);
  }

  private fill(buckets: RangeBucket[], start: number, step: number, rows: unknown[][]): void {
    for (const [ts, value] of rows) {
      if (typeof ts !== 'number' || typeof value !== 'number') continue;
      const bucket = buckets[Math.round((ts - start) / step)];
      // With `FROM /.*/` one device may answer from two measurements; the first answer wins.
      if (bucket && bucket.value === null) bucket.value = value;
    }
  }
}
