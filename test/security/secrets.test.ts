/*
 * Issue 12, item 2: SNMP secrets were shown to every role and devices.json was world-readable. The
 * API now shows each secret as set / not set, and every data-directory file holding a secret is mode
 * 600, including one left world-readable by an older version. (The every-role, every-GET-route check
 * is in test/auth-matrix.test.ts.)
 */
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, login, startProduct, type LoggedIn, type StartedProduct } from '../support/start-product.ts';

const COMMUNITY = 'secret-community-8e1f';
const AUTH_KEY = 'secret-authkey-3c7a91';
const PRIV_KEY = 'secret-privkey-d52b06';

/** Files under the data directory that hold a password hash, a session or token digest, a key or an SNMP secret. */
const SECRET_FILES = ['devices.json', 'users.json', 'mqtt-accounts.json', 'sessions.json', 'api-tokens.json', 'audit.jsonl', 'audit.key', 'audit.anchors.jsonl', 'audit.head.json'];

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('SNMP secrets are write-only, and files holding secrets are mode 600', () => {
  let product: StartedProduct;
  let admin: LoggedIn;

  beforeAll(async () => {
    product = await startProduct();
    admin = await login(product.base);
    await api(product.base, admin, '/api/v1/tokens', { method: 'POST', body: { name: 'grafana', role: 'viewer' } });
    await api(product.base, admin, '/api/v1/mqtt/accounts/crac-1', { method: 'PUT', body: { password: 'crac-1-mqtt-password' } });
  }, 60_000);
  afterAll(() => product?.app.stop());

  it('answers a registration with the secrets as set / not set, never their values', async () => {
    const r = await api(product.base, admin, '/api/v1/devices', {
      method: 'POST',
      body: { id: 'fw-2', kind: 'firewall', location: { room: 'room-1', x: 4, y: 1 }, snmp: { host: '127.0.0.1', port: 9, version: '3', community: COMMUNITY, intervalSeconds: 3600, v3: { user: 'poller', authKey: AUTH_KEY, privProtocol: 'none' } } },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: 'fw-2', snmp: { host: '127.0.0.1', version: '3', communitySet: true, v3: { user: 'poller', authProtocol: 'sha', privProtocol: 'none', authKeySet: true, privKeySet: false } } });
    const text = JSON.stringify(r.body);
    for (const s of [COMMUNITY, AUTH_KEY]) expect(text).not.toContain(s);
    // The poller still has them: they are on disk, for the product's user only.
    expect(readFileSync(join(product.dataDir, 'devices.json'), 'utf8')).toContain(COMMUNITY);
    const doc = (await api(product.base, admin, '/api/v1/openapi.json')).body as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> };
    const schema = JSON.stringify(doc.paths['/api/v1/devices/{id}']?.get?.responses['200']?.content?.['application/json']?.schema);
    expect(schema).toContain('communitySet');
    expect(schema).toContain('authKeySet');
    expect(schema).not.toMatch(/"community"|"authKey"|"privKey"/);
  });

  it('keeps every file holding a secret at mode 600, and closes world-readable ones at start', async () => {
    await api(product.base, admin, '/api/v1/devices', { method: 'POST', body: { id: 'ups-2', kind: 'ups', location: { room: 'room-1', x: 5, y: 1 }, snmp: { host: '127.0.0.1', port: 9, community: PRIV_KEY } } });
    const dir = product.dataDir;
    const wrong = SECRET_FILES.filter((f) => existsSync(join(dir, f)) && modeOf(join(dir, f)) !== '600').map((f) => `${f}: ${modeOf(join(dir, f))}`);
    expect(wrong).toEqual([]);
    expect(SECRET_FILES.filter((f) => !existsSync(join(dir, f)))).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // A devices.json left world-readable (by an older version, a restore, a careless copy) is closed at start.
    await product.app.stop();
    const reopened = ['devices.json', 'users.json', 'mqtt-accounts.json', 'sessions.json', 'api-tokens.json'];
    for (const f of reopened) chmodSync(join(dir, f), 0o644);
    product = await startProduct({ dataDir: dir });
    expect(Object.fromEntries(reopened.map((f) => [f, modeOf(join(dir, f))]))).toEqual(Object.fromEntries(reopened.map((f) => [f, '600'])));
    admin = await login(product.base);
    const d = (await api(product.base, admin, '/api/v1/devices/ups-2')).body as { snmp?: Record<string, unknown> };
    expect(d.snmp).toMatchObject({ communitySet: true, version: '2c' });
    expect(JSON.stringify(d)).not.toContain(PRIV_KEY);
  }, 60_000);
});
