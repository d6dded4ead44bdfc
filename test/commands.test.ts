import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/net.ts';
import { api, login, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';

interface Latest {
  metric: string;
  value: number;
}

describe('device control: commands over MQTT to the simulated devices', () => {
  let product: StartedProduct;
  let admin: LoggedIn;
  let noc: LoggedIn;

  beforeAll(async () => {
    product = await startProduct();
    admin = await login(product.base);
    await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'tech', role: 'noc', password: 'tech-password-1' } });
    await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'watcher', role: 'viewer', password: 'watcher-password-1' } });
    noc = await login(product.base, 'tech', 'tech-password-1');
  }, 30_000);
  afterAll(() => product?.app.stop());

  it('fails with 504 when the device does not answer in time', async () => {
    // No simulator yet: nobody carries out crac-1's commands.
    const started = Date.now();
    const r = await api(product.base, noc, '/api/v1/devices/crac-1/commands', { method: 'POST', body: { command: 'set_setpoint', setpointC: 20, timeoutMs: 500 } });
    expect(r.status).toBe(504);
    expect(r.body).toMatchObject({ error: { code: 'WF_ERR_DEVICE_TIMEOUT', message: expect.stringContaining('500 ms') } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('changes a CRAC setpoint: the simulated CRAC answers, and its telemetry shows the new setpoint', async () => {
    await product.app.startSimulation({ intervalMs: 200 });
    const r = await api(product.base, noc, '/api/v1/devices/crac-1/commands', { method: 'POST', body: { command: 'set_setpoint', setpointC: 21.5 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ device: 'crac-1', command: 'set_setpoint', commandId: expect.any(String), result: { ok: true, state: { setpoint: 21.5 } } });
    await eventually(async () => {
      const l = await api(product.base, noc, '/api/v1/metrics/latest?device=crac-1&metric=setpoint');
      return (l.body as Latest[])[0]?.value === 21.5 ? true : undefined;
    }, 15_000);
  }, 30_000);

  it('needs the device id typed again in `confirm` before switching a CRAC off', async () => {
    const without = await api(product.base, noc, '/api/v1/devices/crac-1/commands', { method: 'POST', body: { command: 'power', state: 'off' } });
    expect(without.status).toBe(400);
    expect(without.body).toMatchObject({ error: { field: 'confirm' } });
    const wrong = await api(product.base, noc, '/api/v1/devices/crac-1/commands', { method: 'POST', body: { command: 'power', state: 'off', confirm: 'crac-2' } });
    expect(wrong.status).toBe(400);
    const ok = await api(product.base, noc, '/api/v1/devices/crac-1/commands', { method: 'POST', body: { command: 'power', state: 'off', confirm: 'crac-1' } });
    expect(ok.status).toBe(200);
    await eventually(async () => {
      const l = await api(product.base, noc, '/api/v1/metrics/latest?device=crac-1&metric=fan_speed_pct');
      return (l.body as Latest[])[0]?.value === 0 ? true : undefined;
    }, 15_000);
  }, 30_000);

  it('refuses bad commands with 400 naming the field, and viewers with 403', async () => {
    const range = await api(product.base, noc, '/api/v1/devices/crac-1/commands', { method: 'POST', body: { command: 'set_setpoint', setpointC: 5 } });
    expect(range.status).toBe(400);
    expect(range.body).toMatchObject({ error: { field: 'setpointC' } });
    const unknown = await api(product.base, noc, '/api/v1/devices/crac-1/commands', { method: 'POST', body: { command: 'self_destruct' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: { field: 'command' } });
    const sensor = await api(product.base, noc, '/api/v1/devices/s-a01-ft/commands', { method: 'POST', body: { command: 'set_setpoint', setpointC: 20 } });
    expect(sensor.status).toBe(400);
    expect(sensor.body).toMatchObject({ error: { code: 'WF_ERR_NO_COMMANDS' } });
    expect((await api(product.base, noc, '/api/v1/devices/nope/commands', { method: 'POST', body: { command: 'power', state: 'on' } })).status).toBe(404);
    const viewer = await login(product.base, 'watcher', 'watcher-password-1');
    expect((await api(product.base, viewer, '/api/v1/devices/crac-1/commands', { method: 'POST', body: { command: 'power', state: 'on' } })).status).toBe(403);
  });

  it('audits every command with who, what, from where and how it ended', async () => {
    const r = await api(product.base, admin, '/api/v1/audit?action=device.command');
    const entries = r.body as { actor: string; source: string; target: string; outcome: string; detail: { command: string; status: string } }[];
    expect(entries.map((e) => `${e.actor} ${e.target} ${e.detail.command} ${e.detail.status} ${e.outcome}`)).toEqual([
      'tech crac-1 power ok ok',
      'tech crac-1 set_setpoint ok ok',
      'tech crac-1 set_setpoint timeout failed',
    ]);
    expect(entries[0]?.source).toMatch(/127\.0\.0\.1/);
  });
});
