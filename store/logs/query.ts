/*
 * A search's filters as SQL over `logs`, with `q` answered by the postings (schema.ts).
 * Values travel as parameters; the only literals written into the SQL are token hashes, numbers
 * this module computed (a literal lets DuckDB prune row groups by their zone maps at plan time).
 */
import { badRequest, type LogSeverity } from '../../core/index.ts';
import { SEVERITY_CODE } from './schema.ts';
import { parseTextQuery } from './tokens.ts';

/** What a search, a histogram and an export filter by; every filter given must hold (AND). */
export interface LogFilters {
  /** Full text over message and fields: words and addresses all present, `"quoted phrases"` as written; case-insensitive. */
  q?: string;
  /** The HOSTNAME as sent, case-insensitive. */
  host?: string;
  device?: string;
  program?: string;
  /** This severity or a more severe one (syslog order: emerg is the most severe). */
  severity?: LogSeverity;
  /** Received at or after, epoch ms. */
  since?: number;
  /** Received at or before, epoch ms. */
  until?: number;
  /** Only lines of these devices (a role that may read some devices' logs only); an empty list matches nothing. */
  devices?: readonly string[];
}

export type Params = Record<string, string | number | bigint>;

/** The WHERE clause of a search (without the word WHERE) and its parameters. */
export interface FilterSql {
  where: string;
  /** The same without the candidate condition: for lines already taken from `cand`. */
  rest: string;
  params: Params;
  /** A CTE of the candidate line ids (`cand`) when `q` is given; '' otherwise. */
  with: string;
}

const MAX_LOOKUPS = 16;

/** Builds the SQL of `f`; a `q` without any word is a 400 naming `q`. */
export function filterSql(f: LogFilters): FilterSql {
  const where: string[] = [];
  const params: Params = {};
  let cte = '';
  if (f.q !== undefined && f.q.trim() !== '') {
    const tq = parseTextQuery(f.q);
    if (!tq) throw badRequest('q', 'q: needs a word, a number or an address to search for');
    if (tq.lookups.length > MAX_LOOKUPS) throw badRequest('q', `q: at most ${MAX_LOOKUPS} words`);
    // Each token's line ids, from the sorted runs and from the fresh postings; a line has them all.
    const perToken = tq.lookups.map((h) => `SELECT id FROM log_postings WHERE token = ${h} UNION ALL SELECT id FROM log_postings_fresh WHERE token = ${h}`);
    cte = `cand AS MATERIALIZED (${perToken.map((s) => `(${s})`).join(' INTERSECT ')})`;
    tq.phrases.forEach((p, i) => {
      params[`phrase${i}`] = p;
      where.push(`(contains(lower(message), $phrase${i}) OR contains(lower(fields::VARCHAR), $phrase${i}))`);
    });
  }
  if (f.host !== undefined) {
    params.host = f.host.toLowerCase();
    where.push('lower(host) = $host');
  }
  if (f.device !== undefined) {
    params.device = f.device;
    where.push('device = $device');
  }
  if (f.program !== undefined) {
    params.program = f.program;
    where.push('program = $program');
  }
  if (f.severity !== undefined) {
    const code = SEVERITY_CODE.get(f.severity);
    if (code === undefined) throw badRequest('severity', `severity: one of emerg, alert, crit, err, warning, notice, info, debug`);
    where.push(`severity <= ${code}`);
  }
  if (f.since !== undefined) {
    params.since = BigInt(Math.ceil(f.since));
    where.push('ts >= $since');
  }
  if (f.until !== undefined) {
    params.until = BigInt(Math.floor(f.until));
    where.push('ts <= $until');
  }
  if (f.devices !== undefined) {
    if (f.devices.length === 0) where.push('FALSE');
    else {
      f.devices.forEach((d, i) => (params[`dev${i}`] = d));
      where.push(`device IN (${f.devices.map((_, i) => `$dev${i}`).join(', ')})`);
    }
  }
  const rest = where.length > 0 ? where.join(' AND ') : 'TRUE';
  return { where: cte ? `id IN (SELECT id FROM cand) AND ${rest}` : rest, rest, params, with: cte ? `WITH ${cte} ` : '' };
}
