/*
 * Issue 13 (a verified /query password is remembered briefly, never in clear) and issue 12's
 * "a password change from the CLI does not end existing sessions".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, login, startProduct, type LoggedIn, type StartedProduct } from '../support/start-product.ts';
import { cli, httpFrom, queryAs } from './login-peer.ts';

const FROM = '127.0.0.1';
const OLD = 'grafana-reader-old-1';
const NEW = 'grafana-reader-new-2';

/** Milliseconds of one /query with basic auth. */
async function timed(base: string, user: string, password: string): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const { status } = await queryAs(base, FROM, user, password);
  return { ms: performance.now() - started, status };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe('/query basic auth: a verified password is remembered briefly; a new password forgets it and ends sessions', () => {
  let product: StartedProduct;
  let admin: LoggedIn;

  beforeAll(async () => {
    product = await startProduct();
    admin = await login(product.base);
    expect((await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'grafana', role: 'viewer', password: OLD } })).status).toBe(201);
  }, 30_000);
  afterAll(() => product?.app.stop());

  it('pays scrypt once, then answers the same credential without it', async () => {
    const first = await timed(product.base, 'grafana', OLD);
    expect(first.status).toBe(200);
    const again: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t = await timed(product.base, 'grafana', OLD);
      expect(t.status).toBe(200);
      again.push(t.ms);
    }
    // scrypt (N=2^15 or so) is ~100 ms here; a cached check is a single HMAC. A wide margin for a busy machine.
    expect(median(again) * 3).toBeLessThan(first.ms);
    // A wrong password is never served from the cache.
    expect((await queryAs(product.base, FROM, 'grafana', `${OLD}x`)).status).toBe(401);
    // What is kept is an HMAC in memory: the password is in no file of the data directory.
    for (const f of readdirSync(product.dataDir, { withFileTypes: true })) {
      if (f.isFile()) expect(readFileSync(join(product.dataDir, f.name), 'utf8'), f.name).not.toContain(OLD);
    }
  });

  it('forgets the cached credential and ends the old session when `watchfloor users passwd` changes the password', async () => {
    const session = await login(product.base, 'grafana', OLD);
    expect((await api(product.base, session, '/api/v1/auth/me')).status).toBe(200);
    const cookieQuery = (): Promise<{ status: number }> =>
      httpFrom(FROM, `${product.base}/query?q=${encodeURIComponent('SHOW MEASUREMENTS')}`, { headers: { cookie: session.cookie } });
    expect((await cookieQuery()).status).toBe(200);
    expect((await queryAs(product.base, FROM, 'grafana', OLD)).status).toBe(200); // cached now

    const changed = await cli(product.dataDir, ['users', 'passwd', 'grafana', '--password-stdin'], `${NEW}\n`);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toContain('sessions of "grafana" end');

    expect((await queryAs(product.base, FROM, 'grafana', OLD)).status).toBe(401);
    expect((await queryAs(product.base, FROM, 'grafana', NEW)).status).toBe(200);
    expect((await api(product.base, session, '/api/v1/auth/me')).status).toBe(401);
    expect((await cookieQuery()).status).toBe(401);
    const fresh = await login(product.base, 'grafana', NEW);
    expect((await api(product.base, fresh, '/api/v1/auth/me')).status).toBe(200);
  }, 120_000);

  it('forgets the cached credential when the user is disabled', async () => {
    expect((await queryAs(product.base, FROM, 'grafana', NEW)).status).toBe(200);
    const disabled = await cli(product.dataDir, ['users', 'disable', 'grafana']);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect((await queryAs(product.base, FROM, 'grafana', NEW)).status).toBe(401);
  }, 120_000);
});
