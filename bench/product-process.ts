// The product under load, in its own process as in production; driven by bench/index.ts over IPC.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

const stats = () => ({
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
  if (msg.cmd === 'stop') {
    void app.stop().then(() => process.exit(0));
  }
});
process.send?.({ type: 'ready', httpPort: app.httpPort, mqttPort: app.mqttPort, devices: app.estate.devices.size });
