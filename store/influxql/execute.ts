/*
 * InfluxQL over the product's series.
 *
 * The mapping (also what the InfluxDB writer writes, so a dashboard reads both alike, as Telegraf's
 * SNMP dashboards expect many fields per measurement):
 *   measurement = the device kind (tag `kind`: sensor, crac, ups, pdu, switch...; "device" when untagged)
 *   field       = the metric (temperature, humidity, load...)
 *   tags        = the series' inventory tags (device, kind, room, rack, row, position...)
 * Answers have InfluxDB 1.x's JSON shape: {results: [{statement_id, series: [{name, tags?, columns, values}]}]}.
 */
import { WatchfloorError } from '../../core/index.ts';
import type { TimeSeriesStore } from '../types.ts';
import { NOT_EXECUTED, QueryBudget, QueryLimitError } from './limits.ts';
import { DATABASE, type InfluxSeries } from './mapping.ts';
import type { Statement } from './parse.ts';
import { Unsupported } from './where.ts';
import { selectStatement } from './select.ts';
import { show } from './show.ts';

export interface StatementResult {
  statement_id: number;
  series?: InfluxSeries[];
  error?: string;
  /** chunked=true: more chunks of this statement follow. */
  partial?: boolean;
}

export interface ExecuteOptions {
  now: number;
  /** The `epoch` parameter: ns, u, µ, ms, s, m, h; absent means RFC3339 strings. */
  epoch?: string;
  /** The request's limits and deadline (limits.ts); the defaults when absent. */
  budget?: QueryBudget;
  /** The `db` parameter; absent reads the one database (InfluxDB would say "database name required"). */
  database?: string;
}

/** Runs parsed statements against the store; an unsupported statement answers with its own error, like InfluxDB. */
export async function executeInfluxQL(store: TimeSeriesStore, statements: Statement[], opts: ExecuteOptions): Promise<StatementResult[]> {
  const out: StatementResult[] = [];
  const budget = opts.budget ?? new QueryBudget();
  const o = { ...opts, budget };
  try {
    for (const [i, st] of statements.entries()) {
      try {
        // A turn of the event loop between statements, and the deadline checked (limits.ts).
        if (i > 0) await budget.turn();
        const unknownDb = opts.database !== undefined && opts.database !== DATABASE ? opts.database : undefined;
        if (unknownDb !== undefined && st.type !== 'show-databases') {
          // influxd 1.6: SHOW MEASUREMENTS on an unknown database answers nothing; every other statement this error.
          out.push(st.type === 'show-measurements' ? { statement_id: i } : { statement_id: i, error: `database not found: ${unknownDb}` });
          continue;
        }
        const series = st.type === 'select' ? await selectStatement(store, st, o) : show(store, st, o);
        out.push(series.length > 0 ? { statement_id: i, series } : { statement_id: i });
      } catch (err) {
        if (err instanceof QueryLimitError) {
          // As InfluxDB's executor: the failing statement says why, the ones after it are not executed.
          out.push({ statement_id: i, error: err.message });
          for (let j = i + 1; j < statements.length; j++) out.push({ statement_id: j, error: NOT_EXECUTED });
          break;
        }
        if (err instanceof Unsupported || err instanceof WatchfloorError) out.push({ statement_id: i, error: err.message });
        else throw err;
      }
    }
  } finally {
    if (!opts.budget) budget.dispose();
  }
  return out;
}
