/*
 * The log store's tables and the row <-> LogLine mapping.
 *
 * `logs` holds one row a line in the order it arrived (`id` ascending), so DuckDB's per-row-group
 * zone maps on `id` and `ts` are tight. The full-text index is two tables of postings (token hash,
 * line id): `log_postings_fresh` takes each batch as it is written, unsorted; once it holds
 * `runPostings` rows it is moved into `log_postings` sorted by token, one run at a time. Inside a
 * run a token's postings sit in one or two row groups, so a lookup reads a row group or two per
 * run plus the small fresh table, not the whole index (README.md has the figures).
 */
import { LOG_FACILITIES, LOG_SEVERITIES, type LogLine } from '../../core/index.ts';

export const SCHEMA = `
  CREATE TABLE IF NOT EXISTS logs (
    id BIGINT NOT NULL,              -- arrival order, from 1
    ts BIGINT NOT NULL,              -- received, epoch ms
    claimed_ts BIGINT,               -- the sender's TIMESTAMP, epoch ms
    host VARCHAR NOT NULL,
    device VARCHAR,
    facility UTINYINT NOT NULL,      -- RFC 5424 §6.2.1 code
    severity UTINYINT NOT NULL,      -- RFC 5424 §6.2.1 code, 0 the most severe
    program VARCHAR NOT NULL,
    pid VARCHAR,
    message VARCHAR NOT NULL,
    fields JSON NOT NULL
  );
  CREATE TABLE IF NOT EXISTS log_postings (token BIGINT NOT NULL, id BIGINT NOT NULL);
  CREATE TABLE IF NOT EXISTS log_postings_fresh (token BIGINT NOT NULL, id BIGINT NOT NULL);`;

/** The columns a search reads, in this order (rowToLog reads them so). */
export const LOG_COLUMNS = 'id, ts, claimed_ts, host, device, facility, severity, program, pid, message, fields';

/** One stored line as the API answers it: the LogLine with its store id. */
export interface StoredLog extends LogLine {
  /** Arrival order in this store: what evidence links point at. */
  id: number;
}

export const FACILITY_CODE = new Map<string, number>(LOG_FACILITIES.map((f, i) => [f, i]));
export const SEVERITY_CODE = new Map<string, number>(LOG_SEVERITIES.map((s, i) => [s, i]));

/** A row of LOG_COLUMNS back to the answer's shape. */
export function rowToLog(row: readonly unknown[]): StoredLog {
  const [id, ts, claimed, host, device, facility, severity, program, pid, message, fields] = row;
  const log: StoredLog = {
    id: Number(id as bigint),
    ts: Number(ts as bigint),
    host: host as string,
    facility: LOG_FACILITIES[facility as number] ?? 'user',
    severity: LOG_SEVERITIES[severity as number] ?? 'notice',
    program: program as string,
    message: message as string,
    fields: JSON.parse(fields as string) as Record<string, string | number>,
  };
  if (claimed !== null) log.claimedTs = Number(claimed as bigint);
  if (device !== null) log.device = device as string;
  // The parser gives a numeric PROCID as a number (collectors/syslog/rfc3164.ts): kept so.
  if (pid !== null) log.pid = /^\d{1,10}$/.test(pid as string) ? Number(pid) : (pid as string);
  return log;
}

/** Epoch ms of the JavaScript Date range; beyond it a timestamp is a bug, not a time. */
const MAX_TS = 8.64e15;

/** Why a line handed to append() cannot be stored, or undefined when it can. */
export function invalidReason(l: LogLine | null | undefined): string | undefined {
  if (typeof l !== 'object' || l === null) return 'not an object';
  if (!Number.isFinite(l.ts) || l.ts < 0 || l.ts > MAX_TS) return 'ts';
  if (l.claimedTs !== undefined && (!Number.isFinite(l.claimedTs) || l.claimedTs < 0 || l.claimedTs > MAX_TS)) return 'claimedTs';
  if (typeof l.host !== 'string') return 'host';
  if (l.device !== undefined && typeof l.device !== 'string') return 'device';
  if (!FACILITY_CODE.has(l.facility)) return 'facility';
  if (!SEVERITY_CODE.has(l.severity)) return 'severity';
  if (typeof l.program !== 'string') return 'program';
  if (typeof l.message !== 'string') return 'message';
  if (typeof l.fields !== 'object' || l.fields === null) return 'fields';
  return undefined;
}
