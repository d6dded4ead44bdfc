// npm run bench -- e2e: sustained end-to-end ingest, then alert latency idle, under a steady load and
// during and after an overload, BENCH_RUNS times (3), each on a fresh product, with the spread; then
// QoS 1 once. Figures only; nothing here passes or fails on time. See BENCHMARKS.md.
//
// Shorter: BENCH_SECONDS (8, each ingest rate and each latency phase), BENCH_RUNS, BENCH_RATES,
// BENCH_QOS1_RATES (empty: no QoS 1 phase), BENCH_OVERLOAD_SECONDS (10), BENCH_RECOVERY_SECONDS (10).
// BENCH_CPU_PROF=DIR runs each product under `node --cpu-prof` and leaves its profile in DIR.
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import mqtt from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import type { Alert } from '../core/index.ts';
import { BENCH_COLLECTOR, PROBE_DEVICES, benchDeviceIds } from './fixtures.ts';

const RUNNER = new URL('../bin/run-ts.js', import.meta.url).pathname;
const script = (name: string): string => new URL(name, import.meta.url).pathname;
const env = (name: string, fallback: number): number => (process.env[name] === undefined || process.env[name] === '' ? fallback : Number(process.env[name]));
const list = (name: string, fallback: string): number[] => (process.env[name] ?? fallback).split(',').filter((r) => r !== '').map(Number);
const SECONDS = env('BENCH_SECONDS', 8);
const RUNS = env('BENCH_RUNS', 3);
const RATES = list('BENCH_RATES', '12500,25000,45000,60000');
const QOS1_RATES = list('BENCH_QOS1_RATES', '12500,25000');
/** The steady load of the latency phase: 12,500 msg/s, 50,000 values/s. */
const STEADY_RATE = env('BENCH_HALF_RATE', 12_500);
const OVERLOAD_SECONDS = env('BENCH_OVERLOAD_SECONDS', 10);
const RECOVERY_SECONDS = env('BENCH_RECOVERY_SECONDS', 10);
/** One probe every PROBE_MS, open loop (a slow answer does not hold the next probe back, so a stall is sampled, not skipped). */
const PROBE_MS = env('BENCH_PROBE_MS', 25);
/** A probe unanswered this long is counted as timed out (its latency, if it comes later, is still shown). */
const PROBE_TIMEOUT_MS = env('BENCH_PROBE_TIMEOUT_MS', 2000);
/** The issue's targets, printed beside the figures. */
const TARGET = { steadyP99Ms: 50, idleRatio: 10, recoveredP99Ms: 100, recoveredWithinS: 5 };
const METRICS_PER_MESSAGE = 4;
const PUBLISHERS = 2;

interface Stats {
  messages: number;
  values: number;
  dropped: number;
  written: number;
  pending: number;
  maxRssMb: number;
  rssMb: number;
  /** Since the last mark: the product's CPU time, wall time and event-loop delay. */
  cpuSeconds: number;
  wallSeconds: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  parseToAlert: { probes: number; p50Ms: number; p99Ms: number; maxMs: number };
  ingestWaiting: number;
  queues: { waitingMax: number; waitingMean: number; emitterMax: number; emitterMean: number; emitterInFlight: number };
}

interface Product {
  child: ChildProcess;
  mqttPort: number;
  httpPort: number;
  devices: number;
}

function startProduct(extra: NodeJS.ProcessEnv = {}): Promise<Product> {
  const profile = process.env.BENCH_CPU_PROF;
  const child = fork(RUNNER, [script('product-process.ts')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...extra },
    execArgv: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`product exited with ${code}`)));
    child.on('message', (m: { type: string; mqttPort: number; httpPort: number; devices: number }) => {
      if (m.type === 'ready') resolve({ child, mqttPort: m.mqttPort, httpPort: m.httpPort, devices: m.devices });
    });
  });
}

async function stopProduct(product: Product): Promise<Stats> {
  const last = await stats(product.child);
  product.child.removeAllListeners('exit');
  const exited = new Promise((r) => product.child.once('exit', r));
  product.child.send({ cmd: 'stop' });
  await exited;
  return last;
}

function ask<T>(child: ChildProcess, cmd: string, answer: string, pick: (m: Record<string, unknown>) => T): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type: string }): void => {
      if (m.type !== answer) return;
      child.off('message', on);
      resolve(pick(m as unknown as Record<string, unknown>));
    };
    child.on('message', on);
    child.send({ cmd });
  });
}
const stats = (child: ChildProcess): Promise<Stats> => ask(child, 'stats', 'stats', (m) => m.stats as Stats);
/** Starts a phase: the product's CPU time and event-loop delay are counted from here. */
const mark = (child: ChildProcess): Promise<void> => ask(child, 'mark', 'marked', () => undefined);

interface Published {
  sent: number;
  /** From the start until the sockets drained: sent / seconds is the rate achieved. */
  seconds: number;
  scheduledSeconds: number;
  /** QoS 1: messages PUBACKed, and every 100th publish-to-PUBACK time (ms, sorted). */
  acked?: number;
  ackMs?: number[];
}

/** A publisher process: `scheduled` when its schedule ends (the offered load stops), `done` once its sockets drained. */
function publisher(mqttPort: number, rate: number, seconds: number, devices: string[], qos: 0 | 1 = 0): { scheduled: Promise<void>; done: Promise<Published> } {
  const child = fork(RUNNER, [script('publisher-process.ts')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_MQTT_PORT: String(mqttPort), BENCH_RATE: String(rate), BENCH_SECONDS: String(seconds), BENCH_DEVICES: devices.join(','), BENCH_QOS: String(qos) },
  });
  let scheduled!: () => void;
  const done = new Promise<Published>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`publisher exited with ${code} before reporting`)));
    child.on('message', (m: { type: string } & Published) => {
      if (m.type === 'scheduled') scheduled();
      if (m.type === 'done') resolve(m);
    });
  });
  return { scheduled: new Promise((r) => (scheduled = r)), done };
}

/** PUBLISHERS processes sharing `rate` and the devices. */
function load(mqttPort: number, rate: number, seconds: number, devices: string[], qos: 0 | 1 = 0): { scheduled: Promise<void>; done: Promise<Published[]> } {
  const each = Array.from({ length: PUBLISHERS }, (_, i) => publisher(mqttPort, rate / PUBLISHERS, seconds, devices.filter((_, j) => j % PUBLISHERS === i), qos));
  return { scheduled: Promise.all(each.map((p) => p.scheduled)).then(() => undefined), done: Promise.all(each.map((p) => p.done)) };
}

/** msg/s handed to the kernel, summed over the publishers. */
const achieved = (runs: Published[]): number => runs.reduce((a, r) => a + r.sent / r.seconds, 0);

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

/** Samples the product's write counter while a load runs: the rate between the first and the last value written. */
function storeSampler(child: ChildProcess, from: number): { stop(until: number): Promise<number> } {
  const samples: { t: number; written: number }[] = [];
  let sampling = true;
  const running = (async () => {
    while (sampling) {
      samples.push({ t: performance.now(), written: (await stats(child)).written });
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    async stop(until) {
      sampling = false;
      await running;
      const first = samples.find((s) => s.written > from);
      const last = samples.find((s) => s.written >= until) ?? samples.at(-1);
      return first && last && last.t > first.t ? (last.written - first.written) / ((last.t - first.t) / 1000) : NaN;
    },
  };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));
const ms = (n: number): string => (n === Infinity ? `>${fmt(PROBE_TIMEOUT_MS)}` : Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const load1 = (): string => loadavg()[0]?.toFixed(1) ?? '?';
const product_ = (s: Stats): string => `product ${s.cpuSeconds.toFixed(1)} CPU s in ${s.wallSeconds.toFixed(1)} s, event-loop delay p99 ${s.loopDelayP99Ms.toFixed(0)} ms max ${s.loopDelayMaxMs.toFixed(0)} ms`;
/** The part of the probes' latency inside the product (bench/product-process.ts). */
const inProduct = (s: Stats): string =>
  `in the product (PUBLISH parsed -> alert raised) p50 ${ms(s.parseToAlert.p50Ms)} ms, p99 ${ms(s.parseToAlert.p99Ms)} ms, max ${ms(s.parseToAlert.maxMs)} ms; ` +
  `waiting in ingest mean ${fmt(s.queues.waitingMean)} max ${fmt(s.queues.waitingMax)} messages, in aedes' emitter mean ${fmt(s.queues.emitterMean)} max ${fmt(s.queues.emitterMax)}`;

interface IngestFigures {
  rate: number;
  storedPerSecond: number;
  achievedMsgs: number;
  lost: number;
}

async function ingestRun(product: Product, devices: string[], rate: number, qos: 0 | 1 = 0): Promise<IngestFigures> {
  const before = await settle(product.child);
  await mark(product.child);
  const sampler = storeSampler(product.child, before.written);
  const runs = await load(product.mqttPort, rate, SECONDS, devices, qos).done;
  const publishedAt = performance.now();
  const after = await settle(product.child);
  const drainedMs = performance.now() - publishedAt;
  const storedPerSecond = await sampler.stop(after.written);
  const sentValues = runs.reduce((a, r) => a + r.sent, 0) * METRICS_PER_MESSAGE;
  const stored = after.written - before.written;
  const sent = achieved(runs);
  console.log(
    `  offered ${fmt(rate)} msg/s (${fmt(rate * METRICS_PER_MESSAGE)} values/s), achieved ${fmt(sent)} msg/s, for ${SECONDS} s: ` +
      `stored ${fmt(stored)} of ${fmt(sentValues)} values sent, lost ${fmt(sentValues - stored)}; ` +
      `${fmt(storedPerSecond)} values/s stored while it ran; backlog written ${Math.round(drainedMs)} ms after the last publish; ${product_(after)}; load ${load1()}`,
  );
  if (qos === 1) {
    const acks = runs.flatMap((r) => r.ackMs ?? []).sort((a, b) => a - b);
    const acked = runs.reduce((a, r) => a + (r.acked ?? 0), 0);
    console.log(`    QoS 1: ${fmt(sent)} msg/s sent (window of 500 unacknowledged a connection), ${fmt(acked)} PUBACKs; publish -> PUBACK p50 ${percentile(acks, 50).toFixed(1)} ms, p99 ${percentile(acks, 99).toFixed(1)} ms, max ${(acks.at(-1) ?? NaN).toFixed(1)} ms`);
  }
  return { rate, storedPerSecond, achievedMsgs: sent, lost: sentValues - stored };
}

/** One latency probe: a breach or a clear of one probe device, and when its alert change came over socket.io. */
interface Probe {
  device: string;
  state: 'firing' | 'resolved';
  sentAt: number;
  answeredAt?: number;
}
const latencyOf = (p: Probe): number => (p.answeredAt === undefined ? Infinity : p.answeredAt - p.sentAt);

/**
 * The probes of one product: every PROBE_MS a breach of the next probe device, then (next tick) its
 * clear, published on their own MQTT connection; a logged-in socket.io client matches each `alert`
 * event to its probe by device and state. Each device is tripped and cleared once, so the rules
 * engine's flap detection never holds one back, and an answer cannot be taken for another probe's.
 */
class Prober {
  private next = 0;
  private readonly open = new Map<string, Probe>();
  private timer: NodeJS.Timeout | undefined;
  private probes: Probe[] = [];
  /** Probes not sent because every probe device was used (the run is longer than PROBE_DEVICES allows). */
  exhausted = false;

  private constructor(
    private readonly socket: Socket,
    private readonly client: mqtt.MqttClient,
  ) {
    socket.on('alert', (a: Alert) => {
      if (a.rule !== 'bench-probe') return;
      const key = `${a.labels.device}:${a.state}`;
      const p = this.open.get(key);
      if (!p) return;
      p.answeredAt = performance.now();
      this.open.delete(key);
    });
  }

  static async connect(product: Product): Promise<Prober> {
    const base = `http://127.0.0.1:${product.httpPort}`;
    const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-admin-password' }) });
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const socket = io(base, { transports: ['websocket'], extraHeaders: { cookie } });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${product.mqttPort}`, { ...BENCH_COLLECTOR, reconnectPeriod: 0 });
    return new Prober(socket, client);
  }

  /** Starts probing; the probes of this phase gather in the array returned (filled as they are sent). */
  start(): Probe[] {
    this.probes = [];
    const probes = this.probes;
    this.timer = setInterval(() => {
      const device = PROBE_DEVICES[this.next >> 1];
      if (device === undefined) {
        this.exhausted = true;
        return;
      }
      const state = this.next % 2 === 0 ? 'firing' : 'resolved';
      const p: Probe = { device, state, sentAt: performance.now() };
      this.open.set(`${device}:${state}`, p);
      probes.push(p);
      this.client.publish(`devices/${device}/telemetry`, `{"probe":${state === 'firing' ? 100 : 0}}`, { qos: 0 });
      this.next++;
    }, PROBE_MS);
    return probes;
  }

  /** Stops sending; waits until every probe sent is answered or has waited PROBE_TIMEOUT_MS. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const last = this.probes.at(-1)?.sentAt ?? 0;
    while (this.probes.some((p) => p.answeredAt === undefined) && performance.now() - last < PROBE_TIMEOUT_MS) await new Promise((r) => setTimeout(r, 20));
  }

  async close(): Promise<void> {
    await this.client.endAsync();
    this.socket.close();
  }
}

interface LatencyFigures {
  sent: number;
  answered: number;
  timedOut: number;
  p50: number;
  p99: number;
  max: number;
}

/** Percentiles over every probe sent, a timed-out one counted as slower than the timeout (so a stall shows in p99). */
function latencies(probes: readonly Probe[]): LatencyFigures {
  const all = probes.map(latencyOf).sort((a, b) => a - b);
  const answered = all.filter((l) => l <= PROBE_TIMEOUT_MS);
  const capped = all.map((l) => (l > PROBE_TIMEOUT_MS ? Infinity : l));
  return { sent: all.length, answered: answered.length, timedOut: all.length - answered.length, p50: percentile(capped, 50), p99: percentile(capped, 99), max: all.at(-1) ?? NaN };
}

const describe = (f: LatencyFigures): string =>
  `${f.sent} probes sent, ${f.answered} answered, ${f.timedOut} timed out (${fmt(PROBE_TIMEOUT_MS)} ms); publish -> socket.io 'alert' p50 ${ms(f.p50)} ms, p99 ${ms(f.p99)} ms, max ${f.max === Infinity ? 'never answered' : `${ms(f.max)} ms`}`;

/** Latency with no load, or under `rate` msg/s for SECONDS. */
async function latencyPhase(product: Product, prober: Prober, devices: string[], rate: number): Promise<LatencyFigures> {
  await settle(product.child);
  const running = rate > 0 ? load(product.mqttPort, rate, SECONDS + 1, devices) : undefined;
  if (running) await new Promise((r) => setTimeout(r, 1000)); // let the load reach its pace
  await mark(product.child);
  const probes = prober.start();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  await prober.stop();
  const s = await stats(product.child);
  const runs = running ? await running.done : [];
  const f = latencies(probes);
  const what = rate > 0 ? `under ${fmt(rate)} msg/s offered (${fmt(rate * METRICS_PER_MESSAGE)} values/s), achieved ${fmt(achieved(runs))} msg/s` : 'idle';
  console.log(`  ${what}: ${describe(f)}; ${product_(s)}; load ${load1()}`);
  console.log(`    of which ${inProduct(s)}`);
  return f;
}

interface OverloadFigures {
  rate: number;
  achievedMsgs: number;
  during: LatencyFigures;
  after: LatencyFigures;
  /** Seconds after the overload's end from which every second's probes have p99 under the target (NaN: never, in the window). */
  recoveredS: number;
}

/**
 * OVERLOAD_SECONDS at `rate` (twice what this product stored at best), probing all along and for
 * RECOVERY_SECONDS after the offered load stops: how late alerts are during it, and how soon after
 * it they are prompt again, second by second.
 */
async function overloadPhase(product: Product, prober: Prober, devices: string[], rate: number): Promise<OverloadFigures> {
  const before = await settle(product.child);
  await mark(product.child);
  const sampler = storeSampler(product.child, before.written);
  const running = load(product.mqttPort, rate, OVERLOAD_SECONDS, devices);
  const probes = prober.start();
  const drained = running.done.then((r) => ({ runs: r, at: performance.now() }));
  await running.scheduled;
  const endedAt = performance.now();
  await new Promise((r) => setTimeout(r, RECOVERY_SECONDS * 1000));
  await prober.stop();
  const { runs, at: drainedAt } = await drained;
  const after = await settle(product.child);
  const storedPerSecond = await sampler.stop(after.written);
  // The probes' own values (one each) are stored too.
  const sentValues = runs.reduce((a, r) => a + r.sent, 0) * METRICS_PER_MESSAGE + probes.length;
  const stored = after.written - before.written;
  const during = latencies(probes.filter((p) => p.sentAt < endedAt));
  const afterProbes = probes.filter((p) => p.sentAt >= endedAt);
  const bySecond: LatencyFigures[] = [];
  for (let s = 0; s < RECOVERY_SECONDS; s++) bySecond.push(latencies(afterProbes.filter((p) => p.sentAt >= endedAt + s * 1000 && p.sentAt < endedAt + (s + 1) * 1000)));
  const slow = (f: LatencyFigures): boolean => f.sent === 0 || f.timedOut > 0 || !(f.p99 < TARGET.recoveredP99Ms);
  const lastSlow = bySecond.map(slow).lastIndexOf(true);
  const recoveredS = lastSlow === bySecond.length - 1 ? NaN : lastSlow + 1;
  const a = achieved(runs);
  console.log(
    `  overload: offered ${fmt(rate)} msg/s (${fmt(rate * METRICS_PER_MESSAGE)} values/s) for ${OVERLOAD_SECONDS} s, achieved ${fmt(a)} msg/s (the publishers' sockets drained ${((drainedAt - endedAt) / 1000).toFixed(1)} s after the schedule's end); ` +
      `stored ${fmt(stored)} of ${fmt(sentValues)} values (${fmt(probes.length)} of them the probes'), lost ${fmt(sentValues - stored)}, ${fmt(storedPerSecond)} values/s while it ran; ${product_(after)}; load ${load1()}`,
  );
  console.log(`    during it: ${describe(during)}`);
  console.log(`    during and after it, ${inProduct(after)}`);
  console.log(`    after it, p99 by second: ${bySecond.map((f, s) => `${s}-${s + 1} s ${ms(f.p99)}${f.timedOut > 0 ? ` (${f.timedOut} timed out)` : ''}`).join(', ')}`);
  const afterAll = latencies(afterProbes);
  console.log(`    after it (${RECOVERY_SECONDS} s): ${describe(afterAll)}; back under ${TARGET.recoveredP99Ms} ms p99 ${Number.isNaN(recoveredS) ? `not within ${RECOVERY_SECONDS} s` : `${recoveredS} s after its end`}`);
  return { rate, achievedMsgs: a, during, after: afterAll, recoveredS };
}

interface RunFigures {
  ingest: IngestFigures[];
  idle: LatencyFigures;
  steady: LatencyFigures;
  overload: OverloadFigures;
  maxRssMb: number;
}

async function oneRun(run: number): Promise<RunFigures> {
  console.log(`\nRun ${run} of ${RUNS} (a fresh product; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}):`);
  const product = await startProduct();
  const devices = benchDeviceIds(Number(process.env.BENCH_RACKS ?? 250));
  if (run === 1) console.log(`product: one process (broker, ingest, store, rules, ops server), ${product.devices} devices; ${PUBLISHERS} publisher processes over TCP, QoS 0, ${METRICS_PER_MESSAGE} metrics a message`);
  console.log(' Sustained ingest (values stored end to end):');
  const ingest: IngestFigures[] = [];
  for (const rate of RATES) ingest.push(await ingestRun(product, devices, rate));
  const prober = await Prober.connect(product);
  console.log(` Alert latency (publish to the socket.io alert event; a probe every ${PROBE_MS} ms, open loop):`);
  const idle = await latencyPhase(product, prober, devices, 0);
  const steady = await latencyPhase(product, prober, devices, STEADY_RATE);
  console.log(`    steady p99 ${ms(steady.p99)} ms = ${(steady.p99 / idle.p99).toFixed(1)} x the idle p99 (targets: at most ${TARGET.steadyP99Ms} ms and ${TARGET.idleRatio} x, every probe answered)`);
  // Twice what this product stored at best, in messages a second.
  const best = Math.max(0, ...ingest.map((i) => (Number.isFinite(i.storedPerSecond) ? i.storedPerSecond / METRICS_PER_MESSAGE : 0)));
  const overloadRate = env('BENCH_OVERLOAD_RATE', best > 0 ? Math.round((2 * best) / 1000) * 1000 : 50_000);
  const overload = await overloadPhase(product, prober, devices, overloadRate);
  if (prober.exhausted) console.log(`  (every one of the ${PROBE_DEVICES.length} probe devices was used: probing stopped early; shorten BENCH_SECONDS)`);
  await prober.close();
  const last = await stopProduct(product);
  console.log(` Product process: peak RSS ${last.maxRssMb.toFixed(0)} MiB (at the end ${last.rssMb.toFixed(0)} MiB)`);
  return { ingest, idle, steady, overload, maxRssMb: last.maxRssMb };
}

/** min / median / max of the runs' figures. */
function spread(values: number[], unit: string, format: (n: number) => string = fmt): string {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return 'n/a';
  if (s.length === 1) return `${format(s[0] as number)}${unit}`;
  return `${format(s[0] as number)} / ${format(percentile(s, 50))} / ${format(s.at(-1) as number)}${unit} (min / median / max)`;
}

console.log(`Watchfloor end-to-end benchmark: node ${process.version}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(
  `command: npm run bench -- e2e   (BENCH_RUNS=${RUNS} BENCH_SECONDS=${SECONDS} BENCH_RATES=${RATES.join(',')} BENCH_HALF_RATE=${STEADY_RATE} ` +
    `BENCH_OVERLOAD_SECONDS=${OVERLOAD_SECONDS} BENCH_RECOVERY_SECONDS=${RECOVERY_SECONDS} BENCH_QOS1_RATES=${QOS1_RATES.join(',')})`,
);
const runs: RunFigures[] = [];
for (let r = 1; r <= RUNS; r++) runs.push(await oneRun(r));

console.log(`\nSpread over ${runs.length} runs:`);
for (const [i, rate] of RATES.entries()) {
  console.log(`  offered ${fmt(rate)} msg/s: achieved ${spread(runs.map((r) => r.ingest[i]?.achievedMsgs ?? NaN), ' msg/s')}; stored while it ran ${spread(runs.map((r) => r.ingest[i]?.storedPerSecond ?? NaN), ' values/s')}; lost ${spread(runs.map((r) => r.ingest[i]?.lost ?? NaN), '')}`);
}
const p99 = (n: number): string => ms(n);
console.log(`  alert latency p99 idle: ${spread(runs.map((r) => r.idle.p99), ' ms', p99)}`);
console.log(`  alert latency p99 under ${fmt(STEADY_RATE * METRICS_PER_MESSAGE)} values/s: ${spread(runs.map((r) => r.steady.p99), ' ms', p99)}; x idle p99 ${spread(runs.map((r) => r.steady.p99 / r.idle.p99), '', (n) => n.toFixed(1))}; timed out ${spread(runs.map((r) => r.steady.timedOut), '')}`);
console.log(`  overload: achieved ${spread(runs.map((r) => r.overload.achievedMsgs), ' msg/s')} of ${spread(runs.map((r) => r.overload.rate), ' msg/s')} offered; p99 during it ${spread(runs.map((r) => r.overload.during.p99), ' ms', p99)}`);
console.log(`  after the overload: p99 ${spread(runs.map((r) => r.overload.after.p99), ' ms', p99)}; back under ${TARGET.recoveredP99Ms} ms p99 after ${spread(runs.map((r) => r.overload.recoveredS), ' s', (n) => (Number.isNaN(n) ? 'never' : String(n)))} (target: within ${TARGET.recoveredWithinS} s)`);
console.log(`  product peak RSS: ${spread(runs.map((r) => r.maxRssMb), ' MiB')}`);

// QoS 1 is acknowledged once its points are in the fsynced write-ahead log (store/wal.ts). What that
// costs: each rate against a product that does so, then against one that acknowledges on receipt (as
// before the log), one after the other, so both see the same machine.
if (QOS1_RATES.length > 0) {
  const devices = benchDeviceIds(Number(process.env.BENCH_RACKS ?? 250));
  const durable = await startProduct();
  const onReceipt = await startProduct({ BENCH_ACK: 'receipt' });
  console.log('\nSustained ingest at QoS 1 (each message PUBACKed): "durable" = PUBACK after the write-ahead log\'s fsync, "receipt" = PUBACK on receipt');
  for (const rate of QOS1_RATES) {
    console.log(' durable:');
    await ingestRun(durable, devices, rate, 1);
    console.log(' receipt:');
    await ingestRun(onReceipt, devices, rate, 1);
  }
  await stopProduct(onReceipt);
  await stopProduct(durable);
}
