import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatchfloor, type Watchfloor } from '../cli/index.ts';
import { freeUdpPort } from '../collectors/index.ts';
import { Config, Inventory, silentLogger } from '../core/index.ts';
import { notReadOnly } from '../store/index.ts';
import { connectMqtt, eventually } from './support/net.ts';
import { ADMIN_PASSWORD, api, login, smallInventory, type LoggedIn } from './support/start-product.ts';
import { influxdb1, type ServerProcess } from './support/tsdb-servers.ts';

/*
 * `store: influxdb` against Debian's influxd 1.6.7, which has no /api/v2/write (it answers 404; that
 * came with 1.8): the product writes through 1.x's /write (`api: v1`, bucket "db/rp") and reads back
 * through InfluxQL on /query. Points put into influxd by another writer, never seen by the product,
 * must show up in the product's answers: that is what proves the reads come from InfluxDB.
 */
let influx: ServerProcess;
let app: Watchfloor;
let base: string;
let session: LoggedIn;
let sensor: MqttClient;
const MIN = 60_000;
/** Whole minutes, an hour back: the sensor's readings. */
const T0 = Math.floor(Date.now() / MIN) * MIN - 60 * MIN;
/** Another hour before: only the other writer has points there. */
const T_OTHER = T0 - 60 * MIN;

async function influxQuery(q: string): Promise<unknown> {
  const r = await fetch(`${influx.url}/query?${new URLSearchParams({ db: 'watchfloor', epoch: 'ms', q })}`);
  return r.json();
}

async function rangeOf(device: string, from: number, to: number, agg = 'mean'): Promise<[number, number | null][]> {
  const r = await api(base, session, `/api/v1/metrics/range?${new URLSearchParams({ device, metric: 'temperature', from: String(from), to: String(to), step: '60000', agg })}`);
  expect(r.status).toBe(200);
  return (r.body as { points: [number, number | null][] }).points;
}

beforeAll(async () => {
  influx = await influxdb1();
  const dataDir = mkdtempSync(join(tmpdir(), 'wf-product-'));
  const config = Config.parse({
    dataDir,
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { host: '127.0.0.1', port: 0 },
    snmp: { trapPort: await freeUdpPort() },
    store: { kind: 'influxdb', flushIntervalMs: 50, influxdb: { url: influx.url, bucket: 'watchfloor/autogen', api: 'v1' } },
  });
  app = await startWatchfloor({ config, inventory: Inventory.parse(smallInventory), logger: silentLogger, adminPassword: ADMIN_PASSWORD });
  base = `http://127.0.0.1:${app.httpPort}`;
  session = await login(base);
  await app.accounts.setDevicePassword('s-a01-ft', 'sensor-secret-1');
  sensor = await connectMqtt(app.mqttPort, { username: 's-a01-ft', password: 'sensor-secret-1' });
}, 90_000);

afterAll(async () => {
  await sensor?.endAsync();
  await app?.stop();
  await influx?.destroy();
}, 30_000);

describe('which InfluxQL the /query proxy lets through', () => {
  it.each([
    ['SELECT mean("x") FROM "m" WHERE "t" = \'a;DROP\' GROUP BY time(1m)', undefined],
    ['SHOW TAG VALUES FROM "sensor" WITH KEY = "device"; SELECT "into" FROM "m"', undefined],
    ['select last("v") from "m"', undefined],
    ['drop measurement "m"', 'DROP is not allowed here: only SELECT and SHOW statements are served (read-only)'],
    ['SELECT 1; CREATE DATABASE x', 'CREATE is not allowed here: only SELECT and SHOW statements are served (read-only)'],
    ['SELECT * INTO "b" FROM "a"', 'SELECT ... INTO is not allowed here: only reads are served'],
  ])('%s', (q, expected) => {
    expect(notReadOnly(q)).toBe(expected);
  });
});

describe('store: influxdb reads from InfluxDB 1.x', () => {
  it('writes MQTT telemetry through 1.x /write and answers /api/v1/metrics/range from InfluxDB', async () => {
    // Ten minutes of readings, two a minute: 20, 21, ... 39.
    for (let i = 0; i < 20; i++) {
      await sensor.publishAsync('devices/s-a01-ft/telemetry', JSON.stringify({ ts: T0 + i * 30_000, metrics: { temperature: 20 + i } }), { qos: 1 });
    }
    // In influxd under the writer's mapping: measurement = kind, field = metric, tag device.
    await eventually(async () => {
      const b = (await influxQuery(`SELECT count("temperature") FROM "sensor" WHERE "device" = 's-a01-ft'`)) as { results: { series?: { values: number[][] }[] }[] };
      return b.results[0]?.series?.[0]?.values[0]?.[1] === 20 ? true : undefined;
    }, 20_000, 100);
    const points = await rangeOf('s-a01-ft', T0, T0 + 10 * MIN - 1);
    expect(points).toEqual(Array.from({ length: 10 }, (_, m) => [T0 + m * MIN, 20 + 2 * m + 0.5]));
    // influxd answers the query as soon as it took the batch; the writer drops its sent segment a moment later.
    await eventually(() => (app.store.stats().influxdb?.segments === 0 ? true : undefined), 5_000, 50);
    expect(app.store.stats().influxdb).toMatchObject({ sent: 20, segments: 0 });
    // The writer's figures on /metrics, for the Prometheus that watches Watchfloor itself.
    const m = await api(base, undefined, '/metrics');
    expect(m.body).toMatch(/^watchfloor_influxdb_sent_points_total 20$/m);
    expect(m.body).toMatch(/^watchfloor_influxdb_rejected_points_total 0$/m);
  });

  it('shows points another writer put straight into InfluxDB, for a known device and for one the product never saw', async () => {
    const lines = [
      ...Array.from({ length: 5 }, (_, m) => `sensor,device=s-a01-ft,rack=A01 temperature=${50 + m} ${T_OTHER + m * MIN}`),
      ...Array.from({ length: 3 }, (_, m) => `sensor,device=legacy-probe-9 temperature=${70 + m} ${T_OTHER + m * MIN}`),
    ];
    const w = await fetch(`${influx.url}/write?db=watchfloor&precision=ms`, { method: 'POST', body: lines.join('\n') });
    expect(w.status).toBe(204);
    // The product was never handed these points: its embedded copy has nothing before T0.
    expect(app.store.latest({ device: 'legacy-probe-9' })).toEqual([]);
    const known = await rangeOf('s-a01-ft', T_OTHER, T_OTHER + 5 * MIN - 1, 'max');
    expect(known).toEqual(Array.from({ length: 5 }, (_, m) => [T_OTHER + m * MIN, 50 + m]));
    const unknown = await rangeOf('legacy-probe-9', T_OTHER, T_OTHER + 4 * MIN - 1);
    expect(unknown).toEqual([
      [T_OTHER, 70],
      [T_OTHER + MIN, 71],
      [T_OTHER + 2 * MIN, 72],
      [T_OTHER + 3 * MIN, null],
    ]);
  });

  it('proxies /query to InfluxDB: the same answer as influxd gives, after Watchfloor sign-in, and read-only', async () => {
    const q = `SELECT mean("temperature") FROM "sensor" WHERE time >= ${T_OTHER}ms AND time < ${T0 + 10 * MIN}ms GROUP BY time(30m), "device" fill(none)`;
    const ask = (auth: Record<string, string>, query = q): Promise<Response> => fetch(`${base}/query?${new URLSearchParams({ db: 'anything', epoch: 'ms', q: query, ...auth })}`);
    const ours = await ask({ u: 'admin', p: ADMIN_PASSWORD });
    expect(ours.status).toBe(200);
    const body = await ours.json();
    expect(body).toEqual(await influxQuery(q));
    // legacy-probe-9 exists only in influxd: its series in the answer proves where it came from.
    expect(JSON.stringify(body)).toContain('legacy-probe-9');
    expect((await ask({ u: 'admin', p: 'wrong' })).status).toBe(401);
    // InfluxDB's error shape passes through; a statement that would change the database is refused on GET.
    const bad = await ask({ u: 'admin', p: ADMIN_PASSWORD }, 'SELECT FROM');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: expect.stringContaining('error parsing query') });
    // influxd 1.6.7 itself runs DROP DATABASE sent by GET (with a deprecation warning): Watchfloor refuses it first.
    for (const statement of ['DROP DATABASE "watchfloor"', `SHOW MEASUREMENTS; DROP DATABASE "watchfloor"`, 'SELECT * INTO "copy" FROM "sensor"']) {
      const refused = await ask({ u: 'admin', p: ADMIN_PASSWORD }, statement);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: expect.stringContaining('not allowed') });
    }
    const dbs = (await influxQuery('SHOW DATABASES')) as { results: { series: { values: string[][] }[] }[] };
    expect(dbs.results[0]?.series[0]?.values.flat()).toContain('watchfloor');
  });
});
