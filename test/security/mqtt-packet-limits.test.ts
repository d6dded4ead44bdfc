import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { startBroker, MqttAccounts, type Broker } from '../../broker/index.ts';
import { silentLogger, type SecurityEvent } from '../../core/index.ts';
import { connectMqtt, eventually } from '../support/net.ts';

// Issue 12.6: a CONNECT declaring 200 MB was buffered whole before the password was looked at
// (3 connections took the process from 441 to 864 MB). The broker now judges every packet on the
// remaining length its fixed header declares [MQTT-2.2.3], before reading the body.

const MB = 1024 * 1024;

/** MQTT's variable-length integer [MQTT-2.2.3]. */
function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** The start of a CONNECT (MQTT 3.1.1) whose fixed header declares `declared` bytes to follow. */
function connectHead(declared: number): Buffer {
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, 0, 60]); // "MQTT", level 4, user+password+clean, keep alive 60
  return Buffer.concat([Buffer.from([0x10]), remainingLength(declared), variable]);
}

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with the milliseconds until the broker closed the socket. */
function closed(s: Socket): Promise<number> {
  const from = Date.now();
  return new Promise((resolve) => {
    if (s.destroyed) return resolve(0);
    s.on('error', () => undefined);
    s.once('close', () => resolve(Date.now() - from));
  });
}

/** Writes up to `max` bytes as fast as the socket takes them (honouring backpressure); answers how many were taken before it closed. */
async function stream(s: Socket, max: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  let open = true;
  s.once('close', () => (open = false));
  while (open && sent < max) {
    const more = s.write(chunk);
    sent += chunk.length;
    if (!more) await new Promise<void>((resolve) => {
      const done = (): void => {
        s.off('drain', done);
        s.off('close', done);
        resolve();
      };
      s.once('drain', done);
      s.once('close', done);
    });
  }
  return sent;
}

describe('MQTT packet limits before and after login (issue 12.6)', () => {
  let broker: Broker;
  const events: SecurityEvent[] = [];
  const sockets: Socket[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const accounts = new MqttAccounts();
    await accounts.setDevicePassword('s-1', 'device-pass-1');
    await accounts.setAdmin('soc', 'admin-pass-1');
    broker = await startBroker({
      mqtt: { host: '127.0.0.1', port: 0, persistence: 'memory', connectTimeoutSeconds: 1, connectionRate: { max: 0, windowSeconds: 10 } },
      accounts, logger: silentLogger, onSecurityEvent: (e) => events.push(e),
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    for (const c of clients) c.end(true);
    await broker?.close();
  });

  it('closes at once a connection whose CONNECT declares 200 MB, before the body is read', async () => {
    const s = await rawSocket(broker.port);
    sockets.push(s);
    const gone = closed(s);
    s.write(Buffer.concat([connectHead(200 * MB), Buffer.from('a few bytes')]));
    // At once: not after the 1 s CONNECT timeout, and without waiting for the 200 MB.
    expect(await gone).toBeLessThan(500);
    expect(broker.refusals.get('packet_too_large')).toBe(1);
    expect(events.find((e) => e.type === 'packet_too_large')).toMatchObject({ source: '127.0.0.1' });
  });

  it('holds the process memory flat while 3 connections each try to send a 200 MB CONNECT', async () => {
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    const attackers = await Promise.all([0, 1, 2].map(() => rawSocket(broker.port)));
    sockets.push(...attackers);
    const taken = await Promise.all(attackers.map(async (s) => {
      s.on('error', () => undefined);
      s.write(connectHead(200 * MB));
      return stream(s, 100 * MB);
    }));
    const grown = (process.memoryUsage().rss - before) / MB;
    // Unfixed, the broker read (and kept) every byte: about 300 MB here.
    for (const n of taken) expect(n).toBeLessThan(16 * MB);
    expect(grown).toBeLessThan(24);
    expect(broker.connectedClients).toBe(0);
  });

  it('refuses a client id over 256 bytes (identifier rejected), and takes one of 256', async () => {
    await expect(connectMqtt(broker.port, { username: 's-1', password: 'device-pass-1', clientId: `s-1-${'x'.repeat(300)}` })).rejects.toThrow(/Identifier rejected/i);
    expect(broker.refusals.get('client_id_too_long')).toBe(1);
    const ok = await connectMqtt(broker.port, { username: 's-1', password: 'device-pass-1', clientId: `s-1-${'x'.repeat(252)}` });
    await ok.endAsync();
  });

  it('closes a connection that sends nothing within the CONNECT timeout', async () => {
    const s = await rawSocket(broker.port);
    sockets.push(s);
    const ms = await closed(s);
    expect(ms).toBeGreaterThan(500);
    expect(ms).toBeLessThan(3000);
  });

  it('still carries a 100 KiB payload (under the 256 KiB limit) from a logged-in device', async () => {
    const watcher = await connectMqtt(broker.port, { username: 'soc', password: 'admin-pass-1', clientId: 'soc-watch' });
    clients.push(watcher);
    await watcher.subscribeAsync('devices/s-1/telemetry', { qos: 1 });
    const got = new Promise<Buffer>((resolve) => watcher.on('message', (_t, payload) => resolve(payload)));
    const device = await connectMqtt(broker.port, { username: 's-1', password: 'device-pass-1', clientId: 's-1-big' });
    clients.push(device);
    const payload = Buffer.from(JSON.stringify({ metrics: { blob: 1 }, pad: 'p'.repeat(100 * 1024) }));
    await device.publishAsync('devices/s-1/telemetry', payload, { qos: 1 });
    expect((await got).length).toBe(payload.length);
    expect(device.connected).toBe(true);
  });

  it('closes a logged-in connection whose PUBLISH declares far more than the payload limit, unread', async () => {
    const device = await connectMqtt(broker.port, { username: 's-1', password: 'device-pass-1', clientId: 's-1-huge' });
    clients.push(device);
    const socket = (device as unknown as { stream: Socket }).stream;
    const gone = closed(socket);
    const topic = Buffer.from('devices/s-1/telemetry');
    socket.write(Buffer.concat([Buffer.from([0x30]), remainingLength(50 * MB), Buffer.from([0, topic.length]), topic, Buffer.from('{"a":')]));
    expect(await gone).toBeLessThan(500);
    await eventually(() => broker.refusals.get('payload_too_large'));
  });
});
