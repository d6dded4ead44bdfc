import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, api, login, startProduct, type StartedProduct } from './support/start-product.ts';
import { influxqlQueriesOf, interpolate } from './support/grafana.ts';
import type { Point } from '../core/index.ts';

let p: StartedProduct;
const MIN = 60_000;
let T0: number;

interface Answer {
  status: number;
  body: { results?: { statement_id: number; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]; error?: string }[]; error?: string };
}

async function query(q: string, init: { auth?: 'params' | 'basic' | 'token' | 'none'; password?: string; post?: boolean; epoch?: string } = {}): Promise<Answer> {
  const password = init.password ?? ADMIN_PASSWORD;
  const params = new URLSearchParams({ db: 'watchfloor', q });
  if (init.epoch !== '') params.set('epoch', init.epoch ?? 'ms');
  const headers: Record<string, string> = {};
  const auth = init.auth ?? 'params';
  if (auth === 'params') {
    params.set('u', 'admin');
    params.set('p', password);
  }
  if (auth === 'basic') headers.authorization = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  if (auth === 'token') headers.authorization = `Token admin:${password}`;
  const res = init.post
    ? await fetch(`${p.base}/query`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: params.toString() })
    : await fetch(`${p.base}/query?${params}`, { headers });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

beforeAll(async () => {
  p = await startProduct();
  T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000; // an hour ago, on the hour
  const points: Point[] = [];
  const tags = (d: string): Record<string, string> => p.app.estate.tagsOf(d) as Record<string, string>;
  for (let m = 0; m < 10; m++) {
    const ts = T0 + m * MIN + 30_000;
    points.push({ device: 's-a01-ft', metric: 'temperature', ts, value: 20 + m, tags: tags('s-a01-ft') });
    points.push({ device: 's-a01-fb', metric: 'temperature', ts, value: 30 + m, tags: tags('s-a01-fb') });
    points.push({ device: 's-a01-ft', metric: 'humidity', ts, value: 40, tags: tags('s-a01-ft') });
    // A byte counter that grows 6,000 a minute: 100 bytes/s.
    points.push({ device: 'crac-1', metric: 'ifInOctets', ts, value: 1_000_000 + m * 6_000, tags: tags('crac-1') });
  }
  p.app.store.write(points);
  await p.app.store.flush();
});

afterAll(async () => {
  await p.app.stop();
});

describe('the InfluxDB /query API over the embedded store', () => {
  it('answers the query Grafana builds, grouped by time and by a tag, in InfluxDB\'s JSON shape', async () => {
    const q = `SELECT mean("temperature") FROM "sensor" WHERE ("rack" = 'A01') AND time >= ${T0}ms and time <= ${T0 + 5 * MIN - 1}ms GROUP BY time(1m), "device" fill(null)`;
    const { status, body } = await query(q);
    expect(status).toBe(200);
    expect(body.results?.[0]?.series).toEqual([
      { name: 'sensor', tags: { device: 's-a01-fb' }, columns: ['time', 'mean'], values: [0, 1, 2, 3, 4].map((m) => [T0 + m * MIN, 30 + m]) },
      { name: 'sensor', tags: { device: 's-a01-ft' }, columns: ['time', 'mean'], values: [0, 1, 2, 3, 4].map((m) => [T0 + m * MIN, 20 + m]) },
    ]);
    // Without GROUP BY device the two sensors are averaged together; fill(0) fills the empty minutes; POST works the same.
    const both = await query(`SELECT max("temperature") AS "hottest" FROM "sensor" WHERE time >= ${T0 + 8 * MIN}ms and time <= ${T0 + 12 * MIN - 1}ms GROUP BY time(1m) fill(0)`, { post: true });
    expect(both.body.results?.[0]?.series?.[0]).toEqual({ name: 'sensor', columns: ['time', 'hottest'], values: [[T0 + 8 * MIN, 38], [T0 + 9 * MIN, 39], [T0 + 10 * MIN, 0], [T0 + 11 * MIN, 0]] });
  });

  it('computes rates from counters and arithmetic, as the SNMP dashboards chart traffic', async () => {
    const q = `SELECT non_negative_derivative(mean("ifInOctets"), 1s) * 8 AS "bits_in" FROM "crac" WHERE "device" =~ /^crac-1$/ AND time >= ${T0}ms and time <= ${T0 + 4 * MIN - 1}ms GROUP BY time(1m) fill(none)`;
    const { body } = await query(q);
    expect(body.results?.[0]?.series?.[0]?.values).toEqual([[T0 + MIN, 800], [T0 + 2 * MIN, 800], [T0 + 3 * MIN, 800]]);
    const last = await query(`SELECT last("temperature") FROM "sensor" WHERE "device" = 's-a01-ft' AND time > now() - 2h`, { epoch: '' });
    // Without GROUP BY time: one row at the lower bound; without `epoch`, RFC3339 times.
    const row = last.body.results?.[0]?.series?.[0]?.values;
    expect(row).toHaveLength(1);
    expect(row?.[0]?.[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(row?.[0]?.[1]).toBe(29);
  });

  it('lists measurements, tag keys, tag values and field keys for Grafana\'s query editor and variables', async () => {
    const r = await query('SHOW MEASUREMENTS; SHOW TAG VALUES FROM "sensor" WITH KEY = "device" WHERE rack =~ /^A01$/; SHOW FIELD KEYS FROM "sensor"; SHOW TAG KEYS FROM "crac"; SHOW DATABASES');
    const [m, tv, fk, tk, db] = r.body.results ?? [];
    expect(m?.series?.[0]).toEqual({ name: 'measurements', columns: ['name'], values: [['crac'], ['sensor']] });
    expect(tv?.series?.[0]).toEqual({ name: 'sensor', columns: ['key', 'value'], values: [['device', 's-a01-fb'], ['device', 's-a01-ft']] });
    expect(fk?.series?.[0]).toEqual({ name: 'sensor', columns: ['fieldKey', 'fieldType'], values: [['humidity', 'float'], ['temperature', 'float']] });
    expect(tk?.series?.[0]?.values).toContainEqual(['room']);
    expect(db?.series?.[0]?.values).toEqual([['watchfloor']]);
  });

  it('takes InfluxDB\'s three auth forms with a local user\'s password and refuses a wrong one', async () => {
    for (const auth of ['params', 'basic', 'token'] as const) expect((await query('SHOW MEASUREMENTS', { auth })).status).toBe(200);
    for (const auth of ['params', 'basic', 'token', 'none'] as const) {
      const r = await query('SHOW MEASUREMENTS', { auth, password: 'wrong' });
      expect(r).toEqual({ status: 401, body: { error: 'authorization failed' } });
    }
  });

  it('takes a Watchfloor API token as Grafana sends one, and refuses it once revoked', async () => {
    const admin = await login(p.base);
    const created = await api(p.base, admin, '/api/v1/tokens', { method: 'POST', body: { name: 'grafana', role: 'viewer' } });
    expect(created.status).toBe(201);
    const token = (created.body as { token: string }).token;
    const show = (init: { headers?: Record<string, string>; params?: Record<string, string> }): Promise<number> =>
      fetch(`${p.base}/query?${new URLSearchParams({ q: 'SHOW MEASUREMENTS', ...init.params })}`, { headers: init.headers }).then((r) => r.status);
    expect(await show({ headers: { authorization: `Token ${token}` } })).toBe(200);
    expect(await show({ headers: { authorization: `Bearer ${token}` } })).toBe(200);
    expect(await show({ params: { u: 'grafana', p: token } })).toBe(200);
    expect(await show({ headers: { authorization: `Token ${token}x` } })).toBe(401);
    const id = (created.body as { id: string }).id;
    expect((await api(p.base, admin, `/api/v1/tokens/${id}`, { method: 'DELETE' })).status).toBeLessThan(300);
    expect(await show({ headers: { authorization: `Token ${token}` } })).toBe(401);
  });

  it('answers malformed InfluxQL with InfluxDB\'s error shapes, never a stack trace', async () => {
    const bad = await query('SELEC mean("x") FROM "m"');
    expect(bad).toEqual({ status: 400, body: { error: 'error parsing query: found SELEC, expected SELECT, SHOW at line 1, char 1' } });
    expect((await query('SELECT mean("x") FROM "m" WHERE time > now() - 1h GROUP BY time(')).body.error).toMatch(/^error parsing query: found EOF, expected duration/);
    const missing = await fetch(`${p.base}/query?u=admin&p=${ADMIN_PASSWORD}`);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: 'missing required parameter "q"' });
    const unsupported = await query(`SELECT sample("temperature", 3) FROM "sensor" WHERE time > now() - 1h`);
    expect(unsupported.status).toBe(200);
    expect(unsupported.body.results?.[0]?.error).toMatch(/sample\(\) is not supported/);
    const tooMany = await query(`SELECT mean("temperature") FROM "sensor" WHERE time > now() - 3650d GROUP BY time(1ms)`);
    expect(tooMany.body.results?.[0]?.error).toMatch(/buckets/);
  });

  it('answers every raw InfluxQL query of the real exported dashboards in InfluxDB\'s shape', async () => {
    const files = ['unifi-poller-usw-switch-influxql.json', 'cisco-nxos-telegraf-snmp-influxql.json'];
    const outcomes: Record<string, number> = { series: 0, empty: 0, statementError: 0, parseError: 0 };
    for (const file of files) {
      for (const raw of influxqlQueriesOf(file)) {
        const q = interpolate(raw, T0, T0 + 10 * MIN, 'A01');
        const r = await query(q);
        if (r.status === 400) {
          outcomes.parseError = (outcomes.parseError as number) + 1;
          continue;
        }
        expect(r.status, q).toBe(200);
        expect(Array.isArray(r.body.results), q).toBe(true);
        const first = r.body.results?.[0];
        const kind = first?.error ? 'statementError' : first?.series ? 'series' : 'empty';
        outcomes[kind] = (outcomes[kind] as number) + 1;
      }
    }
    expect((outcomes.empty as number) + (outcomes.series as number)).toBeGreaterThan(10);
    // Subqueries (SELECT COUNT(...) FROM (SELECT ...)) included: nothing in these dashboards is refused.
    expect(outcomes.parseError).toBe(0);
    expect(outcomes.statementError).toBe(0);
  });

  it('reports the store\'s disk use, series and refusals on /metrics', async () => {
    p.app.store.write([{ device: 's-a01-r', metric: 'temperature', ts: Date.now() + 30 * 86_400_000, value: 1 }]);
    const r = await api(p.base, undefined, '/metrics');
    const text = r.body as string;
    expect(Number(/^watchfloor_store_disk_bytes (\d+)/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^watchfloor_store_series 4$/m);
    expect(text).toMatch(/^watchfloor_store_refused_total\{reason="future"\} 1$/m);
  });
});
