import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWatchfloor, type Watchfloor } from '../../cli/index.ts';
import { freeUdpPort, LineProtocolCollector } from '../../collectors/index.ts';
import { Config, Inventory, silentLogger } from '../../core/index.ts';
import { api, login, smallInventory, ADMIN_PASSWORD, type LoggedIn } from './start-product.ts';

export interface LineProtocolProduct {
  app: Watchfloor;
  base: string;
  admin: LoggedIn;
  collector: LineProtocolCollector;
  /** Creates an API token and gives its clear value. */
  token(name: string, role: string): Promise<string>;
}

/** The product with a `lineProtocol` config section (the test's auto-registration rules and limits). */
export async function startLineProtocolProduct(lineProtocol: unknown, extra: Record<string, unknown> = {}): Promise<LineProtocolProduct> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wf-lp-'));
  const trapPort = await freeUdpPort();
  const config = Config.parse({ dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, snmp: { trapPort }, store: { flushIntervalMs: 50 }, lineProtocol, ...extra });
  const app = await startWatchfloor({ config, inventory: Inventory.parse(smallInventory), logger: silentLogger, adminPassword: ADMIN_PASSWORD });
  const base = `http://127.0.0.1:${app.httpPort}`;
  const admin = await login(base);
  const collector = app.collectors.find((c): c is LineProtocolCollector => c instanceof LineProtocolCollector);
  if (!collector) throw new Error('the line_protocol collector is not running');
  return {
    app, base, admin, collector,
    async token(name, role) {
      const r = await api(base, admin, '/api/v1/tokens', { method: 'POST', body: { name, role } });
      if (r.status !== 201) throw new Error(`token ${name}: ${r.status} ${JSON.stringify(r.body)}`);
      return (r.body as { token: string }).token;
    },
  };
}
