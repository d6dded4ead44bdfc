import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatchfloor, type Watchfloor } from '../cli/index.ts';
import { Config, Inventory, silentLogger } from '../core/index.ts';
import { listRoutes } from '../ops-server/index.ts';
import { run } from './support/net.ts';
import { ADMIN_PASSWORD, api, login, smallInventory, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';

describe('API contract: OpenAPI, headers, CORS, limits, health, metrics, fuzz', () => {
  let product: StartedProduct;
  let admin: LoggedIn;

  beforeAll(async () => {
    product = await startProduct();
    admin = await login(product.base);
  }, 30_000);
  afterAll(() => product?.app.stop());

  it('serves an OpenAPI 3.1 document listing every route, with the request schemas from zod', async () => {
    const r = await fetch(`${product.base}/api/v1/openapi.json`);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>> };
    expect(doc.openapi).toBe('3.1.0');
    for (const route of listRoutes(product.app.ops.app)) {
      const path = route.path.replace(/:(\w+)/g, '{$1}');
      expect(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path}`).toBeDefined();
    }
    const command = JSON.stringify(doc.paths['/api/v1/devices/{id}/commands']?.post?.requestBody);
    expect(command).toContain('setpointC');
    expect(command).toContain('outlet');
    const register = doc.paths['/api/v1/devices']?.post?.requestBody?.content['application/json']?.schema as { required?: string[] };
    expect(register.required).toEqual(expect.arrayContaining(['id', 'kind', 'location']));
  });

  it('sends security headers and no CORS grant to a foreign origin', async () => {
    const r = await fetch(`${product.base}/api/v1/auth/me`, { headers: { origin: 'https://evil.example', cookie: admin.cookie } });
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(r.headers.get('x-powered-by')).toBeNull();
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${product.base}/api/v1/tokens`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers /readyz with each part, and /metrics with HTTP latency and socket.io clients', async () => {
    const ready = await api(product.base, undefined, '/readyz');
    expect(ready).toMatchObject({ status: 200, body: { ready: true, store: true, broker: true, rules: true } });
    await api(product.base, admin, '/api/v1/alerts');
    const m = await api(product.base, undefined, '/metrics');
    expect(m.body).toMatch(/watchfloor_http_request_duration_seconds_bucket\{le="[\d.]+",method="GET",route="\/api\/v1\/alerts",status="200"\} [1-9]/);
    expect(m.body).toMatch(/watchfloor_socketio_clients \d+/);
  });

  it('answers every JSON body fuzz with a 4xx naming the problem, never a 5xx, and nothing gets polluted', async () => {
    const targets: [string, string][] = [
      ['POST', '/api/v1/auth/login'],
      ['POST', '/api/v1/devices'],
      ['POST', '/api/v1/users'],
      ['POST', '/api/v1/tokens'],
      ['POST', '/api/v1/silences'],
      ['POST', '/api/v1/devices/crac-1/commands'],
      ['PUT', '/api/v1/mqtt/accounts/fuzz-account'],
      ['POST', '/api/v1/alerts/no-such-alert/assign'],
    ];
    // Every state-changing route the router knows is fuzzed too, with the bodies that must always fail.
    for (const r of listRoutes(product.app.ops.app)) {
      // /api/v2/write is InfluxDB's API and answers in InfluxDB's shape ({code, message}; test/line-protocol-write.test.ts).
      if (r.method !== 'GET' && r.path.startsWith('/api/') && !r.path.startsWith('/api/v2/') && !r.path.includes(':') && !targets.some(([m, p]) => m === r.method && p === r.path) && !r.path.endsWith('/logout')) targets.push([r.method, r.path]);
    }
    const huge = 'x'.repeat(200_000);
    const always400: unknown[] = [
      '{"__proto__": {"polluted": true}}',
      '{"name": "a", "nested": {"__proto__": {"polluted": true}}}',
      '[{"__proto__": {"polluted": true}}]',
      '123',
      '"a string"',
      'null',
      '{"unterminated": ',
    ];
    const shaped: unknown[] = [{ constructor: { prototype: { polluted: true } } }, {}, [], { username: 5, password: [] }, { id: null, kind: {}, location: 'here' }, { name: huge.slice(0, 100_000) }, { command: 'set_setpoint', setpointC: 'hot' }, { role: 'root', name: 'x' }];
    const failures: string[] = [];
    for (const [method, path] of targets) {
      for (const body of [...always400, ...shaped]) {
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        const r = await api(product.base, admin, path, { method, body: text });
        const must400 = always400.includes(body);
        const err = (r.body as { error?: { code?: string } }).error;
        if (r.status >= 500 || (must400 && r.status !== 400) || (r.status >= 400 && !err?.code)) failures.push(`${method} ${path} ${text.slice(0, 60)} -> ${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
        if (!must400 && r.status < 300 && method !== 'POST') failures.push(`${method} ${path} accepted ${text.slice(0, 60)}`);
      }
      const big = await api(product.base, admin, path, { method, body: JSON.stringify({ blob: huge + huge }) });
      if (big.status !== 413) failures.push(`${method} ${path} 400 kB body -> ${big.status}`);
    }
    expect(failures).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await api(product.base, undefined, '/healthz')).status).toBe(200);
  }, 120_000);
});

describe('HTTPS and CORS when configured', () => {
  let app: Watchfloor;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wf-https-'));
    const r = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], 30_000);
    expect(r.code, r.stderr).toBe(0);
    const config = Config.parse({
      dataDir: join(dir, 'data'),
      http: { host: '127.0.0.1', port: 0, tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }, corsOrigins: ['https://wall.example.org'] },
      mqtt: { host: '127.0.0.1', port: 0 },
    });
    app = await startWatchfloor({ config, inventory: Inventory.parse(smallInventory), logger: silentLogger, adminPassword: ADMIN_PASSWORD });
  }, 60_000);
  afterAll(() => app?.stop());

  const https = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: app.httpPort, path, method: init.method ?? 'GET', headers: init.headers, ca: readFileSync(join(dir, 'cert.pem')) }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.once('error', reject);
      req.end(init.body);
    });

  it('serves the API over TLS with a Secure session cookie and HSTS', async () => {
    expect(app.ops.scheme).toBe('https');
    const r = await https('/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    expect(r.status).toBe(200);
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/;\s*Secure/i);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(r.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    // Plain HTTP on the same port gets nothing useful.
    await expect(fetch(`http://127.0.0.1:${app.httpPort}/healthz`)).rejects.toThrow();
  });

  it('grants CORS to a configured origin only', async () => {
    const ok = await https('/api/v1/tokens', { method: 'OPTIONS', headers: { origin: 'https://wall.example.org', 'access-control-request-method': 'POST' } });
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://wall.example.org');
    expect(ok.headers['access-control-allow-headers']).toMatch(/X-CSRF-Token/);
    const other = await https('/healthz', { headers: { origin: 'https://wall.example.org.evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

