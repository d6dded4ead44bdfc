import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startBroker, MqttAccounts, type Broker } from '../broker/index.ts';
import { partitionOf, startMqttIngest } from '../collectors/index.ts';
import { Estate, Inventory, silentLogger, systemClock, type Point } from '../core/index.ts';
import { smallInventory } from './support/start-product.ts';
import { connectMqtt, eventually } from './support/net.ts';
import { startRedis, type RedisServer } from './support/redis.ts';


describe('scale-out: two brokers sharing Redis (mqemitter-redis + aedes-persistence-redis)', () => {
  let redis: RedisServer;
  const brokers: Broker[] = [];
  const accounts = new MqttAccounts();

  beforeAll(async () => {
    redis = await startRedis();
    await accounts.setDevicePassword('crac-1', 'crac-pass-1');
    await accounts.setAdmin('soc', 'admin-pass-1');
    await accounts.setCollector('fleet', 'fleet-pass-1', '*');
    for (let i = 0; i < 2; i++) {
      brokers.push(await startBroker({ mqtt: { host: '127.0.0.1', port: 0, persistence: 'redis', redis: { url: redis.url } }, accounts, logger: silentLogger }));
    }
  }, 30_000);
  afterAll(async () => {
    for (const b of brokers) await b.close();
    await redis?.stop();
  });

  it('a subscriber on one broker receives what a device publishes on the other', async () => {
    const [a, b] = brokers as [Broker, Broker];
    const soc = await connectMqtt(a.port, { username: 'soc', password: 'admin-pass-1' });
    await soc.subscribeAsync('devices/+/telemetry', { qos: 1 });
    const got = new Promise<string>((resolve) => soc.on('message', (_t, p) => resolve(p.toString())));
    const device = await connectMqtt(b.port, { username: 'crac-1', password: 'crac-pass-1', clientId: 'crac-1' });
    await device.publishAsync('devices/crac-1/telemetry', '{"supply_temp": 18}', { qos: 1 });
    expect(await got).toBe('{"supply_temp": 18}');
    await Promise.all([soc.endAsync(), device.endAsync()]);
  });

  it('a persistent session made on one broker resumes on the other with its queued QoS 1 message', async () => {
    const [a, b] = brokers as [Broker, Broker];
    const session = { username: 'crac-1', password: 'crac-pass-1', clientId: 'crac-1', clean: false };
    const first = await connectMqtt(a.port, session);
    await first.subscribeAsync('devices/crac-1/commands/#', { qos: 1 });
    await first.endAsync();
    await new Promise<void>((resolve, reject) =>
      a.aedes.publish({ cmd: 'publish', topic: 'devices/crac-1/commands/c7', payload: Buffer.from('{"setpoint": 20}'), qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve())),
    );
    const received: string[] = [];
    const resumed = await new Promise<mqtt.MqttClient>((resolve, reject) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${b.port}`, { ...session, reconnectPeriod: 0 });
      c.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
      c.once('connect', (connack) => (connack.sessionPresent ? resolve(c) : reject(new Error('session not found on the other broker'))));
      c.once('error', reject);
    });
    await eventually(() => received.find((m) => m === 'devices/crac-1/commands/c7 {"setpoint": 20}'), 10_000);
    await resumed.endAsync();
  });

  it('two ingest workers, one on each broker, split the devices by hash without duplicates or loss', async () => {
    const estate = new Estate(Inventory.parse(smallInventory));
    const devices = [...estate.devices.keys()];
    const seen: string[][] = [[], []];
    const workers = await Promise.all(
      (brokers as [Broker, Broker]).map((broker, index) =>
        startMqttIngest({
          aedes: broker.aedes,
          partition: { index, count: 2 },
          estate,
          sink: { write: (points: Point[]) => seen[index]?.push(...points.map((p) => `${p.device}#${p.value}`)), status: () => undefined, event: () => undefined },
          clock: systemClock,
          logger: silentLogger,
        }),
      ),
    );
    const fleet = await connectMqtt((brokers[0] as Broker).port, { username: 'fleet', password: 'fleet-pass-1' });
    const sent = 100;
    for (let i = 0; i < sent; i++) await fleet.publishAsync(`devices/${devices[i % devices.length]}/telemetry`, JSON.stringify({ seq: i }), { qos: 1 });
    const [a, b] = seen as [string[], string[]];
    await eventually(() => (a.length + b.length >= sent ? true : undefined), 10_000);
    expect(a.length + b.length).toBe(sent);
    expect(new Set([...a, ...b]).size).toBe(sent);
    // Every device belongs to exactly one worker, the one its hash names.
    for (const [index, values] of [a, b].entries()) {
      for (const v of values) expect(partitionOf(v.split('#')[0] ?? '', 2)).toBe(index);
    }
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    await fleet.endAsync();
    for (const w of workers) await w.stop();
  });
});
