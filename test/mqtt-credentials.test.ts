import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, login, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';
import { connectMqtt, run } from './support/net.ts';

describe('MQTT credentials through the API and the CLI, rotated without a restart', () => {
  let product: StartedProduct;
  let admin: LoggedIn;

  beforeAll(async () => {
    product = await startProduct();
    admin = await login(product.base);
  });
  afterAll(() => product.app.stop());

  it('sets a device password, rotates it, and closes the session opened with the old one', async () => {
    const set = await api(product.base, admin, '/api/v1/mqtt/accounts/s-a01-fm', { method: 'PUT', body: { role: 'device', password: 'first-pass-1' } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ account: { username: 's-a01-fm', role: 'device' } });
    expect(JSON.stringify(set.body)).not.toContain('first-pass-1');
    const port = product.app.mqttPort;
    const old = await connectMqtt(port, { username: 's-a01-fm', password: 'first-pass-1', clientId: 's-a01-fm' });
    const closed = new Promise<void>((resolve) => old.once('close', () => resolve()));

    const rotated = await api(product.base, admin, '/api/v1/mqtt/accounts/s-a01-fm', { method: 'PUT', body: { role: 'device' } });
    const generated = (rotated.body as { password: string }).password;
    expect(generated.length).toBeGreaterThanOrEqual(16);
    await closed;
    old.end(true);
    await expect(connectMqtt(port, { username: 's-a01-fm', password: 'first-pass-1' })).rejects.toThrow(/Bad username or password/i);
    const fresh = await connectMqtt(port, { username: 's-a01-fm', password: generated, clientId: 's-a01-fm' });
    await fresh.endAsync();
    // Hashed on disk, never in clear.
    const file = readFileSync(join(product.dataDir, 'mqtt-accounts.json'), 'utf8');
    expect(file).not.toContain(generated);
    expect(file).not.toContain('first-pass-1');
  });

  it('lists accounts without hashes, refuses bad input with the field, removes an account', async () => {
    await api(product.base, admin, '/api/v1/mqtt/accounts/ups-poller', { method: 'PUT', body: { role: 'collector', password: 'collector-pass', kinds: ['crac'] } });
    const list = await api(product.base, admin, '/api/v1/mqtt/accounts');
    expect(list.body).toEqual(expect.arrayContaining([{ username: 'ups-poller', role: 'collector', devices: [], kinds: ['crac'] }]));
    expect(JSON.stringify(list.body)).not.toContain('scrypt');
    const cases: [string, unknown, string][] = [
      ['/api/v1/mqtt/accounts/nope-device', { role: 'device', password: 'long-enough-1' }, 'username'],
      ['/api/v1/mqtt/accounts/s-a01-r', { role: 'device', password: 'short' }, 'password'],
      ['/api/v1/mqtt/accounts/c1', { role: 'collector', password: 'long-enough-1' }, 'devices'],
      ['/api/v1/mqtt/accounts/c1', { role: 'root', password: 'long-enough-1' }, 'role'],
    ];
    for (const [path, body, field] of cases) {
      const r = await api(product.base, admin, path, { method: 'PUT', body });
      expect(r.status, path).toBe(400);
      expect((r.body as { error: { field: string } }).error.field).toBe(field);
    }
    expect((await api(product.base, admin, '/api/v1/mqtt/accounts/ups-poller', { method: 'DELETE' })).status).toBe(204);
    expect((await api(product.base, admin, '/api/v1/mqtt/accounts/ups-poller', { method: 'DELETE' })).status).toBe(404);
    await expect(connectMqtt(product.app.mqttPort, { username: 'ups-poller', password: 'collector-pass' })).rejects.toThrow(/Bad username or password/i);
  });

  it('audits each account change as its own action with the name and role, never the password', async () => {
    const path = '/api/v1/mqtt/accounts/rack-poller';
    expect((await api(product.base, admin, path, { method: 'PUT', body: { role: 'collector', password: 'poller-pass-1', devices: ['s-a01-ft'] } })).status).toBe(200);
    const rotated = await api(product.base, admin, path, { method: 'PUT', body: { role: 'admin' } });
    expect(rotated.status).toBe(200);
    const generated = (rotated.body as { password: string }).password;
    expect((await api(product.base, admin, path, { method: 'DELETE' })).status).toBe(204);
    // A refused change (bad body) changes nothing and is no account action.
    expect((await api(product.base, admin, path, { method: 'PUT', body: { role: 'collector', password: 'short' } })).status).toBe(400);

    const text = readFileSync(join(product.dataDir, 'audit.jsonl'), 'utf8');
    const entries = text.trimEnd().split('\n').map((l) => JSON.parse(l) as { action: string; target?: string; actor: string; detail?: Record<string, unknown> });
    const mine = entries.filter((e) => e.target === 'rack-poller' || e.target?.endsWith('/rack-poller'));
    expect(mine.map((e) => [e.action, e.actor, e.detail])).toEqual([
      ['mqtt.account.create', 'admin', { role: 'collector', generated: false, devices: ['s-a01-ft'] }],
      ['mqtt.account.rotate', 'admin', { role: 'admin', generated: true, was: 'collector' }],
      ['mqtt.account.revoke', 'admin', { role: 'admin' }],
    ]);
    expect(text).not.toContain('poller-pass-1');
    expect(text).not.toContain(generated);
  });

  it('needs an admin session', async () => {
    expect((await api(product.base, undefined, '/api/v1/mqtt/accounts')).status).toBe(401);
  });

  it('`watchfloor devices` rotates a password in the running broker with no restart', async () => {
    const env = { ...process.env, WATCHFLOOR_DATA_DIR: product.dataDir };
    const cli = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve, reject) => {
        import('node:child_process').then(({ execFile }) =>
          execFile('node', ['bin/watchfloor.js', 'devices', ...args], { env, timeout: 60_000 }, (err, stdout, stderr) =>
            err && typeof (err as { code?: unknown }).code !== 'number' ? reject(err) : resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
          ),
        );
      });
    // The CLI's inventory is the bundled sample; s-a01-ft is in both.
    const set = await cli(['passwd', 's-a01-ft']);
    expect(set.code).toBe(0);
    const password = /shown once\): (\S+)/.exec(set.stdout)?.[1] ?? '';
    expect(password).not.toBe('');
    const c = await connectMqtt(product.app.mqttPort, { username: 's-a01-ft', password, clientId: 's-a01-ft' });
    await c.endAsync();
    const list = await cli(['list']);
    expect(list.stdout).toMatch(/s-a01-ft\tdevice/);
    expect(list.stdout).not.toContain(password);
    const bad = await cli(['passwd', 'no-such-device']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no device "no-such-device"/);
    expect((await run('node', ['bin/watchfloor.js', 'devices', '--help'])).stdout).toMatch(/devices passwd/);
  });
});
