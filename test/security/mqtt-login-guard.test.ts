/*
 * Issue 12 item 3, MQTT door: the broker's password checks go through the same lock model as the
 * HTTP login and /query (core/login-guard.ts): a lock per (source, username) with backoff, the
 * account still usable from other addresses, every failure audited and raised as a security event,
 * admin and collector logins audited, and no lockout of a device that mistyped twice.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MQTT_LOGIN_LOCKS_FILE, MqttLoginGate } from '../../broker/index.ts';
import { FakeClock, silentLogger, type SecurityEvent } from '../../core/index.ts';
import { api, login, startProduct, type LoggedIn, type StartedProduct } from '../support/start-product.ts';
import { cli } from './login-peer.ts';

interface Entry {
  action: string;
  actor: string;
  target?: string;
  outcome: string;
  source?: string;
  detail?: Record<string, unknown>;
}

const ATTACKER = '127.0.0.1';
const COLLEAGUE = '127.0.0.2';
const SENSOR_HOST = '127.0.0.3';
const ADMIN = 'mqtt-ops';
const ADMIN_PASS = 'mqtt-ops-pass-1';
const DEVICE = 's-a01-ft';
const DEVICE_PASS = 'sensor-pass-1';

/** What a CONNECT got: the client (connected) or the CONNACK return code [MQTT-3.2.2.3]. */
type Outcome = { ok: true; client: mqtt.MqttClient } | { ok: false; code: number | undefined; message: string };

/** One CONNECT from `localAddress` (every 127/8 address is loopback on Linux: another source without leaving the machine). */
function connectFrom(port: number, localAddress: string, username: string, password: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const client = new mqtt.MqttClient(() => tcpConnect({ host: '127.0.0.1', port, localAddress }), {
      username, password, clientId: `${username}-${Math.random().toString(36).slice(2, 8)}`, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4,
    });
    client.once('connect', () => resolve({ ok: true, client }));
    client.once('error', (err: Error & { code?: number }) => {
      client.end(true);
      resolve({ ok: false, code: err.code, message: err.message });
    });
  });
}

async function codeOf(o: Outcome): Promise<number | 'connected'> {
  if (!o.ok) return o.code ?? -1;
  await o.client.endAsync();
  return 'connected';
}

describe('MQTT logins share the login guard: locked per (source, username), audited, raised', () => {
  let product: StartedProduct;
  let admin: LoggedIn;
  let port: number;

  beforeAll(async () => {
    product = await startProduct();
    admin = await login(product.base);
    port = product.app.mqttPort;
    await product.app.accounts.setAdmin(ADMIN, ADMIN_PASS);
    await product.app.accounts.setDevicePassword(DEVICE, DEVICE_PASS);
  }, 30_000);
  afterAll(() => product?.app.stop());

  const audit = async (): Promise<Entry[]> => (await api(product.base, admin, '/api/v1/audit?action=mqtt&limit=1000')).body as Entry[];
  const securityEvents = async (): Promise<SecurityEvent[]> => (await api(product.base, admin, '/api/v1/security-events')).body as SecurityEvent[];

  it('locks an admin account for the guessing address after 5 wrong passwords, refusing even the right one with CONNACK 5', async () => {
    const codes: (number | 'connected')[] = [];
    for (let i = 0; i < 6; i++) codes.push(await codeOf(await connectFrom(port, ATTACKER, ADMIN, `guess-${i}`)));
    // Five are checked and refused bad username or password (4); the sixth finds the pair locked (5).
    expect(codes).toEqual([4, 4, 4, 4, 4, 5]);
    const right = await connectFrom(port, ATTACKER, ADMIN, ADMIN_PASS);
    expect(right.ok).toBe(false);
    if (!right.ok) {
      expect(right.code).toBe(5);
      expect(right.message).toMatch(/Not authorized/i);
    }
  });

  it('keeps the same account usable from an address that has not failed', async () => {
    expect(await codeOf(await connectFrom(port, COLLEAGUE, ADMIN, ADMIN_PASS))).toBe('connected');
  });

  it('audits every failure with its source, the lockout and the admin login; raises bad_credentials and brute_force_lockout', async () => {
    const entries = await audit();
    const failed = entries.filter((e) => e.action === 'mqtt.login' && e.outcome === 'failed' && e.target === ADMIN);
    expect(failed).toHaveLength(5);
    for (const e of failed) expect(e).toMatchObject({ actor: '-', source: ATTACKER, detail: { reason: 'wrong password', role: 'admin' } });
    expect(entries).toEqual(expect.arrayContaining([
      expect.objectContaining({ action: 'mqtt.login', outcome: 'denied', target: ADMIN, source: ATTACKER, detail: expect.objectContaining({ reason: 'locked' }) }),
      expect.objectContaining({ action: 'mqtt.lockout', outcome: 'denied', target: ADMIN, source: ATTACKER, detail: expect.objectContaining({ scope: 'pair', strikes: 1 }) }),
      expect.objectContaining({ action: 'mqtt.login', outcome: 'ok', actor: `mqtt:${ADMIN}`, target: ADMIN, source: COLLEAGUE, detail: { role: 'admin', method: 'password' } }),
    ]));
    // The collectors' own logins at start (before the ops server was up) are audited too.
    expect(entries.some((e) => e.action === 'mqtt.login' && e.outcome === 'ok' && e.detail?.role === 'collector' && e.source === '127.0.0.1')).toBe(true);
    expect(JSON.stringify(entries)).not.toContain('guess-');

    const events = await securityEvents();
    const bad = events.filter((e) => e.type === 'bad_credentials' && e.username === ADMIN);
    expect(bad).toHaveLength(5);
    for (const e of bad) expect(e).toMatchObject({ origin: 'mqtt', source: ATTACKER, detail: 'wrong password' });
    expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'brute_force_lockout', origin: 'mqtt', source: ATTACKER, username: ADMIN })]));
    expect(JSON.stringify(events)).not.toContain('guess-');

    // The lock is on disk in the same format as HTTP's, apart from it.
    const locks = JSON.parse(readFileSync(join(product.dataDir, MQTT_LOGIN_LOCKS_FILE), 'utf8')) as { locks: { scope: string; source: string; account?: string }[] };
    expect(locks.locks).toEqual([expect.objectContaining({ scope: 'pair', source: ATTACKER, account: ADMIN })]);
    expect(existsSync(join(product.dataDir, 'login-locks.json'))).toBe(false);
  });

  it('lets a device that mistyped twice log in with the right password, auditing its failures but not its login', async () => {
    expect(await codeOf(await connectFrom(port, SENSOR_HOST, DEVICE, 'typo-1'))).toBe(4);
    expect(await codeOf(await connectFrom(port, SENSOR_HOST, DEVICE, 'typo-2'))).toBe(4);
    expect(await codeOf(await connectFrom(port, SENSOR_HOST, DEVICE, DEVICE_PASS))).toBe('connected');
    const mine = (await audit()).filter((e) => e.target === DEVICE);
    expect(mine.map((e) => `${e.action}:${e.outcome}`)).toEqual(['mqtt.login:failed', 'mqtt.login:failed']);
    expect(mine[0]).toMatchObject({ source: SENSOR_HOST, detail: { reason: 'wrong password', role: 'device' } });
  });

  it('lists the lock and lifts it in the running broker with `watchfloor users locks` and `unlock`', async () => {
    const listed = await cli(product.dataDir, ['users', 'locks']);
    expect(listed.stdout).toMatch(new RegExp(`^mqtt\\t${ADMIN}\\t${ATTACKER.replaceAll('.', '\\.')}\\tuntil `, 'm'));
    const unlocked = await cli(product.dataDir, ['users', 'unlock', ADMIN, '--source', ATTACKER]);
    expect(unlocked.stdout, unlocked.stderr).toMatch(/lifted 1 lockout/);
    expect(JSON.stringify(JSON.parse(readFileSync(join(product.dataDir, MQTT_LOGIN_LOCKS_FILE), 'utf8')))).not.toContain(ATTACKER);
    expect(await codeOf(await connectFrom(port, ATTACKER, ADMIN, ADMIN_PASS))).toBe('connected');
  }, 120_000);
});

describe('mqtt.bruteForce keeps its meaning on the shared guard (fake clock)', () => {
  const SEC = 1000;
  const gateWith = (failures: number, clock: FakeClock): { gate: MqttLoginGate; events: string[] } => {
    const events: string[] = [];
    const gate = new MqttLoginGate({
      bruteForce: { failures, windowMs: 60 * SEC, lockoutMs: 300 * SEC }, clock, logger: silentLogger,
      refuse: (type) => events.push(type), securityEvent: (e) => events.push(`${e.type}:${e.username}`),
    });
    return { gate, events };
  };

  it('locks a source spraying `failures` usernames within `windowSeconds` for `lockoutSeconds`, then twice as long', () => {
    const clock = new FakeClock(1_700_000_000_000);
    const { gate, events } = gateWith(3, clock);
    for (const name of ['u1', 'u2', 'u3']) gate.failed(name, '10.9.9.9', 'c', undefined);
    expect(events).toEqual(['bad_credentials', 'bad_credentials', 'bad_credentials', 'brute_force_lockout:u3']);
    // Every account from that source, for 300 s; other sources are not touched.
    expect(gate.guard.lockedUntil('anyone', '10.9.9.9')).toBe(clock.now() + 300 * SEC);
    expect(gate.guard.lockedUntil('anyone', '10.9.9.8')).toBeUndefined();
    clock.advance(301 * SEC);
    for (const name of ['u4', 'u5', 'u6']) gate.failed(name, '10.9.9.9', 'c', undefined);
    expect(gate.guard.lockedUntil('anyone', '10.9.9.9')).toBe(clock.now() + 600 * SEC);
    // Failures spread wider than the window never add up to a source lock.
    clock.advance(10_000 * SEC);
    for (const name of ['v1', 'v2', 'v3']) {
      gate.failed(name, '10.9.9.7', 'c', undefined);
      clock.advance(31 * SEC);
    }
    expect(gate.guard.lockedUntil('anyone', '10.9.9.7')).toBeUndefined();
  });

  it('turns lockouts off with failures: 0, and still reports each failure', () => {
    const clock = new FakeClock(1_700_000_000_000);
    const { gate, events } = gateWith(0, clock);
    for (let i = 0; i < 50; i++) gate.failed('admin', '10.9.9.9', 'c', undefined);
    expect(gate.locked('admin', '10.9.9.9')).toBeUndefined();
    expect(events.filter((e) => e === 'bad_credentials')).toHaveLength(50);
    expect(events.some((e) => e.startsWith('brute_force_lockout'))).toBe(false);
  });
});
