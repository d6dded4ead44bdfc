import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { MqttAccounts } from '../broker/index.ts';
import { startWatchfloor } from '../cli/index.ts';
import { freeUdpPort } from '../collectors/index.ts';
import { Config, Inventory, silentLogger } from '../core/index.ts';
import { connectMqtt, eventually, run } from './support/net.ts';
import { startRedis, type RedisServer } from './support/redis.ts';
import { expectAlive } from './support/crash-guard.ts';
import { ADMIN_PASSWORD, api, connectSocket, login, smallInventory } from './support/start-product.ts';


/** A broker OS process: `watchfloor start --role broker`, and the MQTT port it printed. */
interface BrokerProcess {
  child: ChildProcess;
  port: number;
  output: () => string;
}

function spawnBroker(configFile: string): Promise<BrokerProcess> {
  const child = spawn(process.execPath, ['bin/run-ts.js', 'cli/main.ts', 'start', '--role', 'broker', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WATCHFLOOR_LOG_LEVEL: 'warn' },
  });
  let out = '';
  // A broker process that dies before the test stops it fails the test (a crash fails the suite).
  expectAlive(child, 'broker process', () => out);
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker process did not start within 60 s:\n${out}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`broker process exited (${code}):\n${out}`)));
    const check = (): void => {
      const m = /Watchfloor broker \(role broker\): mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout?.off('data', check);
      resolve({ child, port: Number(m[1]), output: () => out });
    };
    child.stdout?.on('data', check);
  });
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

describe('scale-out: two broker processes (watchfloor start --role broker) on one Redis', () => {
  let redis: RedisServer | undefined;
  const brokers: BrokerProcess[] = [];
  const soc = { username: 'soc', password: 'admin-pass-1' };
  const crac = { username: 'crac-1', password: 'crac-pass-1' };
  let dataDir = '';

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-scaleout-'));
    redis = await startRedis();
    // Both nodes read the same accounts file, as nodes sharing a volume (or a copied file) would.
    dataDir = join(dir, 'data');
    const accounts = new MqttAccounts(join(dataDir, 'mqtt-accounts.json'));
    await accounts.setDevicePassword(crac.username, crac.password);
    await accounts.setAdmin(soc.username, soc.password);
    const configFile = join(dir, 'broker.json');
    writeFileSync(
      configFile,
      JSON.stringify({ dataDir, mqtt: { host: '127.0.0.1', port: 0, persistence: 'redis', redis: { url: redis.url } }, inventory: smallInventory }),
    );
    brokers.push(...(await Promise.all([spawnBroker(configFile), spawnBroker(configFile)])));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(brokers.map((b) => stopProcess(b.child)));
    await redis?.stop();
  }, 20_000);

  it('runs as two separate processes', () => {
    const [a, b] = brokers as [BrokerProcess, BrokerProcess];
    expect(a.child.pid).not.toBe(b.child.pid);
    expect(a.port).not.toBe(b.port);
  });

  it('a subscriber on one process receives what a device publishes on the other', async () => {
    const [a, b] = brokers as [BrokerProcess, BrokerProcess];
    const watcher = await connectMqtt(a.port, { ...soc, clientId: 'soc-live' });
    await watcher.subscribeAsync('devices/+/telemetry', { qos: 1 });
    const got = new Promise<string>((resolve) => watcher.on('message', (t, p) => resolve(`${t} ${p.toString()}`)));
    const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(b.port), ...['-u', crac.username, '-P', crac.password], '-i', 'crac-1', '-q', '1', '-t', 'devices/crac-1/telemetry', '-m', '{"supply_temp": 18}']);
    expect(r.code).toBe(0);
    expect(await got).toBe('devices/crac-1/telemetry {"supply_temp": 18}');
    await watcher.endAsync();
  });

  it('a persistent session resumes on either process with the QoS 1 messages queued while it was away', async () => {
    const [a, b] = brokers as [BrokerProcess, BrokerProcess];
    const session = { ...soc, clientId: 'soc-durable', clean: false };
    const first = await connectMqtt(a.port, session);
    await first.subscribeAsync('devices/crac-1/telemetry', { qos: 1 });
    await first.endAsync();

    const resume = async (port: number, publishVia: number, value: number): Promise<void> => {
      const device = await connectMqtt(publishVia, { ...crac, clientId: 'crac-1' });
      await device.publishAsync('devices/crac-1/telemetry', `{"supply_temp": ${value}}`, { qos: 1 });
      await device.endAsync();
      const received: string[] = [];
      const back = await new Promise<mqtt.MqttClient>((resolve, reject) => {
        const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { ...session, reconnectPeriod: 0 });
        c.on('message', (_t, payload) => received.push(payload.toString()));
        c.once('connect', (connack) => (connack.sessionPresent ? resolve(c) : reject(new Error(`session not found on port ${port}`))));
        c.once('error', reject);
        c.once('close', () => reject(new Error(`the broker on port ${port} closed the connection before CONNACK`)));
      });
      await eventually(() => received.find((m) => m === `{"supply_temp": ${value}}`), 20_000);
      await back.endAsync();
    };
    await resume(b.port, b.port, 19); // made on A, resumed on B
    await resume(a.port, b.port, 20); // and back on A
    // Two processes, Redis and the rest of the suite share two cores: the waits above can add up past 30 s.
  }, 60_000);

  it('keeps a device online when its client id moves to the other process, and offline once it leaves', async () => {
    const [a, b] = brokers as [BrokerProcess, BrokerProcess];
    const watcher = await connectMqtt(a.port, { ...soc, clientId: 'soc-presence' });
    const statuses: string[] = [];
    watcher.on('message', (t, p) => t === 'devices/crac-1/status' && statuses.push(p.toString()));
    await watcher.subscribeAsync('devices/crac-1/status', { qos: 1 });
    const will = { topic: 'devices/crac-1/status', payload: Buffer.from('offline'), qos: 1 as const, retain: true };
    const onA = await connectMqtt(a.port, { ...crac, clientId: 'crac-1', will });
    onA.on('error', () => undefined);
    await eventually(() => (statuses.at(-1) === 'online' ? true : undefined), 5000);
    const from = statuses.length;
    const closedOnA = new Promise<void>((resolve) => onA.once('close', () => resolve()));
    const onB = await connectMqtt(b.port, { ...crac, clientId: 'crac-1', will });
    await closedOnA; // process A closed its connection: the same client id logged in on B [MQTT-3.1.4-2]
    await eventually(() => (statuses.slice(from).includes('online') ? true : undefined), 5000);
    // Neither A's presence nor the old connection's last will said offline; a late subscriber reads online.
    const late = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(a.port), '-u', soc.username, '-P', soc.password, '-t', 'devices/crac-1/status', '-C', '1', '-W', '5']);
    expect(late.stdout.trim()).toBe('online');
    expect(statuses.slice(from)).not.toContain('offline');
    // Its connection drops (a clean DISCONNECT would be the device choosing to leave: no "offline").
    onB.on('error', () => undefined);
    (onB.stream as unknown as { destroy(): void }).destroy();
    // Through process B, Redis and process A to the watcher: seconds under a loaded suite, not never.
    await eventually(() => (statuses.at(-1) === 'offline' ? true : undefined), 10_000);
    onA.end(true);
    onB.end(true);
    await watcher.endAsync();
  });

  it('a brute force against a broker-only process reaches the SOC of the full node on the same Redis', async () => {
    const [a] = brokers as [BrokerProcess, BrokerProcess];
    // The full node: rules, API and its own broker, clustered on the same Redis, the accounts file shared.
    const config = Config.parse({ dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0, persistence: 'redis', redis: { url: redis!.url } }, snmp: { trapPort: await freeUdpPort() } });
    const full = await startWatchfloor({ config, inventory: Inventory.parse(smallInventory), logger: silentLogger, adminPassword: ADMIN_PASSWORD });
    try {
      const base = `http://127.0.0.1:${full.httpPort}`;
      const admin = await login(base);
      const socket = await connectSocket(base, admin);
      const seen: { type: string; source?: string }[] = [];
      socket.on('security-event', (e: { type: string; source?: string }) => seen.push(e));
      // Six wrong passwords on process A, which has no rules of its own.
      for (let i = 0; i < 6; i++) {
        const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(a.port), '-u', crac.username, '-P', `wrong-${i}`, '-i', `guess-${i}`, '-t', 'devices/crac-1/telemetry', '-m', '{}']);
        expect(r.code).not.toBe(0);
      }
      const brute = await eventually(async () => {
        const r = await api(base, admin, '/api/v1/alerts?state=firing');
        return (r.body as { rule: string; labels: Record<string, string> }[]).find((x) => x.rule === 'mqtt-brute-force');
      }, 15_000, 200);
      expect(brute.labels.source).toBe('127.0.0.1');
      expect(seen.filter((e) => e.type === 'bad_credentials').length).toBeGreaterThanOrEqual(5);
      // Heard once each: the full node does not count the same failure twice.
      const events = await api(base, admin, '/api/v1/security-events');
      expect((events.body as { type: string }[]).filter((e) => e.type === 'bad_credentials').length).toBe(seen.filter((e) => e.type === 'bad_credentials').length);
      socket.close();
    } finally {
      await full.stop();
    }
  }, 60_000);
});
