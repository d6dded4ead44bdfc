// Line protocol in (issue 17): Telegraf-shaped batches of 5,000 lines (cpu, mem, disk, system, net of
// 500 hosts, 4.2 fields a line) POSTed to /api/v2/write by 4 writers at once; the figure is points
// (lines, InfluxDB's unit) and values (fields, Watchfloor's unit) per second *stored*: from the first
// request until the store has every value on disk, 0 lost checked. The same batches then go to
// Debian's influxd 1.x (/write, answered once in its WAL) and victoria-metrics (/api/v2/write, counted
// once queryable), each in its own process on this machine, one after another. On a shared machine
// the wall-clock figures move with the load; the product's CPU time per 100,000 lines (process.cpuUsage
// from the end of the warm-up until the last value is on disk: HTTP, parse, broker, ingest, log, store,
// rules) does much less. BENCH_PROFILE=dir writes a CPU profile of the product's timed part there
// (node:inspector, from the end of the warm-up until the last value is on disk): write.cpuprofile.
// Run: node bin/run-ts.js bench/write.ts [--batches N]  (or npm run bench -- write)
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BATCH = 5000;
const HOSTS = 500;
const WRITERS = Number(process.env.BENCH_WRITERS ?? 4);
const arg = (name: string, d: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};

/** One host's lines at one tick: Telegraf's cpu (cpu-total), mem, disk (/), system and net (eth0) inputs. */
function hostLines(h: number, ts: number, t: number): string[] {
  const host = `srv-${String(h).padStart(4, '0')}`;
  const v = (t * 7 + h) % 100;
  return [
    `cpu,cpu=cpu-total,host=${host} usage_idle=${90 - (v % 50) / 10},usage_user=${(v % 50) / 10},usage_system=1.5,usage_iowait=0.25,usage_steal=0 ${ts}`,
    `mem,host=${host} used_percent=${40 + (v % 20)},available_percent=${60 - (v % 20)},available=${8_000_000_000 + v}i,used=${4_000_000_000 + v}i ${ts}`,
    `disk,host=${host},path=/,device=sda1,fstype=ext4,mode=rw used_percent=${50 + (v % 30)},free=${100_000_000_000 - v}i,inodes_used=${100_000 + v}i ${ts}`,
    `system,host=${host} load1=${v / 100},load5=0.5,uptime=${100_000 + t}i,n_users=2i ${ts}`,
    `net,host=${host},interface=eth0 bytes_recv=${1_000_000 * t + h}i,bytes_sent=${500_000 * t + h}i,err_in=0i,drop_in=0i,packets_recv=${1000 * t}i ${ts}`,
  ];
}
const VALUES_PER_HOST = 5 + 4 + 3 + 4 + 5;
const LINES_PER_HOST = 5;

/** `count` batches of 5,000 lines, consecutive ticks (a second apart, in ms precision) from `from`. */
function makeBatches(count: number, from: number): string[] {
  const lines: string[] = [];
  const ticks = Math.ceil((count * BATCH) / (HOSTS * LINES_PER_HOST));
  for (let t = 0; t < ticks; t++) for (let h = 0; h < HOSTS; h++) lines.push(...hostLines(h, from + t * 1000, t));
  const batches: string[] = [];
  for (let b = 0; b < count; b++) batches.push(lines.slice(b * BATCH, (b + 1) * BATCH).join('\n'));
  return batches;
}

/** Sends the batches with WRITERS requests in flight; every answer must be 204 (429: retried, as Telegraf does). */
async function send(batches: string[], url: string, headers: Record<string, string>): Promise<{ seconds: number; retries: number }> {
  let next = 0;
  let retries = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (next < batches.length) {
      const body = batches[next++] as string;
      for (;;) {
        const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body });
        const text = await r.text();
        if (r.status === 204) break;
        if (r.status !== 429) throw new Error(`${url} answered ${r.status}: ${text.slice(0, 300)}`);
        retries++;
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  }));
  return { seconds: (performance.now() - t0) / 1000, retries };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

interface Figures {
  name: string;
  lines: number;
  values: number;
  seconds: number;
  note: string;
}

// ---- The product, in its own process (this file with --product).
if (process.argv.includes('--product')) {
  const { startWatchfloor } = await import('../cli/index.ts');
  const { Config, Inventory, silentLogger } = await import('../core/index.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'wf-bench-write-'));
  const config = Config.parse({
    dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 },
    lineProtocol: { autoRegister: [{ hosts: 'srv-*', kind: 'server', layer: 'server', site: 'dc1' }] },
  });
  const inventory = Inventory.parse({ sites: [{ id: 'dc1', name: 'Bench' }], rooms: [], racks: [], devices: [] });
  const app = await startWatchfloor({ config, inventory, rules: [], logger: silentLogger, adminPassword: 'bench-admin-password' });
  const { token } = app.ops.parts.tokens.create('bench', 'writer', 'bench', Date.now());
  const profiler = new Session();
  process.on('message', (msg: { cmd: string; dir?: string }) => {
    if (msg.cmd === 'profile') {
      profiler.connect();
      void profiler.post('Profiler.enable').then(() => profiler.post('Profiler.start')).then(() => process.send?.({ type: 'profiling' }));
    }
    if (msg.cmd === 'profiled') {
      void profiler.post('Profiler.stop').then(({ profile }) => {
        writeFileSync(join(msg.dir as string, 'write.cpuprofile'), JSON.stringify(profile));
        process.send?.({ type: 'profiled' });
      });
    }
    if (msg.cmd === 'stats') {
      const s = app.store.stats();
      const cpu = process.cpuUsage();
      process.send?.({ type: 'stats', written: s.written, pending: s.pending, dropped: s.dropped, ingestDropped: [...app.ingest.stats.dropped.values()].reduce((a, b) => a + b, 0), rssMb: Math.round(process.memoryUsage().rss / 2 ** 20), cpuMs: (cpu.user + cpu.system) / 1000 });
    }
    if (msg.cmd === 'stop') void app.stop().then(() => rmSync(dataDir, { recursive: true, force: true })).then(() => process.exit(0));
  });
  process.send?.({ type: 'ready', httpPort: app.httpPort, token });
} else {
  await main();
}

async function watchfloor(batches: string[], warmup: string): Promise<Figures> {
  const child = fork(new URL('../bin/run-ts.js', import.meta.url).pathname, [new URL(import.meta.url).pathname, '--product'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const profileDir = process.env.BENCH_PROFILE;
  const command = (cmd: string) => new Promise<void>((resolve) => {
    child.once('message', () => resolve());
    child.send({ cmd, dir: profileDir });
  });
  const ready = await new Promise<{ httpPort: number; token: string }>((resolve) => child.once('message', (m) => resolve(m as { httpPort: number; token: string })));
  type Stats = { written: number; pending: number; dropped: number; ingestDropped: number; rssMb: number; cpuMs: number };
  const stats = () => new Promise<Stats>((resolve) => {
    child.once('message', (m) => resolve(m as Stats));
    child.send({ cmd: 'stats' });
  });
  const url = `http://127.0.0.1:${ready.httpPort}/api/v2/write?org=bench&bucket=bench&precision=ms`;
  const headers = { authorization: `Token ${ready.token}` };
  // Warm-up (untimed): the 500 hosts are auto-registered, the series made.
  await send([warmup], url, headers);
  let base = await stats();
  await until(async () => {
    base = await stats();
    return base.pending === 0 && base.written >= BATCH * (VALUES_PER_HOST / LINES_PER_HOST);
  }, 60_000);
  const warmValues = base.written;
  if (profileDir) await command('profile');
  base = await stats();
  const expected = batches.length * BATCH * (VALUES_PER_HOST / LINES_PER_HOST);
  const t0 = performance.now();
  const sent = await send(batches, url, headers);
  let last = base;
  await until(async () => {
    last = await stats();
    return last.written - warmValues >= expected || last.dropped + last.ingestDropped > 0;
  }, 300_000);
  const seconds = (performance.now() - t0) / 1000;
  const lost = expected - (last.written - warmValues);
  const cpuPer100k = ((last.cpuMs - base.cpuMs) * 100_000) / (batches.length * BATCH);
  if (profileDir) await command('profiled');
  child.send({ cmd: 'stop' });
  await new Promise((r) => child.once('exit', r));
  return {
    name: 'watchfloor /api/v2/write -> broker -> store', lines: batches.length * BATCH, values: expected, seconds,
    note: `answered in ${sent.seconds.toFixed(1)} s, on disk at ${seconds.toFixed(1)} s; ${lost} lost, store dropped ${last.dropped}, ingest dropped ${last.ingestDropped}, 429 retries ${sent.retries}, product RSS ${last.rssMb} MB, product CPU ${Math.round(cpuPer100k)} ms per 100k lines`,
  };
}

async function influxd(batches: string[], warmup: string): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'wf-bench-influx-'));
  const port = 28086 + Math.floor(Math.random() * 1000);
  writeFileSync(join(dir, 'c.conf'), `reporting-disabled = true\nbind-address = "127.0.0.1:${port + 1000}"\n[meta]\n  dir = "${dir}/meta"\n[data]\n  dir = "${dir}/data"\n  wal-dir = "${dir}/wal"\n  query-log-enabled = false\n[http]\n  bind-address = "127.0.0.1:${port}"\n  log-enabled = false\n[monitor]\n  store-enabled = false\n`);
  const child = spawn('influxd', ['-config', join(dir, 'c.conf')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  try {
    await until(async () => (await fetch(`${url}/ping`).then((r) => r.status === 204, () => false)), 30_000);
    await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'CREATE DATABASE bench' }) });
    await send([warmup], `${url}/write?db=bench&precision=ms`, {});
    const sent = await send(batches, `${url}/write?db=bench&precision=ms`, {});
    const r = await fetch(`${url}/query?db=bench&q=${encodeURIComponent('SELECT count(usage_idle) FROM cpu')}`);
    const count = ((await r.json()) as { results: { series?: { values: number[][] }[] }[] }).results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
    const lines = batches.length * BATCH;
    return { name: 'influxd 1.x /write (Debian)', lines, values: lines * (VALUES_PER_HOST / LINES_PER_HOST), seconds: sent.seconds, note: `204 once in its WAL; cpu lines counted back ${count} of ${(lines + BATCH) / LINES_PER_HOST} (warm-up included)` };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function victoria(batches: string[], warmup: string): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'wf-bench-vm-'));
  const port = 29428 + Math.floor(Math.random() * 1000);
  const child = spawn('victoria-metrics', [`-storageDataPath=${dir}`, `-httpListenAddr=127.0.0.1:${port}`, '-retentionPeriod=100y', '-loggerLevel=ERROR', '-search.latencyOffset=0s'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  try {
    await until(async () => (await fetch(`${url}/health`).then((r) => r.status === 200, () => false)), 30_000);
    await send([warmup], `${url}/api/v2/write?org=bench&bucket=bench&precision=ms`, {});
    const lines = batches.length * BATCH;
    const values = lines * (VALUES_PER_HOST / LINES_PER_HOST);
    const warmValues = BATCH * (VALUES_PER_HOST / LINES_PER_HOST);
    const t0 = performance.now();
    const sent = await send(batches, `${url}/api/v2/write?org=bench&bucket=bench&precision=ms`, {});
    // Stored = counted back: VictoriaMetrics buffers writes for up to a second before they are searchable.
    let rows = 0;
    await until(async () => {
      await fetch(`${url}/internal/force_flush`);
      const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('sum(count_over_time({__name__=~"cpu_.*|mem_.*|disk_.*|system_.*|net_.*"}[100d]))')}`);
      rows = Number(((await r.json()) as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1] ?? 0);
      return rows >= values + warmValues;
    }, 120_000).catch(() => undefined);
    const seconds = (performance.now() - t0) / 1000;
    return { name: 'victoria-metrics /api/v2/write (Debian)', lines, values, seconds, note: `answered in ${sent.seconds.toFixed(1)} s, queryable at ${seconds.toFixed(1)} s; ${rows - warmValues} of ${values} values counted back` };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const count = arg('batches', 100);
  const from = Date.now() - 3_000_000;
  const [warmup, ...batches] = makeBatches(count + 1, from);
  console.log(`${count} batches of ${BATCH} lines (${HOSTS} hosts x cpu, mem, disk, system, net; ${VALUES_PER_HOST / LINES_PER_HOST} fields a line), ${WRITERS} writers at once`);
  const results: Figures[] = [];
  for (const run of [watchfloor, influxd, victoria]) {
    const f = await run(batches, warmup as string).catch((err: Error) => ({ name: run.name, lines: 0, values: 0, seconds: 0, note: `failed: ${err.message}` }));
    results.push(f);
    console.log(`${f.name}: ${Math.round(f.lines / f.seconds).toLocaleString('en')} points/s (lines), ${Math.round(f.values / f.seconds).toLocaleString('en')} values/s; ${f.note}`);
  }
  const [wf, ix, vm] = results;
  if (wf && ix && vm && wf.seconds > 0) {
    console.log(`ratios: watchfloor / influxd = ${(ix.seconds / wf.seconds).toFixed(2)}, watchfloor / victoria-metrics = ${(vm.seconds / wf.seconds).toFixed(2)} (same batches; >1 is faster)`);
  }
  console.log('command: node bin/run-ts.js bench/write.ts' + (count !== 100 ? ` --batches ${count}` : ''));
}
