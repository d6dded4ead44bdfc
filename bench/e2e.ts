// npm run bench -- e2e: sustained end-to-end ingest, alert latency and the product's peak RSS.
// Figures only; nothing here passes or fails on time. See BENCHMARKS.md.
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import mqtt from 'mqtt';
import { io } from 'socket.io-client';
import type { Alert } from '../core/index.ts';
import { BENCH_COLLECTOR, PROBE_DEVICES, benchDeviceIds } from './fixtures.ts';

const RUNNER = new URL('../bin/run-ts.js', import.meta.url).pathname;
const script = (name: string): string => new URL(name, import.meta.url).pathname;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATES = (process.env.BENCH_RATES ?? '12500,25000,45000,60000').split(',').filter((r) => r !== '').map(Number);
const METRICS_PER_MESSAGE = 4;
const PUBLISHERS = 2;
/** Which probe device the next latency sample trips or clears (two samples a probe). */
let probeCycle = 0;

interface Stats {
  messages: number;
  values: number;
  dropped: number;
  written: number;
  pending: number;
  maxRssMb: number;
  rssMb: number;
}

function startProduct(env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; mqttPort: number; httpPort: number; devices: number }> {
  const child = fork(RUNNER, [script('product-process.ts')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`product exited with ${code}`)));
    child.on('message', (m: { type: string; mqttPort: number; httpPort: number; devices: number }) => {
      if (m.type === 'ready') resolve({ child, mqttPort: m.mqttPort, httpPort: m.httpPort, devices: m.devices });
    });
  });
}

function stats(child: ChildProcess): Promise<Stats> {
  return new Promise((resolve) => {
    const on = (m: { type: string; stats: Stats }): void => {
      if (m.type !== 'stats') return;
      child.off('message', on);
      resolve(m.stats);
    };
    child.on('message', on);
    child.send({ cmd: 'stats' });
  });
}

interface Published {
  sent: number;
  seconds: number;
  /** QoS 1: messages PUBACKed, and every 100th publish-to-PUBACK time (ms, sorted). */
  acked?: number;
  ackMs?: number[];
}

function publish(mqttPort: number, rate: number, seconds: number, devices: string[], qos: 0 | 1 = 0): Promise<Published> {
  const child = fork(RUNNER, [script('publisher-process.ts')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_MQTT_PORT: String(mqttPort), BENCH_RATE: String(rate), BENCH_SECONDS: String(seconds), BENCH_DEVICES: devices.join(','), BENCH_QOS: String(qos) },
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`publisher exited with ${code} before reporting`)));
    child.on('message', (m: { type: string } & Published) => {
      if (m.type === 'done') resolve(m);
    });
  });
}

/** Waits until the product has written everything it accepted (or stops moving). */
async function settle(child: ChildProcess): Promise<Stats> {
  let last = await stats(child);
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await stats(child);
    if (now.pending === 0 && now.written === last.written && now.values === last.values) return now;
    last = now;
  }
  return last;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function ingestRun(product: { child: ChildProcess; mqttPort: number }, devices: string[], rate: number, qos: 0 | 1 = 0): Promise<void> {
  const before = await settle(product.child);
  // Sample the product's write counter while the load runs: the rate is measured between the first
  // and the last value written, so publisher start-up time does not dilute it.
  const samples: { t: number; written: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push({ t: performance.now(), written: (await stats(product.child)).written });
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const runs = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, i) => publish(product.mqttPort, rate / PUBLISHERS, SECONDS, devices.filter((_, j) => j % PUBLISHERS === i), qos)),
  );
  const publishedAt = performance.now();
  const after = await settle(product.child);
  const drainedMs = performance.now() - publishedAt;
  sampling = false;
  await sampler;
  const sentValues = runs.reduce((a, r) => a + r.sent, 0) * METRICS_PER_MESSAGE;
  const stored = after.written - before.written;
  const first = samples.find((s) => s.written > before.written);
  const last = samples.find((s) => s.written >= after.written) ?? samples.at(-1);
  const window = first && last && last.t > first.t ? (last.t - first.t) / 1000 : NaN;
  const storedInWindow = last && first ? last.written - first.written : NaN;
  console.log(
    `  offered ${fmt(rate)} msg/s (${fmt(rate * METRICS_PER_MESSAGE)} values/s) for ${SECONDS} s: ` +
      `stored ${fmt(stored)} of ${fmt(sentValues)} values sent, lost ${fmt(sentValues - stored)}; ` +
      `${fmt(storedInWindow / window)} values/s stored while it ran; backlog written ${Math.round(drainedMs)} ms after the last publish`,
  );
  if (qos === 1) {
    const acks = runs.flatMap((r) => r.ackMs ?? []).sort((a, b) => a - b);
    const acked = runs.reduce((a, r) => a + (r.acked ?? 0), 0);
    const achieved = runs.reduce((a, r) => a + r.sent / r.seconds, 0);
    console.log(`    QoS 1: ${fmt(achieved)} msg/s sent (window of 500 unacknowledged a connection), ${fmt(acked)} PUBACKs; publish -> PUBACK p50 ${percentile(acks, 50).toFixed(1)} ms, p99 ${percentile(acks, 99).toFixed(1)} ms, max ${(acks.at(-1) ?? NaN).toFixed(1)} ms`);
  }
}

async function alertLatency(product: { child: ChildProcess; mqttPort: number; httpPort: number }, devices: string[], rate: number): Promise<void> {
  const base = `http://127.0.0.1:${product.httpPort}`;
  const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-admin-password' }) });
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const socket = io(base, { transports: ['websocket'], extraHeaders: { cookie } });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${product.mqttPort}`, { ...BENCH_COLLECTOR, reconnectPeriod: 0 });

  const latencies: number[] = [];
  let waiting: { state: string; sentAt: number; resolve: () => void } | undefined;
  socket.on('alert', (a: Alert) => {
    if (a.rule === 'bench-probe' && waiting && a.state === waiting.state) {
      latencies.push(performance.now() - waiting.sentAt);
      waiting.resolve();
      waiting = undefined;
    }
  });
  const load = rate > 0 ? Promise.all(Array.from({ length: PUBLISHERS }, (_, i) => publish(product.mqttPort, rate / PUBLISHERS, SECONDS, devices.filter((_, j) => j % PUBLISHERS === i)))) : Promise.resolve([]);
  await new Promise((r) => setTimeout(r, 1000)); // let the load reach its pace
  const deadline = Date.now() + (SECONDS - 2) * 1000;
  let value = 100;
  while (Date.now() < deadline) {
    const state = value > 50 ? 'firing' : 'resolved';
    const done = new Promise<void>((resolve) => (waiting = { state, sentAt: performance.now(), resolve }));
    probe.publish(`devices/${PROBE_DEVICES[probeCycle >> 1] ?? 'probe-0'}/telemetry`, `{"probe":${value}}`, { qos: 0 });
    probeCycle = (probeCycle + 1) % (2 * PROBE_DEVICES.length);
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
    waiting = undefined;
    value = value > 50 ? 0 : 100;
    await new Promise((r) => setTimeout(r, 20));
  }
  await load;
  await probe.endAsync();
  socket.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(
    `  under ${fmt(rate)} msg/s (${fmt(rate * METRICS_PER_MESSAGE)} values/s): ${sorted.length} alert changes, ` +
      `publish -> socket.io 'alert' p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms`,
  );
}

console.log(`Watchfloor end-to-end benchmark: node ${process.version}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
console.log(`command: npm run bench -- e2e   (BENCH_SECONDS=${SECONDS} BENCH_RATES=${RATES.join(',')} BENCH_QOS1_RATES=${process.env.BENCH_QOS1_RATES ?? '12500,25000'})`);
const product = await startProduct();
const devices = benchDeviceIds(Number(process.env.BENCH_RACKS ?? 250));
console.log(`product: one process (broker, ingest, store, rules, ops server), ${product.devices} devices; ${PUBLISHERS} publisher processes over TCP, QoS 0, ${METRICS_PER_MESSAGE} metrics a message\n`);

console.log('Sustained ingest (values stored end to end):');
for (const rate of RATES) await ingestRun(product, devices, rate);

// QoS 1 is acknowledged once its points are in the fsynced write-ahead log (store/wal.ts). What that
// costs: each rate against this product, then against a second one that acknowledges on receipt (as
// before the log), one after the other, so both see the same machine.
const QOS1_RATES = (process.env.BENCH_QOS1_RATES ?? '12500,25000').split(',').filter((r) => r !== '').map(Number);
if (QOS1_RATES.length > 0) {
  const onReceipt = await startProduct({ BENCH_ACK: 'receipt' });
  console.log('\nSustained ingest at QoS 1 (each message PUBACKed): "durable" = PUBACK after the write-ahead log\'s fsync, "receipt" = PUBACK on receipt');
  for (const rate of QOS1_RATES) {
    console.log(' durable:');
    await ingestRun(product, devices, rate, 1);
    console.log(' receipt:');
    await ingestRun(onReceipt, devices, rate, 1);
  }
  onReceipt.child.send({ cmd: 'stop' });
  await new Promise((r) => onReceipt.child.once('exit', r));
}

console.log('\nAlert latency (publish to the socket.io alert event):');
await alertLatency(product, devices, 0);
await alertLatency(product, devices, Number(process.env.BENCH_HALF_RATE ?? 12_500));

const final = await stats(product.child);
console.log(`\nProduct process: peak RSS ${final.maxRssMb.toFixed(0)} MiB (now ${final.rssMb.toFixed(0)} MiB)`);
product.child.send({ cmd: 'stop' });
await new Promise((r) => product.child.once('exit', r));
