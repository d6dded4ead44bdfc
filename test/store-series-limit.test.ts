import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatchfloor, type Watchfloor } from '../cli/index.ts';
import { freeUdpPort } from '../collectors/index.ts';
import { Config, FakeClock, Inventory, silentLogger, type Alert } from '../core/index.ts';
import { openEmbeddedStore, type SeriesLimitEvent } from '../store/index.ts';
import { connectMqtt, eventually } from './support/net.ts';
import { ADMIN_PASSWORD, api, login, smallInventory, type LoggedIn } from './support/start-product.ts';

describe('the store reports the series limit', () => {
  it('once per device per minute while refusals go on, after write() returned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-store-limit-'));
    const clock = new FakeClock(Date.now());
    const heard: SeriesLimitEvent[] = [];
    const store = await openEmbeddedStore({ dir, clock, logger: silentLogger, maxSeries: 3, maintenanceIntervalMs: 0, onSeriesLimit: (e) => heard.push(e) });
    try {
      const write = (device: string, n: number): void =>
        store.write(Array.from({ length: n }, (_, i) => ({ device, metric: `m${i}`, ts: clock.now(), value: i })));
      write('a', 10);
      expect(heard).toEqual([]); // not inside write()
      await Promise.resolve();
      expect(heard).toEqual([{ ts: clock.now(), device: 'a', metric: 'm3', series: 3, maxSeries: 3, refused: 1 }]);
      write('a', 10);
      write('b', 2);
      await Promise.resolve();
      expect(heard.map((e) => e.device)).toEqual(['a', 'b']);
      clock.advance(60_000);
      write('a', 5);
      await Promise.resolve();
      expect(heard.map((e) => [e.device, e.refused])).toEqual([['a', 1], ['b', 15], ['a', 17]]);
      expect(store.stats().refused).toMatchObject({ cardinality: 18 });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/*
 * End to end with the built-in rules: the product runs with store.maxSeries 12, one rack sensor
 * publishes 40 made-up metric names over MQTT, and the SOC/NOC sees an alert naming that sensor.
 */
describe('a cardinality explosion raises an alert', () => {
  let app: Watchfloor;
  let base: string;
  let session: LoggedIn;
  let sensor: MqttClient;

  beforeAll(async () => {
    const config = Config.parse({
      dataDir: mkdtempSync(join(tmpdir(), 'wf-product-')),
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      snmp: { trapPort: await freeUdpPort() },
      store: { flushIntervalMs: 50, maxSeries: 12 },
    });
    app = await startWatchfloor({ config, inventory: Inventory.parse(smallInventory), logger: silentLogger, adminPassword: ADMIN_PASSWORD });
    base = `http://127.0.0.1:${app.httpPort}`;
    session = await login(base);
    await app.accounts.setDevicePassword('s-a01-fb', 'sensor-secret-2');
    sensor = await connectMqtt(app.mqttPort, { username: 's-a01-fb', password: 'sensor-secret-2' });
  }, 60_000);
  afterAll(async () => {
    await sensor?.endAsync();
    await app?.stop();
  }, 30_000);

  it('shows a major performance alert for the device at GET /api/v1/alerts', async () => {
    const metrics = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`probe_${i}`, i]));
    await sensor.publishAsync('devices/s-a01-fb/telemetry', JSON.stringify({ metrics }), { qos: 1 });
    const alert = await eventually(async () => {
      const r = await api(base, session, '/api/v1/alerts?state=firing');
      return (r.body as Alert[]).find((a) => a.rule === 'series-limit-reached');
    }, 10_000, 50);
    expect(alert).toMatchObject({ severity: 'major', kind: 'performance', state: 'firing', labels: expect.objectContaining({ device: 's-a01-fb', rack: 'A01' }) });
    expect(alert.summary).toBe('s-a01-fb: new series refused, the store holds its limit of 12 series (refused: probe_12)');
    // The first 12 series were kept, the other 28 points counted as refusals.
    expect(app.store.latest({ device: 's-a01-fb' })).toHaveLength(12);
    expect(app.store.stats().refused).toMatchObject({ cardinality: 28 });
  });
});
