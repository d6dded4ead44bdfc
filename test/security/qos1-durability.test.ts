// Issue 12 item 9: a QoS 1 reading the broker acknowledged survives `kill -9` of the product.
// The product runs as `watchfloor start` in a child process; a sensor publishes QoS 1 readings at
// ~200 msg/s and counts PUBACKs; the process is killed mid-stream, started again on the same data
// directory, and every acknowledged reading must be in the store, once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { MqttAccounts } from '../../broker/index.ts';
import { freeUdpPort } from '../../collectors/index.ts';
import { ADMIN_PASSWORD, smallInventory } from '../support/start-product.ts';

const SENSOR = { username: 's-a01-ft', password: 'sensor-pass-durable-1' };
const METRIC = 'reading';
/** One reading a second of device time: bucket i of a 1 s step holds reading i. */
const SPACING_MS = 1000;

interface Product {
  child: ChildProcess;
  httpPort: number;
  mqttPort: number;
  output: () => string;
}

function startProductProcess(configFile: string): Promise<Product> {
  const child = spawn(process.execPath, ['bin/watchfloor.js', 'start', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WATCHFLOOR_ADMIN_PASSWORD: ADMIN_PASSWORD, WATCHFLOOR_LOG_LEVEL: 'warn' },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the product did not start within 60 s:\n${out}`)), 60_000);
    const exited = (code: number | null): void => reject(new Error(`the product exited (${code}) before it started:\n${out}`));
    child.once('exit', exited);
    const check = (): void => {
      const http = /Watchfloor is running: http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      const broker = /MQTT broker: mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (!http || !broker) return;
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('exit', exited);
      resolve({ child, httpPort: Number(http[1]), mqttPort: Number(broker[1]), output: () => out });
    };
    child.stdout?.on('data', check);
  });
}

function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}

/**
 * Publishes reading i = 0, 1, ... at QoS 1 every 5 ms (200 msg/s) with ts = base + i s, until `killAfterMs`,
 * then kills the product with SIGKILL. Answers the readings whose PUBACK came before the kill.
 */
async function publishUntilKilled(product: Product, base: number, killAfterMs: number): Promise<{ acked: Set<number>; sent: number }> {
  const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${product.mqttPort}`, { ...SENSOR, clientId: `durable-${base}`, reconnectPeriod: 0, keepalive: 30 });
  sensor.on('error', () => undefined);
  const acked = new Set<number>();
  let sent = 0;
  let killed = false;
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      // Catch up with the schedule, so a late timer does not lower the rate.
      const due = Math.floor((Date.now() - started) / 5);
      while (sent < due && !killed) {
        const i = sent++;
        sensor.publish(`devices/${SENSOR.username}/telemetry`, JSON.stringify({ ts: base + i * SPACING_MS, metrics: { [METRIC]: i } }), { qos: 1 }, (err) => {
          // A PUBACK that arrives is counted whenever it arrives: the socket's bytes were sent before the kill.
          if (!err) acked.add(i);
        });
      }
      if (Date.now() - started >= killAfterMs && !killed) {
        killed = true;
        clearInterval(timer);
        void kill9(product.child).then(resolve);
      }
    }, 5);
  });
  await sensor.endAsync(true).catch(() => undefined);
  return { acked, sent };
}

/** Per reading i in [0, count): how many points the store holds at base + i s (InfluxQL count, which sees a doubled point). */
async function storedCounts(product: Product, base: number, count: number): Promise<number[]> {
  const to = base + count * SPACING_MS - 1;
  const q = `SELECT count("${METRIC}") FROM "sensor" WHERE "device" = '${SENSOR.username}' AND time >= ${base}ms AND time <= ${to}ms GROUP BY time(1s)`;
  const params = new URLSearchParams({ db: 'watchfloor', q, epoch: 'ms', u: 'admin', p: ADMIN_PASSWORD });
  const res = await fetch(`http://127.0.0.1:${product.httpPort}/query?${params}`);
  const body = (await res.json()) as { results?: { series?: { values: [number, number | null][] }[]; error?: string }[] };
  expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(200);
  const counts = new Array<number>(count).fill(0);
  for (const [ts, n] of body.results?.[0]?.series?.[0]?.values ?? []) {
    const i = Math.round((ts - base) / SPACING_MS);
    if (i >= 0 && i < count) counts[i] = n ?? 0;
  }
  return counts;
}

describe('QoS 1 durability: an acknowledged reading survives kill -9 (issue 12 item 9)', () => {
  let dataDir = '';
  let configFile = '';
  let product: Product | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'wf-qos1-'));
    await new MqttAccounts(join(dataDir, 'mqtt-accounts.json')).setDevicePassword(SENSOR.username, SENSOR.password);
    configFile = join(dataDir, 'watchfloor.json');
    // The store's default flush interval (200 ms): the window in which an acknowledged reading lived only in memory.
    const config = { dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, snmp: { trapPort: await freeUdpPort() }, inventory: smallInventory };
    writeFileSync(configFile, JSON.stringify(config));
  });

  afterAll(async () => {
    if (product) await kill9(product.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores every acknowledged reading, exactly once, across two crashes mid-stream', async () => {
    // Readings of device time two and three hours ago: far from anything else the sensor has.
    const rounds = [
      { base: Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000, killAfterMs: 2300 },
      { base: Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000, killAfterMs: 2700 },
    ];
    const published: { base: number; acked: Set<number>; sent: number }[] = [];
    product = await startProductProcess(configFile);
    for (const round of rounds) {
      const { acked, sent } = await publishUntilKilled(product, round.base, round.killAfterMs);
      published.push({ base: round.base, acked, sent });
      // The stream really ran and was cut mid-way: hundreds acknowledged, some sent but never acknowledged.
      expect(acked.size).toBeGreaterThan(150);
      product = await startProductProcess(configFile);
      // Every round so far, after every restart: what was acknowledged before any of the crashes is there.
      for (const p of published) {
        const counts = await storedCounts(product, p.base, p.sent);
        const lost = [...p.acked].filter((i) => counts[i] !== 1);
        expect({ base: p.base, acked: p.acked.size, lostOrDoubled: lost.map((i) => [i, counts[i]]) }).toEqual({ base: p.base, acked: p.acked.size, lostOrDoubled: [] });
        // Replay never doubles a reading, acknowledged or not.
        expect(counts.every((n) => n <= 1)).toBe(true);
      }
    }
    await kill9(product.child);
    product = undefined;
  }, 120_000);
});
