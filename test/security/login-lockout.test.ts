/*
 * Issue 12 items 3 and 7, and "failed HTTP logins raise no alert": /query's basic auth goes through
 * the same password gate as the login form; a lock holds one (source, user) pair, not the account;
 * the SOC gets an alert; `watchfloor users unlock` lifts a lock in the running server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, SecurityEvent } from '../../core/index.ts';
import { ADMIN_PASSWORD, api, login, startProduct, type LoggedIn, type StartedProduct } from '../support/start-product.ts';
import { cli, loginFrom, queryAs } from './login-peer.ts';

interface Entry {
  action: string;
  target?: string;
  outcome: string;
  source?: string;
  detail?: Record<string, unknown>;
}

const ATTACKER = '127.0.0.1';
const COLLEAGUE = '127.0.0.2';

describe('password gate: /query and the login form share one guard, locked per (source, user)', () => {
  let product: StartedProduct;
  let admin: LoggedIn;

  beforeAll(async () => {
    product = await startProduct();
    admin = await login(product.base);
  }, 30_000);
  afterAll(() => product?.app.stop());

  const securityEvents = async (): Promise<SecurityEvent[]> => (await api(product.base, admin, '/api/v1/security-events')).body as SecurityEvent[];
  const audit = async (): Promise<Entry[]> => (await api(product.base, admin, '/api/v1/audit?limit=1000')).body as Entry[];
  const alerts = async (): Promise<Alert[]> => (await api(product.base, admin, '/api/v1/alerts?kind=security')).body as Alert[];

  it('locks the admin for the guessing address after repeated /query guesses, and answers it 429 even for the right password', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await queryAs(product.base, ATTACKER, 'admin', `guess-${i}`)).status);
    // The first five are checked and fail; from then on the pair is locked and nothing is checked.
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429, 429, 429]);

    const right = await queryAs(product.base, ATTACKER, 'admin', ADMIN_PASSWORD);
    expect(right.status).toBe(429);
    expect(String(right.headers['retry-after'])).toMatch(/^\d+$/);
    expect(JSON.stringify(right.body)).not.toContain('results');
    // The login form is the same gate: the address is locked there too.
    expect((await loginFrom(product.base, ATTACKER, 'admin', ADMIN_PASSWORD)).status).toBe(429);
  });

  it('raises the security events, audits every attempt, and keeps the lock on disk', async () => {
    const events = await securityEvents();
    const failed = events.filter((e) => e.type === 'login_failed' && e.username === 'admin' && e.source === ATTACKER);
    expect(failed.length).toBe(5);
    expect(failed[0]).toMatchObject({ origin: 'http', detail: expect.stringContaining('/query') });
    expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'login_lockout', origin: 'http', username: 'admin', source: ATTACKER })]));

    const entries = await audit();
    expect(entries.filter((e) => e.action === 'auth.query' && e.target === 'admin' && e.outcome === 'failed').length).toBe(5);
    expect(entries.filter((e) => e.action === 'auth.query' && e.target === 'admin' && e.outcome === 'denied').length).toBeGreaterThanOrEqual(6);
    expect(entries).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'auth.lockout', target: 'admin', outcome: 'denied', source: ATTACKER })]));
    // No password, right or wrong, in the audit log.
    const raw = readFileSync(join(product.dataDir, 'audit.jsonl'), 'utf8');
    expect(raw).not.toContain('guess-');
    expect(raw).not.toContain(ADMIN_PASSWORD);

    const locks = JSON.parse(readFileSync(join(product.dataDir, 'login-locks.json'), 'utf8')) as { locks: { scope: string; source: string; account?: string }[] };
    expect(locks.locks).toEqual([expect.objectContaining({ scope: 'pair', source: ATTACKER, account: 'admin' })]);
  });

  it('raises an HTTP login brute force alert for the SOC at GET /api/v1/alerts', async () => {
    const alert = (await alerts()).find((a) => a.rule === 'http-login-brute-force' && a.labels.source === ATTACKER);
    expect(alert).toMatchObject({ kind: 'security', severity: 'major', state: 'firing' });
    expect(alert?.summary).toContain('failed HTTP logins');
  });

  it('keeps the admin usable from an address that has not failed, by /query and by the login form', async () => {
    const q = await queryAs(product.base, COLLEAGUE, 'admin', ADMIN_PASSWORD);
    expect(q.status).toBe(200);
    expect(q.body).toMatchObject({ results: [expect.anything()] });
    expect((await loginFrom(product.base, COLLEAGUE, 'admin', ADMIN_PASSWORD)).status).toBe(200);
  });

  it('lifts the lock with `watchfloor users unlock admin --source ADDR` while the server runs', async () => {
    const listed = await cli(product.dataDir, ['users', 'locks']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^http\\tadmin\\t${ATTACKER.replaceAll('.', '\\.')}\\tuntil `, 'm'));

    const done = await cli(product.dataDir, ['users', 'unlock', 'admin', '--source', ATTACKER]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('lifted 1 lockout');
    expect((await queryAs(product.base, ATTACKER, 'admin', ADMIN_PASSWORD)).status).toBe(200);
    expect((await loginFrom(product.base, ATTACKER, 'admin', ADMIN_PASSWORD)).status).toBe(200);
    expect(await audit()).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'user.unlock', target: 'admin', source: 'cli' })]));
  }, 120_000);

  it('does not page for one typo', async () => {
    expect((await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'typist', role: 'noc', password: 'typist-password-1' } })).status).toBe(201);
    expect((await loginFrom(product.base, '127.0.0.3', 'typist', 'typist-pasword-1')).status).toBe(401);
    expect((await queryAs(product.base, '127.0.0.3', 'typist', 'typist-pasword-1')).status).toBe(401);
    expect((await loginFrom(product.base, '127.0.0.3', 'typist', 'typist-password-1')).status).toBe(200);
    const events = await securityEvents();
    expect(events.filter((e) => e.type === 'login_failed' && e.source === '127.0.0.3').length).toBe(2);
    expect(events.filter((e) => e.type === 'login_lockout' && e.source === '127.0.0.3')).toEqual([]);
    expect((await alerts()).filter((a) => a.labels.source === '127.0.0.3' || a.labels.username === 'typist')).toEqual([]);
  });

  it('raises an alert for one user guessed at from many addresses, none of them locked', async () => {
    // Two wrong passwords from each of five addresses: no pair reaches its lock, but the user is under attack.
    for (let host = 10; host < 15; host++) {
      for (let i = 0; i < 2; i++) expect((await queryAs(product.base, `127.0.0.${host}`, 'typist', `spray-${i}`)).status).toBe(401);
    }
    const alert = (await alerts()).find((a) => a.rule === 'http-login-account-attack' && a.labels.username === 'typist');
    expect(alert).toMatchObject({ kind: 'security', state: 'firing' });
    // And the user still logs in from an address of its own.
    expect((await loginFrom(product.base, '127.0.0.3', 'typist', 'typist-password-1')).status).toBe(200);
  }, 120_000);
});
