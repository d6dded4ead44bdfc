import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startBroker, MqttAccounts, type Broker } from '../broker/index.ts';
import { silentLogger } from '../core/index.ts';
import { connectMqtt, eventually } from './support/net.ts';

describe('durability: persistent sessions on disk', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wf-durable-'));
  const accounts = new MqttAccounts(join(dataDir, 'mqtt-accounts.json'));
  let broker: Broker | undefined;
  const start = (port: number): Promise<Broker> => startBroker({ mqtt: { host: '127.0.0.1', port, persistence: 'disk' }, dataDir, accounts, logger: silentLogger });
  afterAll(() => broker?.close());

  it('keeps QoS 1 commands for an offline clean=false session across a broker restart', async () => {
    await accounts.setDevicePassword('crac-1', 'crac-pass-1');
    broker = await start(0);
    const port = broker.port;
    const session = { username: 'crac-1', password: 'crac-pass-1', clientId: 'crac-1', clean: false };
    const device = await connectMqtt(port, session);
    await device.subscribeAsync('devices/crac-1/commands/#', { qos: 1 });
    await device.endAsync();
    // The ops server sends a command while the device is away.
    await new Promise<void>((resolve, reject) =>
      broker?.aedes.publish({ cmd: 'publish', topic: 'devices/crac-1/commands/c1', payload: Buffer.from('{"setpoint": 21}'), qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve())),
    );
    await broker.close();

    broker = await start(port);
    const received: string[] = [];
    const back = await new Promise<mqtt.MqttClient>((resolve, reject) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { ...session, reconnectPeriod: 0 });
      c.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
      c.once('connect', (connack) => (connack.sessionPresent ? resolve(c) : reject(new Error('session lost'))));
      c.once('error', reject);
    });
    await eventually(() => received.find((m) => m === 'devices/crac-1/commands/c1 {"setpoint": 21}'), 10_000);
    await back.endAsync();
  });

  it('delivers what an mqtt client published at QoS 1 while the broker restarted', async () => {
    await accounts.setDevicePassword('s-1', 'sensor-pass-1');
    const port = (broker as Broker).port;
    const seen: string[] = [];
    const watch = (b: Broker): Promise<void> => new Promise((resolve) => b.aedes.subscribe('devices/s-1/telemetry', (p, done) => { seen.push(p.payload.toString()); done(); }, resolve));
    await watch(broker as Broker);
    const sensor = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: 's-1', password: 'sensor-pass-1', clientId: 's-1', clean: false, reconnectPeriod: 200 });
    sensor.on('error', () => undefined);
    await new Promise<void>((resolve) => sensor.once('connect', () => resolve()));
    await (broker as Broker).close();
    // Published while the broker is down: mqtt.js keeps it until a PUBACK comes.
    const acked = sensor.publishAsync('devices/s-1/telemetry', '{"temperature": 30}', { qos: 1 });
    broker = await start(port);
    await watch(broker);
    await acked;
    await eventually(() => seen.find((m) => m === '{"temperature": 30}'), 10_000);
    expect(seen.filter((m) => m === '{"temperature": 30}').length).toBeGreaterThanOrEqual(1);
    await sensor.endAsync();
  });

  it('starts with devices offline that a broker which died left retained as online', async () => {
    await accounts.setAdmin('soc', 'admin-pass-1');
    const port = (broker as Broker).port;
    // What a crash leaves: a retained "online" with no connection behind it (a clean stop says offline itself).
    await new Promise<void>((resolve, reject) =>
      broker?.aedes.publish({ cmd: 'publish', topic: 'devices/ups-9/status', payload: Buffer.from('online'), qos: 1, retain: true, dup: false }, (err) => (err ? reject(err) : resolve())),
    );
    await (broker as Broker).close();
    broker = await start(port);
    const soc = await connectMqtt(port, { username: 'soc', password: 'admin-pass-1' });
    const status = new Promise<string>((resolve) => soc.on('message', (_t, p) => resolve(p.toString())));
    await soc.subscribeAsync('devices/ups-9/status', { qos: 1 });
    expect(await status).toBe('offline');
    await soc.endAsync();
  });
});
