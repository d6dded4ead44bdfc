// npm run bench -- syslog: syslog lines parsed, matched against 100 Sigma rules and stored, in one
// process, over TCP (octet counting, several connections) and UDP, beside Debian's rsyslogd writing
// the same stream to a file; line -> alert latency under 10,000 lines/s; RSS before and after. First
// (a) the components (syslog-pipeline.ts), then (b) the whole product (syslog-product.ts, latency to
// the socket.io alert as a soc user). Figures only; nothing here passes or fails on time. See BENCHMARKS.md.
//   BENCH_SECONDS=10 BENCH_RATES=30000,40000,0 BENCH_UDP_RATES=10000,30000 BENCH_CONNECTIONS=4 node bin/run-ts.js bench/syslog.ts
// A rate of 0 sends as fast as each receiver takes the lines (TCP backpressure).
import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { cpus, loadavg, totalmem } from 'node:os';
import { startRsyslog, type Rsyslog } from './syslog-rsyslog.ts';
import { octetFrame, probeLine } from './syslog-lines.ts';

const RUNNER = new URL('../bin/run-ts.js', import.meta.url).pathname;
const script = (name: string): string => new URL(name, import.meta.url).pathname;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATES = (process.env.BENCH_RATES ?? '30000,40000,0').split(',').filter((r) => r !== '').map(Number);
const UDP_RATES = (process.env.BENCH_UDP_RATES ?? '10000,30000').split(',').filter((r) => r !== '' && r !== '0').map(Number);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 10_000);

const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface PipelineStats {
  received: { udp: number; tcp: number; tls: number };
  lines: number;
  detections: number;
  matchMs: number;
  receiverDropped: Record<string, number>;
  queuePeak: number;
  written: number;
  pending: number;
  storeDropped: Record<string, number>;
  rssMb: number;
  maxRssMb: number;
  rssBeforeMb: number;
}

/** Something that receives syslog and keeps it: the count of what it holds, and whether it is still busy. */
interface Target {
  name: string;
  tcpPort: number;
  udpPort: number;
  count(): Promise<{ stored: number; busy: boolean; detail?: string }>;
}

function ask(child: ChildProcess): Promise<PipelineStats> {
  return new Promise((resolve) => {
    const on = (m: { type: string; stats: PipelineStats }): void => {
      if (m.type !== 'stats') return;
      child.off('message', on);
      resolve(m.stats);
    };
    child.on('message', on);
    child.send({ cmd: 'stats' });
  });
}

const nonZero = (r: Record<string, number>): string =>
  Object.entries(r)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ') || 'none';

function send(port: number, transport: 'tcp' | 'udp', rate: number, seconds = SECONDS): Promise<{ sent: number; seconds: number; writeSeconds: number }> {
  const child = fork(RUNNER, [script('syslog-sender.ts')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_PORT: String(port), BENCH_TRANSPORT: transport, BENCH_RATE: String(rate), BENCH_SECONDS: String(seconds), BENCH_CONNECTIONS: String(CONNECTIONS) },
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`sender exited with ${code} before reporting`)));
    child.on('message', (m: { type: string; sent: number; seconds: number; writeSeconds: number }) => {
      if (m.type === 'done') resolve(m);
    });
  });
}

/** Waits until the target holds still: nothing pending and the count unchanged over two polls. */
async function settle(t: Target): Promise<number> {
  let last = await t.count();
  let still = 0;
  for (let i = 0; i < 200 && still < 2; i++) {
    await sleep(300);
    const now = await t.count();
    still = !now.busy && now.stored === last.stored ? still + 1 : 0;
    last = now;
  }
  return last.stored;
}

interface RunResult {
  rate: number;
  sent: number;
  stored: number;
  lost: number;
  perSecond: number;
}

async function ingestRun(t: Target, transport: 'tcp' | 'udp', rate: number): Promise<RunResult> {
  const before = await settle(t);
  const samples: { t: number; stored: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push({ t: performance.now(), stored: (await t.count()).stored });
      await sleep(200);
    }
  })();
  const run = await send(transport === 'tcp' ? t.tcpPort : t.udpPort, transport, rate);
  const sentAt = performance.now();
  const after = await settle(t);
  const drainedMs = performance.now() - sentAt;
  sampling = false;
  await sampler;
  const stored = after - before;
  // The rate between the first and the last line stored, so start-up does not dilute it.
  const first = samples.find((s) => s.stored > before);
  const last = samples.find((s) => s.stored >= after) ?? samples.at(-1);
  const window = first && last && last.t > first.t ? (last.t - first.t) / 1000 : NaN;
  const perSecond = first && last ? (last.stored - first.stored) / window : NaN;
  const detail = (await t.count()).detail;
  console.log(
    `  ${t.name.padEnd(22)} ${transport} ${rate > 0 ? `offered ${fmt(rate)} lines/s` : 'as fast as it takes them'}: sent ${fmt(run.sent)} (written in ${run.writeSeconds.toFixed(1)} s${transport === 'tcp' ? `, all read by the receiver after ${run.seconds.toFixed(1)} s` : ''}), ` +
      `stored ${fmt(stored)}, lost ${fmt(run.sent - stored)}; ${fmt(perSecond)} lines/s stored while it ran; last line stored ${Math.round(drainedMs)} ms after the last sent${detail ? `; ${detail}` : ''}`,
  );
  return { rate, sent: run.sent, stored, lost: run.sent - stored, perSecond };
}

function startPipeline(): Promise<{ child: ChildProcess; tcpPort: number; udpPort: number; rules: number; how: string; rssMb: number; rssBeforeMb: number }> {
  // BENCH_CPU_PROF=DIR: the component process writes a V8 CPU profile there when it stops.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const child = fork(RUNNER, [script('syslog-pipeline.ts')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...prof] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`pipeline exited with ${code}`)));
    child.on('message', (m: { type: string; tcpPort: number; udpPort: number; rules: number; how: string; rssMb: number; rssBeforeMb: number }) => {
      if (m.type === 'ready') resolve({ child, ...m });
    });
  });
}

/** Probe lines (each a Cisco configuration change from a host not seen before) on their own connection under background load; send -> detection reported. */
async function latency(target: { tcpPort: number }, wait: (host: string) => Promise<void>, rate: number, label: string): Promise<void> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: target.tcpPort }, () => resolve(s));
    s.once('error', reject);
  });
  const load = rate > 0 ? send(target.tcpPort, 'tcp', rate, SECONDS + 2) : Promise.resolve(undefined);
  await sleep(1500); // the background reaches its pace
  const times: number[] = [];
  let missed = 0;
  const deadline = Date.now() + SECONDS * 1000;
  for (let n = 0; Date.now() < deadline; n++) {
    const host = `probe-sw-${Date.now() % 1e7}-${n}`;
    const line = probeLine(n, Date.now()).replace(/^<189>probe-sw-\d+:/, `<189>${host}:`);
    const seen = wait(host);
    const t0 = performance.now();
    socket.write(octetFrame(line));
    const ok = await Promise.race([seen.then(() => true), sleep(2000).then(() => false)]);
    if (ok) times.push(performance.now() - t0);
    else {
      missed++;
      times.push(Infinity); // counted in the percentiles as slower than the wait
    }
    await sleep(20);
  }
  await load;
  socket.destroy();
  times.sort((a, b) => a - b);
  const ms = (v: number): string => (v === Infinity ? '> 2,000 ms' : `${v.toFixed(1)} ms`);
  console.log(`  ${label}: ${times.length} probes${missed ? ` (${missed} not seen within 2 s, counted as slower)` : ''}, p50 ${ms(percentile(times, 50))}, p95 ${ms(percentile(times, 95))}, p99 ${ms(percentile(times, 99))}, max ${ms(times.at(-1) ?? NaN)}`);
}

console.log(`Watchfloor syslog benchmark: node ${process.version}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the start`);
console.log(`command: npm run bench -- syslog   (BENCH_SECONDS=${SECONDS} BENCH_RATES=${RATES.join(',')} BENCH_UDP_RATES=${UDP_RATES.join(',')} BENCH_CONNECTIONS=${CONNECTIONS} BENCH_LATENCY_RATE=${LATENCY_RATE})`);
console.log('stream: linux-syslog-2k.log and apache-error-2k.log (../shared/reference/logs) and test/fixtures/sigma/network.log with fresh timestamps and PRIs, interleaved with the simulated attacker\'s four attacks (attackLines, a new seed each 4,091-line cycle); 20 cycles sent round and round\n');

const pipeline = await startPipeline();
console.log(`(a) components in one process: collectors/syslog startSyslogReceiver -> SigmaEngine -> store/logs openLogStore (DuckDB file in a temporary directory)`);
console.log(`    rules: ${pipeline.how}`);
console.log(`    RSS ${pipeline.rssBeforeMb.toFixed(0)} MiB at start, ${pipeline.rssMb.toFixed(0)} MiB with rules compiled and the store open`);
const components: Target = {
  name: 'Watchfloor (a)',
  tcpPort: pipeline.tcpPort,
  udpPort: pipeline.udpPort,
  async count() {
    const s = await ask(pipeline.child);
    return {
      stored: s.written,
      busy: s.pending > 0,
      detail: `receiver drops: ${nonZero(s.receiverDropped)}, store drops: ${nonZero(s.storeDropped)}, queue peak ${fmt(s.queuePeak)}, ${fmt(s.detections)} detections so far`,
    };
  },
};

let rsyslog: Rsyslog | undefined;
try {
  rsyslog = await startRsyslog();
} catch (e) {
  console.log(`rsyslogd not started: ${(e as Error).message}`);
}
const rs: Target | undefined = rsyslog && {
  name: `rsyslogd ${rsyslog.version}`,
  tcpPort: rsyslog.tcpPort,
  udpPort: rsyslog.udpPort,
  async count() {
    return { stored: (rsyslog as Rsyslog).lines(), busy: false };
  },
};
if (rs) console.log(`    beside it: Debian ${rs.name} -n -f <own conf>: imtcp + imudp on loopback, omfile into one file (default template), its own work directory\n`);

// Warm-up: the first lines compile the parser's and the rules' code paths; not counted.
await send(components.tcpPort, 'tcp', 0, Number(process.env.BENCH_WARMUP_SECONDS ?? 3));
await settle(components);
console.log(`TCP, octet-counted, ${CONNECTIONS} connections from one sender process, ${SECONDS} s a run (after a ${process.env.BENCH_WARMUP_SECONDS ?? 3} s warm-up not counted):`);
const ratios: string[] = [];
for (const rate of RATES) {
  const w = await ingestRun(components, 'tcp', rate);
  if (rs) {
    const r = await ingestRun(rs, 'tcp', rate);
    // Paced runs below both receivers' ceilings say only that both kept up; the ratio is of the unpaced run.
    if (rate <= 0) ratios.push(`${(w.perSecond / r.perSecond).toFixed(3)} (${fmt(w.perSecond)} / ${fmt(r.perSecond)} lines/s, each as fast as it takes the lines)`);
  }
}
for (const rate of UDP_RATES) {
  console.log(`\nUDP, one datagram a line, offered ${fmt(rate)} lines/s, ${SECONDS} s (lost: dropped by the kernel or the receiver's queue):`);
  const before = await ask(pipeline.child);
  await ingestRun(components, 'udp', rate);
  const after = await ask(pipeline.child);
  console.log(`    Watchfloor datagrams received ${fmt(after.received.udp - before.received.udp)}, receiver queue_full ${fmt((after.receiverDropped.queue_full ?? 0) - (before.receiverDropped.queue_full ?? 0))}`);
  if (rs) await ingestRun(rs, 'udp', rate);
}
if (ratios.length > 0) console.log(`\nWatchfloor (a) / rsyslogd over TCP: ${ratios.join('; ')}`);

// Line -> Detection in the component process (reported over IPC): not the socket.io alert, which needs the product.
const waiting = new Map<string, () => void>();
pipeline.child.on('message', (m: { type: string; host?: string }) => {
  if (m.type === 'detection' && m.host) waiting.get(m.host)?.();
});
const waitFor = (host: string): Promise<void> => new Promise<void>((resolve) => waiting.set(host, () => (waiting.delete(host), resolve())));
console.log('\nLatency, probe line sent -> its Sigma detection in the component process (reported over IPC; not the socket.io alert):');
await latency(pipeline, waitFor, 0, 'idle');
await latency(pipeline, waitFor, LATENCY_RATE, `under ${fmt(LATENCY_RATE)} lines/s of background (TCP)`);

await settle(components);
const end = await ask(pipeline.child);
console.log(`\nComponent process: RSS ${end.rssBeforeMb.toFixed(0)} MiB at start, ${pipeline.rssMb.toFixed(0)} MiB ready, ${end.rssMb.toFixed(0)} MiB at the end, peak ${end.maxRssMb.toFixed(0)} MiB; ${fmt(end.lines)} lines, ${fmt(end.written)} stored, ${fmt(end.detections)} detections, Sigma matching ${(end.matchMs / 1000).toFixed(1)} s of it (${((end.matchMs * 1000) / Math.max(1, end.lines)).toFixed(1)} µs a line)`);
pipeline.child.send({ cmd: 'stop' });
await new Promise((r) => pipeline.child.once('exit', r));
await rsyslog?.stop();

// (b) The whole product, after (a) has stopped, so each has the machine to itself.
if (process.env.BENCH_PRODUCT !== 'off') await productRuns();

interface ProductReady {
  child: ChildProcess;
  httpPort: number;
  tcpPort?: number;
  udpPort?: number;
  storeFound: boolean;
  how: string;
  rssMb: number;
  rssBeforeMb: number;
}

function startProduct(): Promise<ProductReady> {
  const child = fork(RUNNER, [script('syslog-product.ts')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`product exited with ${code}`)));
    child.on('message', (m: { type: string } & Omit<ProductReady, 'child'>) => {
      if (m.type === 'ready') resolve({ ...m, child });
    });
  });
}

/** A socket.io client logged in as a soc user (made by the admin over the REST API). */
async function socSocket(base: string): Promise<ClientSocket> {
  const login = async (username: string, password: string): Promise<{ cookie: string; csrf: string }> => {
    const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    const body = (await res.json()) as { csrfToken: string };
    return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] as string, csrf: body.csrfToken };
  };
  const admin = await login('admin', 'bench-admin-password');
  const made = await fetch(`${base}/api/v1/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    body: JSON.stringify({ username: 'bench-soc', role: 'soc', password: 'bench-soc-password' }),
  });
  if (made.status !== 201) throw new Error(`could not make the soc user: HTTP ${made.status}`);
  const soc = await login('bench-soc', 'bench-soc-password');
  const socket = io(base, { transports: ['websocket'], extraHeaders: { cookie: soc.cookie }, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

async function productRuns(): Promise<void> {
  console.log('\n(b) the whole product: cli/app.ts startWatchfloor, its syslog collector on ephemeral loopback ports, lines published through the embedded broker, matched and stored by the product');
  let product: ProductReady;
  try {
    product = await startProduct();
  } catch (e) {
    console.log(`    (b) not measured: the product did not start (${(e as Error).message})`);
    return;
  }
  const stop = async (): Promise<void> => {
    product.child.send({ cmd: 'stop' });
    await new Promise((r) => product.child.once('exit', r));
  };
  if (!product.tcpPort || !product.udpPort || !product.storeFound) {
    console.log(`    (b) not measured: the product ${!product.tcpPort ? 'has no syslog collector listening' : 'exposes no log store to count what it stored'} (syslog wiring in cli/ not there yet)`);
    await stop();
    return;
  }
  console.log(`    rules: ${product.how} (sigma.rules in the config)`);
  console.log(`    RSS ${product.rssBeforeMb.toFixed(0)} MiB at start, ${product.rssMb.toFixed(0)} MiB ready; inventory: config/sample-datacenter.yaml`);
  const ps = (): Promise<PipelineStats & { published: number }> => ask(product.child) as Promise<PipelineStats & { published: number }>;
  const whole: Target = {
    name: 'Watchfloor (b)',
    tcpPort: product.tcpPort,
    udpPort: product.udpPort,
    async count() {
      const s = await ps();
      return { stored: s.written, busy: s.pending > 0, detail: `receiver drops: ${nonZero(s.receiverDropped)}, store drops: ${nonZero(s.storeDropped)}, published ${fmt(s.published)}` };
    },
  };
  await send(whole.tcpPort, 'tcp', 0, Number(process.env.BENCH_WARMUP_SECONDS ?? 3));
  await settle(whole);
  console.log(`TCP, octet-counted, ${CONNECTIONS} connections (after a warm-up not counted):`);
  for (const rate of RATES) await ingestRun(whole, 'tcp', rate);
  for (const rate of UDP_RATES) {
    console.log(`UDP, offered ${fmt(rate)} lines/s:`);
    await ingestRun(whole, 'udp', rate);
  }

  console.log('\nLatency, probe line sent -> socket.io \'alert\' event naming its host, in a client logged in as soc:');
  const socket = await socSocket(`http://127.0.0.1:${product.httpPort}`);
  const waiting = new Map<string, () => void>();
  socket.on('alert', (a: unknown) => {
    const text = JSON.stringify(a);
    for (const [host, done] of waiting) if (text.includes(host)) done();
  });
  const waitFor = (host: string): Promise<void> => new Promise<void>((resolve) => waiting.set(host, () => (waiting.delete(host), resolve())));
  await latency(whole, waitFor, 0, 'idle');
  await latency(whole, waitFor, LATENCY_RATE, `under ${fmt(LATENCY_RATE)} lines/s of background (TCP)`);
  socket.close();
  await settle(whole);
  const end = await ps();
  console.log(`\nProduct process: RSS ${end.rssBeforeMb.toFixed(0)} MiB at start, ${product.rssMb.toFixed(0)} MiB ready, ${end.rssMb.toFixed(0)} MiB at the end, peak ${end.maxRssMb.toFixed(0)} MiB; ${fmt(end.lines)} lines received, ${fmt(end.published)} published, ${fmt(end.written)} stored`);
  await stop();
}
