import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Socket } from 'socket.io-client';
import { FakeClock, type Alert } from '../core/index.ts';
import type { TelemetryUpdate } from '../ops-server/index.ts';
import { connectMqtt, eventually, run } from './support/net.ts';
import { api, connectSocket, login, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';

/**
 * The spine, end to end over real sockets: a sensor publishes over MQTT, the value is served by the
 * API, a breach raises an alert on socket.io and a return below the clear threshold resolves it.
 * The product runs the built-in rules on a fake clock, so their `for` durations take no real time.
 */
describe('end to end: a rack sensor reading reaches the API and raises an alert', () => {
  const clock = new FakeClock(Date.now());
  let product: StartedProduct;
  let session: LoggedIn;
  let socket: Socket;
  let sensor: MqttClient;
  const alerts: Alert[] = [];
  const telemetry: TelemetryUpdate[] = [];
  const statuses: { device: string; status: string }[] = [];

  beforeAll(async () => {
    product = await startProduct({ clock });
    session = await login(product.base);
    socket = await connectSocket(product.base, session);
    socket.on('alert', (a: Alert) => alerts.push(a));
    socket.on('telemetry', (batch: TelemetryUpdate[]) => telemetry.push(...batch));
    socket.on('device-status', (s: { device: string; status: string }) => statuses.push(s));
    await product.app.accounts.setDevicePassword('s-a01-ft', 'sensor-secret-1');
    sensor = await connectMqtt(product.app.mqttPort, { username: 's-a01-ft', password: 'sensor-secret-1' });
  });
  afterAll(async () => {
    socket?.close();
    await sensor?.endAsync();
    await product?.app.stop();
  });

  const publish = (metrics: Record<string, number>): Promise<unknown> =>
    sensor.publishAsync('devices/s-a01-ft/telemetry', JSON.stringify({ metrics }), { qos: 1 });
  const latestTemperature = async (): Promise<number | undefined> => {
    const r = await api(product.base, session, '/api/v1/metrics/latest?device=s-a01-ft&metric=temperature');
    return (r.body as { value: number }[])[0]?.value;
  };
  /** Moves the fake clock and waits for the product's once-a-second rule tick to see it. */
  const advance = async (ms: number): Promise<void> => {
    clock.advance(ms);
    await new Promise((r) => setTimeout(r, 1100));
  };

  it('serves a published value from /api/v1/metrics/latest with the tags of its place in the estate', async () => {
    await publish({ temperature: 22.5, humidity: 45 });
    await eventually(async () => ((await latestTemperature()) === 22.5 ? true : undefined));
    const r = await api(product.base, session, '/api/v1/metrics/latest?device=s-a01-ft');
    expect(r.status).toBe(200);
    const values = r.body as { metric: string; value: number; tags: Record<string, string> }[];
    expect(values.map((v) => v.metric).sort()).toEqual(['humidity', 'temperature']);
    expect(values[0]?.tags).toMatchObject({ device: 's-a01-ft', rack: 'A01', room: 'room-1', site: 'dc1', position: 'front-top', aisle: 'cold' });
  });

  it('pushes the value to socket.io clients in a telemetry batch, and the device as online', async () => {
    await eventually(() => telemetry.find((t) => t.device === 's-a01-ft' && t.metric === 'temperature' && t.value === 22.5));
    expect(statuses).toContainEqual(expect.objectContaining({ device: 's-a01-ft', status: 'online' }));
  });

  it('raises the warning once the breach has held for the rule\'s `for`, and resolves it below the clear threshold', async () => {
    await publish({ temperature: 28.4 });
    await eventually(async () => ((await latestTemperature()) === 28.4 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(alerts.filter((a) => a.rule === 'cold-aisle-warm')).toEqual([]); // pending, not yet firing

    await advance(31_000);
    const firing = await eventually(() => alerts.find((a) => a.rule === 'cold-aisle-warm' && a.state === 'firing'));
    expect(firing).toMatchObject({ severity: 'warning', kind: 'environment', value: 28.4, labels: expect.objectContaining({ device: 's-a01-ft', rack: 'A01' }) });
    expect(firing.summary).toContain('28.4');
    const listed = await api(product.base, session, '/api/v1/alerts?state=firing');
    expect((listed.body as Alert[]).map((a) => a.id)).toContain(firing.id);

    // 26.5 is under the firing line but above the clear line: hysteresis keeps it firing.
    await publish({ temperature: 26.5 });
    await eventually(async () => ((await latestTemperature()) === 26.5 ? true : undefined));
    expect(alerts.filter((a) => a.id === firing.id).at(-1)?.state).toBe('firing');

    await publish({ temperature: 25.2 });
    const resolved = await eventually(() => alerts.find((a) => a.id === firing.id && a.state === 'resolved'));
    expect(resolved.endsAt).not.toBeNull();
    const after = await api(product.base, session, `/api/v1/alerts/${firing.id}`);
    expect(after.body).toMatchObject({ state: 'resolved' });
  });

  it('raises the critical alert above 32 °C as well', async () => {
    await publish({ temperature: 33.1 });
    await eventually(async () => ((await latestTemperature()) === 33.1 ? true : undefined));
    await advance(31_000);
    const critical = await eventually(() => alerts.find((a) => a.rule === 'cold-aisle-hot' && a.state === 'firing'));
    expect(critical.severity).toBe('critical');
    await publish({ temperature: 24 });
    await eventually(() => alerts.find((a) => a.id === critical.id && a.state === 'resolved'));
  });

  it('accepts mosquitto_pub as the same device, and refuses it with a wrong password', async () => {
    const common = ['-h', '127.0.0.1', '-p', String(product.app.mqttPort), '-u', 's-a01-ft', '-t', 'devices/s-a01-ft/telemetry', '-q', '1'];
    const ok = await run('mosquitto_pub', [...common, '-P', 'sensor-secret-1', '-m', '{"temperature": 23.25}']);
    expect(ok.code).toBe(0);
    await eventually(async () => ((await latestTemperature()) === 23.25 ? true : undefined));
    const bad = await run('mosquitto_pub', [...common, '-P', 'not-the-password', '-m', '{"temperature": 29.75}']);
    expect(bad.code).not.toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await latestTemperature()).toBe(23.25);
  });

  it('drops bad payloads with a counted reason while valid traffic in the same stream goes on', async () => {
    const bad = [
      'not json at all',
      '{"temperature": "24.5"}',
      '{"temperature": 1e999}',
      '{"metrics": {"temperature": {"value": 24}}}',
      '[1, 2, 3]',
      '{"metrics": {"temperature": 24}, "extra": true}',
    ];
    for (const payload of bad) sensor.publish('devices/s-a01-ft/telemetry', payload, { qos: 1 });
    await publish({ temperature: 21.75 });
    await eventually(async () => ((await latestTemperature()) === 21.75 ? true : undefined));
    const dropped = product.app.ingest.stats.droppedByDevice.get('s-a01-ft');
    expect(dropped?.get('invalid_json')).toBe(1);
    expect(dropped?.get('invalid_telemetry')).toBe(5);
    const metrics = await api(product.base, undefined, '/metrics');
    expect(metrics.body).toMatch(/watchfloor_ingest_dropped_total\{reason="invalid_telemetry"\} 5/);
    // The rules saw every accepted value, and the time they took is there to read.
    const evaluated = Number(/watchfloor_rules_evaluated_values_total (\d+)/.exec(metrics.body as string)?.[1]);
    expect(evaluated).toBeGreaterThanOrEqual(product.app.ingest.stats.values);
    expect(metrics.body).toMatch(/watchfloor_rules_evaluation_seconds_total [0-9.e-]+/);
    expect(sensor.connected).toBe(true);
  });

  it('drops telemetry for a device the inventory does not know, counted as unknown_device', async () => {
    const collector = await connectMqtt(product.app.mqttPort, { username: 'fleet', password: 'fleet-secret-1' }).catch(() => undefined);
    expect(collector).toBeUndefined(); // no such account yet
    await product.app.accounts.setCollector('fleet', 'fleet-secret-1', '*');
    const fleet = await connectMqtt(product.app.mqttPort, { username: 'fleet', password: 'fleet-secret-1' });
    await fleet.publishAsync('devices/ghost-1/telemetry', '{"temperature": 20}', { qos: 1 });
    await fleet.publishAsync('devices/s-a01-fm/telemetry', '{"temperature": 20.5}', { qos: 1 });
    await eventually(async () => {
      const r = await api(product.base, session, '/api/v1/metrics/latest?device=s-a01-fm&metric=temperature');
      return (r.body as unknown[]).length === 1 ? true : undefined;
    });
    expect(product.app.ingest.stats.droppedByDevice.get('ghost-1')?.get('unknown_device')).toBe(1);
    await fleet.endAsync();
  });

  it('answers a range query with step buckets and the chosen aggregation', async () => {
    const to = clock.now() + 1000;
    const r = await api(product.base, session, `/api/v1/metrics/range?device=s-a01-ft&metric=temperature&from=${to - 600_000}&to=${to}&step=1m&agg=max`);
    expect(r.status).toBe(200);
    const body = r.body as { stepMs: number; points: [number, number | null][] };
    expect(body.stepMs).toBe(60_000);
    const values = body.points.map((p) => p[1]).filter((v): v is number => v !== null);
    expect(Math.max(...values)).toBe(33.1);
  });

  it('marks a device offline at once when its connection drops, with an availability alert', async () => {
    // A drop, not a goodbye: a clean DISCONNECT is the device choosing to leave, not offline (issue 13).
    sensor.on('error', () => undefined);
    (sensor.stream as unknown as { destroy(): void }).destroy();
    await eventually(() => statuses.find((s) => s.device === 's-a01-ft' && s.status === 'offline'));
    const offline = await eventually(() => alerts.find((a) => a.rule === 'device-offline' && a.labels.device === 's-a01-ft' && a.state === 'firing'));
    expect(offline.kind).toBe('availability');
    sensor.end(true);
    sensor = await connectMqtt(product.app.mqttPort, { username: 's-a01-ft', password: 'sensor-secret-1' });
    await publish({ temperature: 22 });
    await eventually(() => alerts.find((a) => a.id === offline.id && a.state === 'resolved'));
  });
});
