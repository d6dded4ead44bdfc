/*
 * Retention and downsampling tiers of the embedded store.
 *
 * raw points are kept for days; 1-minute, 5-minute and 1-hour rollups (count, sum, min, max, last)
 * for months, a year and years. The 5-minute tier is what a day or a week at a 5-minute step reads:
 * five times fewer rows than the minute tier (1,000 series over a day: 288 k rows, not 1.44 M). Rollups are built from the raw points of settled periods (older than `settleMs`), each
 * tier with its own watermark: everything before the watermark is in the rollup table, everything at
 * or after it is read from the raw points. A query therefore reads one rollup tier below its
 * watermark and the raw points above it, and never loses the newest minutes to the rollup lag.
 * A point that arrives later than `settleMs` behind the clock reaches the raw tier only.
 */
import type { Aggregation } from './types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface TierOptions {
  /** How long raw points are kept (default 7 days). */
  rawRetentionMs: number;
  /** How long 1-minute rollups are kept (default 90 days). */
  minuteRetentionMs: number;
  /** How long 5-minute rollups are kept (default 1 year). */
  fiveMinuteRetentionMs: number;
  /** How long 1-hour rollups are kept (default 5 years). */
  hourRetentionMs: number;
  /** Points younger than this are not rolled up yet: late senders still land in the rollups (default 2 min). */
  settleMs: number;
}

export const defaultTiers: TierOptions = {
  rawRetentionMs: 7 * DAY,
  minuteRetentionMs: 90 * DAY,
  fiveMinuteRetentionMs: 365 * DAY,
  hourRetentionMs: 5 * 365 * DAY,
  settleMs: 2 * MINUTE,
};

export type TierName = 'raw' | 'minute' | 'fiveMinutes' | 'hour';
/** Finest first. */
export const TIERS: readonly TierName[] = ['raw', 'minute', 'fiveMinutes', 'hour'];

export interface Rollup {
  readonly name: Exclude<TierName, 'raw'>;
  readonly table: string;
  readonly resolutionMs: number;
}

export const ROLLUPS: readonly Rollup[] = [
  { name: 'minute', table: 'rollup_1m', resolutionMs: MINUTE },
  { name: 'fiveMinutes', table: 'rollup_5m', resolutionMs: 5 * MINUTE },
  { name: 'hour', table: 'rollup_1h', resolutionMs: HOUR },
];

export const TIER_SCHEMA = `
  CREATE TABLE IF NOT EXISTS tier_watermarks (tier VARCHAR PRIMARY KEY, watermark BIGINT NOT NULL);
  ${ROLLUPS.map(
    (r) => `CREATE TABLE IF NOT EXISTS ${r.table} (
    series INTEGER NOT NULL, ts BIGINT NOT NULL, n BIGINT NOT NULL, s DOUBLE NOT NULL,
    lo DOUBLE NOT NULL, hi DOUBLE NOT NULL, lt BIGINT NOT NULL, lv DOUBLE NOT NULL);`,
  ).join('\n')}`;

const retentionOf = (t: TierName, o: TierOptions): number =>
  ({ raw: o.rawRetentionMs, minute: o.minuteRetentionMs, fiveMinutes: o.fiveMinuteRetentionMs, hour: o.hourRetentionMs })[t];

/** The table each tier is kept in. */
export const TIER_TABLE: Record<TierName, string> = { raw: 'points', ...Object.fromEntries(ROLLUPS.map((r) => [r.name, r.table])) } as Record<TierName, string>;

/**
 * The tier a query reads: the coarsest one whose resolution divides the step (fewest rows), moved to a
 * coarser tier when the finer one no longer holds data as old as `from`.
 */
export function chooseTier(from: number, stepMs: number, now: number, o: TierOptions): TierName {
  let pick = 0;
  for (const [i, r] of ROLLUPS.entries()) if (stepMs % r.resolutionMs === 0) pick = i + 1;
  while (pick < TIERS.length - 1 && from < now - retentionOf(TIERS[pick] as TierName, o)) pick++;
  return TIERS[pick] as TierName;
}

/** Per-bucket combination of partial aggregates (n, s, lo, hi, lt, lv): the same for rollup rows and raw points. */
export const COMBINE_SQL: Record<Aggregation, string> = {
  mean: 'sum(s) / sum(n)',
  min: 'min(lo)',
  max: 'max(hi)',
  last: 'arg_max(lv, lt)',
  sum: 'sum(s)',
  count: 'CAST(sum(n) AS DOUBLE)',
};

/** The same, for a bucket that is one partial aggregate row (no combination needed). */
export const ROW_VALUE_SQL: Record<Aggregation, string> = {
  mean: 's / n',
  min: 'lo',
  max: 'hi',
  last: 'lv',
  sum: 's',
  count: 'CAST(n AS DOUBLE)',
};

/** Raw points as partial aggregates of one point each. */
export const RAW_AS_PARTIAL = 'SELECT series, ts, 1 AS n, value AS s, value AS lo, value AS hi, ts AS lt, value AS lv FROM points';

/** Folds the raw points of [from, to) into a rollup table, one row per series and period. */
export function rollupSql(r: Rollup): string {
  return `INSERT INTO ${r.table}
    SELECT series, ts // ${r.resolutionMs} * ${r.resolutionMs} AS t, count(*), sum(value), min(value), max(value), max(ts), arg_max(value, ts)
    FROM points WHERE ts >= $from AND ts < $to GROUP BY series, t ORDER BY t, series`;
}

/** The retention cut-offs at `now`: rows older than these are deleted. Raw points are kept until every rollup has them. */
export function cutoffs(now: number, o: TierOptions, watermarks: Map<string, number>): Record<TierName, number> {
  const rolled = Math.min(...ROLLUPS.map((r) => watermarks.get(r.name) ?? 0));
  return {
    raw: Math.min(now - o.rawRetentionMs, rolled),
    minute: now - o.minuteRetentionMs,
    fiveMinutes: now - o.fiveMinuteRetentionMs,
    hour: now - o.hourRetentionMs,
  };
}

export const retentionFor = retentionOf;
