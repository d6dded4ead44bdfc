/**
 * The small JSON path a health endpoint needs: `$.status`, `$.checks[0].state`, `$["x-y"]`, or the
 * same without `$`. Filters and wildcards are left out on purpose: an expectation names one value.
 */
export type JsonPath = Array<string | number>;

const TOKEN = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\['([^']*)'\]/y;

/** Parses a path, or undefined when it is not one. */
export function parseJsonPath(path: string): JsonPath | undefined {
  let s = path.startsWith('$') ? path.slice(1) : path;
  if (s !== '' && !s.startsWith('.') && !s.startsWith('[')) s = `.${s}`;
  const out: JsonPath = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < s.length) {
    const m = TOKEN.exec(s);
    if (!m) return undefined;
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) {
      try {
        out.push(JSON.parse(`"${m[3]}"`) as string);
      } catch {
        return undefined;
      }
    }
    else out.push(m[4] as string);
  }
  return out;
}

/** The value at `path` in `doc`, and whether it is there at all. */
export function readJsonPath(doc: unknown, path: JsonPath): { present: boolean; value?: unknown } {
  let cur: unknown = doc;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return { present: false };
    if (typeof key === 'number' ? !Array.isArray(cur) || key >= cur.length : !Object.hasOwn(cur, key)) return { present: false };
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return { present: true, value: cur };
}
