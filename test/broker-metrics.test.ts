import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMqtt, eventually, run } from './support/net.ts';
import { api, startProduct, type StartedProduct } from './support/start-product.ts';

/** One sample of a Prometheus text exposition: `name{labels} value`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics: the broker seen from Prometheus', () => {
  let product: StartedProduct;
  const scrape = async (): Promise<string> => {
    const r = await api(product.base, undefined, '/metrics');
    expect(r.status).toBe(200);
    return r.body as string;
  };

  beforeAll(async () => {
    product = await startProduct();
    await product.app.accounts.setDevicePassword('s-a01-ft', 'sensor-pass-1');
  }, 60_000);
  afterAll(() => product?.app.stop());

  it('shows connected clients, messages and bytes in and out, and refusals by reason after some traffic', async () => {
    const before = await scrape();
    const clientsBefore = sample(before, 'watchfloor_mqtt_connected_clients') ?? NaN;
    const inBefore = sample(before, 'watchfloor_mqtt_messages_received_total') ?? NaN;
    const bytesInBefore = sample(before, 'watchfloor_mqtt_bytes_received_total') ?? NaN;
    const bytesOutBefore = sample(before, 'watchfloor_mqtt_bytes_sent_total') ?? NaN;

    const device = await connectMqtt(product.app.mqttPort, { username: 's-a01-ft', password: 'sensor-pass-1', clientId: 's-a01-ft' });
    const watcher = await connectMqtt(product.app.mqttPort, { username: 's-a01-ft', password: 'sensor-pass-1', clientId: 's-a01-ft-commands' });
    await watcher.subscribeAsync('devices/s-a01-ft/commands/#', { qos: 1 });
    const command = new Promise<void>((resolve) => watcher.once('message', () => resolve()));
    for (let i = 0; i < 5; i++) await device.publishAsync('devices/s-a01-ft/telemetry', JSON.stringify({ temperature: 22 + i }), { qos: 1 });
    // Refused: a publish under another device's id, and a wrong password from mosquitto_pub.
    await device.publishAsync('devices/s-a01-fm/telemetry', '{"temperature": 99}', { qos: 1 });
    const bad = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(product.app.mqttPort), '-u', 's-a01-ft', '-P', 'wrong', '-t', 'devices/s-a01-ft/telemetry', '-m', '{}']);
    expect(bad.code).not.toBe(0);
    // One message out to a client: a command the broker delivers to the device's subscription.
    const broker = product.app.broker;
    if (!broker) throw new Error('the embedded broker should be running');
    await new Promise<void>((resolve, reject) =>
      broker.aedes.publish({ cmd: 'publish', topic: 'devices/s-a01-ft/commands/c1', payload: Buffer.from('{"blink": true}'), qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve())),
    );
    await command;

    const text = await eventually(async () => {
      const t = await scrape();
      return (sample(t, 'watchfloor_mqtt_messages_received_total') ?? 0) >= inBefore + 5 ? t : undefined;
    }, 5000);
    expect(sample(text, 'watchfloor_mqtt_connected_clients')).toBe(clientsBefore + 2);
    expect(sample(text, 'watchfloor_mqtt_messages_received_total')).toBe(inBefore + 5);
    expect(sample(text, 'watchfloor_mqtt_messages_sent_total')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'watchfloor_mqtt_bytes_received_total')).toBeGreaterThan(bytesInBefore + 5 * 30);
    expect(sample(text, 'watchfloor_mqtt_bytes_sent_total')).toBeGreaterThan(bytesOutBefore);
    expect(sample(text, 'watchfloor_mqtt_refused_total', 'reason="topic_denied"')).toBe(1);
    expect(sample(text, 'watchfloor_mqtt_refused_total', 'reason="bad_credentials"')).toBe(1);
    expect(text).toMatch(/# TYPE watchfloor_mqtt_refused_total counter/);

    await Promise.all([device.endAsync(), watcher.endAsync()]);
    await eventually(async () => (sample(await scrape(), 'watchfloor_mqtt_connected_clients') === clientsBefore ? true : undefined), 5000);
  });
});
