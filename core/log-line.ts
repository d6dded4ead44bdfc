/**
 * One parsed log line, the shape shared by the syslog collector (which produces it), the log
 * store (which keeps it) and the Sigma engine (which matches it). Field names follow the syslog
 * vocabulary of RFC 5424 §6 (facility, severity, hostname, app-name as `program`, procid as `pid`).
 */
export interface LogLine {
  /** Time the line was received, ms since the epoch (the time the SOC trusts). */
  ts: number;
  /** Time the sender claims (the syslog TIMESTAMP), ms since the epoch, when it had one. */
  claimedTs?: number;
  /** Sender's HOSTNAME as written in the line, or its address when the line has none. */
  host: string;
  /** Inventory device id the sender was mapped to (by address or hostname); absent when unknown. */
  device?: string;
  /** Facility keyword of RFC 5424 §6.2.1 table 1 (a line without PRI is user.notice, RFC 3164 §4.3.3): kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, security, console, solaris-cron, local0..local7. */
  facility: LogFacility;
  /** Severity keyword of RFC 5424 §6.2.1 table 2. */
  severity: LogSeverity;
  /** APP-NAME / TAG without the pid, e.g. `sshd`, `sshd(pam_unix)`, `su`, `%LINK-3-UPDOWN` senders' `cisco`; '' when none. */
  program: string;
  /** PROCID, e.g. the `[1234]` of `sshd[1234]:`. */
  pid?: string | number;
  /** The free-text MSG part (for CEF/LEEF/JSON payloads, the original payload text). */
  message: string;
  /** Parsed fields: RFC 5424 structured data (`sd.<id>.<param>`), CEF/LEEF extensions, JSON keys (flattened with dots), key=value pairs. */
  fields: Record<string, string | number>;
}

/** RFC 5424 §6.2.1 facility keywords (codes 0..23 in order). */
export const LOG_FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp',
  'ntp', 'security', 'console', 'solaris-cron', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;
export type LogFacility = (typeof LOG_FACILITIES)[number];

/** RFC 5424 §6.2.1 severity keywords (codes 0..7 in order, 0 the most severe). */
export const LOG_SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type LogSeverity = (typeof LOG_SEVERITIES)[number];
