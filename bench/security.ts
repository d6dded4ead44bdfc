// What issue 12's fixes cost and what they hold off, as figures (never pass/fail):
// 1. MQTT before authentication: 3 connections each sending a CONNECT that declares 200 MiB and then
//    streaming it; the broker's RSS and how much it took before closing them.
// 2. /query with a user's password (basic auth): the first request pays scrypt, the next ones hit the
//    verified-credential cache; beside the same query with an API token.
// Run: node bin/run-ts.js bench/security.ts  (or npm run bench -- security)
import { connect } from 'node:net';
import { MqttAccounts, startBroker } from '../broker/index.ts';
import { silentLogger } from '../core/index.ts';
import { ADMIN_PASSWORD, startProduct } from '../test/support/start-product.ts';

const mib = (n: number): number => Math.round(n / 2 ** 20);

async function preAuthFlood(): Promise<void> {
  const accounts = new MqttAccounts();
  await accounts.setDevicePassword('s-1', 'pass-1');
  const broker = await startBroker({ mqtt: { host: '127.0.0.1', port: 0, persistence: 'memory' }, accounts, logger: silentLogger });
  const header = Buffer.from([0x10, 0x80, 0x80, 0x80, 0x64]); // CONNECT, remaining length 200 MiB [MQTT-2.2.3]
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const t0 = performance.now();
  const sent = await Promise.all([0, 1, 2].map(() => new Promise<number>((resolve) => {
    const s = connect(broker.port, '127.0.0.1', async () => {
      let n = 0;
      let open = true;
      s.on('close', () => ((open = false), resolve(n)));
      s.on('error', () => undefined);
      s.write(header);
      while (open && n < 200 * 2 ** 20) {
        n += chunk.length;
        if (!s.write(chunk)) await new Promise((r) => (s.once('drain', r), s.once('close', r)));
      }
      resolve(n);
    });
  })));
  clearInterval(sampler);
  console.log(`mqtt pre-auth: 3 CONNECTs declaring 200 MiB: closed after ${Math.round(performance.now() - t0)} ms, ${sent.map(mib).join(' / ')} MiB written before the close (most of it still in kernel buffers), RSS ${mib(before)} -> peak ${mib(peak)} MiB; refusals ${JSON.stringify(Object.fromEntries(broker.refusals))}`);
  await broker.close();
}

async function queryAuth(): Promise<void> {
  const p = await startProduct();
  const login = await fetch(`${p.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const made = await fetch(`${p.base}/api/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken }, body: JSON.stringify({ name: 'grafana', role: 'viewer' }) });
  const { token } = (await made.json()) as { token: string };
  const q = `${p.base}/query?db=watchfloor&q=${encodeURIComponent('SHOW MEASUREMENTS')}`;
  const time = async (authorization: string): Promise<number> => {
    const t = performance.now();
    const r = await fetch(q, { headers: { authorization } });
    await r.text();
    if (r.status !== 200) throw new Error(`/query answered ${r.status}`);
    return performance.now() - t;
  };
  const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
  const first = await time(basic);
  const series = async (authorization: string): Promise<string> => {
    const ms: number[] = [];
    for (let i = 0; i < 50; i++) ms.push(await time(authorization));
    ms.sort((a, b) => a - b);
    return `median ${(ms[25] as number).toFixed(1)} ms, p90 ${(ms[45] as number).toFixed(1)} ms`;
  };
  console.log(`/query basic auth: first request (scrypt) ${first.toFixed(1)} ms; next 50 (cached credential): ${await series(basic)}`);
  console.log(`/query API token:  50 requests: ${await series(`Token ${token}`)}`);
  await p.app.stop();
}

await preAuthFlood();
await queryAuth();
process.exit(0);
