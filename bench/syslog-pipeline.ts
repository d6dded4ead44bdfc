// The syslog components in one process, as bench/syslog.ts drives them over IPC: the receiver
// (collectors/syslog) -> the Sigma engine (100 rules) -> the log store (store/logs). Each line is
// matched on arrival and appended to the store; a detection about a probe host is reported at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSyslogReceiver } from '../collectors/syslog/index.ts';
import { silentLogger, systemClock, type LogLine } from '../core/index.ts';
import { SigmaEngine } from '../rules/sigma/index.ts';
import { openLogStore } from '../store/index.ts';
import { benchSigmaRules } from './syslog-rules.ts';

const dir = mkdtempSync(join(tmpdir(), 'wf-bench-syslog-'));
const rssBefore = process.memoryUsage().rss;
const { rules, how } = benchSigmaRules();
const engine = new SigmaEngine(rules);
const store = await openLogStore({ dir, logger: silentLogger, retentionDays: 36500, maintenanceIntervalMs: 0, maxPendingLines: Number(process.env.BENCH_STORE_QUEUE ?? 200_000) });
let lines = 0;
let detections = 0;
let matchMs = 0;
const batch: LogLine[] = [];
let batchTimer: NodeJS.Immediate | undefined;
const flushBatch = (): void => {
  batchTimer = undefined;
  store.append(batch);
  batch.length = 0;
};

const rx = await startSyslogReceiver({
  udpPort: 0,
  tcpPort: 0,
  logger: silentLogger,
  clock: systemClock,
  // The bench is one sender address: the per-source budget is the product's default (50,000/s) unless told.
  limits: process.env.BENCH_SOURCE_RATE ? { ratePerSecond: Number(process.env.BENCH_SOURCE_RATE), burst: 2 * Number(process.env.BENCH_SOURCE_RATE) } : {},
  onLine: (line) => {
    lines++;
    const t = performance.now();
    const found = engine.onLine(line, line.ts);
    matchMs += performance.now() - t;
    detections += found.length;
    for (const d of found) if (d.entities.host?.startsWith('probe-') || d.lines.some((l) => l.host.startsWith('probe-'))) process.send?.({ type: 'detection', host: d.lines.at(-1)?.host, rule: d.ruleId });
    batch.push(line);
    batchTimer ??= setImmediate(flushBatch);
  },
});

const stats = () => {
  const s = store.stats();
  return {
    received: rx.stats.received,
    lines,
    detections,
    matchMs,
    receiverDropped: rx.stats.dropped,
    queuePeak: rx.stats.queue.peak,
    written: s.written,
    pending: s.pending + batch.length,
    storeDropped: s.dropped,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    rssBeforeMb: rssBefore / 2 ** 20,
  };
};

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'stats') process.send?.({ type: 'stats', stats: stats() });
  if (msg.cmd === 'stop') {
    void (async () => {
      await rx.stop();
      flushBatch();
      await store.flush();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    })();
  }
});
process.send?.({ type: 'ready', tcpPort: rx.ports.tcp, udpPort: rx.ports.udp, rules: rules.length, how, rssMb: process.memoryUsage().rss / 2 ** 20, rssBeforeMb: rssBefore / 2 ** 20 });
