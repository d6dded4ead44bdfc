// The product in a child process for test/line-protocol-batches.test.ts: it takes line protocol over
// HTTP and is killed with SIGKILL by the test. The store commits only once a minute, so what a 204
// answered is, at the kill, on disk in ingest's write-ahead log alone.
// Run: node bin/run-ts.js test/support/line-protocol-crash-product.ts <dataDir>
import { startWatchfloor } from '../../cli/index.ts';
import { freeUdpPort } from '../../collectors/index.ts';
import { Config, Inventory, silentLogger } from '../../core/index.ts';

const dataDir = process.argv[2] as string;
const config = Config.parse({
  dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, snmp: { trapPort: await freeUdpPort() }, store: { flushIntervalMs: 60_000 },
  lineProtocol: { autoRegister: [{ hosts: 'srv-*', kind: 'server', layer: 'server', site: 'dc1' }] },
});
const inventory = Inventory.parse({ sites: [{ id: 'dc1', name: 'Crash test' }], devices: [] });
const app = await startWatchfloor({ config, inventory, rules: [], logger: silentLogger, adminPassword: 'crash-test-admin-password' });
const { token } = app.ops.parts.tokens.create('crash', 'writer', 'crash-test', Date.now());
process.send?.({ httpPort: app.httpPort, token });
