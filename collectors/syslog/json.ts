/*
 * JSON payloads: Suricata's EVE JSON (one object per event: `timestamp`, `event_type`, `src_ip`,
 * `alert.signature`...) and applications that log JSON lines (pino, bunyan, logback's JSON
 * encoder). Nested keys are flattened with dots (`alert.signature_id`), array items by index
 * (`alert.metadata.tags.0`); booleans become `true`/`false`, nulls are left out (Sigma's `null`
 * matches an absent field). Depth and key count are bounded so a hostile payload costs little.
 */
const MAX_DEPTH = 8;
const MAX_FIELDS = 512;

/** Flattens a JSON object into `fields` and returns it; undefined when `text` is no JSON object. */
export function flattenJson(text: string, fields: Record<string, string | number>): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  let count = 0;
  const walk = (v: unknown, path: string, depth: number): void => {
    if (count >= MAX_FIELDS || v === null || v === undefined) return;
    if (typeof v === 'object') {
      if (depth >= MAX_DEPTH) {
        fields[path] = JSON.stringify(v).slice(0, 4096);
        count++;
        return;
      }
      const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v as Record<string, unknown>);
      for (const [k, x] of entries) walk(x, path ? `${path}.${k}` : k, depth + 1);
      return;
    }
    fields[path] = typeof v === 'number' ? v : String(v);
    count++;
  };
  walk(value, '', 0);
  return value as Record<string, unknown>;
}
