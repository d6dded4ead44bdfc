/*
 * Issue 12, item 4 (and its "also weak" nesting and time(0s)): no reader can stall or exhaust the
 * product through /query. Over real HTTP, as a viewer, against the product with stored points: RE2
 * regexes, a per-request budget of buckets, series and points answered in InfluxDB's words, a cap on
 * statements and on nesting (400, never 500), and /healthz answering while a heavy allowed query runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatchfloor, type Watchfloor } from '../../cli/index.ts';
import { freeUdpPort } from '../../collectors/index.ts';
import { Config, Inventory, silentLogger, type InventoryInput, type Point } from '../../core/index.ts';
import { executeInfluxQL, parseInfluxQL, QueryBudget, DEFAULT_QUERY_LIMITS } from '../../store/index.ts';
import { ADMIN_PASSWORD, api, login, smallInventory, startProduct, type StartedProduct } from '../support/start-product.ts';

const VIEWER = { username: 'viewer-q', password: 'viewer-pass-for-query-tests' };
/** 18 characters: JavaScript's backtracking engine takes seconds on /^((.+)+)+X$/ against it. */
const LONG_ID = 's-a01-top-probe-18';
const DEVICES = ['s-a01-ft', 's-a01-fm', 's-a01-fb', 's-a01-r', LONG_ID];
const MIN = 60_000;

const inventory: InventoryInput = {
  ...smallInventory,
  devices: [...(smallInventory.devices ?? []), { id: LONG_ID, kind: 'sensor', sensorType: 'temperature-humidity', location: { room: 'room-1', x: 5, y: 5 } }],
};

interface Answer {
  status: number;
  ms: number;
  body: { error?: string; results?: Array<{ statement_id: number; error?: string; series?: Array<{ name: string; tags?: Record<string, string>; values: unknown[][] }> }> };
}

/** /query as the viewer (u/p in a POST form, as Grafana sends a long query). */
async function query(base: string, q: string): Promise<Answer> {
  const t = performance.now();
  const res = await fetch(`${base}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q, u: VIEWER.username, p: VIEWER.password }).toString(),
  });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - t, body: JSON.parse(text) as Answer['body'] };
}

/** Stores an hour-spaced... no: a point a minute for `minutes` for every sensor, up to now. */
async function seed(app: Watchfloor, minutes: number): Promise<void> {
  const now = Date.now();
  const points: Point[] = [];
  for (const device of DEVICES) {
    const tags = app.estate.tagsOf(device) as Record<string, string>;
    for (let i = 0; i < minutes; i++) points.push({ device, metric: 'temperature', ts: now - i * MIN, value: 20 + (i % 7), tags });
  }
  app.store.write(points);
  await app.store.flush();
}

async function addViewer(base: string): Promise<void> {
  const admin = await login(base, 'admin', ADMIN_PASSWORD);
  const r = await api(base, admin, '/api/v1/users', { method: 'POST', body: { ...VIEWER, role: 'viewer' } });
  expect(r.status).toBe(201);
}

let p: StartedProduct;

beforeAll(async () => {
  p = await startProduct({ inventory });
  await seed(p.app, 2_000);
  await addViewer(p.base);
  // The viewer's password is checked once (then remembered a minute): the timings below are the query's.
  expect((await query(p.base, 'SHOW DATABASES')).status).toBe(200);
});

afterAll(async () => {
  await p?.app.stop();
});

describe('/query bounds every request (issue 12, item 4)', () => {
  it('matches tag regexes in linear time (RE2), with the right answer', async () => {
    const none = await query(p.base, `SELECT last("temperature") FROM "sensor" WHERE "device" =~ /^((.+)+)+X$/ AND time > now() - 1h GROUP BY "device"`);
    expect(none.ms).toBeLessThan(3_000);
    expect(none.status).toBe(200);
    expect(none.body.results?.[0]).toEqual({ statement_id: 0 });
    const all = await query(p.base, `SELECT last("temperature") FROM "sensor" WHERE "device" =~ /^((s.+)+)+8$/ AND time > now() - 1h GROUP BY "device"`);
    expect(all.ms).toBeLessThan(3_000);
    expect(all.body.results?.[0]?.series?.map((s) => s.tags?.device)).toEqual([LONG_ID]);
    // Go's syntax and its error, as InfluxDB answers it.
    const bad = await query(p.base, `SELECT last("temperature") FROM "sensor" WHERE "device" =~ /(/`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^error parsing query: error parsing regexp: missing closing \): `\(`/);
  });

  it('refuses buckets counted over every group with max-select-buckets, fast and without growing memory', async () => {
    const rss = process.memoryUsage().rss;
    let peak = rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    // The probe's query: 5 groups x 518,400 one-second buckets (each group under the old per-group cap).
    const r = await query(p.base, `SELECT mean("temperature") FROM "sensor" WHERE time > now() - 6d GROUP BY time(1s), "device" fill(null)`);
    clearInterval(sampler);
    expect(r.status).toBe(200);
    expect(r.body.results?.[0]?.error).toMatch(/^max-select-buckets limit exceeded: \(\d+\/100000\)$/);
    expect(r.ms).toBeLessThan(5_000);
    expect((peak - rss) / 2 ** 20).toBeLessThan(100);
  });

  it('keeps /healthz answering while a heavy query that is still allowed runs', async () => {
    // 5 groups x 19,001 buckets = 95,005, just under the cap: ~2.8 MB of answer. Both the query and the
    // /healthz probe come from another process, as a remote Grafana and a load balancer would.
    const q = `SELECT mean("temperature") FROM "sensor" WHERE time > now() - 19000s GROUP BY time(1s), "device"`;
    const script = `
      const { BASE, Q, U, P } = process.env;
      let receivedAt = Infinity;
      // Warm (connection, this process's own first fetch), then a control: /healthz with nothing else running.
      for (let i = 0; i < 3; i++) await fetch(BASE + '/healthz').then((r) => r.text());
      const control = [];
      for (const end = performance.now() + 1500; performance.now() < end; ) {
        const t = performance.now();
        await fetch(BASE + '/healthz').then((r) => r.text());
        control.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 15));
      }
      const started = performance.now();
      const heavy = fetch(BASE + '/query', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ q: Q, u: U, p: P }) })
        .then(async (r) => { const text = await r.text(); receivedAt = performance.now(); return { status: r.status, ms: receivedAt - started, text }; });
      const lat = [];
      while (receivedAt === Infinity) {
        const t = performance.now();
        await fetch(BASE + '/healthz').then((r) => r.text());
        if (t < receivedAt) lat.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 15));
      }
      // The 2.8 MB answer is parsed only now: parsed in its callback, it held this process's own loop while
      // the last /healthz answer waited to be read, and that wait was counted as the product's.
      const { text, ...answer } = await heavy;
      const b = JSON.parse(text);
      const result = { ...answer, series: b.results[0].series?.length ?? 0, rows: b.results[0].series?.[0]?.values.length ?? 0, error: b.results[0].error };
      console.log(JSON.stringify({ heavy: result, lat, control }));`;
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, BASE: p.base, Q: q, U: VIEWER.username, P: VIEWER.password }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((resolve) => child.on('exit', resolve));
    const { heavy, lat, control } = JSON.parse(out) as { heavy: { status: number; ms: number; series: number; rows: number; error?: string }; lat: number[]; control: number[] };
    expect(heavy).toMatchObject({ status: 200, series: 5, rows: 19_001 });
    expect(heavy.error).toBeUndefined();
    expect(lat.length).toBeGreaterThanOrEqual(3);
    const worst = Math.max(...lat);
    const seen = `healthz ${JSON.stringify(lat.map(Math.round))}, query ${Math.round(heavy.ms)} ms, control max ${Math.round(Math.max(...control))} ms`;
    // On a quiet machine (the control answers within 15 ms), within 200 ms. On a loaded one every figure
    // stretches alike (a GC pause of 50 ms takes 300), so the query's own duration is the yardstick: the
    // longest wait is a small part of it, where before it was most of it (one block of rows and JSON).
    if (Math.max(...control) < 15) expect(worst, seen).toBeLessThan(200);
    expect(worst, seen).toBeLessThan(heavy.ms * 0.25);
  });

  it('refuses 5,000 statements in one request at once, and takes 100', async () => {
    const one = `SELECT last("temperature") FROM "sensor" WHERE time > now() - 1h GROUP BY "device"`;
    const many = await query(p.base, Array.from({ length: 5_000 }, () => one).join('; '));
    expect(many.status).toBe(400);
    expect(many.body).toEqual({ error: 'error parsing query: max-statements limit exceeded: (5000/100)' });
    // Parsed whole to count them, then refused before anything runs: 0.3 s on a quiet machine, 2.7 s
    // seen under a loaded full suite; it ran 109 s before the cap.
    expect(many.ms).toBeLessThan(10_000);
    const hundred = await query(p.base, Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? one : 'SHOW MEASUREMENTS')).join('; '));
    expect(hundred.status).toBe(200);
    expect(hundred.body.results).toHaveLength(100);
    expect(hundred.body.results?.[90]?.series).toHaveLength(5);
    expect(hundred.body.results?.[99]?.series?.[0]?.values).toEqual([['sensor']]);
  });

  it('answers deep nesting with 400 in InfluxDB\'s parse-error shape, never 500', async () => {
    const deep = (n: number, inner: string): string => `${'('.repeat(n)}${inner}${')'.repeat(n)}`;
    const cases = [
      `SELECT mean("temperature") FROM "sensor" WHERE ${deep(5_000, 'time > now() - 1h')}`,
      `SELECT ${deep(5_000, 'mean("temperature")')} FROM "sensor" WHERE time > now() - 1h`,
      `SELECT ${'-'.repeat(5_000)}mean("temperature") FROM "sensor" WHERE time > now() - 1h`,
      // No parenthesis, but a tree 20,000 deep all the same.
      `SELECT mean("temperature") FROM "sensor" WHERE time > now() - 1h AND (${Array.from({ length: 20_000 }, () => `"device" = 'x'`).join(' OR ')})`,
    ];
    for (const q of cases) {
      const r = await query(p.base, q);
      expect(r.status, q.slice(0, 60)).toBe(400);
      expect(r.body.error).toMatch(/^error parsing query: expression nested deeper than \d+ levels/);
    }
    // A few levels, as Grafana writes them, still answer.
    const fine = await query(p.base, `SELECT ${deep(10, 'mean("temperature") * 2')} FROM "sensor" WHERE ${deep(10, `"device" = '${LONG_ID}' AND time > now() - 1h`)}`);
    expect(fine.status).toBe(200);
    expect(fine.body.results?.[0]?.series).toHaveLength(1);
  });

  it('reads GROUP BY time(0s) as InfluxDB does (no time grouping: one row), never a bucket per millisecond', async () => {
    // influxd 1.6.7 answers `GROUP BY time(0s)` like no time() at all (measured); it refuses nothing.
    const zero = await query(p.base, `SELECT mean("temperature") FROM "sensor" WHERE time > now() - 6d GROUP BY time(0s), "device"`);
    expect(zero.status).toBe(200);
    expect(zero.ms).toBeLessThan(5_000);
    const series = zero.body.results?.[0]?.series ?? [];
    expect(series).toHaveLength(5);
    for (const s of series) expect(s.values).toHaveLength(1);
    const plain = await query(p.base, `SELECT mean("temperature") FROM "sensor" WHERE time > now() - 6d GROUP BY "device"`);
    expect(series.map((s) => s.values[0]?.[1])).toEqual(plain.body.results?.[0]?.series?.map((s) => s.values[0]?.[1]));
  });
});

describe('/query limits from the config, answered in InfluxDB\'s words', () => {
  let app: Watchfloor;
  let base: string;

  beforeAll(async () => {
    const trapPort = await freeUdpPort();
    const config = Config.parse({
      dataDir: mkdtempSync(join(tmpdir(), 'wf-query-limits-')),
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      snmp: { trapPort },
      store: { flushIntervalMs: 50, query: { maxSelectSeries: 4, maxSelectPoint: 1_000, maxSelectBuckets: 500, maxStatements: 3 } },
    });
    app = await startWatchfloor({ config, inventory: Inventory.parse(inventory), logger: silentLogger, adminPassword: ADMIN_PASSWORD });
    base = `http://127.0.0.1:${app.httpPort}`;
    await seed(app, 600);
    await addViewer(base);
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('refuses series, points and buckets over the configured limits; the statements after are not executed', async () => {
    const series = await query(base, `SELECT last("temperature") FROM "sensor" WHERE time > now() - 1h GROUP BY "device"; SHOW DATABASES`);
    expect(series.body.results).toEqual([
      { statement_id: 0, error: 'max-select-series limit exceeded: (5/4)' },
      { statement_id: 1, error: 'not executed' },
    ]);
    // 2 series x 600 points a minute apart over 10 h: 1,200 points.
    const points = await query(base, `SELECT mean("temperature") FROM "sensor" WHERE ("device" = 's-a01-ft' OR "device" = 's-a01-fm') AND time > now() - 10h`);
    expect(points.body.results?.[0]?.error).toBe('max-select-point limit exceeed: (1200/1000)');
    // 2 groups x 301 buckets: each group under the cap, the request over it.
    const buckets = await query(base, `SELECT mean("temperature") FROM "sensor" WHERE ("device" = 's-a01-ft' OR "device" = 's-a01-fm') AND time > now() - 300m GROUP BY time(1m), "device"`);
    expect(buckets.body.results?.[0]?.error).toMatch(/^max-select-buckets limit exceeded: \(60\d\/500\)$/);
    const within = await query(base, `SELECT mean("temperature") FROM "sensor" WHERE "device" = 's-a01-ft' AND time > now() - 300m GROUP BY time(1m)`);
    expect(within.body.results?.[0]?.series?.[0]?.values.length).toBeGreaterThan(300);
    expect((await query(base, 'SHOW DATABASES; SHOW DATABASES; SHOW DATABASES; SHOW DATABASES')).body.error).toBe('error parsing query: max-statements limit exceeded: (4/3)');
  });

  it('answers a request past its deadline with query-timeout limit exceeded, and stops the store query', async () => {
    const budget = new QueryBudget({ ...DEFAULT_QUERY_LIMITS, timeoutMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const statements = parseInfluxQL(`SELECT mean("temperature") FROM "sensor" WHERE time > now() - 1h; SHOW DATABASES; SHOW MEASUREMENTS`);
    const results = await executeInfluxQL(app.store, statements, { now: Date.now(), budget });
    budget.dispose();
    expect(results).toEqual([
      { statement_id: 0, error: 'query-timeout limit exceeded' },
      { statement_id: 1, error: 'not executed' },
      { statement_id: 2, error: 'not executed' },
    ]);
    // The store gives up a query whose asker has (DuckDB's interrupt, or not started at all).
    const groups = [[{ device: 's-a01-ft', metric: 'temperature' }]];
    await expect(app.store.rangeGroups({ groups, from: 0, to: Date.now(), stepMs: MIN, agg: 'mean', signal: AbortSignal.abort() })).rejects.toThrow();
  });
});
