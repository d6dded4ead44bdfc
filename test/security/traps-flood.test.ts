/*
 * Issue 12, "also weak": a trap flood made one security event per datagram (5,000 traps, 4,368 events)
 * and could push real evidence out of the bounded history; garbage datagrams raised nothing. Now a few
 * events per source at once, then one summary per window with the count; garbage is a security event too.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrapReceiver, type Accumulator } from '../../collectors/index.ts';
import { silentLogger, type SecurityEvent } from '../../core/index.ts';
import { connectMqtt, eventually, run } from '../support/net.ts';
import { api, login, startProduct, type LoggedIn, type StartedProduct } from '../support/start-product.ts';

/** One real SNMPv2c trap as Debian's snmptrap encodes it, with a community nobody accepts. */
async function captureSnmptrap(community: string): Promise<Buffer> {
  const sink = createSocket('udp4');
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', () => resolve()));
  const got = new Promise<Buffer>((resolve) => sink.once('message', (m) => resolve(m)));
  const r = await run('snmptrap', ['-v', '2c', '-c', community, `127.0.0.1:${sink.address().port}`, '', '1.3.6.1.6.3.1.1.5.3', '1.3.6.1.2.1.2.2.1.1.1', 'i', '1']);
  expect(r.code, r.stderr).toBe(0);
  const datagram = await got;
  sink.close();
  return datagram;
}

/** Sends datagrams to a port in bursts, yielding between them so the receiver keeps up (loopback UDP drops otherwise). */
async function blast(socket: Socket, port: number, datagrams: readonly Buffer[]): Promise<void> {
  for (let i = 0; i < datagrams.length; i++) {
    await new Promise<void>((resolve, reject) => socket.send(datagrams[i] as Buffer, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until a counter stops moving (every datagram still in the socket buffer handled). */
async function settled(read: () => number): Promise<number> {
  let last = -1;
  return eventually(async () => {
    const now = read();
    const done = now === last && now > 0;
    last = now;
    await new Promise((r) => setTimeout(r, 200));
    return done ? now : undefined;
  }, 15_000, 0);
}

const GARBAGE = [Buffer.from('30820fff0201deadbeef', 'hex'), Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.alloc(64, 0xff)];

describe('trap receiver: a flood is coalesced per source and window', () => {
  it('passes 5 refusals per source at once, then sends one summary per window with the count', async () => {
    const seen: SecurityEvent[] = [];
    const acc: Accumulator = { telemetry: () => undefined, status: () => undefined, event: () => undefined };
    const rx = new TrapReceiver({
      port: 0,
      devices: () => [{ id: 'sw-1', kind: 'switch', location: { site: 'dc1' }, parents: [], labels: {}, snmp: { host: '127.0.0.1', port: 161, version: '2c', community: 'right-one', intervalSeconds: 60 } }],
      accumulator: acc,
      onSecurityEvent: (e) => seen.push(e),
      logger: silentLogger,
      flood: { windowMs: 1500 },
    });
    await rx.start();
    const socket = createSocket('udp4');
    try {
      const wrong = await captureSnmptrap('guess-me');
      await blast(socket, rx.port, [...Array.from({ length: 600 }, () => wrong), ...Array.from({ length: 300 }, (_v, i) => GARBAGE[i % GARBAGE.length] as Buffer)]);
      await settled(() => rx.stats.refused);
      expect(rx.stats.malformed).toBeGreaterThan(50);
      expect(rx.stats.refused - rx.stats.malformed).toBeGreaterThan(100);
      const of = (type: string) => seen.filter((e) => e.type === type);
      // Before the window ends: the first five of each kind, nothing more.
      expect(of('snmp_bad_community').length).toBe(5);
      expect(of('snmp_malformed').length).toBe(5);
      expect(of('snmp_malformed')[0]).toMatchObject({ origin: 'snmp', source: '127.0.0.1' });
      // Then one summary each, whose counts and the five add up to every refusal.
      const summaries = await eventually(() => {
        const s = seen.filter((e) => /more like this/.test(e.detail ?? ''));
        return s.length >= 2 ? s : undefined;
      }, 10_000, 50);
      expect(summaries.map((e) => e.type).sort()).toEqual(['snmp_bad_community', 'snmp_malformed']);
      const counted = summaries.reduce((n, e) => n + Number(/^(\d+) more like this from 127\.0\.0\.1 in the last \d+ s/.exec(e.detail ?? '')?.[1]), 0);
      expect(counted + 10).toBe(rx.stats.refused);
      const countOf = (type: string) => Number(/^(\d+)/.exec(summaries.find((e) => e.type === type)?.detail ?? '')?.[1]);
      expect(5 + countOf('snmp_malformed')).toBe(rx.stats.malformed);
      expect(JSON.stringify(seen)).not.toContain('guess-me');

      // A quiet window closes the flood: the next refusal goes out at once again.
      const before = seen.length;
      await new Promise((r) => setTimeout(r, 3500));
      expect(seen.length).toBe(before);
      await blast(socket, rx.port, [wrong]);
      await eventually(() => (seen.length > before ? true : undefined), 5000);
      expect(seen.at(-1)).toMatchObject({ type: 'snmp_bad_community', detail: expect.not.stringMatching(/more like this/) });
    } finally {
      socket.close();
      await rx.stop();
    }
  }, 40_000);

  it('treats a trap port already taken as its own fault, logged, not as a malformed datagram from anyone', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', () => resolve()));
    const seen: SecurityEvent[] = [];
    const warned: string[] = [];
    const logger = { ...silentLogger, warn: (o: unknown, m?: string) => void warned.push(`${m ?? ''} ${JSON.stringify(o)}`) } as unknown as typeof silentLogger;
    const rx = new TrapReceiver({
      port: taken.address().port, devices: () => [], onSecurityEvent: (e) => seen.push(e), logger,
      accumulator: { telemetry: () => undefined, status: () => undefined, event: () => undefined },
    });
    try {
      await expect(rx.start()).rejects.toThrow(/EADDRINUSE/);
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([]);
      expect(rx.stats.malformed).toBe(0);
    } finally {
      await rx.stop().catch(() => undefined);
      taken.close();
    }
  });
});

describe('the product under a trap flood: snmptrap with a wrong community and raw garbage', () => {
  let product: StartedProduct;
  let admin: LoggedIn;

  beforeAll(async () => {
    product = await startProduct();
    admin = await login(product.base);
  }, 60_000);
  afterAll(() => product?.app.stop());

  it('keeps a handful of events out of 5,000 bad traps and 1,000 garbage datagrams, and keeps the real evidence', async () => {
    const trapPort = product.app.snmp.traps?.port as number;
    expect(trapPort).toBeGreaterThan(0);
    // Real evidence first: a failed MQTT login the SOC must still find after the flood.
    await expect(connectMqtt(product.app.mqttPort, { username: 'flood-cover', password: 'guess' })).rejects.toThrow();
    const securityEvents = async (): Promise<SecurityEvent[]> => (await api(product.base, admin, '/api/v1/security-events')).body as SecurityEvent[];
    await eventually(async () => ((await securityEvents()).some((e) => e.username === 'flood-cover') ? true : undefined), 10_000);

    // A few traps sent by snmptrap itself, then the same datagram 5,000 times, then garbage.
    for (let i = 0; i < 8; i++) expect((await run('snmptrap', ['-v', '2c', '-c', `wrong-${i}`, `127.0.0.1:${trapPort}`, '', '1.3.6.1.6.3.1.1.5.1'])).code).toBe(0);
    const wrong = await captureSnmptrap('public');
    const socket = createSocket('udp4');
    try {
      await blast(socket, trapPort, [...Array.from({ length: 5000 }, () => wrong), ...Array.from({ length: 1000 }, (_v, i) => GARBAGE[i % GARBAGE.length] as Buffer)]);
    } finally {
      socket.close();
    }
    const traps = product.app.snmp.traps as TrapReceiver;
    await settled(() => traps.stats.refused);
    expect(traps.stats.malformed).toBeGreaterThan(100);
    expect(traps.stats.refused - traps.stats.malformed).toBeGreaterThan(1000);

    const events = await eventually(async () => {
      const all = await securityEvents();
      return all.some((e) => e.type === 'snmp_malformed') ? all : undefined;
    }, 10_000);
    const snmp = events.filter((e) => e.origin === 'snmp');
    expect(snmp.filter((e) => e.type === 'snmp_bad_community').length).toBe(5);
    expect(snmp.filter((e) => e.type === 'snmp_malformed').length).toBe(5);
    expect(snmp.every((e) => e.source === '127.0.0.1')).toBe(true);
    expect(events.some((e) => e.username === 'flood-cover')).toBe(true);
    // Still serving.
    expect((await api(product.base, admin, '/api/v1/auth/me')).status).toBe(200);
  }, 60_000);
});
