import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, MqttAccounts, type Broker } from '../broker/index.ts';
import { silentLogger, type SecurityEvent } from '../core/index.ts';
import { connectMqtt, eventually, run } from './support/net.ts';

describe('broker: the front door', () => {
  let broker: Broker;
  let accounts: MqttAccounts;
  const received: { topic: string; payload: string }[] = [];
  const security: SecurityEvent[] = [];
  const presence: string[] = [];

  beforeAll(async () => {
    accounts = new MqttAccounts(join(mkdtempSync(join(tmpdir(), 'wf-broker-')), 'mqtt-accounts.json'));
    await accounts.setDevicePassword('s-a01-ft', 'sensor-pass-1');
    await accounts.setCollector('poller', 'poller-pass-1', ['ups-1']);
    broker = await startBroker({
      mqtt: { host: '127.0.0.1', port: 0, maxPayloadBytes: 1024 },
      accounts,
      logger: silentLogger,
      onSecurityEvent: (e) => security.push(e),
      onClient: (c) => presence.push(`${c.username}:${c.status}`),
    });
    await new Promise<void>((resolve) =>
      broker.aedes.subscribe('devices/#', (packet, done) => {
        received.push({ topic: packet.topic, payload: packet.payload.toString() });
        done();
      }, resolve),
    );
  });
  afterAll(() => broker.close());

  it('refuses anonymous clients with CONNACK "not authorized"', async () => {
    await expect(connectMqtt(broker.port)).rejects.toThrow(/Not authorized/i);
    expect(broker.refusals.get('anonymous')).toBe(1);
  });

  it('refuses a wrong password and says so as a security event with the username', async () => {
    await expect(connectMqtt(broker.port, { username: 's-a01-ft', password: 'nope' })).rejects.toThrow(/Bad username or password/i);
    expect(security.at(-1)).toMatchObject({ type: 'bad_credentials', username: 's-a01-ft', source: '127.0.0.1' });
  });

  it('keeps credentials hashed on disk', async () => {
    const again = new MqttAccounts(join(tmpdir(), 'nothing-here.json'));
    expect(again.get('s-a01-ft')).toBeUndefined();
    const account = accounts.get('s-a01-ft');
    expect(account?.hash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(account)).not.toContain('sensor-pass-1');
  });

  it('lets a device publish under its own id, and marks it online and offline with the connection', async () => {
    const client = await connectMqtt(broker.port, { username: 's-a01-ft', password: 'sensor-pass-1' });
    await client.publishAsync('devices/s-a01-ft/telemetry', '{"temperature": 22.5}', { qos: 1 });
    await eventually(() => received.find((m) => m.topic === 'devices/s-a01-ft/telemetry'));
    expect(presence).toContain('s-a01-ft:online');
    await client.endAsync();
    await eventually(() => (presence.at(-1) === 's-a01-ft:offline' ? true : undefined));
  });

  it("acknowledges and drops a publish under another device's id, keeps the connection, and reports it", async () => {
    const client = await connectMqtt(broker.port, { username: 's-a01-ft', password: 'sensor-pass-1' });
    let closed = false;
    client.once('close', () => (closed = true));
    // QoS 1: the PUBACK comes back [MQTT-3.3.5-2], so the client has nothing to resend.
    await client.publishAsync('devices/s-a02-ft/telemetry', '{"temperature": 99}', { qos: 1 });
    await client.publishAsync('devices/s-a01-ft/telemetry', '{"temperature": 23}', { qos: 1 });
    await eventually(() => received.find((m) => m.payload === '{"temperature": 23}'));
    expect(closed).toBe(false);
    expect(received.find((m) => m.topic === 'devices/s-a02-ft/telemetry')).toBeUndefined();
    expect(security.find((e) => e.type === 'topic_denied')).toMatchObject({ username: 's-a01-ft', topic: 'devices/s-a02-ft/telemetry', source: '127.0.0.1' });
    await client.endAsync();
  });

  it('refuses payloads over the size limit without passing them on', async () => {
    const client = await connectMqtt(broker.port, { username: 's-a01-ft', password: 'sensor-pass-1' });
    await client.publishAsync('devices/s-a01-ft/events', JSON.stringify({ type: 'x', attributes: { blob: 'x'.repeat(2000) } }), { qos: 1 });
    await client.endAsync();
    expect(broker.refusals.get('payload_too_large')).toBe(1);
    expect(received.find((m) => m.topic === 'devices/s-a01-ft/events')).toBeUndefined();
  });

  it('lets a collector publish only for the devices it owns', async () => {
    const client = await connectMqtt(broker.port, { username: 'poller', password: 'poller-pass-1' });
    await client.publishAsync('devices/ups-1/telemetry', '{"load_pct": 41}', { qos: 1 });
    await eventually(() => received.find((m) => m.topic === 'devices/ups-1/telemetry'));
    await client.publishAsync('devices/pdu-9/telemetry', '{"power_kw": 1}', { qos: 1 });
    await client.endAsync();
    expect(received.find((m) => m.topic === 'devices/pdu-9/telemetry')).toBeUndefined();
    expect(security.find((e) => e.type === 'topic_denied' && e.username === 'poller')).toMatchObject({ topic: 'devices/pdu-9/telemetry' });
  });

  it('answers a subscription outside the device\'s own commands with a SUBACK failure, not a hang', async () => {
    const client = await connectMqtt(broker.port, { username: 's-a01-ft', password: 'sensor-pass-1' });
    // The mqtt client turns a SUBACK return code of 0x80 into a rejected subscribe.
    await expect(client.subscribeAsync('devices/#')).rejects.toThrow(/Subscribe error/);
    expect(security.find((e) => e.type === 'subscribe_denied')).toMatchObject({ topic: 'devices/#', username: 's-a01-ft' });
    const own = await client.subscribeAsync('devices/s-a01-ft/commands/#');
    expect(own[0]?.qos).toBe(0);
    await client.endAsync();
  });

  it('accepts mosquitto_pub as a foreign client and refuses it with a wrong password', async () => {
    const ok = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-u', 's-a01-ft', '-P', 'sensor-pass-1', '-t', 'devices/s-a01-ft/telemetry', '-m', '{"humidity": 44}', '-q', '1']);
    expect(ok.code).toBe(0);
    await eventually(() => received.find((m) => m.payload === '{"humidity": 44}'));
    const bad = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-u', 's-a01-ft', '-P', 'wrong', '-t', 'devices/s-a01-ft/telemetry', '-m', '{"humidity": 45}', '-q', '1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/not authori[sz]ed|bad user name or password|Connection Refused/i);
    expect(received.find((m) => m.payload === '{"humidity": 45}')).toBeUndefined();
  });
});
