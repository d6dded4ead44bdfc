// The product for bench/http.ts, in its own process: the bundled sample data center with its simulators.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWatchfloor } from '../cli/index.ts';
import { loadConfig, silentLogger } from '../core/index.ts';

const loaded = loadConfig(undefined, {});
const config = { ...loaded.config, dataDir: mkdtempSync(join(tmpdir(), 'wf-bench-http-')), http: { ...loaded.config.http, host: '127.0.0.1', port: 0 }, mqtt: { ...loaded.config.mqtt, host: '127.0.0.1', port: 0 } };
const app = await startWatchfloor({ config, inventory: loaded.inventory, logger: silentLogger, adminPassword: 'bench-admin-password' });
await app.startSimulation({ intervalMs: Number(process.env.BENCH_SIM_INTERVAL_MS ?? 1000) });

let mark = { cpu: process.cpuUsage(), at: process.hrtime.bigint() };
process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'cpu-mark') mark = { cpu: process.cpuUsage(), at: process.hrtime.bigint() };
  if (msg.cmd === 'cpu') {
    const used = process.cpuUsage(mark.cpu);
    const wallUs = Number(process.hrtime.bigint() - mark.at) / 1000;
    process.send?.({ type: 'cpu', percent: (100 * (used.user + used.system)) / wallUs, rssMb: process.memoryUsage().rss / 2 ** 20, clients: app.ops.realtime.clients });
  }
  if (msg.cmd === 'stop') void app.stop().then(() => process.exit(0));
});
process.send?.({ type: 'ready', httpPort: app.httpPort, devices: app.estate.devices.size });
