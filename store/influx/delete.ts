/*
 * Deleting a device's series in InfluxDB (a device removed with dropSeries=true), with the writer's
 * mapping (store/influx/line.ts: every series of a device carries the tag `device`):
 *   - 1.x (`api: v1`): `DROP SERIES WHERE "device" = '<id>'` by POST to /query (docs.influxdata.com,
 *     "InfluxQL: Delete series with DROP SERIES"), every measurement of the database;
 *   - `api: v2`: POST /api/v2/delete?org=&bucket= with `{start, stop, predicate: device="<id>"}`
 *     (docs.influxdata.com, "Delete data", delete predicate syntax), answered 204: served by 2.x and,
 *     as a v2-compatible endpoint, by 1.8+ (Debian's 1.6.7 has neither it nor /api/v2/write).
 * Neither answers how many points went.
 */
import { wfError } from '../../core/index.ts';
import { authOf, baseOf, databaseOf, type InfluxTarget } from './target.ts';

export interface InfluxDeleteTarget extends InfluxTarget {
  api?: 'v1' | 'v2';
  org?: string;
  timeoutMs?: number;
}

const literal = (s: string): string => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
/** A 2.x delete predicate's string value (double quotes; the predicate grammar escapes `"` and `\`). */
const predicateString = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** Deletes every point of `device` from the configured database or bucket; rejects with the server's answer when it refuses. */
export async function deleteDeviceFromInflux(t: InfluxDeleteTarget, device: string): Promise<void> {
  const auth = authOf(t.token);
  const timeout = AbortSignal.timeout(t.timeoutMs ?? 30_000);
  let r: Response;
  try {
    if (t.api === 'v1') {
      const { db } = databaseOf(t);
      const body = new URLSearchParams({ db, q: `DROP SERIES WHERE "device" = ${literal(device)}`, ...auth.params });
      r = await fetch(`${baseOf(t)}/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth.headers }, body, signal: timeout });
    } else {
      const params = new URLSearchParams({ org: t.org ?? '', bucket: t.bucket });
      // The whole time range: RFC 3339 from the epoch to far ahead (a device clock may have run ahead).
      const body = JSON.stringify({ start: '1970-01-01T00:00:00Z', stop: '2262-04-11T00:00:00Z', predicate: `device=${predicateString(device)}` });
      r = await fetch(`${baseOf(t)}/api/v2/delete?${params}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth.headers }, body, signal: timeout });
    }
  } catch (err) {
    throw wfError('STORE_UNAVAILABLE', `InfluxDB at ${baseOf(t)} did not answer the delete: ${(err as Error).message}`);
  }
  const text = await r.text();
  if (t.api === 'v1') {
    // 1.x answers 200 with the statement's error inside the body.
    let error: string | undefined;
    try {
      const b = JSON.parse(text) as { error?: string; results?: { error?: string }[] };
      error = b.error ?? b.results?.find((x) => x.error !== undefined)?.error;
    } catch {
      error = text.trim() || `status ${r.status}`;
    }
    if (r.status !== 200 || error !== undefined) throw wfError('STORE_QUERY', `InfluxDB refused DROP SERIES (${r.status}): ${error ?? 'no answer'}`);
    return;
  }
  if (r.status !== 204) throw wfError('STORE_QUERY', `InfluxDB refused the delete (${r.status}): ${text.slice(0, 300)}`);
}
