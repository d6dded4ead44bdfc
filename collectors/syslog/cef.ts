/*
 * ArcSight Common Event Format (Micro Focus, "Implementing ArcSight CEF" rev. 25):
 * `CEF:Version|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension`.
 * In the header a pipe or backslash is escaped (`\|`, `\\`); in the extension, `key=value` pairs
 * separated by spaces, where a value escapes `=` and `\` (`\=`, `\\`), writes newlines as `\n`/`\r`,
 * and may hold spaces: a value ends where the next unescaped ` key=` begins.
 */
export interface CefEvent {
  header: Record<string, string>;
  extension: Record<string, string>;
}

const HEADER_NAMES = ['cef.version', 'cef.deviceVendor', 'cef.deviceProduct', 'cef.deviceVersion', 'cef.signatureId', 'cef.name', 'cef.severity'] as const;
/** A key is letters, digits and `_.[]-`, never a backslash, so an escaped `\=` can never end one. */
const KEY = /(?:^|\s)([A-Za-z0-9_.[\]-]{1,64})=/g;
const MAX_KEYS = 256;

/** Splits `s` at its first `count` unescaped pipes, unescaping `\|` and `\\`; the rest is the last item. */
function splitHeader(s: string, count: number): string[] | undefined {
  const parts: string[] = [];
  let cur = '';
  let i = 0;
  for (; i < s.length && parts.length < count; i++) {
    const c = s[i] as string;
    if (c === '\\' && (s[i + 1] === '|' || s[i + 1] === '\\')) {
      cur += s[i + 1];
      i++;
    } else if (c === '|') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  if (parts.length < count) return undefined;
  parts.push(s.slice(i));
  return parts;
}

function unescapeValue(v: string): string {
  return v.replace(/\\([\\=|nr])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

/** Parses the extension's key=value pairs. */
export function parseCefExtension(ext: string): Record<string, string> {
  const out: Record<string, string> = {};
  const keys: { key: string; start: number; valueStart: number }[] = [];
  KEY.lastIndex = 0;
  for (let m = KEY.exec(ext); m && keys.length < MAX_KEYS; m = KEY.exec(ext)) {
    keys.push({ key: m[1] as string, start: m.index, valueStart: m.index + m[0].length });
  }
  keys.forEach((k, i) => {
    const end = i + 1 < keys.length ? (keys[i + 1] as { start: number }).start : ext.length;
    out[k.key] = unescapeValue(ext.slice(k.valueStart, end).trimEnd());
  });
  return out;
}

/** Parses a CEF payload (starting at `CEF:`); undefined when it has fewer than the seven header fields. */
export function parseCef(payload: string): CefEvent | undefined {
  if (!payload.startsWith('CEF:')) return undefined;
  const parts = splitHeader(payload.slice(4), 7);
  if (!parts) return undefined;
  const header: Record<string, string> = {};
  HEADER_NAMES.forEach((name, i) => (header[name] = (parts[i] as string).trim()));
  return { header, extension: parseCefExtension(parts[7] ?? '') };
}
