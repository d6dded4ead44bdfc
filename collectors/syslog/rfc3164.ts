/*
 * RFC 3164 §4.1 (the BSD syslog line) as real senders write it: `TIMESTAMP HOSTNAME TAG[PID]: MSG`,
 * the TIMESTAMP also in RFC 3339 form (rsyslog) or with a year and milliseconds and a `*` (Cisco);
 * the HOSTNAME sometimes absent (the sender's address stands in); a whole line without PRI and
 * without a timestamp is only a message (RFC 3164 §4.3.3). A Cisco line (`123: *Mar  1 ...:
 * %LINK-3-UPDOWN: ...`) keeps the `%FACILITY-SEVERITY-MNEMONIC` in its message and as fields.
 */
import { readBsdTime, readIsoTime } from './time.ts';

export interface Rfc3164Header {
  claimedTs?: number;
  host?: string;
  program: string;
  pid?: string | number;
  message: string;
}

/** TAG (§4.1.3, widened to what Linux writes: `sshd(pam_unix)`, `postfix/smtpd`) and an optional `[PID]`, then `:`. */
const TAG = /^([^\s[\]:]{1,64})(?:\[([^\]\s]{0,32})\])?:(?: |$)/;
/** A tag-less first word such as sysklogd's `syslogd 1.4.1: restart.`. */
const BARE_PROGRAM = /^([A-Za-z][\w.()/-]{0,63}) /;
/** Cisco IOS `%FACILITY-SEVERITY-MNEMONIC:` (the System Message Guide's format). */
export const CISCO_CODE = /^%([A-Z0-9_]{1,32})-([0-7])-([A-Z0-9_]{1,48}):/;
const HOST = /^[A-Za-z0-9_.:-]{1,255}$/;

/** Splits `TAG[PID]: MSG`; a text without a tag keeps `program` empty (or its first word when that is all it has). */
export function splitTag(text: string): { program: string; pid?: string | number; message: string } {
  if (CISCO_CODE.test(text)) return { program: 'cisco', message: text };
  const t = TAG.exec(text);
  if (t) {
    const out: { program: string; pid?: string | number; message: string } = { program: t[1] as string, message: text.slice(t[0].length) };
    const pid = t[2];
    if (pid) out.pid = /^\d{1,10}$/.test(pid) ? Number(pid) : pid;
    return out;
  }
  const b = BARE_PROGRAM.exec(text);
  if (b && /^[\d.]+: /.test(text.slice(b[0].length))) return { program: b[1] as string, message: text.slice(b[0].length) };
  return { program: '', message: text };
}

/** Parses what follows `<PRI>` (or the whole line when it has none) as a BSD syslog line. */
export function parseRfc3164(rest: string, receivedAt: number, timezone?: string): Rfc3164Header {
  let s = rest;
  let originHost: string | undefined;
  // Cisco IOS `logging origin-id hostname`: the host, a colon, then the sequence number or timestamp.
  const origin = /^([A-Za-z0-9_.-]{1,64}): (?=(?:\d{1,10}: )?[*.]?(?:[A-Z][a-z]{2} |\d{4}-))/.exec(s);
  if (origin) {
    originHost = origin[1];
    s = s.slice(origin[0].length);
  }
  // Cisco IOS: a sequence number (`service sequence-numbers`) and a `*`/`.` marking an unsynchronised clock.
  const seq = /^\d{1,10}: /.exec(s);
  if (seq) s = s.slice(seq[0].length);
  let marker = /^[*.]/.test(s) ? 1 : 0;
  const time = readIsoTime(s.slice(marker), timezone) ?? readBsdTime(s.slice(marker), receivedAt, timezone);
  if (!time) {
    marker = 0;
    s = rest;
  }
  const out: Rfc3164Header = { program: '', message: '' };
  if (originHost && time) out.host = originHost;
  if (time) {
    out.claimedTs = time.ts;
    s = s.slice(marker + time.length);
    // Cisco closes its timestamp with a zone name and/or a colon: `... 00:11:22.123 UTC:`.
    s = s.replace(/^(?: [A-Z]{3,5})?:/, '');
    if (s.startsWith(' ')) s = s.slice(1);
    // HOSTNAME (§4.1.2), unless the next word is already the tag or a Cisco code.
    const sp = s.indexOf(' ');
    const word = sp > 0 ? s.slice(0, sp) : '';
    if (!out.host && word && HOST.test(word) && !word.endsWith(':') && !CISCO_CODE.test(s) && !/^(CEF|LEEF):/.test(s)) {
      out.host = word;
      s = s.slice(sp + 1);
    }
  }
  s = s.replace(/^ +/, '');
  if (/^(CEF|LEEF):/.test(s) || s.startsWith('{')) {
    out.message = s;
    return out;
  }
  return { ...out, ...splitTag(s) };
}
