/**
 * The embedded store's maintenance pass (tiers in store/tiers.ts): settled raw points folded into the
 * 1-minute, 5-minute and 1-hour rollups, each up to its watermark, then every tier cut to its retention.
 * It runs once a minute on the writer connection, in turn with the batches. Figures are in store/embedded/store.ts.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { wfError, type Logger } from '../../core/index.ts';
import { cutoffs, ROLLUPS, rollupSql, TIER_TABLE, TIERS } from '../tiers.ts';
import { closedError, type Lifecycle, type MaintenanceReport, type Options, type Watermarks } from './options.ts';
import type { PointWriter } from './writer.ts';

/** Every rollup tier's watermark as stored (a tier not yet rolled up has none). */
export async function loadWatermarks(db: DuckDBConnection): Promise<Watermarks> {
  const watermarks: Watermarks = new Map();
  for (const [tier, wm] of (await db.runAndReadAll('SELECT tier, watermark FROM tier_watermarks')).getRows()) {
    watermarks.set(tier as string, Number(wm));
  }
  return watermarks;
}

/** Rollups and retention on the writer connection, periodically and on demand (maintain()). */
export class TierMaintenance {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly writer: DuckDBConnection,
    /** Tasks on the writer connection take their turn with the batches. */
    private readonly turns: Pick<PointWriter, 'inTurn'>,
    private readonly watermarks: Watermarks,
    private readonly life: Lifecycle,
    private readonly log: Logger,
    private readonly options: Pick<Options, 'clock' | 'tiers' | 'maintenanceIntervalMs'>,
  ) {}

  /** Starts the periodic pass, unless its interval is 0 (tests call maintain()). */
  start(): void {
    if (this.options.maintenanceIntervalMs > 0) this.schedule();
  }
  stop(): void {
    clearTimeout(this.timer);
  }

  maintain(): Promise<MaintenanceReport> {
    if (this.life.closing) return Promise.reject(closedError());
    return this.turns.inTurn(() => this.runMaintenance());
  }

  private async runMaintenance(): Promise<MaintenanceReport> {
    if (this.life.closed) throw closedError();
    const now = this.options.clock.now();
    const report: MaintenanceReport = { rolledUp: {}, deleted: { raw: 0, minute: 0, fiveMinutes: 0, hour: 0 } };
    await this.backfillNewTiers(report);
    for (const r of ROLLUPS) {
      const from = this.watermarks.get(r.name) ?? 0;
      const to = Math.floor((now - this.options.tiers.settleMs) / r.resolutionMs) * r.resolutionMs;
      if (to <= from) continue;
      await this.writer.run('BEGIN TRANSACTION');
      try {
        const res = await this.writer.run(rollupSql(r), { from: BigInt(from), to: BigInt(to) });
        await this.writer.run('INSERT OR REPLACE INTO tier_watermarks VALUES ($tier, $wm)', { tier: r.name, wm: BigInt(to) });
        await this.writer.run('COMMIT');
        report.rolledUp[r.name] = Number(res.rowsChanged);
        this.watermarks.set(r.name, to);
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw wfError('STORE_WRITE', `rolling up ${r.name}: ${(err as Error).message}`);
      }
    }
    const cut = cutoffs(now, this.options.tiers, this.watermarks);
    for (const tier of TIERS) {
      const res = await this.writer.run(`DELETE FROM ${TIER_TABLE[tier]} WHERE ts < $cut`, { cut: BigInt(Math.max(0, cut[tier])) });
      report.deleted[tier] = Number(res.rowsChanged);
    }
    return report;
  }

  /**
   * A rollup tier added after the store was made (the 5-minute one, in a store from before it) is
   * filled once from the next finer rollup, up to that one's watermark: the raw points it would be
   * built from may be long expired, and its history must reach as far back as the finer tier's.
   */
  private async backfillNewTiers(report: MaintenanceReport): Promise<void> {
    for (const [i, r] of ROLLUPS.entries()) {
      const finer = i > 0 ? ROLLUPS[i - 1] : undefined;
      const finerWm = finer ? this.watermarks.get(finer.name) : undefined;
      if (!finer || finerWm === undefined || this.watermarks.has(r.name)) continue;
      const to = Math.floor(finerWm / r.resolutionMs) * r.resolutionMs;
      await this.writer.run('BEGIN TRANSACTION');
      try {
        const res = await this.writer.run(
          `INSERT INTO ${r.table}
            SELECT series, ts // ${r.resolutionMs} * ${r.resolutionMs} AS t, sum(n), sum(s), min(lo), max(hi), max(lt), arg_max(lv, lt)
            FROM ${finer.table} WHERE ts < $to GROUP BY series, t ORDER BY t, series`,
          { to: BigInt(to) },
        );
        await this.writer.run('INSERT OR REPLACE INTO tier_watermarks VALUES ($tier, $wm)', { tier: r.name, wm: BigInt(to) });
        await this.writer.run('COMMIT');
        report.rolledUp[r.name] = Number(res.rowsChanged);
        this.watermarks.set(r.name, to);
        this.log.info({ tier: r.name, from: finer.name, rows: Number(res.rowsChanged) }, 'store: a new rollup tier filled from the finer one');
      } catch (err) {
        await this.writer.run('ROLLBACK').catch(() => undefined);
        throw wfError('STORE_WRITE', `filling ${r.name} from ${finer.name}: ${(err as Error).message}`);
      }
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.maintain()
        .then(
          (r) => this.log.debug({ ...r }, 'store maintenance done'),
          (err: unknown) => this.log.error({ err }, 'store maintenance failed; retried at the next interval'),
        )
        .finally(() => {
          if (!this.life.closing) this.schedule();
        })
        .catch(() => undefined);
    }, this.options.maintenanceIntervalMs);
    this.timer.unref();
  }
}
