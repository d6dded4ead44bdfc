/*
 * One syslog line to one LogLine: `<PRI>` (pri.ts), then the RFC 5424 header when VERSION 1 follows,
 * else the BSD form (rfc3164.ts); then the MSG itself when it is a CEF, LEEF or JSON payload, else
 * its key=value pairs. Pure: the receive time and the sender's address come in as arguments.
 * Never throws; what cannot be read stays in `message`.
 */
import type { LogLine, LogSeverity } from '../../core/index.ts';
import { parseCef } from './cef.ts';
import { flattenJson } from './json.ts';
import { addKeyValuePairs } from './kv.ts';
import { parseLeef } from './leef.ts';
import { DEFAULT_PRIORITY, readPri } from './pri.ts';
import { CISCO_CODE, parseRfc3164, splitTag } from './rfc3164.ts';
import { parseRfc5424 } from './rfc5424.ts';
import { readIsoTime } from './time.ts';

export interface ParseContext {
  /** Receive time, ms since the epoch: the line's `ts`, and the year of a BSD timestamp. */
  receivedAt: number;
  /** The sender's address: the host of a line that names none. */
  source: string;
  /** IANA zone of BSD timestamps that carry none (UTC when absent). */
  timezone?: string;
}

/** CEF severity 0..10 (or Low/Medium/High/Very-High) as a syslog severity, for lines without PRI. */
function severityOfScale(v: string | undefined): LogSeverity | undefined {
  if (v === undefined) return undefined;
  const word: Record<string, number> = { low: 2, medium: 5, high: 8, 'very-high': 10 };
  const n = /^\d+$/.test(v) ? Number(v) : Object.hasOwn(word, v.toLowerCase()) ? word[v.toLowerCase()] : undefined;
  if (n === undefined) return undefined;
  return n >= 9 ? 'crit' : n >= 7 ? 'err' : n >= 4 ? 'warning' : 'notice';
}

/** pino's numeric levels and the usual level words of JSON loggers. */
function severityOfLevel(v: unknown): LogSeverity | undefined {
  if (typeof v === 'number') return v >= 60 ? 'crit' : v >= 50 ? 'err' : v >= 40 ? 'warning' : v >= 30 ? 'info' : 'debug';
  if (typeof v !== 'string') return undefined;
  const words: Record<string, LogSeverity> = { fatal: 'crit', critical: 'crit', crit: 'crit', error: 'err', err: 'err', warn: 'warning', warning: 'warning', notice: 'notice', info: 'info', information: 'info', informational: 'info', debug: 'debug', trace: 'debug' };
  return Object.hasOwn(words, v.toLowerCase()) ? words[v.toLowerCase()] : undefined;
}

/** Reads the MSG part as a structured payload where it is one, filling `line.fields`. */
function readPayload(line: LogLine, hadPri: boolean): void {
  const text = line.message;
  const fields = line.fields;
  if (text.startsWith('CEF:')) {
    const cef = parseCef(text);
    if (cef) {
      Object.assign(fields, cef.extension, cef.header);
      if (!line.program) line.program = cef.header['cef.deviceProduct'] ?? '';
      const sev = severityOfScale(cef.header['cef.severity']);
      if (!hadPri && sev) line.severity = sev;
      return;
    }
  } else if (text.startsWith('LEEF:')) {
    const leef = parseLeef(text);
    if (leef) {
      Object.assign(fields, leef.attributes, leef.header);
      if (!line.program) line.program = leef.header['leef.product'] ?? '';
      const sev = severityOfScale(leef.attributes.sev);
      if (!hadPri && sev) line.severity = sev;
      return;
    }
  } else if (text.startsWith('{')) {
    const obj = flattenJson(text, fields);
    if (obj) {
      const time = obj.timestamp ?? obj['@timestamp'] ?? obj.time ?? obj.ts;
      if (line.claimedTs === undefined) {
        if (typeof time === 'string') {
          const t = readIsoTime(time);
          if (t) line.claimedTs = t.ts;
        } else if (typeof time === 'number' && time > 1e11) line.claimedTs = time;
      }
      // Suricata EVE names its event types; it is the program when the line carried no tag.
      if (!line.program) line.program = typeof obj.event_type === 'string' && 'flow_id' in obj ? 'suricata' : typeof obj.program === 'string' ? obj.program : typeof obj.name === 'string' ? obj.name : '';
      const sev = severityOfLevel(obj.level ?? obj.severity);
      if (!hadPri && sev) line.severity = sev;
      if (line.host === '' && typeof obj.host === 'string') line.host = obj.host;
      return;
    }
  }
  const cisco = CISCO_CODE.exec(text);
  if (cisco) {
    fields['cisco.facility'] = cisco[1] as string;
    fields['cisco.severity'] = Number(cisco[2]);
    fields['cisco.mnemonic'] = cisco[3] as string;
  }
  addKeyValuePairs(text, fields);
}

/** Parses one syslog line (without its framing) received at `ctx.receivedAt` from `ctx.source`. */
export function parseSyslogLine(raw: string, ctx: ParseContext): LogLine {
  // Trailers that framing may leave: CR of CRLF, NUL, LF (RFC 6587 §3.4.2).
  let end = raw.length;
  while (end > 0 && (raw.charCodeAt(end - 1) === 0x0d || raw.charCodeAt(end - 1) === 0x0a || raw.charCodeAt(end - 1) === 0)) end--;
  const text = end === raw.length ? raw : raw.slice(0, end);
  const pri = readPri(text);
  const rest = pri ? pri.rest : text;
  const priority = pri?.priority ?? DEFAULT_PRIORITY;
  const line: LogLine = { ts: ctx.receivedAt, host: '', facility: priority.facility, severity: priority.severity, program: '', message: '', fields: {} };
  const h5424 = pri ? parseRfc5424(rest, ctx.timezone) : undefined;
  if (h5424) {
    if (h5424.claimedTs !== undefined) line.claimedTs = h5424.claimedTs;
    line.host = h5424.host ?? '';
    line.program = h5424.program;
    if (h5424.pid !== undefined) line.pid = h5424.pid;
    if (h5424.msgid) line.fields.msgid = h5424.msgid;
    for (const [id, params] of Object.entries(h5424.structuredData)) for (const [name, value] of Object.entries(params)) line.fields[`sd.${id}.${name}`] = value;
    if (h5424.sdError) line.fields['syslog.error'] = h5424.sdError;
    line.message = h5424.message;
    // A JSON or CEF MSG behind a 5424 header that carried no APP-NAME may still carry a tag.
    if (!line.program && !/^(CEF|LEEF):|^\{/.test(line.message)) Object.assign(line, splitTag(line.message));
  } else {
    const h = parseRfc3164(rest, ctx.receivedAt, ctx.timezone);
    if (h.claimedTs !== undefined) line.claimedTs = h.claimedTs;
    line.host = h.host ?? '';
    line.program = h.program;
    if (h.pid !== undefined) line.pid = h.pid;
    line.message = h.message;
  }
  readPayload(line, pri !== undefined);
  if (!line.host) line.host = ctx.source;
  return line;
}
