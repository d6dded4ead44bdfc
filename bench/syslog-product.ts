// The whole product for bench/syslog.ts, in its own process as in production: startWatchfloor with
// its syslog collector on ephemeral loopback ports (lines published through the broker, stored and
// matched by the product), the sample data center as inventory and the 100 Sigma rules
// (sigma.rules: the reference folder and a folder of copies). Driven over IPC.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWatchfloor } from '../cli/index.ts';
import { bundledConfigDir, Config, Inventory, readDataFile, silentLogger } from '../core/index.ts';
import { referenceSigmaPath, writeSigmaCopies } from './syslog-rules.ts';

const rssBefore = process.memoryUsage().rss;
const dataDir = mkdtempSync(join(tmpdir(), 'wf-bench-syslog-product-'));
const how = writeSigmaCopies(join(dataDir, 'sigma-copies'));
const config = Config.parse({
  dataDir,
  http: { host: '127.0.0.1', port: 0 },
  mqtt: { host: '127.0.0.1', port: 0 },
  syslog: { host: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: false },
  sigma: { builtin: true, rules: [referenceSigmaPath, join(dataDir, 'sigma-copies')] },
});
const app = await startWatchfloor({
  config,
  inventory: readDataFile(join(bundledConfigDir, 'sample-datacenter.yaml'), Inventory),
  logger: silentLogger,
  adminPassword: 'bench-admin-password',
});

interface SyslogLike {
  name: string;
  ports: { udp?: number; tcp?: number };
  stats(): { lines: number; received: { udp: number; tcp: number }; dropped: Record<string, number>; queue: { peak: number }; published: { lines: number } };
}
interface LogStoreLike {
  stats(): { written: number; pending: number; dropped: Record<string, number> };
}
const syslog = app.collectors.find((c) => c.name === 'syslog') as unknown as SyslogLike | undefined;
// The product's log store: wherever the composition root keeps it (a `logs` part of the app).
const parts = app as unknown as Record<string, unknown>;
const logStore = ['logs', 'logStore', 'soc'].map((k) => parts[k] as { stats?: unknown; store?: unknown } | undefined).map((p) => (p && typeof p.stats === 'function' ? p : (p?.store as typeof p))).find((p) => p && typeof p.stats === 'function') as LogStoreLike | undefined;

const stats = () => {
  const s = syslog?.stats();
  const l = logStore?.stats();
  return {
    received: s?.received ?? { udp: 0, tcp: 0, tls: 0 },
    lines: s?.lines ?? 0,
    published: s?.published.lines ?? 0,
    receiverDropped: s?.dropped ?? {},
    queuePeak: s?.queue.peak ?? 0,
    written: l?.written ?? 0,
    pending: l?.pending ?? 0,
    storeDropped: l?.dropped ?? {},
    rssMb: process.memoryUsage().rss / 2 ** 20,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    rssBeforeMb: rssBefore / 2 ** 20,
  };
};

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'stats') process.send?.({ type: 'stats', stats: stats() });
  if (msg.cmd === 'stop') {
    void app.stop().then(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  }
});
process.send?.({
  type: 'ready',
  httpPort: app.httpPort,
  tcpPort: syslog?.ports.tcp,
  udpPort: syslog?.ports.udp,
  storeFound: logStore !== undefined,
  how,
  rssMb: process.memoryUsage().rss / 2 ** 20,
  rssBeforeMb: rssBefore / 2 ** 20,
});
