// The product under load, in its own process as in production; driven by bench/index.ts over IPC.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { startWatchfloor } from '../cli/index.ts';
import { Config, Inventory, silentLogger } from '../core/index.ts';
import { builtinRulesPath, loadRules, loadRulesFile } from '../rules/index.ts';
import { BENCH_COLLECTOR, benchInventory, probeRule } from './fixtures.ts';

const racks = Number(process.env.BENCH_RACKS ?? 250);
const dataDir = mkdtempSync(join(tmpdir(), 'wf-bench-'));
const config = Config.parse({ dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 } });
const app = await startWatchfloor({
  config,
  inventory: Inventory.parse(benchInventory(racks)),
  rules: [...loadRulesFile(builtinRulesPath), ...loadRules([probeRule], 'bench')],
  logger: silentLogger,
  adminPassword: 'bench-admin-password',
  // BENCH_ACK=receipt: QoS 1 acknowledged on receipt, as before the write-ahead log, to measure what it costs.
  durableAcks: process.env.BENCH_ACK !== 'receipt',
});
await app.accounts.setCollector(BENCH_COLLECTOR.username, BENCH_COLLECTOR.password, '*');

// The event loop's delay (how long a ready socket or timer waited for the loop) and the CPU time the
// product used, per phase of the bench (`mark` starts a phase): what latency under load is made of.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
let cpuAt = process.cpuUsage();
let markAt = performance.now();
const phase = () => {
  const cpu = process.cpuUsage(cpuAt);
  return {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: (performance.now() - markAt) / 1000,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
  };
};

// Where a probe's latency is spent inside the product: from its PUBLISH parsed off the socket (the
// broker's authorizePublish) to the alert change (the rules' book, the moment socket.io is written).
// The bench's own figure runs from its publish() to the socket.io event: the rest is before the
// parse (the socket waiting for the event loop) or after the emit (socket.io and the bench).
const parsedAt = new Map<string, number>();
let parseToAlert: number[] = [];
const aedes = app.broker?.aedes;
if (aedes) {
  const authorize = aedes.authorizePublish.bind(aedes);
  aedes.authorizePublish = (client, packet, done) => {
    if (packet.topic.startsWith('devices/probe-')) {
      const state = packet.payload.toString().includes(':100') ? 'firing' : 'resolved';
      parsedAt.set(`${packet.topic.split('/')[1]}:${state}`, performance.now());
    }
    authorize(client, packet, done);
  };
}
app.rules.book.listen((alert) => {
  if (alert.rule !== 'bench-probe') return;
  const key = `${alert.labels.device}:${alert.state}`;
  const at = parsedAt.get(key);
  if (at === undefined) return;
  parsedAt.delete(key);
  parseToAlert.push(performance.now() - at);
});
const inProduct = () => {
  const sorted = [...parseToAlert].sort((a, b) => a - b);
  const p = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { probes: sorted.length, p50Ms: p(0.5), p99Ms: p(0.99), maxMs: sorted.at(-1) ?? NaN };
};

// Queue depths, sampled every 20 ms: device messages waiting for their turn in ingest, and publishes
// waiting in aedes' emitter (it holds at most 100 in flight and queues the rest in one line).
const depth = { samples: 0, waitingMax: 0, waitingSum: 0, emitterMax: 0, emitterSum: 0 };
const mq = (aedes as unknown as { mq?: { length?: number; current?: number } } | undefined)?.mq;
setInterval(() => {
  const w = app.ingest.waiting;
  const e = mq?.length ?? 0;
  depth.samples++;
  depth.waitingSum += w;
  depth.emitterSum += e;
  depth.waitingMax = Math.max(depth.waitingMax, w);
  depth.emitterMax = Math.max(depth.emitterMax, e);
}, 20).unref();

const stats = () => ({
  queues: { waitingMax: depth.waitingMax, waitingMean: depth.waitingSum / Math.max(1, depth.samples), emitterMax: depth.emitterMax, emitterMean: depth.emitterSum / Math.max(1, depth.samples), emitterInFlight: mq?.current ?? 0 },
  ...phase(),
  /** Since the last mark: the probes' parse-to-alert time in the product. */
  parseToAlert: inProduct(),
  /** Device messages waiting for their turn in ingest (collectors/mqtt/turns.ts) right now. */
  ingestWaiting: app.ingest.waiting,
  messages: app.ingest.stats.messages,
  values: app.ingest.stats.values,
  dropped: [...app.ingest.stats.dropped.values()].reduce((a, b) => a + b, 0),
  written: app.store.stats().written,
  pending: app.store.stats().pending,
  maxRssMb: process.resourceUsage().maxRSS / 1024,
  rssMb: process.memoryUsage().rss / 2 ** 20,
});

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'stats') process.send?.({ type: 'stats', stats: stats() });
  if (msg.cmd === 'mark') {
    loopDelay.reset();
    parseToAlert = [];
    Object.assign(depth, { samples: 0, waitingMax: 0, waitingSum: 0, emitterMax: 0, emitterSum: 0 });
    cpuAt = process.cpuUsage();
    markAt = performance.now();
    process.send?.({ type: 'marked' });
  }
  if (msg.cmd === 'stop') {
    void app.stop().then(() => process.exit(0));
  }
});
process.send?.({ type: 'ready', httpPort: app.httpPort, mqttPort: app.mqttPort, devices: app.estate.devices.size });
