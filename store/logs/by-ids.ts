/*
 * The SQL that fetches stored lines by their ids (an alert's evidence links them so), oldest first.
 * Ids are whole numbers written into the SQL as literals, so DuckDB prunes row groups by their zone maps.
 */
import { LOG_COLUMNS } from './schema.ts';

/** Most ids one look-up takes; more are a 400 at the route, cut here. */
export const MAX_IDS = 10_000;
/** Up to this many ids, each is fetched on its own (one small row group each); beyond it one scan with IN. */
const POINT_FETCH_MAX = 300;

/** The SELECT of the lines of `ids` (bad and repeated ids left out), oldest first. */
export function byIdsSql(ids: readonly number[]): string {
  const wanted = [...new Set(ids)].filter((i) => Number.isSafeInteger(i) && i > 0).slice(0, MAX_IDS);
  if (wanted.length === 0) return `SELECT ${LOG_COLUMNS} FROM logs WHERE FALSE`;
  const rows = wanted.length <= POINT_FETCH_MAX ? wanted.map((id) => `SELECT ${LOG_COLUMNS} FROM logs WHERE id = ${id}`).join(' UNION ALL ') : `SELECT ${LOG_COLUMNS} FROM logs WHERE id IN (${wanted.join(', ')})`;
  return `SELECT * FROM (${rows}) ORDER BY ts, id`;
}
