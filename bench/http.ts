// HTTP and socket.io figures for the ops server: `node bin/run-ts.js bench/http.ts`.
// Load comes from other processes (wrk for HTTP; this process for the socket.io clients), never the product's.
// Figures only; nothing here passes or fails on time.
import { fork, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { io, type Socket } from 'socket.io-client';

const RUNNER = new URL('../bin/run-ts.js', import.meta.url).pathname;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 200);

interface Ready {
  type: string;
  httpPort: number;
  devices: number;
}

const product = fork(RUNNER, [new URL('http-product.ts', import.meta.url).pathname], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const ready = await new Promise<Ready>((resolve, reject) => {
  product.once('error', reject);
  product.once('exit', (code) => reject(new Error(`product exited with ${code}`)));
  product.on('message', (m: Ready) => m.type === 'ready' && resolve(m));
});
const base = `http://127.0.0.1:${ready.httpPort}`;
const ask = <T>(cmd: string, type?: string): Promise<T> =>
  new Promise((resolve) => {
    if (!type) {
      product.send({ cmd });
      resolve(undefined as T);
      return;
    }
    const on = (m: { type: string }): void => {
      if (m.type !== type) return;
      product.off('message', on);
      resolve(m as T);
    };
    product.on('message', on);
    product.send({ cmd });
  });

// An API token for the load: the same door an integration uses (one sha256 per request, no scrypt).
const loginRes = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-admin-password' }) });
const cookie = (loginRes.headers.get('set-cookie') ?? '').split(';')[0] as string;
const { csrfToken } = (await loginRes.json()) as { csrfToken: string };
const tokenRes = await fetch(`${base}/api/v1/tokens`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', role: 'viewer' }) });
const { token } = (await tokenRes.json()) as { token: string };
await new Promise((r) => setTimeout(r, 3000)); // a few telemetry rounds, so latest values exist
const devices = (await (await fetch(`${base}/api/v1/devices`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string; kind: string }[];
const firstCrac = devices.find((d) => d.kind === 'crac')?.id ?? devices[0]?.id ?? '';
const everything = await (await fetch(`${base}/api/v1/metrics/latest`, { headers: { authorization: `Bearer ${token}` } })).text();

console.log(`# bench/http: ops server, sample data center (${ready.devices} devices, simulated), ${cpus().length} CPUs`);
console.log(`# GET /api/v1/metrics/latest without a device answers every latest value: ${(everything.length / 1024).toFixed(0)} kB`);
console.log(`# command: node bin/run-ts.js bench/http.ts   (BENCH_SECONDS=${SECONDS} BENCH_CONNECTIONS=${CONNECTIONS} BENCH_SOCKETS=${SOCKETS})`);

function wrk(path: string): Promise<{ rps: number; p50: string; p99: string; errors: string }> {
  const args = ['-t2', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', '-H', `Authorization: Bearer ${token}`, `${base}${path}`];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', () => {
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
      const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? '?';
      const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? '?';
      const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
      resolve({ rps, p50, p99, errors });
    });
  });
}

for (const path of ['/api/v1/alerts', '/api/v1/metrics/latest', `/api/v1/metrics/latest?device=${firstCrac}`]) {
  await ask('cpu-mark');
  const r = await wrk(path);
  const cpu = await ask<{ percent: number }>('cpu', 'cpu');
  console.log(`GET ${path.padEnd(40)} wrk -t2 -c${CONNECTIONS} -d${SECONDS}s: ${r.rps.toFixed(0)} req/s, p50 ${r.p50}, p99 ${r.p99}, non-2xx ${r.errors}, server CPU ${cpu.percent.toFixed(0)}%`);
}

// socket.io: SOCKETS clients, each receiving the telemetry batches; lag = arrival - the reading's timestamp.
const sockets: Socket[] = [];
const lags: number[] = [];
let batches = 0;
for (let i = 0; i < SOCKETS; i++) {
  const s = io(base, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  s.on('telemetry', (batch: { ts: number }[]) => {
    const now = Date.now();
    batches++;
    let newest = 0;
    for (const v of batch) if (v.ts > newest) newest = v.ts;
    lags.push(now - newest);
  });
  sockets.push(s);
}
await Promise.all(sockets.map((s) => (s.connected ? undefined : new Promise<void>((r) => s.once('connect', () => r())))));
lags.length = 0;
batches = 0;
await ask('cpu-mark');
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const cpu = await ask<{ percent: number; rssMb: number; clients: number }>('cpu', 'cpu');
lags.sort((a, b) => a - b);
const pct = (p: number): number => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))] ?? NaN;
console.log(`socket.io ${cpu.clients} clients, ${SECONDS}s: ${batches} batches delivered (${(batches / SECONDS).toFixed(0)}/s), lag p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${lags.at(-1)} ms; server CPU ${cpu.percent.toFixed(0)}%, RSS ${cpu.rssMb.toFixed(0)} MB`);
console.log('# lag includes the simulator publish, ingest and the 250 ms telemetry batching window');
for (const s of sockets) s.close();
await ask('stop');
await new Promise((r) => product.once('exit', r));
