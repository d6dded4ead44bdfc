// Broker benchmark: QoS 0 and QoS 1 throughput through Watchfloor's broker (authentication, ACLs,
// limits on), bare aedes and Debian's Mosquitto, measured in the same run on the same machine; then
// 10,000 idle device connections held by Watchfloor's broker, with its RSS.
//   node bin/run-ts.js bench/broker.ts            (BENCH_QOS0=50000 BENCH_QOS1=20000 BENCH_IDLE=10000 BENCH_ROUNDS=5)
// Each broker runs in its own process; the load generator (one publisher, one subscriber) in this one.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';

const role = process.env.BENCH_BROKER_ROLE;
const PUBLISHER = { username: 'bench-collector', password: 'bench-collector-pass' };
const WATCHER = { username: 'bench-soc', password: 'bench-soc-pass' };

if (role) await serve(role);
else await main();

/** Child: one broker, port on IPC, RSS on request. */
async function serve(kind: string): Promise<void> {
  const { Aedes } = await import('aedes');
  let port: number;
  if (kind === 'watchfloor') {
    const { startBroker, MqttAccounts } = await import('../broker/index.ts');
    const { silentLogger } = await import('../core/index.ts');
    const accounts = new MqttAccounts();
    await accounts.setCollector(PUBLISHER.username, PUBLISHER.password, '*');
    await accounts.setAdmin(WATCHER.username, WATCHER.password);
    const broker = await startBroker({
      accounts,
      logger: silentLogger,
      kindOf: () => 'sensor',
      // Limits on, but sized for one load generator on loopback opening 10,000 connections.
      mqtt: { host: '127.0.0.1', port: 0, persistence: 'memory', maxConnectionsPerSource: 0, connectionRate: { max: 0, windowSeconds: 10 }, maxInflightPerClient: 100_000 },
    });
    port = broker.port;
  } else {
    const aedes = await Aedes.createBroker({ maxInflightInbound: 100_000 });
    const server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  }
  process.on('message', () => process.send?.({ rss: process.memoryUsage().rss }));
  process.send?.({ port });
}

interface Running {
  name: string;
  port: number;
  rss(): Promise<number>;
  stop(): void;
}

function forkBroker(kind: string): Promise<Running> {
  const child: ChildProcess = fork(resolve('bin/run-ts.js'), [resolve('bench/broker.ts')], { env: { ...process.env, BENCH_BROKER_ROLE: kind }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((ok, fail) => {
    child.once('error', fail);
    child.once('message', (m: { port: number }) =>
      ok({
        name: kind === 'watchfloor' ? 'watchfloor (auth+ACL)' : 'bare aedes',
        port: m.port,
        rss: () => new Promise((r) => { child.once('message', (x: { rss: number }) => r(x.rss)); child.send('rss'); }),
        stop: () => child.kill(),
      }),
    );
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startMosquitto(): Promise<Running | undefined> {
  const port = await freePort();
  const conf = join(mkdtempSync(join(tmpdir(), 'wf-bench-mosq-')), 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\nmax_inflight_messages 0\n`);
  const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const started = await new Promise<boolean>((ok) => {
    child.once('error', () => ok(false));
    const deadline = Date.now() + 5000;
    const probe = (): void => {
      const s = tcpConnect(port, '127.0.0.1', () => { s.end(); ok(true); });
      s.once('error', () => (Date.now() > deadline ? ok(false) : setTimeout(probe, 100)));
    };
    probe();
  });
  if (!started) return undefined;
  return {
    name: 'mosquitto (Debian)',
    port,
    rss: async () => 0,
    stop: () => child.kill(),
  };
}

/** Publishes `count` messages at `qos` from one client and times until the subscriber has them all. */
async function throughput(b: Running, qos: 0 | 1, count: number, auth: boolean): Promise<{ rate: number; received: number; p50: number; p99: number }> {
  const url = `mqtt://127.0.0.1:${b.port}`;
  const sub = await mqtt.connectAsync(url, { ...(auth ? WATCHER : {}), reconnectPeriod: 0 });
  const pub = await mqtt.connectAsync(url, { ...(auth ? PUBLISHER : {}), reconnectPeriod: 0 });
  await sub.subscribeAsync('devices/+/telemetry', { qos });
  let received = 0;
  const latencies: number[] = [];
  const done = new Promise<void>((ok) => {
    sub.on('message', (_t, payload) => {
      received++;
      if (received % 50 === 0) latencies.push(performance.now() - Number(JSON.parse(payload.toString()).t));
      if (received === count) ok();
    });
  });
  const started = performance.now();
  const window = qos === 1 ? 500 : 1000; // at most 500 unacknowledged (QoS 1) or 1000 unwritten (QoS 0), as a device library would pace
  let inFlight = 0;
  await new Promise<void>((ok) => {
    let sent = 0;
    const pump = (): void => {
      while (sent < count && inFlight < window) {
        inFlight++;
        const payload = `{"t":${performance.now()},"metrics":{"temperature":${20 + (sent % 50) / 10}}}`;
        pub.publish(`devices/rack-${sent % 100}/telemetry`, payload, { qos }, () => {
          inFlight--;
          if (sent >= count && inFlight === 0) ok();
          else if (inFlight < window / 2) pump();
        });
        sent++;
      }
    };
    pump();
  });
  await Promise.race([done, new Promise((r) => setTimeout(r, 60_000))]);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([sub.endAsync(true), pub.endAsync(true)]);
  latencies.sort((a, c) => a - c);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { rate: Math.round(received / seconds), received, p50: pct(0.5), p99: pct(0.99) };
}

/** Opens `n` raw MQTT connections (CONNECT written by hand: a 10,000-client mqtt.js fleet would weigh more than the broker). */
async function idleConnections(b: Running, n: number): Promise<{ connected: number; seconds: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  let connected = 0;
  const started = performance.now();
  const batch = 200;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, j) =>
        new Promise<void>((ok) => {
          const s = tcpConnect(b.port, '127.0.0.1', () => {
            s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: `idle-${i + j}`, keepalive: 600, ...PUBLISHER, password: Buffer.from(PUBLISHER.password) }));
          });
          s.once('data', (d) => {
            if (d[0] === 0x20 && d[3] === 0) connected++;
            ok();
          });
          s.once('error', () => ok());
          sockets.push(s);
        }),
      ),
    );
  }
  return { connected, seconds: (performance.now() - started) / 1000, sockets };
}

async function main(): Promise<void> {
  const qos0 = Number(process.env.BENCH_QOS0 ?? 50_000);
  const qos1 = Number(process.env.BENCH_QOS1 ?? 20_000);
  const idle = Number(process.env.BENCH_IDLE ?? 10_000);
  console.log(`# broker benchmark: node bin/run-ts.js bench/broker.ts  (QoS 0: ${qos0} msgs, QoS 1: ${qos1} msgs, idle: ${idle} connections)`);
  console.log('# one publisher and one subscriber on loopback; each broker in its own process; rate = messages delivered / s');
  const mosquitto = await startMosquitto();
  if (!mosquitto) console.log('# mosquitto not found (apt-get install mosquitto): its row is left out');
  const brokers = [await forkBroker('watchfloor'), await forkBroker('aedes'), ...(mosquitto ? [mosquitto] : [])];
  // Rounds, the brokers taking turns within each: one run of each varies by a quarter on a shared
  // 2-core machine (the load generator is as busy as the broker), so the medians are compared.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const rates = new Map<string, number[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const b of brokers) {
      const auth = b.name.startsWith('watchfloor');
      for (const [qos, count] of [[0, qos0], [1, qos1]] as const) {
        await throughput(b, qos, Math.min(count, 2000), auth); // warm-up
        const r = await throughput(b, qos, count, auth);
        const key = `${b.name}|${qos}`;
        rates.set(key, [...(rates.get(key) ?? []), r.rate]);
        console.log(`round ${round}  ${b.name.padEnd(22)} QoS ${qos}  ${String(r.rate).padStart(8)} msg/s  delivered ${r.received}/${count}  latency p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms`);
      }
    }
  }
  const medianOf = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
  console.log(`# median of ${rounds} rounds, msg/s (and against bare aedes)`);
  for (const qos of [0, 1]) {
    const aedes = medianOf(rates.get(`bare aedes|${qos}`) ?? []);
    for (const b of brokers) {
      const m = medianOf(rates.get(`${b.name}|${qos}`) ?? []);
      console.log(`${b.name.padEnd(22)} QoS ${qos}  median ${String(m).padStart(8)} msg/s  ${((m / aedes) * 100).toFixed(0)} % of bare aedes  (runs: ${(rates.get(`${b.name}|${qos}`) ?? []).join(', ')})`);
    }
  }
  const wf = brokers[0] as Running;
  const before = await wf.rss();
  const held = await idleConnections(wf, idle);
  await new Promise((r) => setTimeout(r, 2000));
  const after = await wf.rss();
  console.log(`watchfloor idle connections: ${held.connected}/${idle} accepted in ${held.seconds.toFixed(1)} s; broker RSS ${(before / 2 ** 20).toFixed(0)} MB before, ${(after / 2 ** 20).toFixed(0)} MB holding them (${(((after - before) / Math.max(1, held.connected)) / 1024).toFixed(1)} KB per connection)`);
  for (const s of held.sockets) s.destroy();
  for (const b of brokers) b.stop();
  process.exit(0);
}
