import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { startBroker, MqttAccounts, type Broker } from '../broker/index.ts';
import { silentLogger } from '../core/index.ts';
import { connectMqtt, eventually, run } from './support/net.ts';

/** A line a foreign subscriber printed, and when it arrived. */
interface Line {
  text: string;
  at: number;
}

/** Debian's mosquitto_sub as an outside observer, printing `retain topic payload` per message. */
function watch(port: number, topics: string[]): { child: ChildProcess; lines: Line[] } {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-u', 'soc', '-P', 'admin-pass-1', '-q', '1', '-F', '%r %t %p'];
  for (const t of topics) args.push('-t', t);
  const child = spawn('mosquitto_sub', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines: Line[] = [];
  let rest = '';
  child.stdout?.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const text of parts) lines.push({ text, at: Date.now() });
  });
  return { child, lines };
}

const lastWill = { topic: 'devices/s-a01-ft/status', payload: Buffer.from('offline'), qos: 1 as const, retain: true };

describe('broker: presence as the retained devices/{id}/status', () => {
  let broker: Broker;
  let observer: { child: ChildProcess; lines: Line[] };
  const presence: string[] = [];

  beforeAll(async () => {
    const accounts = new MqttAccounts();
    await accounts.setDevicePassword('s-a01-ft', 'sensor-pass-1');
    await accounts.setAdmin('soc', 'admin-pass-1');
    broker = await startBroker({ mqtt: { host: '127.0.0.1', port: 0, persistence: 'memory' }, accounts, logger: silentLogger, onClient: (c) => presence.push(`${c.username}:${c.status}${c.left ? ':left' : ''}`) });
    observer = watch(broker.port, ['devices/+/status', 'devices/+/telemetry']);
  });
  afterAll(async () => {
    observer?.child.kill('SIGTERM');
    await broker?.close();
  });

  const statusLines = (from: number): string[] => observer.lines.slice(from).map((l) => l.text.replace(/^[01] /, '')).filter((t) => t.includes('/status'));
  const online = async (clientId: string): Promise<MqttClient> => {
    const from = observer.lines.length;
    const device = await connectMqtt(broker.port, { username: 's-a01-ft', password: 'sensor-pass-1', clientId, will: lastWill });
    await eventually(() => statusLines(from).find((t) => t === 'devices/s-a01-ft/status online'), 5000);
    return device;
  };

  it('says offline within a second when a device with a last will drops without a word', async () => {
    const device = await online('s-a01-ft');
    const from = observer.lines.length;
    const droppedAt = Date.now();
    (device.stream as Socket).destroy();
    const line = await eventually(() => observer.lines.slice(from).find((l) => l.text.endsWith('devices/s-a01-ft/status offline')), 5000);
    expect(line.at - droppedAt).toBeLessThan(1000);
    device.end(true);
  });

  it('keeps the status retained for a subscriber that comes later', async () => {
    const r = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-u', 'soc', '-P', 'admin-pass-1', '-t', 'devices/s-a01-ft/status', '-C', '1', '-W', '5', '-F', '%r %t %p']);
    expect(r.stdout.trim()).toBe('1 devices/s-a01-ft/status offline');
  });

  it('does not say offline on a clean disconnect (the device chose to leave), and forgets its retained "online"', async () => {
    const device = await online('s-a01-ft');
    const from = observer.lines.length;
    await device.endAsync();
    await eventually(() => (presence.at(-1) === 's-a01-ft:offline:left' ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    expect(statusLines(from)).toEqual([]);
    // Nothing retained to mislead a later subscriber, or a restart into calling it offline.
    const r = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-u', 'soc', '-P', 'admin-pass-1', '-t', 'devices/s-a01-ft/status', '-C', '1', '-W', '2']);
    expect(r.stdout.trim()).toBe('');
  });

  it('does not call a device offline when its client id connects again and takes the session over', async () => {
    const first = await online('s-a01-ft');
    first.on('error', () => undefined);
    const from = observer.lines.length;
    const second = await connectMqtt(broker.port, { username: 's-a01-ft', password: 'sensor-pass-1', clientId: 's-a01-ft', will: lastWill });
    await second.publishAsync('devices/s-a01-ft/telemetry', '{"temperature": 21}', { qos: 1 });
    await eventually(() => observer.lines.slice(from).find((l) => l.text.endsWith('{"temperature": 21}')), 5000);
    // Neither the old connection's last will nor the broker said offline; the device is there.
    expect(statusLines(from)).not.toContain('devices/s-a01-ft/status offline');
    const r = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-u', 'soc', '-P', 'admin-pass-1', '-t', 'devices/s-a01-ft/status', '-C', '1', '-W', '5']);
    expect(r.stdout.trim()).toBe('online');
    await second.endAsync();
    first.end(true);
  });
});
