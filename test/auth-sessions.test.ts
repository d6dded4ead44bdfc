import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../core/index.ts';
import { eventually } from './support/net.ts';
import { ADMIN_PASSWORD, api, connectSocket, login, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';

const MIN = 60_000;

const tryLogin = (base: string, username: string, password: string): Promise<Response> =>
  fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });

describe('sessions: expiry, renewal, lockout', () => {
  let product: StartedProduct;
  let admin: LoggedIn;
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    product = await startProduct({ clock });
    admin = await login(product.base);
    expect((await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'victim', role: 'noc', password: 'victim-password-1' } })).status).toBe(201);
    expect((await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'analyst', role: 'soc', password: 'analyst-password-1' } })).status).toBe(201);
  }, 30_000);
  afterAll(() => product?.app.stop());

  it('ends a session idle for more than 30 minutes, and keeps one in use alive', async () => {
    const s = await login(product.base, 'victim', 'victim-password-1');
    clock.advance(29 * MIN);
    expect((await api(product.base, s, '/api/v1/auth/me')).status).toBe(200);
    clock.advance(29 * MIN);
    expect((await api(product.base, s, '/api/v1/auth/me')).status).toBe(200);
    clock.advance(31 * MIN);
    expect((await api(product.base, s, '/api/v1/auth/me')).status).toBe(401);
    admin = await login(product.base); // the admin session went idle too
  });

  it('ends even an active session after 12 hours', async () => {
    const s = await login(product.base, 'victim', 'victim-password-1');
    for (let t = 20; t < 12 * 60; t += 20) {
      clock.advance(20 * MIN);
      expect((await api(product.base, s, '/api/v1/auth/me')).status, `after ${t} min`).toBe(200);
    }
    clock.advance(21 * MIN); // 12 h 1 min after login, 21 min after the last use
    expect((await api(product.base, s, '/api/v1/auth/me')).status).toBe(401);
    admin = await login(product.base);
  });

  it('gives a new session id at every login and ends the one the browser brought', async () => {
    const first = await login(product.base, 'victim', 'victim-password-1');
    const res = await fetch(`${product.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: first.cookie },
      body: JSON.stringify({ username: 'victim', password: 'victim-password-1' }),
    });
    const second = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(second).toMatch(/^wf_session=/);
    expect(second).not.toBe(first.cookie);
    expect((await api(product.base, first, '/api/v1/auth/me')).status).toBe(401);
    expect((await fetch(`${product.base}/api/v1/auth/me`, { headers: { cookie: second } })).status).toBe(200);
  });

  it('disconnects a socket whose session expired', async () => {
    const s = await login(product.base, 'victim', 'victim-password-1');
    const socket = await connectSocket(product.base, s);
    const gone = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    clock.advance(31 * MIN);
    expect(await gone).toBe('io server disconnect'); // at the next session check (5 s)
    socket.close();
    admin = await login(product.base);
  }, 20_000);

  it('locks a username after 5 failures, even for the right password, and tells the SOC', async () => {
    const analyst = await login(product.base, 'analyst', 'analyst-password-1');
    const socket = await connectSocket(product.base, analyst);
    const pushed: { type: string; username?: string }[] = [];
    socket.on('security-event', (e: { type: string; username?: string }) => pushed.push(e));
    try {
      for (let i = 0; i < 5; i++) expect((await tryLogin(product.base, 'victim', `guess-${i}`)).status).toBe(401);
      const locked = await tryLogin(product.base, 'victim', 'victim-password-1');
      expect(locked.status).toBe(429);
      expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await locked.json()).toMatchObject({ error: { code: 'WF_ERR_LOCKED' } });
      expect(locked.headers.get('set-cookie')).toBeNull();
      // Another user from the same address is not locked by one user's failures.
      expect((await tryLogin(product.base, 'analyst', 'analyst-password-1')).status).toBe(200);

      await eventually(() => pushed.find((e) => e.type === 'login_lockout' && e.username === 'victim'), 10_000);
      const events = await api(product.base, analyst, '/api/v1/security-events');
      expect(events.body).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'login_lockout', origin: 'http', username: 'victim', source: expect.any(String) })]));
      expect((events.body as { type: string }[]).filter((e) => e.type === 'login_failed').length).toBeGreaterThanOrEqual(5);

      clock.advance(16 * MIN);
      expect((await tryLogin(product.base, 'victim', 'victim-password-1')).status).toBe(200);
    } finally {
      socket.close();
    }
  }, 30_000);

  it('locks a source address that sprays many usernames', async () => {
    for (let i = 0; i < 20; i++) expect((await tryLogin(product.base, `sprayed-${i}`, 'Winter2024!')).status).toBe(401);
    expect((await tryLogin(product.base, 'admin', ADMIN_PASSWORD)).status).toBe(429);
    clock.advance(16 * MIN);
    expect((await tryLogin(product.base, 'admin', ADMIN_PASSWORD)).status).toBe(200);
  }, 30_000);
});

describe('sessions across a restart', () => {
  it('keeps a session and its CSRF token through a restart, stores only a digest of its id, and still ends it at logout', async () => {
    const clock = new FakeClock(Date.now());
    let product = await startProduct({ clock });
    const dataDir = product.dataDir;
    try {
      const admin = await login(product.base);
      expect((await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'wall', role: 'viewer', password: 'wall-screen-pass-1' } })).status).toBe(201);
      const wall = await login(product.base, 'wall', 'wall-screen-pass-1');
      await product.app.stop();

      // The file has what a restart needs, never a cookie value: reading it does not log anyone in.
      const file = readFileSync(join(dataDir, 'sessions.json'), 'utf8');
      const id = wall.cookie.split('=')[1] as string;
      expect(file).not.toContain(id);
      expect(file).toContain(createHash('sha256').update(id).digest('base64url'));
      expect(statSync(join(dataDir, 'sessions.json')).mode & 0o077).toBe(0);

      product = await startProduct({ clock, dataDir });
      const me = await api(product.base, wall, '/api/v1/auth/me');
      expect(me.status).toBe(200);
      expect((me.body as { user: { username: string } }).user.username).toBe('wall');
      // The socket.io side takes the restored session too.
      const socket = await connectSocket(product.base, wall);
      expect(socket.connected).toBe(true);
      socket.close();
      // A state-changing request with the old CSRF token works; logout ends the session for good.
      expect((await api(product.base, wall, '/api/v1/auth/logout', { method: 'POST' })).status).toBe(204);
      expect((await api(product.base, wall, '/api/v1/auth/me')).status).toBe(401);

      // Idle expiry counts the time the server was down: 31 minutes later the admin session is gone.
      await product.app.stop();
      clock.advance(31 * MIN);
      product = await startProduct({ clock, dataDir });
      expect((await api(product.base, admin, '/api/v1/auth/me')).status).toBe(401);
    } finally {
      await product.app.stop();
    }
  }, 60_000);

  it('starts with no sessions when the file is damaged, instead of refusing to start', async () => {
    const product = await startProduct();
    const dataDir = product.dataDir;
    const admin = await login(product.base);
    await product.app.stop();
    writeFileSync(join(dataDir, 'sessions.json'), '{"sessions": [ {"key": 1');
    const again = await startProduct({ dataDir });
    try {
      expect((await api(again.base, admin, '/api/v1/auth/me')).status).toBe(401);
      expect((await api(again.base, await login(again.base), '/api/v1/auth/me')).status).toBe(200);
    } finally {
      await again.app.stop();
    }
  });
});
