import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startBroker, MqttAccounts, mayPublish, maySubscribe, type Broker, type MqttAccount } from '../broker/index.ts';
import { silentLogger } from '../core/index.ts';
import { connectMqtt, eventually } from './support/net.ts';

const kinds: Record<string, string> = { 'ups-1': 'ups', 'ups-2': 'ups', 'pdu-1': 'pdu', 's-1': 'sensor', 's-2': 'sensor' };
const kindOf = (id: string): string | undefined => kinds[id];

const device: MqttAccount = { username: 's-1', hash: '', role: 'device' };
const byList: MqttAccount = { username: 'poller', hash: '', role: 'collector', devices: ['pdu-1'] };
const byKind: MqttAccount = { username: 'ups-poller', hash: '', role: 'collector', devices: [], kinds: ['ups'] };
const admin: MqttAccount = { username: 'soc', hash: '', role: 'admin' };

describe('ACL matrix (pure)', () => {
  it.each([
    [device, 'devices/s-1/telemetry', true],
    [device, 'devices/s-1/events', true],
    [device, 'devices/s-1/status', true],
    [device, 'devices/s-1/commands/reboot/result', true],
    [device, 'devices/s-1/commands/reboot', false],
    [device, 'devices/s-2/telemetry', false],
    [device, 'devices/s-1/other', false],
    [device, '$SYS/x', false],
    [device, 'alerts/a1', false],
    [byList, 'devices/pdu-1/telemetry', true],
    [byList, 'devices/ups-1/telemetry', false],
    [byKind, 'devices/ups-2/telemetry', true],
    [byKind, 'devices/pdu-1/telemetry', false],
    [byKind, 'devices/unknown/telemetry', false],
    [admin, 'devices/s-1/telemetry', false],
  ])('publish %o to %s: %s', (account, topic, allowed) => {
    expect(mayPublish(account, topic, kindOf)).toBe(allowed);
  });

  it.each([
    [device, 'devices/s-1/commands/#', true],
    [device, 'devices/s-1/commands/+', true],
    [device, 'devices/s-1/commands/reboot', true],
    [device, 'devices/s-2/commands/#', false],
    [device, 'devices/+/commands/#', false],
    [device, 'devices/#', false],
    [device, '#', false],
    [device, '+/s-1/commands/#', false],
    [device, '$SYS/#', false],
    [byList, 'devices/pdu-1/commands/#', true],
    [byList, 'devices/+/commands/#', false],
    [byKind, 'devices/ups-1/commands/#', true],
    [byKind, 'devices/s-1/commands/#', false],
    [admin, '$SYS/#', true],
    [admin, 'devices/#', true],
    [admin, '#', true],
    [admin, '$share/x/devices/#', false],
  ])('subscribe %o to %s: %s', (account, filter, allowed) => {
    expect(maySubscribe(account, filter, kindOf)).toBe(allowed);
  });
});

describe('ACL matrix over real sockets', () => {
  let broker: Broker;
  const clients: MqttClient[] = [];
  const received: string[] = [];

  beforeAll(async () => {
    const accounts = new MqttAccounts();
    await accounts.setDevicePassword('s-1', 'device-pass-1');
    await accounts.setCollector('ups-poller', 'collector-pass', [], ['ups']);
    await accounts.setAdmin('soc', 'admin-pass-1');
    broker = await startBroker({ mqtt: { host: '127.0.0.1', port: 0, maxPayloadBytes: 1024, denials: { max: 100, windowSeconds: 60, banSeconds: 60, slowdownMs: 0 } }, accounts, logger: silentLogger, kindOf });
    await new Promise<void>((resolve) => broker.aedes.subscribe('devices/#', (p, done) => { received.push(`${p.topic} ${p.payload.toString()}`); done(); }, resolve));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker.close();
  });

  const as = async (username: string, password: string): Promise<MqttClient> => {
    const c = await connectMqtt(broker.port, { username, password, clientId: `${username}-${clients.length}` });
    clients.push(c);
    return c;
  };
  /** The granted QoS, or 128 for a SUBACK failure. */
  const subscribe = async (c: MqttClient, filter: string): Promise<number> => {
    try {
      return (await c.subscribeAsync(filter, { qos: 1 }))[0]?.qos ?? -1;
    } catch {
      return 128;
    }
  };

  it('a device: own topics yes, other devices, wildcards and $SYS no', async () => {
    const c = await as('s-1', 'device-pass-1');
    expect(await subscribe(c, 'devices/s-1/commands/#')).toBe(1);
    expect(await subscribe(c, 'devices/s-2/commands/#')).toBe(128);
    expect(await subscribe(c, 'devices/+/commands/#')).toBe(128);
    expect(await subscribe(c, '#')).toBe(128);
    expect(await subscribe(c, '$SYS/#')).toBe(128);
    await c.publishAsync('devices/s-2/telemetry', 'other', { qos: 1 });
    await c.publishAsync('devices/s-1/telemetry', 'own', { qos: 1 });
    await eventually(() => received.find((m) => m === 'devices/s-1/telemetry own'));
    expect(received).not.toContain('devices/s-2/telemetry other');
  });

  it('a collector granted a kind publishes for every device of that kind and no other', async () => {
    const c = await as('ups-poller', 'collector-pass');
    await c.publishAsync('devices/pdu-1/telemetry', 'pdu', { qos: 1 });
    await c.publishAsync('devices/ups-2/telemetry', 'ups', { qos: 1 });
    await eventually(() => received.find((m) => m === 'devices/ups-2/telemetry ups'));
    expect(received).not.toContain('devices/pdu-1/telemetry pdu');
    expect(await subscribe(c, 'devices/ups-1/commands/#')).toBe(1);
    expect(await subscribe(c, 'devices/pdu-1/commands/#')).toBe(128);
  });

  it('an admin reads $SYS and every device topic, and publishes nothing', async () => {
    const c = await as('soc', 'admin-pass-1');
    expect(await subscribe(c, '$SYS/#')).toBe(1);
    expect(await subscribe(c, 'devices/#')).toBe(1);
    // Only the device's announcement: aedes also announces the admin's own SUBSCRIBE on $SYS, after the SUBACK, so it may come first.
    const sys = new Promise<string>((resolve) => c.on('message', (topic) => topic.startsWith('$SYS/') && topic.endsWith('/new/clients') && resolve(topic)));
    const seen = new Promise<string>((resolve) => c.on('message', (topic, payload) => topic === 'devices/s-1/telemetry' && resolve(payload.toString())));
    const d = await as('s-1', 'device-pass-1'); // aedes announces it on $SYS/{id}/new/clients
    expect(await sys).toMatch(/^\$SYS\/.+\/new\/clients$/);
    await d.publishAsync('devices/s-1/telemetry', 'watched', { qos: 1 });
    expect(await seen).toBe('watched');
    await c.publishAsync('devices/s-1/telemetry', 'forged', { qos: 1 });
    expect(broker.refusals.get('topic_denied')).toBeGreaterThanOrEqual(3);
    expect(received).not.toContain('devices/s-1/telemetry forged');
  });
});
