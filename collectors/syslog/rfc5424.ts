/*
 * RFC 5424 §6: `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]`,
 * `-` the NILVALUE of each header field. Structured data (§6.3) is kept as fields
 * `sd.<SD-ID>.<PARAM-NAME>`; in a PARAM-VALUE `"`, `\` and `]` are escaped with a backslash (§6.3.3).
 */
import { readIsoTime } from './time.ts';

export interface Rfc5424Header {
  claimedTs?: number;
  host?: string;
  program: string;
  pid?: string | number;
  msgid?: string;
  /** SD-ID → PARAM-NAME → value */
  structuredData: Record<string, Record<string, string>>;
  message: string;
  /** Set when the structured data could not be read; the text from there on is the message. */
  sdError?: string;
}

const nil = (s: string): string | undefined => (s === '-' ? undefined : s);

/** Reads the SD-ELEMENTs at `s[i]`; returns where they end, or an error. */
function readStructuredData(s: string, out: Record<string, Record<string, string>>): { end: number } | { error: string } {
  let i = 0;
  if (s[0] === '-') return { end: 1 };
  while (s[i] === '[') {
    i++;
    // A scan, not a search of a slice: a line of thousands of `[x]` must stay linear.
    let idEnd = i;
    while (idEnd < s.length && idEnd - i <= 32 && s[idEnd] !== ' ' && s[idEnd] !== ']') idEnd++;
    if (idEnd === i || idEnd - i > 32) return { error: 'SD-ID missing or longer than 32 characters' };
    const id = s.slice(i, idEnd);
    i = idEnd;
    // Null-prototype maps: an SD-ID or PARAM-NAME of `__proto__` or `constructor` is only a name.
    const params: Record<string, string> = (out[id] ??= Object.create(null) as Record<string, string>);
    while (s[i] === ' ') {
      i++;
      const eq = s.indexOf('="', i);
      if (eq <= i) return { error: `SD-PARAM of ${id} without a quoted value` };
      const name = s.slice(i, eq);
      if (/[\s\]"=]/.test(name) || name.length > 32) return { error: `bad PARAM-NAME in ${id}` };
      i = eq + 2;
      let value = '';
      for (;;) {
        if (i >= s.length) return { error: `unterminated PARAM-VALUE in ${id}` };
        const c = s[i] as string;
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === ']')) {
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      params[name] = value;
    }
    if (s[i] !== ']') return { error: `SD-ELEMENT ${id} not closed` };
    i++;
  }
  return i === 0 ? { error: 'STRUCTURED-DATA is neither "-" nor "["' } : { end: i };
}

/** Parses what follows `<PRI>` when it starts with VERSION 1; undefined when it is no RFC 5424 header. */
export function parseRfc5424(rest: string, timezone?: string): Rfc5424Header | undefined {
  const m = /^1 (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(rest);
  if (!m) return undefined;
  const [, time, host, app, procid, msgid] = m as unknown as string[];
  let claimedTs: number | undefined;
  if (time !== '-') {
    const t = readIsoTime(time as string, timezone);
    if (!t || t.length !== (time as string).length) return undefined;
    claimedTs = t.ts;
  }
  const out: Rfc5424Header = { program: nil(app as string) ?? '', structuredData: Object.create(null) as Rfc5424Header['structuredData'], message: '' };
  if (claimedTs !== undefined) out.claimedTs = claimedTs;
  const h = nil(host as string);
  if (h) out.host = h;
  const p = nil(procid as string);
  if (p) out.pid = /^\d{1,10}$/.test(p) ? Number(p) : p;
  const id = nil(msgid as string);
  if (id) out.msgid = id;
  const sdText = rest.slice(m[0].length);
  const sd = readStructuredData(sdText, out.structuredData);
  if ('error' in sd) {
    out.sdError = sd.error;
    out.message = sdText;
  } else {
    let msg = sdText.slice(sd.end);
    if (msg.startsWith(' ')) msg = msg.slice(1);
    // §6.4: a UTF-8 MSG may begin with a BOM.
    if (msg.charCodeAt(0) === 0xfeff) msg = msg.slice(1);
    out.message = msg;
  }
  return out;
}
