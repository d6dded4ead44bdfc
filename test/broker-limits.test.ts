import { afterEach, describe, expect, it } from 'vitest';
import { connect as tcpConnect, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { startBroker, MqttAccounts, type Broker, type BrokerOptions } from '../broker/index.ts';
import { silentLogger, type SecurityEvent } from '../core/index.ts';
import { connectMqtt, eventually } from './support/net.ts';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
});

async function brokerWith(mqttOptions: BrokerOptions['mqtt']): Promise<{ broker: Broker; events: SecurityEvent[] }> {
  const accounts = new MqttAccounts();
  await accounts.setDevicePassword('s-1', 'device-pass-1');
  await accounts.setDevicePassword('s-2', 'device-pass-2');
  const events: SecurityEvent[] = [];
  const broker = await startBroker({ mqtt: { ...mqttOptions, host: '127.0.0.1', port: 0 }, accounts, logger: silentLogger, onSecurityEvent: (e) => events.push(e) });
  stops.push(() => broker.close());
  return { broker, events };
}

const device = (n: 1 | 2, extra: mqtt.IClientOptions = {}): mqtt.IClientOptions => ({ username: `s-${n}`, password: `device-pass-${n}`, clientId: `s-${n}-test`, ...extra });

/** Resolves when the broker closes a fresh TCP connection before any MQTT (the front door said no). */
async function closedAtDoor(port: number): Promise<boolean> {
  const s = await rawSocket(port);
  await new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));
  return true;
}

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
    stops.push(async () => s.destroy());
  });
}

describe('broker limits and lockouts', () => {
  it('locks a source out after N failed logins in the window, even for the right password, and says so', async () => {
    const { broker, events } = await brokerWith({ bruteForce: { failures: 3, windowSeconds: 60, lockoutSeconds: 60 } });
    for (let i = 0; i < 3; i++) {
      await expect(connectMqtt(broker.port, { username: 's-1', password: `guess-${i}` })).rejects.toThrow(/Bad username or password/i);
    }
    expect(events.filter((e) => e.type === 'bad_credentials')).toHaveLength(3);
    expect(events.find((e) => e.type === 'brute_force_lockout')).toMatchObject({ source: '127.0.0.1', username: 's-1' });
    await expect(connectMqtt(broker.port, device(1))).rejects.toThrow(/Not authorized/i);
    expect(broker.refusals.get('locked_out')).toBe(1);
    // Wrong passwords are never in an event.
    expect(JSON.stringify(events)).not.toContain('guess-');
  });

  it('turns a QoS 1 device that keeps publishing where it may not into a ban, not a reconnect storm', async () => {
    const { broker, events } = await brokerWith({ denials: { max: 5, windowSeconds: 60, banSeconds: 60, slowdownMs: 10 } });
    const client = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, { ...device(1), reconnectPeriod: 100, connectTimeout: 2000 });
    stops.push(() => client.endAsync(true));
    let connects = 0;
    client.on('connect', () => connects++);
    client.on('error', () => undefined);
    await eventually(() => (connects > 0 ? true : undefined));
    // Each denied QoS 1 publish is acknowledged (nothing to resend), a little later each time.
    for (let i = 0; i < 4; i++) await client.publishAsync('devices/s-2/telemetry', `{"n": ${i}}`, { qos: 1 });
    expect(connects).toBe(1);
    client.publish('devices/s-2/telemetry', '{"n": 4}', { qos: 1 });
    await eventually(() => events.find((e) => e.type === 'denial_ban'), 10_000);
    expect(events.find((e) => e.type === 'denial_ban')).toMatchObject({ username: 's-1', source: '127.0.0.1' });
    // The ban holds: its reconnects are refused at CONNECT, cheaply (no password check), and counted.
    await eventually(() => broker.refusals.get('banned'), 10_000);
    await expect(connectMqtt(broker.port, device(1, { clientId: 's-1-again' }))).rejects.toThrow(/Not authorized/i);
    expect(broker.refusals.get('banned')).toBeGreaterThanOrEqual(2);
    expect(connects).toBe(1);
    expect(broker.refusals.get('topic_denied')).toBe(5);
    expect(events.filter((e) => e.type === 'banned').length).toBe(1); // one event per flood interval, every refusal counted
    // Another identity from the same address is unaffected.
    const other = await connectMqtt(broker.port, device(2));
    await other.publishAsync('devices/s-2/telemetry', '{"ok": 1}', { qos: 1 });
    await other.endAsync();
  });

  it('refuses connections over the per-source limit and the connection rate, counting each', async () => {
    const { broker } = await brokerWith({ maxConnectionsPerSource: 2, connectionRate: { max: 4, windowSeconds: 60 } });
    const a = await connectMqtt(broker.port, device(1, { clientId: 's-1-a' }));
    const b = await connectMqtt(broker.port, device(1, { clientId: 's-1-b' }));
    stops.push(() => a.endAsync(), () => b.endAsync());
    expect(await closedAtDoor(broker.port)).toBe(true);
    expect(broker.refusals.get('too_many_connections')).toBe(1);
    await a.endAsync();
    await eventually(async () => {
      try {
        const c = await connectMqtt(broker.port, device(1, { clientId: 's-1-d', connectTimeout: 2000 }));
        await c.endAsync();
        return true;
      } catch {
        return undefined;
      }
    });
    expect(await closedAtDoor(broker.port)).toBe(true);
    expect(broker.refusals.get('connection_rate')).toBeGreaterThanOrEqual(1);
  });

  it('refuses sources outside the allowed list', async () => {
    const { broker, events } = await brokerWith({ allowedSources: ['10.0.0.0/8'] });
    expect(await closedAtDoor(broker.port)).toBe(true);
    expect(broker.refusals.get('source_not_allowed')).toBe(1);
    expect(events[0]).toMatchObject({ type: 'source_not_allowed', source: '127.0.0.1' });
  });

  it('enforces keep-alive: refuses 0 (never) and more than the maximum', async () => {
    const { broker } = await brokerWith({ maxKeepAliveSeconds: 120 });
    await expect(connectMqtt(broker.port, device(1, { keepalive: 0 }))).rejects.toThrow(/Not authorized/i);
    await expect(connectMqtt(broker.port, device(1, { keepalive: 600 }))).rejects.toThrow(/Not authorized/i);
    expect(broker.refusals.get('keepalive_refused')).toBe(2);
    const ok = await connectMqtt(broker.port, device(1, { keepalive: 60 }));
    await ok.endAsync();
  });

  it('refuses a client id held by another identity, and reports a takeover by the same one', async () => {
    const { broker, events } = await brokerWith({});
    const first = await connectMqtt(broker.port, device(1, { clientId: 'shared-id' }));
    stops.push(() => first.endAsync(true));
    await expect(connectMqtt(broker.port, device(2, { clientId: 'shared-id' }))).rejects.toThrow(/Identifier rejected/i);
    expect(events.find((e) => e.type === 'client_id_in_use')).toMatchObject({ username: 's-2', clientId: 'shared-id' });
    expect(first.connected).toBe(true);
    const again = await connectMqtt(broker.port, device(1, { clientId: 'shared-id' }));
    stops.push(() => again.endAsync(true));
    expect(events.find((e) => e.type === 'client_takeover')).toMatchObject({ username: 's-1', clientId: 'shared-id' });
    // A client id that names no device is no sign of anything by default (mqtt.strictClientId is off).
    expect(events.filter((e) => e.type === 'unknown_client_id')).toEqual([]);
  });

  it('by default takes any client id from a valid credential, and reports one that names another device', async () => {
    const { broker, events } = await brokerWith({});
    for (const clientId of ['mosq-Xk3v9QpLr2', 'paho123456789', 's-1-sensor']) {
      const c = await connectMqtt(broker.port, device(1, { clientId }));
      await c.endAsync();
    }
    expect(events).toEqual([]);
    for (const clientId of ['s-2', 's-2-boot']) {
      const c = await connectMqtt(broker.port, device(1, { clientId }));
      await c.endAsync();
    }
    expect(events.filter((e) => e.type === 'client_id_claims_device').map((e) => [e.username, e.clientId])).toEqual([['s-1', 's-2'], ['s-1', 's-2-boot']]);
    expect(events[0]?.detail).toBe('device "s-1" connected with the client id of device "s-2"');
  });

  it('with mqtt.strictClientId, refuses a device whose client id does not start with its id, and reports it', async () => {
    const { broker, events } = await brokerWith({ strictClientId: true });
    await expect(connectMqtt(broker.port, device(1, { clientId: 'mosq-Xk3v9QpLr2' }))).rejects.toThrow(/Identifier rejected/i);
    expect(broker.refusals.get('client_id_rejected')).toBe(1);
    expect(events.find((e) => e.type === 'client_id_rejected')).toMatchObject({ username: 's-1', clientId: 'mosq-Xk3v9QpLr2', source: '127.0.0.1' });
    const own = await connectMqtt(broker.port, device(1, { clientId: 's-1-sensor' }));
    await own.endAsync();
  });

  it('reports a device credential used from an address the device was never seen at', async () => {
    const { broker, events } = await brokerWith({});
    const from = (localAddress: string): Promise<mqtt.MqttClient> =>
      new Promise((resolve, reject) => {
        // Every 127/8 address is loopback on Linux: a second source without leaving the machine.
        const c = new mqtt.MqttClient(() => tcpConnect({ host: '127.0.0.1', port: broker.port, localAddress }), { ...device(1), reconnectPeriod: 0, connectTimeout: 5000 });
        c.once('connect', () => resolve(c));
        c.once('error', reject);
      });
    for (const address of ['127.0.0.1', '127.0.0.1', '127.0.0.2']) await (await from(address)).endAsync();
    const seen = events.filter((e) => e.type === 'device_new_source');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ username: 's-1', source: '127.0.0.2', detail: 'first login from 127.0.0.2; seen before from 127.0.0.1' });
  });

  it('survives bad input: wildcards in a publish topic, garbage bytes, a flood of half-open sockets', async () => {
    const { broker } = await brokerWith({});
    const bystander = await connectMqtt(broker.port, device(2));
    stops.push(() => bystander.endAsync(true));
    const bad = await connectMqtt(broker.port, device(1));
    const closed = new Promise<void>((resolve) => bad.once('close', () => resolve()));
    // mqtt.js refuses to send such a topic, so write the PUBLISH by hand: QoS 0, topic "devices/+/telemetry".
    const topic = Buffer.from('devices/+/telemetry');
    const body = Buffer.concat([Buffer.from([0, topic.length]), topic, Buffer.from('{}')]);
    (bad as unknown as { stream: Socket }).stream.write(Buffer.concat([Buffer.from([0x30, body.length]), body]));
    await closed;
    bad.end(true);
    await eventually(() => broker.refusals.get('invalid_topic'));

    // [MQTT-1.5.3-1] a topic that is not well-formed UTF-8 closes the connection too, and is counted.
    const mangled = await connectMqtt(broker.port, device(1));
    const mangledClosed = new Promise<void>((resolve) => mangled.once('close', () => resolve()));
    const utf = Buffer.concat([Buffer.from('devices/s-1/te'), Buffer.from([0xc3, 0x28]), Buffer.from('lemetry')]);
    const utfBody = Buffer.concat([Buffer.from([0, utf.length]), utf, Buffer.from('{}')]);
    (mangled as unknown as { stream: Socket }).stream.write(Buffer.concat([Buffer.from([0x30, utfBody.length]), utfBody]));
    await mangledClosed;
    mangled.end(true);
    await eventually(() => ((broker.refusals.get('invalid_topic') ?? 0) >= 2 ? true : undefined));

    const garbage = await rawSocket(broker.port);
    const gone = new Promise<void>((resolve) => garbage.once('close', () => resolve()));
    garbage.write(Buffer.from([0xf0, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]));
    await gone;
    await eventually(() => broker.refusals.get('malformed_packet'));

    await Promise.all(Array.from({ length: 50 }, () => rawSocket(broker.port)));
    await bystander.publishAsync('devices/s-2/telemetry', '{"still": 1}', { qos: 1 });
    expect(bystander.connected).toBe(true);
  });
});
