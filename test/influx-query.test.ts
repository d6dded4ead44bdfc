import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Point } from '../core/index.ts';
import { toLine } from '../store/index.ts';
import { influxdb1, type ServerProcess } from './support/tsdb-servers.ts';
import { ADMIN_PASSWORD, startProduct, type StartedProduct } from './support/start-product.ts';

/*
 * The same points in a real InfluxDB 1.x (written through its /write) and in Watchfloor; the same
 * InfluxQL to both; the answers must match. This pins /query to InfluxDB's semantics, not to ours.
 */
let influx: ServerProcess;
let p: StartedProduct;
const MIN = 60_000;
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;

async function ask(base: string, q: string, auth: Record<string, string>): Promise<unknown> {
  const r = await fetch(`${base}/query?${new URLSearchParams({ db: 'watchfloor', epoch: 'ms', q, ...auth })}`);
  return r.json();
}

beforeAll(async () => {
  [influx, p] = await Promise.all([influxdb1(), startProduct()]);
  const points: Point[] = [];
  const tags = (d: string): Record<string, string> => p.app.estate.tagsOf(d) as Record<string, string>;
  for (let s = 0; s < 40; s++) {
    const ts = T0 + s * 15_000 + 1_000;
    points.push({ device: 's-a01-ft', metric: 'temperature', ts, value: 20 + (s % 7) * 0.5, tags: tags('s-a01-ft') });
    points.push({ device: 's-a01-fb', metric: 'temperature', ts, value: 25 + (s % 5), tags: tags('s-a01-fb') });
    if (s % 3 !== 0) points.push({ device: 's-a01-ft', metric: 'humidity', ts, value: 40 + s, tags: tags('s-a01-ft') });
    points.push({ device: 'crac-1', metric: 'ifInOctets', ts, value: 1e6 + s * s * 1000, tags: tags('crac-1') });
  }
  p.app.store.write(points);
  await p.app.store.flush();
  const body = points.map((x) => toLine(x)).join('\n');
  const w = await fetch(`${influx.url}/write?db=watchfloor&precision=ms`, { method: 'POST', body });
  if (w.status !== 204) throw new Error(`influxd /write: ${w.status} ${await w.text()}`);
}, 90_000);

afterAll(async () => {
  await p?.app.stop();
  await influx?.destroy();
}, 30_000);

const range = `time >= ${T0}ms AND time <= ${T0 + 10 * MIN - 1}ms`;
const queries = [
  `SELECT mean("temperature") FROM "sensor" WHERE ("rack" = 'A01') AND ${range} GROUP BY time(1m), "device" fill(null)`,
  `SELECT max("temperature") AS "hot", min("temperature") FROM "sensor" WHERE ${range} GROUP BY time(2m) fill(none)`,
  `SELECT last("humidity"), count("humidity"), sum("humidity") FROM "sensor" WHERE "device" =~ /^s-a01-f/ AND ${range} GROUP BY time(1m) fill(0)`,
  `SELECT mean("humidity") FROM "sensor" WHERE ${range} GROUP BY time(1m) fill(previous)`,
  `SELECT non_negative_derivative(mean("ifInOctets"), 1s) * 8 FROM "crac" WHERE ${range} GROUP BY time(1m) fill(none)`,
  `SELECT mean("temperature") FROM "sensor" WHERE "position" != 'front-top' AND ${range} GROUP BY time(5m), * fill(null)`,
  `SHOW MEASUREMENTS`,
  `SHOW TAG VALUES FROM "sensor" WITH KEY = "device"`,
  `SHOW TAG VALUES FROM "sensor" WITH KEY IN ("rack", "position") WHERE "device" =~ /ft$/`,
  `SHOW FIELD KEYS FROM "sensor"`,
  `SHOW TAG KEYS FROM "crac"`,
];

describe('Watchfloor /query answers like InfluxDB 1.x', () => {
  for (const q of queries) {
    it(q.replace(range, '$timeFilter'), async () => {
      const theirs = await ask(influx.url, q, {});
      const ours = await ask(p.base, q, { u: 'admin', p: ADMIN_PASSWORD });
      expect(ours).toEqual(theirs);
    });
  }
});
