/*
 * IBM QRadar Log Event Extended Format (LEEF 1.0 and 2.0, "QRadar LEEF format guide"):
 * `LEEF:1.0|Vendor|Product|Version|EventID|attributes` with tab-separated `key=value` attributes;
 * `LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|attributes`, where the delimiter is one
 * character or its hex code (`x09`, `0x5E`), and a tab when empty.
 */
export interface LeefEvent {
  header: Record<string, string>;
  attributes: Record<string, string>;
}

const MAX_ATTRIBUTES = 256;

function delimiterOf(spec: string): string | undefined {
  if (spec === '') return '\t';
  if (spec.length === 1) return spec;
  const hex = /^(?:0?x)([0-9a-f]{1,4})$/i.exec(spec);
  return hex ? String.fromCharCode(parseInt(hex[1] as string, 16)) : undefined;
}

/** Parses a LEEF payload (starting at `LEEF:`); undefined when its header is incomplete. */
export function parseLeef(payload: string): LeefEvent | undefined {
  const m = /^LEEF:(1\.0|2\.0)\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|/.exec(payload);
  if (!m) return undefined;
  const version = m[1] as string;
  const header: Record<string, string> = {
    'leef.version': version,
    'leef.vendor': m[2] as string,
    'leef.product': m[3] as string,
    'leef.productVersion': m[4] as string,
    'leef.eventId': m[5] as string,
  };
  let rest = payload.slice(m[0].length);
  let delimiter = '\t';
  if (version === '2.0') {
    // The delimiter field; producers that omit it go straight to the attributes (it then holds an `=`).
    const bar = rest.indexOf('|');
    const spec = bar >= 0 ? rest.slice(0, bar) : undefined;
    const d = spec !== undefined && !spec.includes('=') ? delimiterOf(spec) : undefined;
    if (d !== undefined) {
      delimiter = d;
      rest = rest.slice((bar as number) + 1);
    }
  }
  // A LEEF 1.0 sender that uses spaces instead of tabs (seen in the wild): split before each ` key=`.
  const items = rest.includes(delimiter) || !/\s[A-Za-z0-9_]+=/.test(rest) ? rest.split(delimiter) : rest.split(/\s(?=[A-Za-z0-9_.-]+=)/);
  const attributes: Record<string, string> = {};
  let n = 0;
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0 || n++ >= MAX_ATTRIBUTES) continue;
    attributes[item.slice(0, eq).trim()] = item.slice(eq + 1);
  }
  return { header, attributes };
}
