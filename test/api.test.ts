import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMqtt, eventually } from './support/net.ts';
import { api, connectSocket, login, startProduct, ADMIN_PASSWORD, type LoggedIn, type StartedProduct } from './support/start-product.ts';

describe('ops server: sessions, validation, device registration', () => {
  let product: StartedProduct;
  let admin: LoggedIn;

  beforeAll(async () => {
    product = await startProduct();
    admin = await login(product.base);
  });
  afterAll(() => product?.app.stop());

  it('answers /healthz without a login and everything under /api/v1 with 401 without one', async () => {
    expect((await api(product.base, undefined, '/healthz')).status).toBe(200);
    for (const path of ['/api/v1/devices', '/api/v1/alerts', '/api/v1/metrics/latest', '/api/v1/inventory', '/api/v1/auth/me']) {
      const r = await api(product.base, undefined, path);
      expect(r.status, path).toBe(401);
      expect(r.body).toMatchObject({ error: { code: 'WF_ERR_UNAUTHORIZED' } });
    }
  });

  it('refuses a wrong password with 401 and no cookie', async () => {
    const res = await fetch(`${product.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'guess' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('sets an HttpOnly, SameSite=Strict session cookie', async () => {
    const res = await fetch(`${product.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
  });

  it('refuses a state change made with the cookie but without the CSRF token', async () => {
    const r = await api(product.base, admin, '/api/v1/devices', { method: 'POST', csrf: false, body: { id: 'x1', kind: 'iot', location: { site: 'dc1' } } });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ error: { code: 'WF_ERR_CSRF' } });
  });

  it.each([
    ['kind', { id: 'x2', kind: 'toaster', location: { site: 'dc1' } }],
    ['id', { id: 'has/slash', kind: 'iot', location: { site: 'dc1' } }],
    ['location.rack', { id: 'x3', kind: 'sensor', location: { rack: 'Z99', position: 'rear' } }],
    ['mqtt.password', { id: 'x4', kind: 'iot', location: { site: 'dc1' }, mqtt: { password: 'short' } }],
  ])('answers a bad device registration with 400 naming the field %s', async (field, body) => {
    const r = await api(product.base, admin, '/api/v1/devices', { method: 'POST', body });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { field } });
    expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it('answers malformed JSON with 400, not a stack trace', async () => {
    const r = await api(product.base, admin, '/api/v1/devices', { method: 'POST', body: '{"id": ' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'WF_ERR_BAD_JSON' } });
  });

  it('answers bad query parameters with 400 naming the parameter', async () => {
    const r = await api(product.base, admin, '/api/v1/metrics/range?device=s-a01-ft&metric=temperature&step=often');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { field: 'step' } });
    const s = await api(product.base, admin, '/api/v1/alerts?severity=apocalyptic');
    expect(s.body).toMatchObject({ error: { field: 'severity' } });
  });

  it('registers a device so any MQTT client can act as it, and keeps it across a restart', async () => {
    const device = { id: 'iot-new-1', name: 'Lobby air quality', kind: 'iot', location: { site: 'dc1', area: 'lobby' }, mqtt: { password: 'lobby-sensor-pass' } };
    const r = await api(product.base, admin, '/api/v1/devices', { method: 'POST', body: device });
    expect(r.status).toBe(201);
    expect(JSON.stringify(r.body)).not.toContain('lobby-sensor-pass');
    const again = await api(product.base, admin, '/api/v1/devices', { method: 'POST', body: device });
    expect(again.status).toBe(409);

    const client = await connectMqtt(product.app.mqttPort, { username: 'iot-new-1', password: 'lobby-sensor-pass' });
    await client.publishAsync('devices/iot-new-1/telemetry', '{"co2_ppm": 612}', { qos: 1 });
    await client.endAsync();
    await eventually(async () => {
      const l = await api(product.base, admin, '/api/v1/metrics/latest?device=iot-new-1');
      return (l.body as { value: number }[])[0]?.value === 612 ? true : undefined;
    });

    const { dataDir } = product;
    await product.app.stop();
    product = await startProduct({ dataDir });
    expect(product.app.generatedAdminPassword).toBeUndefined();
    admin = await login(product.base);
    const d = await api(product.base, admin, '/api/v1/devices/iot-new-1');
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ id: 'iot-new-1', tags: { area: 'lobby' }, latest: [expect.objectContaining({ metric: 'co2_ppm', value: 612 })] });
    const client2 = await connectMqtt(product.app.mqttPort, { username: 'iot-new-1', password: 'lobby-sensor-pass' });
    await client2.endAsync();
  });

  it('lets only admins register devices or users', async () => {
    const r = await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'tech1', role: 'noc', password: 'noc-password-1' } });
    expect(r.status).toBe(201);
    const tech = await login(product.base, 'tech1', 'noc-password-1');
    const d = await api(product.base, tech, '/api/v1/devices', { method: 'POST', body: { id: 'x9', kind: 'iot', location: { site: 'dc1' } } });
    expect(d.status).toBe(403);
    expect((await api(product.base, tech, '/api/v1/devices')).status).toBe(200);
  });

  it('serves the broker\'s refusals as security events, and pushes them on socket.io', async () => {
    const socket = await connectSocket(product.base, admin);
    const pushed: { type: string; username?: string }[] = [];
    socket.on('security-event', (e: { type: string; username?: string }) => pushed.push(e));
    await expect(connectMqtt(product.app.mqttPort, { username: 'intruder', password: 'guess-1' })).rejects.toThrow();
    await eventually(() => pushed.find((e) => e.username === 'intruder'));
    socket.close();
    const r = await api(product.base, admin, '/api/v1/security-events');
    expect(r.body).toContainEqual(expect.objectContaining({ type: 'bad_credentials', origin: 'mqtt', username: 'intruder', source: '127.0.0.1' }));
  });

  it('shows security alerts to the SOC and admins only, over REST as over socket.io', async () => {
    for (const [username, role] of [['noc1', 'noc'], ['soc1', 'soc']]) {
      const r = await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username, role, password: `${role}-password-1` } });
      expect(r.status).toBe(201);
    }
    for (let i = 0; i < 5; i++) {
      await expect(connectMqtt(product.app.mqttPort, { username: `guess${i}`, password: 'guess-guess' })).rejects.toThrow();
    }
    const brute = await eventually(async () => {
      const r = await api(product.base, admin, '/api/v1/alerts?kind=security');
      return (r.body as { id: string; rule: string }[]).find((a) => a.rule === 'mqtt-brute-force');
    });
    const noc = await login(product.base, 'noc1', 'noc-password-1');
    const soc = await login(product.base, 'soc1', 'soc-password-1');
    expect((await api(product.base, noc, '/api/v1/alerts')).body).not.toContainEqual(expect.objectContaining({ id: brute.id }));
    expect((await api(product.base, noc, `/api/v1/alerts/${brute.id}`)).status).toBe(404);
    expect((await api(product.base, soc, '/api/v1/alerts')).body).toContainEqual(expect.objectContaining({ id: brute.id }));
    expect((await api(product.base, soc, `/api/v1/alerts/${brute.id}`)).status).toBe(200);
  });

  it('ends the session on logout, for HTTP and socket.io alike', async () => {
    const s = await login(product.base);
    const socket = await connectSocket(product.base, s);
    socket.close();
    expect((await api(product.base, s, '/api/v1/auth/logout', { method: 'POST' })).status).toBe(204);
    expect((await api(product.base, s, '/api/v1/devices')).status).toBe(401);
    await expect(connectSocket(product.base, s)).rejects.toThrow(/unauthorized/);
  });
});
