/*
 * Issue 12, item 8: cross-site WebSocket hijacking. A page on another port of the same host opened
 * socket.io with the SOC user's cookie and received security events; a foreign page could also POST
 * with the cookie. Both are refused by Origin now; no Origin (scripts) and the server's own pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { originAllowed, trustedOrigins } from '../../ops-server/origin.ts';
import { connectMqtt, eventually } from '../support/net.ts';
import { api, login, startProduct, type LoggedIn, type StartedProduct } from '../support/start-product.ts';

/** Opens socket.io with the cookie and an Origin header; resolves with the socket or the refusal. */
function openSocket(base: string, session: LoggedIn, origin: string, transport: 'websocket' | 'polling'): Promise<{ socket?: Socket; refused?: string }> {
  return new Promise((resolve) => {
    const socket = io(base, { transports: [transport], extraHeaders: { cookie: session.cookie, origin }, reconnection: false, timeout: 5000 });
    socket.once('connect', () => resolve({ socket }));
    socket.once('connect_error', (err) => {
      socket.close();
      resolve({ refused: err.message });
    });
  });
}

describe('Origin checks: socket.io and state-changing HTTP requests from another site are refused', () => {
  let product: StartedProduct;
  let admin: LoggedIn;
  let soc: LoggedIn;
  let own: string;
  let foreign: string;

  beforeAll(async () => {
    product = await startProduct();
    admin = await login(product.base);
    expect((await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'soc-analyst', role: 'soc', password: 'soc-password-1' } })).status).toBe(201);
    soc = await login(product.base, 'soc-analyst', 'soc-password-1');
    own = product.base;
    // Another port of the same host: the MQTT port, where an attacker's page could just as well be served.
    foreign = `http://127.0.0.1:${product.app.mqttPort}`;
  }, 60_000);
  afterAll(() => product?.app.stop());

  it('refuses a WebSocket and a polling handshake with the SOC cookie from another origin', async () => {
    for (const transport of ['websocket', 'polling'] as const) {
      const r = await openSocket(product.base, soc, foreign, transport);
      r.socket?.close();
      expect(r.socket, `${transport} from ${foreign}`).toBeUndefined();
      expect(r.refused).toBeDefined();
    }
    for (const origin of ['null', 'http://evil.example', `http://localhost:${product.app.httpPort}.evil.example`]) {
      const r = await openSocket(product.base, soc, origin, 'websocket');
      r.socket?.close();
      expect(r.socket, origin).toBeUndefined();
    }
    // The engine.io handshake itself answers 403, before any cookie is looked at.
    const polling = await fetch(`${product.base}/socket.io/?EIO=4&transport=polling`, { headers: { cookie: soc.cookie, origin: foreign } });
    await polling.arrayBuffer();
    expect(polling.status).toBe(403);
  });

  it('connects with the page’s own Origin (and without one) and pushes security events to the SOC', async () => {
    const r = await openSocket(product.base, soc, own, 'websocket');
    expect(r.refused).toBeUndefined();
    const socket = r.socket as Socket;
    const seen: string[] = [];
    socket.on('security-event', (e: { username?: string }) => seen.push(e.username ?? ''));
    try {
      await expect(connectMqtt(product.app.mqttPort, { username: 'origin-intruder', password: 'guess' })).rejects.toThrow();
      await eventually(() => (seen.includes('origin-intruder') ? true : undefined), 10_000);
    } finally {
      socket.close();
    }
    // `localhost` and `127.0.0.1` are different origins; the page's own is whatever Host it was served under.
    const byName = await openSocket(`http://localhost:${product.app.httpPort}`, soc, `http://localhost:${product.app.httpPort}`, 'polling');
    expect(byName.refused).toBeUndefined();
    byName.socket?.close();
    const script = await new Promise<Socket>((resolve, reject) => {
      const s = io(product.base, { transports: ['websocket'], extraHeaders: { cookie: soc.cookie }, reconnection: false });
      s.once('connect', () => resolve(s));
      s.once('connect_error', reject);
    });
    script.close();
  }, 30_000);

  it('refuses a POST with a foreign Origin even with the right cookie and CSRF token; the own Origin and no Origin pass', async () => {
    const post = (name: string, origin?: string) =>
      fetch(`${product.base}/api/v1/tokens`, {
        method: 'POST',
        headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken, 'content-type': 'application/json', ...(origin ? { origin } : {}) },
        body: JSON.stringify({ name, role: 'viewer' }),
      });
    const refused = await post('from-foreign-page', foreign);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'WF_ERR_ORIGIN', field: 'Origin' } });
    const nullOrigin = await post('from-sandboxed-frame', 'null');
    expect(nullOrigin.status).toBe(403);
    await nullOrigin.arrayBuffer();
    const ownPage = await post('from-own-page', own);
    expect(ownPage.status).toBe(201);
    await ownPage.arrayBuffer();
    const script = await post('from-script');
    expect(script.status).toBe(201);
    await script.arrayBuffer();
    const names = ((await api(product.base, admin, '/api/v1/tokens')).body as { name: string }[]).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['from-own-page', 'from-script']));
    expect(names).not.toContain('from-foreign-page');
    // A login from another site's page (login CSRF) is a state change too.
    const login = await fetch(`${product.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: foreign }, body: JSON.stringify({ username: 'admin', password: 'x' }) });
    expect(login.status).toBe(403);
    await login.arrayBuffer();
    // Reads stay open to the same rules as before (a GET is no state change; CORS keeps other sites from reading it).
    const read = await fetch(`${product.base}/api/v1/devices`, { headers: { cookie: admin.cookie, origin: foreign } });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
    await read.arrayBuffer();
  });

  it('sends a CSP whose connect-src is self only', async () => {
    const page = await fetch(`${product.base}/`);
    await page.arrayBuffer();
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/(^|;)connect-src 'self'(;|$)/);
    expect(csp).not.toMatch(/ws:|wss:/);
  });

  it('trusts configured origins and compares host and port, not scheme, for its own', () => {
    const trusted = trustedOrigins(['https://wall.example.org/', 'not a url']);
    const cases: [string | undefined, string | undefined, boolean][] = [
      [undefined, '127.0.0.1:8080', true],
      ['http://127.0.0.1:8080', '127.0.0.1:8080', true],
      ['https://noc.example.org', 'noc.example.org', true],
      ['https://noc.example.org', 'noc.example.org:443', true],
      ['http://127.0.0.1:9999', '127.0.0.1:8080', false],
      ['http://127.0.0.1:8080', undefined, false],
      ['https://wall.example.org', '127.0.0.1:8080', true],
      ['https://wall.example.org:8443', '127.0.0.1:8080', false],
      ['null', '127.0.0.1:8080', false],
      ['file:///tmp/x.html', '127.0.0.1:8080', false],
      ['garbage', '127.0.0.1:8080', false],
    ];
    for (const [origin, host, expected] of cases) expect(originAllowed(origin, host, trusted), `${origin} -> ${host}`).toBe(expected);
  });

  it('trusts the configured public URL behind a proxy that rewrites Host, and WATCHFLOOR_PUBLIC_URL sets it', async () => {
    const { corsPolicy } = await import('../../ops-server/http-security.ts');
    const { loadConfig } = await import('../../core/index.ts');
    const verdict = (publicUrl: string | undefined, origin: string): Promise<number> =>
      new Promise((resolve) => {
        const req = { method: 'POST', get: (h: string) => (h === 'origin' ? origin : h === 'host' ? '10.0.0.5:8080' : undefined) };
        corsPolicy([], publicUrl)(req as never, {} as never, (err?: unknown) => resolve((err as { status?: number } | undefined)?.status ?? 200));
      });
    expect(await verdict(undefined, 'https://noc.province.example')).toBe(403);
    expect(await verdict('https://noc.province.example/watchfloor/', 'https://noc.province.example')).toBe(200);
    expect(await verdict('https://noc.province.example/', 'https://evil.example')).toBe(403);
    expect(loadConfig(undefined, { WATCHFLOOR_PUBLIC_URL: 'https://noc.province.example/' }).config.http.publicUrl).toBe('https://noc.province.example/');
    expect(() => loadConfig(undefined, { WATCHFLOOR_PUBLIC_URL: 'not a url' })).toThrow(/WATCHFLOOR_PUBLIC_URL/);
  });
});
