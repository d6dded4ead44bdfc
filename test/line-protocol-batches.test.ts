// The line protocol collector's telemetry batches (`telemetry/{collector}`, collectors/line-protocol
// batch.ts): who may publish them, that a body is stored whole through a few messages, that each
// message stays under the broker's payload limit, and that a 204 survives kill -9.
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayPublish, type MqttAccount } from '../broker/index.ts';
import { startWatchfloor } from '../cli/index.ts';
import { freeUdpPort, LINE_PROTOCOL_COLLECTOR_ACCOUNT } from '../collectors/index.ts';
import { decodeTelemetryBatch, TelemetryBatchEncoder } from '../collectors/line-protocol/batch.ts';
import { Config, Inventory, silentLogger } from '../core/index.ts';
import { expectAlive } from './support/crash-guard.ts';
import { startLineProtocolProduct, type LineProtocolProduct } from './support/line-protocol-product.ts';
import { connectMqtt, eventually, run } from './support/net.ts';

/** Telegraf-shaped lines: `hosts` hosts x cpu, mem, disk at `ticks` times (7 values a host and time). */
function telegraf(hosts: number, ticks: number, t0: number): { body: string; values: number } {
  const lines: string[] = [];
  for (let t = 0; t < ticks; t++) {
    for (let h = 0; h < hosts; h++) {
      const host = `srv-${String(h).padStart(2, '0')}`;
      const ts = t0 + t * 1000;
      lines.push(`cpu,cpu=cpu-total,host=${host} usage_idle=${90 + (t % 10)},usage_user=${h / 10},usage_system=1.5 ${ts}`);
      lines.push(`mem,host=${host} used_percent=${40 + (h % 20)},available=${8_000_000_000 + t}i ${ts}`);
      lines.push(`disk,host=${host},path=/ used_percent=${50 + (t % 30)},free=${1_000_000 - t}i ${ts}`);
    }
  }
  return { body: lines.join('\n'), values: hosts * ticks * 7 };
}

const METRICS = ['cpu.usage_idle', 'cpu.usage_user', 'cpu.usage_system', 'mem.used_percent', 'mem.available', 'disk.root.used_percent', 'disk.root.free'];

describe('telemetry batches: the encoding', () => {
  it('keeps every payload under the limit, splits a reading too large for one, and decodes to exactly what went in', () => {
    const limit = 4096;
    const encoder = new TelemetryBatchEncoder(limit);
    const sent: string[] = [];
    for (let d = 0; d < 40; d++) {
      const metrics = new Map<string, number>();
      // Device 7 has 600 values at one time: more than one message holds.
      for (let m = 0; m < (d === 7 ? 600 : 12); m++) metrics.set(`metric_${m}.value`, d * 1000 + m + 0.25);
      for (const [metric, value] of metrics) sent.push(`srv-${d} 1700000000000 ${metric} ${value}`);
      encoder.add(`srv-${d}`, 1_700_000_000_000, metrics);
    }
    const payloads = encoder.finish();
    expect(payloads.length).toBeGreaterThan(3);
    const got: string[] = [];
    for (const p of payloads) {
      expect(Buffer.byteLength(p)).toBeLessThanOrEqual(limit);
      const batch = decodeTelemetryBatch(p);
      if (typeof batch === 'string') throw new Error(batch);
      expect(batch.bad).toBe(0);
      for (const r of batch.readings) for (let j = r.from; j < r.pairs.length; j += 2) got.push(`${r.device} ${r.ts} ${r.names[r.pairs[j] as number]} ${r.pairs[j + 1]}`);
    }
    expect(got.sort()).toEqual(sent.sort());
  });

  it('refuses what is not a batch, and leaves out the readings that are malformed', () => {
    expect(decodeTelemetryBatch('not json')).toMatch(/^not JSON/);
    expect(decodeTelemetryBatch('{"v":2,"m":[],"r":[]}')).toBe('v: expected 1');
    const batch = decodeTelemetryBatch(JSON.stringify({ v: 1, m: ['ok.v', 'bad name'], r: [['d1', 1, 0, 1.5], ['d1', 1, 1, 2], ['d1', -5, 0, 1], ['d1', 1, 9, 1], [7, 1, 0, 1]] }));
    if (typeof batch === 'string') throw new Error(batch);
    expect(batch.readings.map((r) => [r.device, r.ts, r.pairs.slice(r.from)])).toEqual([['d1', 1, [0, 1.5]]]);
    expect(batch.bad).toBe(4);
  });
});

describe('telemetry batches: the broker ACL', () => {
  const batchPublisher: MqttAccount = { username: LINE_PROTOCOL_COLLECTOR_ACCOUNT, hash: '', role: 'collector', devices: [], telemetryBatches: true };
  it('lets only an account marked telemetryBatches publish them, only under its own name, and nothing else', () => {
    expect(mayPublish(batchPublisher, `telemetry/${LINE_PROTOCOL_COLLECTOR_ACCOUNT}`)).toBe(true);
    expect(mayPublish(batchPublisher, 'telemetry/someone-else')).toBe(false);
    expect(mayPublish(batchPublisher, `telemetry/${LINE_PROTOCOL_COLLECTOR_ACCOUNT}/x`)).toBe(false);
    expect(mayPublish(batchPublisher, 'telemetry/+')).toBe(false);
    expect(mayPublish(batchPublisher, 'devices/srv-01/telemetry')).toBe(false);
    expect(mayPublish(batchPublisher, `logs/${LINE_PROTOCOL_COLLECTOR_ACCOUNT}`)).toBe(false);
    const everyDevice: MqttAccount = { username: 'snmp-collector', hash: '', role: 'collector', devices: '*' };
    expect(mayPublish(everyDevice, 'telemetry/snmp-collector')).toBe(false);
    expect(mayPublish({ username: 'crac-1', hash: '', role: 'device' }, 'telemetry/crac-1')).toBe(false);
    expect(mayPublish({ username: 'soc', hash: '', role: 'admin' }, `telemetry/${LINE_PROTOCOL_COLLECTOR_ACCOUNT}`)).toBe(false);
  });
});

describe('telemetry batches: through the product', () => {
  let p: LineProtocolProduct;
  let writer = '';
  beforeAll(async () => {
    // A small payload limit, so one body takes many messages.
    p = await startLineProtocolProduct({ autoRegister: [{ hosts: 'srv-*', kind: 'server', layer: 'server', site: 'dc1' }] }, { mqtt: { host: '127.0.0.1', port: 0, maxPayloadBytes: 16 * 1024 } });
    writer = await p.token('telegraf', 'writer');
  }, 60_000);
  afterAll(() => p?.app.stop());

  const v2 = (body: string) => fetch(`${p.base}/api/v2/write?org=o&bucket=b&precision=ms`, { method: 'POST', headers: { authorization: `Token ${writer}` }, body });
  const count = async (device: string, metric: string) => {
    await p.app.store.flush();
    const b = await p.app.store.range({ device, metric, from: 0, to: Date.now() + 3_600_000, stepMs: 1e13, agg: 'count' });
    return b.reduce((s, x) => s + (x.value ?? 0), 0);
  };

  it('stores a 6,000-line body whole, in a few messages under the payload limit instead of one per host and time', async () => {
    const t0 = Date.now() - 600_000;
    const { body, values } = telegraf(40, 50, t0);
    const before = p.app.ingest.stats.messages;
    const r = await v2(body);
    expect(r.status).toBe(204);
    const messages = p.app.ingest.stats.messages - before;
    // 2,000 readings (40 hosts x 50 times) at about 150 bytes each in 16 KiB messages: about 20, not 2,000.
    expect(messages).toBeGreaterThan(5);
    expect(messages).toBeLessThan(60);
    let stored = 0;
    for (let h = 0; h < 40; h++) for (const m of METRICS) stored += await count(`srv-${String(h).padStart(2, '0')}`, m);
    expect(stored).toBe(values);
    expect(p.app.store.latest({ device: 'srv-03', metric: 'disk.root.free' })[0]?.value).toBe(1_000_000 - 49);
    expect(p.app.ingest.stats.dropped.size).toBe(0);
  }, 60_000);

  it('takes no batch from a device account (mosquitto_pub) or another collector account: refused, nothing stored', async () => {
    await p.app.accounts.setDevicePassword('crac-1', 'crac-1-password');
    await p.app.accounts.setCollector('rogue-collector', 'rogue-collector-password', '*');
    const forged = JSON.stringify({ v: 1, m: ['forged.value'], r: [['crac-1', Date.now(), 0, 99], ['srv-01', Date.now(), 0, 99]] });
    const deniedBefore = p.app.broker?.refusals.get('topic_denied') ?? 0;
    const port = String(p.app.mqttPort);
    for (const topic of [`telemetry/${LINE_PROTOCOL_COLLECTOR_ACCOUNT}`, 'telemetry/crac-1']) {
      const pub = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-u', 'crac-1', '-P', 'crac-1-password', '-i', `forger-${topic.length}`, '-q', '1', '-t', topic, '-m', forged], 20_000);
      expect(pub.code, pub.stderr).toBe(0);
    }
    const rogue = await connectMqtt(p.app.mqttPort, { username: 'rogue-collector', password: 'rogue-collector-password', clientId: 'rogue-collector-1' });
    await rogue.publishAsync(`telemetry/${LINE_PROTOCOL_COLLECTOR_ACCOUNT}`, forged, { qos: 1 });
    await rogue.publishAsync('telemetry/rogue-collector', forged, { qos: 1 });
    await rogue.endAsync();
    await eventually(() => ((p.app.broker?.refusals.get('topic_denied') ?? 0) - deniedBefore >= 4 ? true : undefined), 10_000);
    expect(await count('crac-1', 'forged.value')).toBe(0);
    expect(await count('srv-01', 'forged.value')).toBe(0);
    // The collector's own batches still go through.
    expect((await v2(`cpu,cpu=cpu-total,host=srv-01 usage_idle=12.5 ${Date.now()}`)).status).toBe(204);
    expect(p.app.store.latest({ device: 'srv-01', metric: 'cpu.usage_idle' })[0]?.value).toBe(12.5);
  }, 60_000);
});

describe('telemetry batches: a 204 is on disk', () => {
  it('keeps every value of every answered write across a kill -9 before the store committed any of them', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wf-lp-crash-'));
    const child = fork(new URL('../bin/run-ts.js', import.meta.url).pathname, [new URL('./support/line-protocol-crash-product.ts', import.meta.url).pathname, dataDir], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    expectAlive(child, 'the product (line protocol crash test)');
    const ready = await new Promise<{ httpPort: number; token: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { httpPort: number; token: string }));
      child.once('exit', (code) => reject(new Error(`the product exited (${code}) before it was ready`)));
    });
    const t0 = Date.now() - 300_000;
    let expected = 0;
    for (let k = 0; k < 3; k++) {
      const { body, values } = telegraf(20, 10, t0 + k * 10_000);
      const r = await fetch(`http://127.0.0.1:${ready.httpPort}/api/v2/write?org=o&bucket=b&precision=ms`, { method: 'POST', headers: { authorization: `Token ${ready.token}` }, body });
      expect(r.status).toBe(204);
      expected += values;
    }
    // At once after the last 204: the store's commit is a minute away, so only the write-ahead log has them.
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const config = Config.parse({ dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, snmp: { trapPort: await freeUdpPort() } });
    const app = await startWatchfloor({ config, inventory: Inventory.parse({ sites: [{ id: 'dc1', name: 'Crash test' }], devices: [] }), rules: [], logger: silentLogger, adminPassword: 'crash-test-admin-password' });
    try {
      await app.store.flush();
      let stored = 0;
      for (let h = 0; h < 20; h++) {
        for (const metric of METRICS) {
          const b = await app.store.range({ device: `srv-${String(h).padStart(2, '0')}`, metric, from: 0, to: Date.now() + 3_600_000, stepMs: 1e13, agg: 'count' });
          stored += b.reduce((s, x) => s + (x.value ?? 0), 0);
        }
      }
      expect(stored).toBe(expected);
    } finally {
      await app.stop();
    }
  }, 120_000);
});
