/** PRI, the `<N>` that opens a syslog line: facility * 8 + severity (RFC 5424 §6.2.1, RFC 3164 §4.1.1). */
import { LOG_FACILITIES, LOG_SEVERITIES, type LogFacility, type LogSeverity } from '../../core/index.ts';

export interface Priority {
  facility: LogFacility;
  severity: LogSeverity;
}

/** A line without PRI is user.notice (RFC 3164 §4.3.3: a relay assigns PRI 13). */
export const DEFAULT_PRIORITY: Priority = { facility: 'user', severity: 'notice' };

/** Facility and severity of a PRI value 0..191. */
export function decodePri(pri: number): Priority {
  return { facility: LOG_FACILITIES[pri >> 3] ?? 'user', severity: LOG_SEVERITIES[pri & 7] ?? 'notice' };
}

/**
 * Reads a leading `<PRI>` (1 to 3 digits, 0..191, no leading zero but `<0>`: RFC 5424 §6.2.1);
 * undefined when the line has none or a malformed one, which then stays part of the text.
 */
export function readPri(line: string): { priority: Priority; rest: string } | undefined {
  if (line.charCodeAt(0) !== 0x3c /* < */) return undefined;
  const end = line.indexOf('>', 1);
  if (end < 2 || end > 4) return undefined;
  const digits = line.slice(1, end);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(digits)) return undefined;
  const pri = Number(digits);
  if (pri > 191) return undefined;
  return { priority: decodePri(pri), rest: line.slice(end + 1) };
}
