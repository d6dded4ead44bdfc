/*
 * InfluxDB line protocol (docs.influxdata.com, "Line protocol reference"): measurement,tags fields timestamp.
 * The mapping is /query's (store/influxql/mapping.ts): measurement = device kind, tags = inventory tags
 * plus device, field = metric; timestamps in milliseconds (the writer asks for precision=ms).
 */
import type { Point } from '../../core/index.ts';

/** Commas and spaces escape in a measurement; commas, equals signs and spaces in tag keys, tag values and field keys. */
const escMeasurement = (s: string): string => s.replace(/[, \\]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
const escKey = (s: string): string => s.replace(/[,= \\]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');

/** The series part of a line, cached per tags object: the ingest passes the inventory's own object for every point of a device. */
const prefixes = new WeakMap<object, Map<string, string>>();
const untagged = {};

function prefixOf(device: string, tags: Record<string, string> | undefined): string {
  const key = tags ?? untagged;
  let byDevice = prefixes.get(key);
  if (!byDevice) prefixes.set(key, (byDevice = new Map()));
  let prefix = byDevice.get(device);
  if (prefix === undefined) {
    const all: Record<string, string> = { ...tags, device };
    const measurement = all.kind ?? 'device';
    delete all.kind;
    // Tags sorted by key, as InfluxDB recommends for write performance.
    const tagText = Object.keys(all)
      .sort()
      .filter((k) => all[k] !== '')
      .map((k) => `,${escKey(k)}=${escKey(all[k] as string)}`)
      .join('');
    prefix = `${escMeasurement(measurement)}${tagText} `;
    byDevice.set(device, prefix);
  }
  return prefix;
}

/** One point as a line (float field, ms timestamp), or undefined for a point no database would keep. */
export function toLine(p: Point): string | undefined {
  if (typeof p.device !== 'string' || p.device === '' || typeof p.metric !== 'string' || p.metric === '') return undefined;
  if (!Number.isFinite(p.value) || !Number.isFinite(p.ts) || p.ts < 0) return undefined;
  // A bare number is a float field in line protocol (an integer would need the "i" suffix), so every metric stays a float.
  return `${prefixOf(p.device, p.tags)}${escKey(p.metric)}=${p.value} ${Math.trunc(p.ts)}`;
}
