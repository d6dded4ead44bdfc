/**
 * The time-series store: DuckDB against better-sqlite3 on the same data, then the store itself under load.
 *
 *   node bin/run-ts.js bench/store.ts [--series 1000] [--hours 24]
 *
 * better-sqlite3 is not a dependency of the product; to include it without touching package.json:
 *   (cd /tmp/sq && npm i better-sqlite3@12) && NODE_PATH=/tmp/sq/node_modules node bin/run-ts.js bench/store.ts
 *
 * Each part runs in its own process so that its RSS is its own. Figures only; nothing here fails on time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIGINT, DOUBLE, DuckDBDataChunk, DuckDBInstance, INTEGER } from '@duckdb/node-api';
import { FakeClock, silentLogger, type Point } from '../core/index.ts';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { openEmbeddedStore } from '../store/index.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SERIES = arg('series', 1000);
const SAMPLES = Math.round((arg('hours', 24) * 3600) / 10); // one sample every 10 s
const TOTAL = SERIES * SAMPLES;
const T0 = Date.UTC(2025, 0, 1);
const DAY = { series: Math.floor(SERIES / 2), from: T0, to: T0 + SAMPLES * 10_000 - 1, step: 300_000 };
/** The store writes a batch like this every 200 ms at 100k values/s; both engines get batches of this size, one transaction each. */
const BATCH = 20_000;

type Figures = Record<string, number | string>;

/** Rows in time order, as ingest sees them: every series at one instant, then the next instant. */
function fillBatch(first: number, n: number, out: { series: Int32Array; ts: Float64Array; value: Float64Array }): void {
  for (let k = 0; k < n; k++) {
    const row = first + k;
    const sample = Math.floor(row / SERIES);
    out.series[k] = row % SERIES;
    out.ts[k] = T0 + sample * 10_000;
    out.value[k] = 22 + 4 * Math.sin(sample / 500 + (row % SERIES)) + Math.random();
  }
}

const newBatch = (): { series: Int32Array; ts: Float64Array; value: Float64Array } => ({
  series: new Int32Array(BATCH),
  ts: new Float64Array(BATCH),
  value: new Float64Array(BATCH),
});

const timed = async <T>(fn: () => Promise<T> | T): Promise<[T, number]> => {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const rssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
const dirMb = (dir: string): number =>
  Math.round(readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0) / 1e5) / 10;

/** Loads the day through `insert(batch, n)`, timing the first million rows and the whole load. */
async function load(insert: (b: ReturnType<typeof newBatch>, n: number) => Promise<void> | void): Promise<Figures> {
  const b = newBatch();
  let firstMillionMs = 0;
  let ms = 0;
  for (let row = 0; row < TOTAL; row += BATCH) {
    const n = Math.min(BATCH, TOTAL - row);
    fillBatch(row, n, b);
    const t = performance.now();
    await insert(b, n);
    ms += performance.now() - t;
    if (row + n <= 1_000_000) firstMillionMs = ms;
  }
  return {
    'insert rows/s (first 1M)': Math.round(Math.min(TOTAL, 1_000_000) / (firstMillionMs / 1000)),
    'insert rows/s (whole day)': Math.round(TOTAL / (ms / 1000)),
  };
}

async function benchDuckdb(): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'wf-bench-duckdb-'));
  const db = await DuckDBInstance.create(join(dir, 'bench.duckdb'));
  const con = await db.connect();
  await con.run('CREATE TABLE points (series INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE NOT NULL)');
  const chunk = DuckDBDataChunk.create([INTEGER, BIGINT, DOUBLE]);
  const figures = await load(async (b, n) => {
    await con.run('BEGIN TRANSACTION');
    const appender = await con.createAppender('points');
    for (let start = 0; start < n; start += 2048) {
      const rows = Math.min(2048, n - start);
      if (chunk.rowCount !== rows) chunk.rowCount = rows;
      const [s, t, v] = [chunk.getColumnVector(0), chunk.getColumnVector(1), chunk.getColumnVector(2)];
      for (let i = 0; i < rows; i++) {
        s.setItem(i, b.series[start + i] as number);
        t.setItem(i, BigInt(b.ts[start + i] as number));
        v.setItem(i, b.value[start + i] as number);
      }
      s.flush();
      t.flush();
      v.flush();
      appender.appendDataChunk(chunk);
    }
    appender.closeSync();
    await con.run('COMMIT');
  });
  const query = async (agg: string): Promise<number> =>
    (
      await timed(() =>
        con.runAndReadAll(
          `SELECT CAST((ts - ${DAY.from}) // ${DAY.step} AS INTEGER) AS b, ${agg} FROM points
           WHERE series = ${DAY.series} AND ts BETWEEN ${DAY.from} AND ${DAY.to} GROUP BY b`,
        ),
      )
    )[1];
  const cold = await query('avg(value)');
  const warm = [];
  for (let i = 0; i < 5; i++) warm.push(await query('avg(value)'));
  const last = [];
  for (let i = 0; i < 5; i++) last.push(await query('arg_max(value, ts)'));
  await con.run('CHECKPOINT');
  const size = dirMb(dir);
  con.closeSync();
  db.closeSync();
  rmSync(dir, { recursive: true, force: true });
  return {
    ...figures,
    'range mean ms (first)': cold.toFixed(1),
    'range mean ms (median of 5)': median(warm).toFixed(1),
    'range last ms (median of 5)': median(last).toFixed(1),
    'disk MB': size,
    'max RSS MB': rssMb(),
  };
}

interface SqliteStatement {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}
interface SqliteDatabase {
  pragma(source: string): unknown;
  exec(sql: string): unknown;
  prepare(sql: string): SqliteStatement;
  transaction<A extends unknown[]>(fn: (...a: A) => void): (...a: A) => void;
  close(): void;
}

async function benchSqlite(): Promise<Figures> {
  let Database: new (file: string) => SqliteDatabase;
  try {
    Database = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  } catch {
    return { skipped: 'better-sqlite3 not found (see the header of bench/store.ts)' };
  }
  const dir = mkdtempSync(join(tmpdir(), 'wf-bench-sqlite-'));
  const db = new Database(join(dir, 'bench.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // The (series, ts) index is what makes a one-series range query cheap; without it every query scans the day.
  db.exec('CREATE TABLE points (series INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL)');
  db.exec('CREATE INDEX points_series_ts ON points (series, ts)');
  const insert = db.prepare('INSERT INTO points VALUES (?, ?, ?)');
  const insertBatch = db.transaction((b: ReturnType<typeof newBatch>, n: number) => {
    for (let i = 0; i < n; i++) insert.run(b.series[i], b.ts[i], b.value[i]);
  });
  const figures = await load((b, n) => insertBatch(b, n));
  const mean = db.prepare(
    'SELECT (ts - ?) / ? AS b, avg(value) FROM points WHERE series = ? AND ts BETWEEN ? AND ? GROUP BY b',
  );
  // SQLite takes the bare column from the row that holds max(ts).
  const last = db.prepare(
    'SELECT (ts - ?) / ? AS b, value, max(ts) FROM points WHERE series = ? AND ts BETWEEN ? AND ? GROUP BY b',
  );
  const params = [DAY.from, DAY.step, DAY.series, DAY.from, DAY.to];
  const [, cold] = await timed(() => mean.all(...params));
  const warm = [];
  for (let i = 0; i < 5; i++) warm.push((await timed(() => mean.all(...params)))[1]);
  const lastMs = [];
  for (let i = 0; i < 5; i++) lastMs.push((await timed(() => last.all(...params)))[1]);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const size = dirMb(dir);
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    ...figures,
    'range mean ms (first)': cold.toFixed(1),
    'range mean ms (median of 5)': median(warm).toFixed(1),
    'range last ms (median of 5)': median(lastMs).toFixed(1),
    'disk MB': size,
    'max RSS MB': rssMb(),
  };
}

/** The store as the product uses it: Point objects through write(), its own 200 ms flush timer. */
async function benchStore(): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'wf-bench-store-'));
  const devices = 1000;
  const metrics = ['temperature', 'humidity', 'power_w', 'current_a', 'voltage_v', 'fan_rpm', 'inlet', 'outlet', 'load', 'status'];
  const tags = Array.from({ length: devices }, (_, d) => ({ site: 'qnm', room: 'dc1', rack: `r${d % 40}`, position: 'front-top', aisle: 'cold', kind: 'sensor' }));
  const makePoints = (n: number, ts: number, offset: number): Point[] =>
    Array.from({ length: n }, (_, k) => {
      const i = offset + k;
      const d = Math.floor(i / metrics.length) % devices;
      return { device: `dev-${d}`, metric: metrics[i % metrics.length] as string, ts, value: 20 + (i % 13), tags: tags[d] };
    });

  let store = await openEmbeddedStore({ dir, logger: silentLogger, flushIntervalMs: 200, maintenanceIntervalMs: 0 });
  const figures: Figures = {};

  // 1. The cost of write() alone: one million points in batches of 1000 (objects built beforehand).
  let batches = Array.from({ length: 1000 }, (_, b) => makePoints(1000, T0 + b * 1000, b * 1000));
  const [, writeMs] = await timed(() => {
    for (const b of batches) store.write(b);
  });
  batches = []; // let the garbage collector have them before the loop is watched
  figures['write() ns/point'] = Math.round((writeMs * 1e6) / 1_000_000);

  // 2. Flushing that million, then one flush of 20,000 rows: wall time and the longest stall of the event loop.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const [, bigFlushMs] = await timed(() => store.flush());
  figures['flush 1M rows ms'] = Math.round(bigFlushMs);
  figures['  loop stall max ms'] = (loop.max / 1e6).toFixed(1);
  const flushMs = [];
  const stallMs = [];
  for (let i = 0; i < 10; i++) {
    store.write(makePoints(20_000, T0 + 2_000_000 + i * 1000, i * 20_000));
    await sleep(5);
    loop.reset();
    flushMs.push((await timed(() => store.flush()))[1]);
    await sleep(5);
    stallMs.push(loop.max / 1e6);
  }
  figures['flush 20k rows ms (median)'] = median(flushMs).toFixed(1);
  figures['  loop stall ms (median / max)'] = `${median(stallMs).toFixed(1)} / ${Math.max(...stallMs).toFixed(1)}`;

  // 3. 100,000 values/s for 10 s over 10,000 series, written every 10 ms, flushed by the store's timer.
  const seconds = 10;
  const rate = 100_000;
  const cpu0 = process.cpuUsage();
  loop.reset();
  const start = performance.now();
  let sent = 0;
  let writeTotalMs = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
    if (due > 0) {
      const points = makePoints(due, T0 + 3_000_000 + Math.floor(performance.now() - start), sent);
      const t = performance.now();
      store.write(points);
      writeTotalMs += performance.now() - t;
      sent += due;
    }
    await sleep(10);
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - start;
  figures['sustained values/s'] = Math.round(sent / (wall / 1000));
  figures['  pending at the end'] = store.stats().pending;
  figures['  CPU % of one core (incl. building points)'] = Math.round(((cpu.user + cpu.system) / 1000 / wall) * 100);
  figures['  write() share of wall %'] = ((writeTotalMs / wall) * 100).toFixed(1);
  figures['  loop delay p99 / max ms'] = `${(loop.percentile(99) / 1e6).toFixed(1)} / ${(loop.max / 1e6).toFixed(1)}`;
  loop.disable();

  // 4. Restart: close, then open and rebuild the latest values from disk.
  await store.close();
  const rows = store.stats().written;
  const [reopened, openMs] = await timed(() => openEmbeddedStore({ dir, logger: silentLogger, maintenanceIntervalMs: 0 }));
  store = reopened;
  figures[`reopen with ${(rows / 1e6).toFixed(1)}M rows, ${store.stats().series} series ms`] = Math.round(openMs);
  const [, rangeMs] = await timed(() =>
    store.range({ device: 'dev-500', metric: 'temperature', from: T0, to: T0 + 3_600_000, stepMs: 60_000, agg: 'mean' }),
  );
  figures['range 1 h / 1 min ms'] = rangeMs.toFixed(1);
  await store.close();
  figures['disk MB'] = dirMb(dir);
  figures['max RSS MB'] = rssMb();
  rmSync(dir, { recursive: true, force: true });
  return figures;
}

/**
 * Tiers and queries at the sizes of the targets: the whole day written through the store interface,
 * rolled up, then the two target queries; bytes on disk per point before and after the rollups.
 */
async function benchTiers(): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'wf-bench-tiers-'));
  const end = T0 + SAMPLES * 10_000;
  const clock = new FakeClock(end + 5 * 60_000);
  const store = await openEmbeddedStore({ dir, logger: silentLogger, clock, flushIntervalMs: 3_600_000, maintenanceIntervalMs: 0 });
  const figures: Figures = {};
  const tags = Array.from({ length: SERIES }, (_, d) => ({ kind: 'sensor', room: 'dc1', rack: `r${d % 40}` }));
  const batch = newBatch();
  let written = 0;
  const t0 = performance.now();
  let writeMs = 0;
  for (let first = 0; first < TOTAL; first += BATCH) {
    const n = Math.min(BATCH, TOTAL - first);
    fillBatch(first, n, batch);
    const points: Point[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const d = batch.series[k] as number;
      points[k] = { device: `dev-${d}`, metric: 'temperature', ts: batch.ts[k] as number, value: batch.value[k] as number, tags: tags[d] };
    }
    const w = performance.now();
    store.write(points);
    writeMs += performance.now() - w;
    await store.flush();
    written += n;
  }
  const loadMs = performance.now() - t0;
  figures['through the interface, write()+flush points/s'] = Math.round(written / (loadMs / 1000));
  figures['  write() alone points/s'] = Math.round(written / (writeMs / 1000));
  const oneSeries = { device: `dev-${DAY.series}`, metric: 'temperature', from: end - 86_400_000, to: end - 1 };
  const rawOne = [];
  for (let i = 0; i < 5; i++) rawOne.push((await timed(() => store.range({ ...oneSeries, stepMs: 60_000, agg: 'mean' })))[1]);
  figures['raw tier: 1 series 24 h / 1 min ms (median)'] = median(rawOne).toFixed(1);
  await store.flush();
  await store.close();
  const rawBytes = dirBytes(dir);
  figures['raw bytes on disk per point'] = (rawBytes / written).toFixed(2);

  const tiered = await openEmbeddedStore({ dir, logger: silentLogger, clock, maintenanceIntervalMs: 0 });
  const [report, maintainMs] = await timed(() => tiered.maintain());
  figures['rollup of the day (minute, 5-minute and hour tiers) ms'] = Math.round(maintainMs);
  figures['  rollup rows (minute / 5-minute / hour)'] = `${report.rolledUp.minute ?? 0} / ${report.rolledUp.fiveMinutes ?? 0} / ${report.rolledUp.hour ?? 0}`;
  const one = [];
  for (let i = 0; i < 10; i++) one.push((await timed(() => tiered.range({ ...oneSeries, stepMs: 60_000, agg: 'mean' })))[1]);
  figures['1 series 24 h / 1 min ms (median / max; goal < 20)'] = `${median(one).toFixed(1)} / ${Math.max(...one).toFixed(1)}`;
  const groups = Array.from({ length: SERIES }, (_, d) => [{ device: `dev-${d}`, metric: 'temperature' }]);
  const many = [];
  // 20 runs: single runs of this query vary by a third (garbage collection of the 288 k buckets).
  for (let i = 0; i < 20; i++) many.push((await timed(() => tiered.rangeGroups({ groups, from: oneSeries.from, to: oneSeries.to, stepMs: 300_000, agg: 'mean' })))[1]);
  const sorted = [...many].sort((a, b) => a - b);
  figures[`${SERIES} series 24 h / 5 min ms (median / p90 / max of 20; goal < 200)`] = `${median(many).toFixed(1)} / ${(sorted[17] ?? NaN).toFixed(1)} / ${Math.max(...many).toFixed(1)}`;
  await tiered.close();
  figures['bytes on disk per point with rollups'] = (dirBytes(dir) / written).toFixed(2);
  figures['max RSS MB'] = rssMb();
  rmSync(dir, { recursive: true, force: true });
  return figures;
}

/** Debian's VictoriaMetrics beside it: the same points as line protocol through /api/v2/write, then its disk use. */
async function benchVictoriaMetrics(): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'wf-bench-vm-'));
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const vm = spawn('victoria-metrics', [`-storageDataPath=${dir}`, `-httpListenAddr=127.0.0.1:${port}`, '-retentionPeriod=100y', '-loggerLevel=ERROR'], { stdio: 'ignore' });
  const failed = new Promise<Figures>((resolve) => vm.once('error', (e) => resolve({ failed: `victoria-metrics: ${e.message} (apt-get install victoria-metrics)` })));
  const url = `http://127.0.0.1:${port}`;
  const run = async (): Promise<Figures> => {
    for (let i = 0; i < 100; i++) {
      if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
      await sleep(100);
    }
    const batch = newBatch();
    const t0 = performance.now();
    for (let first = 0; first < TOTAL; first += BATCH) {
      const n = Math.min(BATCH, TOTAL - first);
      fillBatch(first, n, batch);
      const lines = new Array<string>(n);
      for (let k = 0; k < n; k++) lines[k] = `sensor,device=dev-${batch.series[k]},room=dc1 temperature=${batch.value[k]} ${batch.ts[k]}`;
      const r = await fetch(`${url}/api/v2/write?bucket=watchfloor&precision=ms`, { method: 'POST', body: lines.join('\n') });
      if (r.status >= 300) return { failed: `write answered ${r.status}` };
    }
    const ms = performance.now() - t0;
    await fetch(`${url}/internal/force_flush`);
    await sleep(3000);
    return {
      'line protocol over HTTP points/s': Math.round(TOTAL / (ms / 1000)),
      'bytes on disk per point (after force_flush)': (dirBytes(dir) / TOTAL).toFixed(2),
    };
  };
  try {
    return await Promise.race([run(), failed]);
  } finally {
    vm.kill('SIGTERM');
    await new Promise((r) => (vm.exitCode !== null ? r(null) : vm.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  }
  return total;
}

const parts: Record<string, () => Promise<Figures>> = { duckdb: benchDuckdb, sqlite: benchSqlite, store: benchStore, tiers: benchTiers, victoriametrics: benchVictoriaMetrics };
const part = args[args.indexOf('--part') + 1];

if (args.includes('--part') && part && parts[part]) {
  console.log(JSON.stringify(await parts[part]()));
} else {
  const runTs = fileURLToPath(new URL('../bin/run-ts.js', import.meta.url));
  const self = fileURLToPath(import.meta.url);
  console.log(`node bin/run-ts.js bench/store.ts ${args.join(' ')}`.trim());
  console.log(`${SERIES} series x ${SAMPLES} samples (10 s apart) = ${TOTAL.toLocaleString('en')} rows, batches of ${BATCH}; range: one series, ${DAY.step / 1000} s step`);
  for (const name of Object.keys(parts)) {
    const child = spawnSync(process.execPath, [runTs, self, '--part', name, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const line = child.stdout.trim().split('\n').pop() ?? '';
    let figures: Figures;
    try {
      figures = JSON.parse(line) as Figures;
    } catch {
      figures = { failed: `exit ${child.status}: ${line}` };
    }
    console.log(`\n${name}`);
    for (const [k, v] of Object.entries(figures)) console.log(`  ${k.padEnd(44)} ${typeof v === 'number' ? v.toLocaleString('en') : v}`);
  }
}
