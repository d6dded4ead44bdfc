import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { FakeClock, expectedIntervalOf, Device, type Alert, type SecurityEvent } from '../core/index.ts';
import { elapseNodata, evaluateNodata, loadRules, silenceAllowed, type NodataRule } from '../rules/index.ts';
import { connectMqtt, eventually, run } from './support/net.ts';
import { api, login, smallInventory, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';

/**
 * Issue 13, "False alarms on ordinary devices", with the tools a newcomer uses: Debian's
 * mosquitto_pub (a one-shot publish that connects, publishes and sends DISCONNECT, with a client id
 * of its own making), a long-lived mqtt.js device, and an MQTT 5 client. The product runs the
 * built-in rules (device-offline: after 60s, intervals 2; unknown-device) on a fake clock.
 */
describe('no false alarms for ordinary MQTT devices (issue 13)', () => {
  const clock = new FakeClock(Date.now());
  let product: StartedProduct;
  let admin: LoggedIn;
  const clients: MqttClient[] = [];
  const inventory = {
    ...smallInventory,
    devices: [
      ...(smallInventory.devices ?? []),
      // A battery sensor that says it wakes every 10 s.
      { id: 'sleepy-1', kind: 'sensor' as const, sensorType: 'temperature-humidity' as const, location: { room: 'room-1', x: 5, y: 5 }, expectedIntervalSeconds: 10 },
    ],
  };

  beforeAll(async () => {
    product = await startProduct({ clock, inventory });
    admin = await login(product.base);
    for (const id of ['s-a01-ft', 's-a01-fm', 's-a01-fb', 'sleepy-1']) await product.app.accounts.setDevicePassword(id, `${id}-secret`);
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await product?.app.stop();
  });

  const port = (): string => String(product.app.mqttPort);
  /** One mosquitto_pub run as `device`: CONNECT, PUBLISH (QoS 1), DISCONNECT. */
  const mosquittoPub = (device: string, extra: string[] = []): ReturnType<typeof run> =>
    run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port(), '-u', device, '-P', `${device}-secret`, '-q', '1', '-t', `devices/${device}/telemetry`, '-m', '{"temperature": 22.5}', ...extra]);
  const alertsOf = (rule: string, device?: string): Alert[] =>
    product.app.rules.alerts({}).filter((a) => a.rule === rule && (device === undefined || a.labels.device === device));
  const securityEvents = async (): Promise<SecurityEvent[]> => (await api(product.base, admin, '/api/v1/security-events')).body as SecurityEvent[];
  /** Moves the fake clock and waits for the product's once-a-second rule tick to see it. */
  const advance = async (ms: number): Promise<void> => {
    clock.advance(ms);
    await new Promise((r) => setTimeout(r, 1200));
  };
  const latest = async (device: string): Promise<number | undefined> => {
    const r = await api(product.base, admin, `/api/v1/metrics/latest?device=${device}&metric=temperature`);
    return (r.body as { value: number }[])[0]?.value;
  };

  it('raises no "Device offline" for 5 mosquitto_pub runs with clean disconnects, nor a minute later', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await mosquittoPub('s-a01-ft');
      expect(r.code, r.stderr).toBe(0);
    }
    await eventually(async () => ((await latest('s-a01-ft')) === 22.5 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1200));
    expect(alertsOf('device-offline', 's-a01-ft')).toEqual([]);
    // Past the rule's 60 s `after`: a sensor that left cleanly is due back within two of its kind's 300 s.
    await advance(61_000);
    expect(alertsOf('device-offline', 's-a01-ft')).toEqual([]);
  });

  it('raises no security event and no "unknown device" for a valid credential with mosquitto_pub\'s own client id', async () => {
    const r = await mosquittoPub('s-a01-fb', ['-i', 'mosq-Xk3v9QpLr2']);
    expect(r.code, r.stderr).toBe(0);
    const r2 = await mosquittoPub('s-a01-fb'); // no -i: the id is mosquitto_pub's (or the broker's) choice
    expect(r2.code, r2.stderr).toBe(0);
    await eventually(async () => ((await latest('s-a01-fb')) === 22.5 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect((await securityEvents()).filter((e) => e.username === 's-a01-fb')).toEqual([]);
    expect(alertsOf('unknown-device')).toEqual([]);
  });

  it('still calls a device offline at once when its connection drops without DISCONNECT', async () => {
    const device = await connectMqtt(product.app.mqttPort, { username: 's-a01-fm', password: 's-a01-fm-secret', clientId: 's-a01-fm' });
    clients.push(device);
    device.on('error', () => undefined);
    await device.publishAsync('devices/s-a01-fm/telemetry', '{"temperature": 23}', { qos: 1 });
    await eventually(async () => ((await latest('s-a01-fm')) === 23 ? true : undefined));
    device.options.reconnectPeriod = 0;
    (device.stream as Socket).destroy();
    // No clock advance: the drop itself is the evidence.
    const offline = await eventually(() => alertsOf('device-offline', 's-a01-fm').find((a) => a.state === 'firing'));
    expect(offline.summary).toMatch(/reported offline/);
  });

  it('calls a cleanly-left device offline once its own interval passes without data (expectedIntervalSeconds: 10)', async () => {
    const r = await mosquittoPub('sleepy-1');
    expect(r.code, r.stderr).toBe(0);
    await eventually(async () => ((await latest('sleepy-1')) === 22.5 ? true : undefined));
    await advance(15_000);
    expect(alertsOf('device-offline', 'sleepy-1')).toEqual([]);
    // Two 10 s intervals, well before the rule's 60 s `after`.
    await advance(6_000);
    const silent = await eventually(() => alertsOf('device-offline', 'sleepy-1').find((a) => a.state === 'firing'));
    expect(silent.summary).toBe('sleepy-1 offline: no data for 20s');
    // Its next report resolves it.
    expect((await mosquittoPub('sleepy-1')).code).toBe(0);
    await eventually(() => alertsOf('device-offline', 'sleepy-1').find((a) => a.state === 'resolved'));
  });

  it('calls a cleanly-left sensor with no stated interval offline after two of its kind\'s (2 x 300 s)', async () => {
    // s-a01-ft left at the start of the first test; 61 + 21 s have passed since.
    await advance(600_000 - 83_000);
    expect(alertsOf('device-offline', 's-a01-ft')).toEqual([]);
    await advance(3_000);
    const silent = await eventually(() => alertsOf('device-offline', 's-a01-ft').find((a) => a.state === 'firing'));
    expect(silent.summary).toBe('s-a01-ft offline: no data for 10m');
  });

  it('reports a device whose client id is another device\'s id, and raises "unknown device"', async () => {
    const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port(), '-u', 's-a01-fb', '-P', 's-a01-fb-secret', '-i', 'sleepy-1', '-q', '1', '-t', 'devices/s-a01-fb/telemetry', '-m', '{"temperature": 24}']);
    expect(r.code, r.stderr).toBe(0);
    const event = await eventually(async () => (await securityEvents()).find((e) => e.type === 'client_id_claims_device'));
    expect(event).toMatchObject({ username: 's-a01-fb', clientId: 'sleepy-1', source: '127.0.0.1' });
    expect(event.detail).toContain('"sleepy-1"');
    await eventually(() => alertsOf('unknown-device').find((a) => a.state === 'firing'));
  });

  it('answers an MQTT 5 CONNECT with 0x84, counts it as unsupported_protocol, and reports nothing', async () => {
    const before = (await securityEvents()).length;
    const r = await mosquittoPub('s-a01-fb', ['-V', 'mqttv5', '-d']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('received CONNACK (132)'); // 0x84, Unsupported Protocol Version
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${product.base}/metrics`)).text();
      return /watchfloor_mqtt_refused_total\{reason="unsupported_protocol"\} 1\b/.test(text) ? text : undefined;
    });
    expect(metrics).not.toMatch(/watchfloor_mqtt_refused_total\{reason="malformed_packet"\} [1-9]/);
    await new Promise((r) => setTimeout(r, 300));
    expect((await securityEvents()).length).toBe(before);
  });
});

describe('the product stopping is not an outage', () => {
  it('raises no "Device offline" for devices whose connections end because the product stops, nor after its restart', async () => {
    const first = await startProduct();
    await first.app.accounts.setDevicePassword('s-a01-ft', 's-a01-ft-secret');
    const device = await connectMqtt(first.app.mqttPort, { username: 's-a01-ft', password: 's-a01-ft-secret', clientId: 's-a01-ft', reconnectPeriod: 0 });
    device.on('error', () => undefined);
    await device.publishAsync('devices/s-a01-ft/telemetry', '{"temperature": 23}', { qos: 1 });
    await eventually(() => (first.app.rules.alerts({}).length === 0 && first.app.store.stats().written > 0 ? true : undefined));
    // The broker closes every connection as it stops: to the rules that would be a dropped connection.
    await first.app.stop();
    device.end(true);
    const again = await startProduct({ dataDir: first.dataDir });
    try {
      expect(again.app.rules.alerts({ state: 'firing' }).map((a) => `${a.rule} ${a.labels.device}`)).toEqual([]);
    } finally {
      await again.app.stop();
    }
  }, 60_000);
});

describe('no-data rules and reporting intervals (pure)', () => {
  const [withIntervals, plain] = loadRules([
    { id: 'off', type: 'nodata', name: 'Offline', severity: 'major', after: '60s', intervals: 2 },
    { id: 'off-plain', type: 'nodata', name: 'Offline', severity: 'major', after: '60s' },
  ], 't') as [NodataRule, NodataRule];
  const sensor = Device.parse({ id: 'b-1', kind: 'sensor', location: { site: 'dc1' } });

  it('defaults a device\'s interval per kind (sensors 300 s) and takes the stated one first', () => {
    expect(expectedIntervalOf(sensor)).toEqual({ seconds: 300, stated: false });
    expect(expectedIntervalOf(Device.parse({ id: 'sw', kind: 'switch', location: { site: 'dc1' } }))).toEqual({ seconds: 60, stated: false });
    expect(expectedIntervalOf({ ...sensor, expectedIntervalSeconds: 900 })).toEqual({ seconds: 900, stated: true });
  });

  it.each<[string, NodataRule, { ms: number; stated: boolean } | undefined, boolean, number]>([
    ['a connected device with no stated interval: after', withIntervals, { ms: 300_000, stated: false }, false, 60_000],
    ['a device that left cleanly: two of its kind\'s intervals', withIntervals, { ms: 300_000, stated: false }, true, 600_000],
    ['a stated interval, connected or not', withIntervals, { ms: 10_000, stated: true }, false, 20_000],
    ['a rule without intervals: after, always', plain, { ms: 300_000, stated: true }, true, 60_000],
    ['an unknown device: after', withIntervals, undefined, true, 60_000],
  ])('%s', (_name, rule, interval, left, allowed) => {
    expect(silenceAllowed(rule, interval, left)).toBe(allowed);
    expect(elapseNodata(rule, undefined, 0, allowed - 1, interval, left)).toBeUndefined();
    expect(elapseNodata(rule, undefined, 0, allowed, interval, left)?.state).toEqual({ phase: 'offline', since: allowed, cause: 'silent' });
  });

  it('takes a clean leave as a sign of life, and an offline status as evidence', () => {
    expect(evaluateNodata(undefined, 'left', 0)).toBeUndefined();
    expect(evaluateNodata(undefined, 'offline', 0)?.transition).toBe('firing');
    expect(evaluateNodata({ phase: 'offline', since: 0, cause: 'silent' }, 'left', 5)?.transition).toBe('resolved');
  });
});
