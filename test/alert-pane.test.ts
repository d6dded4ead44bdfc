import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../core/index.ts';
import { loadRules, type RuleInput } from '../rules/index.ts';
import { connectMqtt, eventually } from './support/net.ts';
import { api, login, smallInventory, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';
import { ensureUiBuilt, launchChromium } from './support/ui.ts';

/**
 * The alert pane's actions and noise marks in Chromium, on a product with rules made to show them:
 * a noc technician assigns, comments and silences from the card; an alert behind a device that is
 * down is marked suppressed; one whose condition keeps changing is marked flapping. And the page
 * works from the keyboard alone: views by arrow keys, a rack's card on focus, its panel on Enter.
 */

const WAIT = { timeout: 15_000 };
const rules: RuleInput[] = [
  { id: 'hot', type: 'threshold', name: 'Inlet hot', kind: 'environment', severity: 'major', match: { metric: 'temperature' }, when: { above: 30 } },
  { id: 'down', type: 'nodata', name: 'Device offline', kind: 'availability', severity: 'major', after: '60s' },
];
// s-a01-fm hangs off an environment gateway: when the gateway is down, the sensor's alerts are its consequence.
const inventory = {
  ...smallInventory,
  devices: [
    ...(smallInventory.devices ?? []).map((d) => (d.id === 's-a01-fm' ? { ...d, parents: ['env-gw'] } : d)),
    { id: 'env-gw', kind: 'iot' as const, location: { room: 'room-1', x: 9, y: 7 } },
  ],
};

describe('the alert pane in the browser: assign, comment, silence; suppressed and flapping marks; the keyboard', () => {
  let p: StartedProduct;
  let admin: LoggedIn;
  let browser: Browser;
  let page: Page;
  const clients: MqttClient[] = [];
  const pageErrors: string[] = [];
  const publisher = async (id: string): Promise<MqttClient> => {
    await p.app.accounts.setDevicePassword(id, `${id}-secret`);
    const c = await connectMqtt(p.app.mqttPort, { username: id, password: `${id}-secret`, clientId: id });
    clients.push(c);
    return c;
  };
  const publish = (c: MqttClient, id: string, t: number): Promise<unknown> => c.publishAsync(`devices/${id}/telemetry`, JSON.stringify({ metrics: { temperature: t } }), { qos: 1 });
  const alertOf = async (rule: string, device: string): Promise<Alert | undefined> =>
    ((await api(p.base, admin, `/api/v1/alerts?state=firing`)).body as Alert[]).find((a) => a.rule === rule && a.labels.device === device);
  const card = (a: Alert) => page.locator(`#alert-list li[data-alert-id="${a.id}"]`);

  beforeAll(async () => {
    ensureUiBuilt();
    p = await startProduct({ inventory, rules: loadRules(rules, 'test') });
    admin = await login(p.base);
    expect((await api(p.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'tech', role: 'noc', password: 'tech-password-1' } })).status).toBe(201);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(p.base);
    await page.fill('#username', 'tech');
    await page.fill('#password', 'tech-password-1');
    await page.click('#login-submit');
    await page.locator('#live[data-state=live]').waitFor(WAIT);
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.endAsync().catch(() => undefined);
    await browser?.close();
    await p?.app.stop();
  });

  it('assigns to me, comments and silences for an hour from the alert card', async () => {
    const sensor = await publisher('s-a01-ft');
    await publish(sensor, 's-a01-ft', 35);
    const alert = (await eventually(() => alertOf('hot', 's-a01-ft'), 10_000, 100))!;
    const c = card(alert);
    await c.waitFor(WAIT);

    await c.locator('.act-assign').click();
    await c.locator('.badge-assignee').filter({ hasText: 'tech' }).waitFor(WAIT);
    expect((await alertOf('hot', 's-a01-ft'))?.assignee).toBe('tech');

    await c.locator('.act-comment').click();
    await c.locator('.comment-text').fill('fan tray reseated, watching');
    await c.locator('.act-send').click();
    await c.locator('.badge-comments').waitFor(WAIT);
    const history = (await api(p.base, admin, `/api/v1/alerts/${alert.id}/history`)).body as { action: string; who: string; text?: string; detail?: { text?: string } }[];
    expect(history.filter((h) => h.action === 'comment' && h.who === 'tech')).toHaveLength(1);

    await c.locator('.act-silence').click();
    await c.locator('.badge-silenced').waitFor(WAIT);
    const silences = (await api(p.base, admin, '/api/v1/silences')).body as { matchers: { name: string; value: string }[]; endsAt: number; createdBy?: string }[];
    const mine = silences.find((s) => s.matchers.some((m) => m.name === 'device' && m.value === 's-a01-ft'));
    expect(mine?.matchers).toContainEqual({ name: 'alertname', op: '=', value: 'hot' });
    expect(mine!.endsAt - Date.now()).toBeGreaterThan(55 * 60_000);
  });

  it('marks an alert behind a device that is down as suppressed, naming the cause', async () => {
    const gw = await publisher('env-gw');
    await gw.publishAsync('devices/env-gw/telemetry', JSON.stringify({ metrics: { battery_pct: 90 } }), { qos: 1 });
    await eventually(async () => ((await api(p.base, admin, '/api/v1/devices')).body as { id: string; presence?: { status: string } }[]).find((d) => d.id === 'env-gw' && d.presence?.status === 'online'), 10_000, 100);
    // The gateway drops off the network (no clean goodbye): its no-data alert fires at once.
    gw.stream.destroy();
    const down = (await eventually(() => alertOf('down', 'env-gw'), 15_000, 200))!;
    const sensor = await publisher('s-a01-fm');
    await publish(sensor, 's-a01-fm', 36);
    const hot = (await eventually(async () => {
      const a = await alertOf('hot', 's-a01-fm');
      return a?.suppressedBy ? a : undefined;
    }, 10_000, 100))!;
    expect(hot.suppressedBy).toBe(down.id);
    await card(hot).locator('.badge-suppressed').filter({ hasText: down.id }).waitFor(WAIT);
  });

  it('marks an alert whose condition keeps changing as flapping, and holds it as one alert', async () => {
    const sensor = await publisher('s-a01-fb');
    // Hot and cool in turn: 24 evaluations, every one a change.
    for (let i = 0; i < 24; i++) await publish(sensor, 's-a01-fb', i % 2 === 0 ? 35 : 22);
    await publish(sensor, 's-a01-fb', 35);
    const flapping = (await eventually(async () => {
      const a = await alertOf('hot', 's-a01-fb');
      return a?.flapping ? a : undefined;
    }, 10_000, 100))!;
    await card(flapping).locator('.badge-flapping').waitFor(WAIT);
    const all = (await api(p.base, admin, '/api/v1/alerts')).body as Alert[];
    // One alert held through the flaps, not one per flap (the first few before flapping was seen resolved).
    expect(all.filter((a) => a.rule === 'hot' && a.labels.device === 's-a01-fb' && a.state === 'firing')).toHaveLength(1);
    expect(pageErrors).toEqual([]);
  });

  it('works from the keyboard: arrows between views, a rack card on focus, its elevation on Enter, Escape to close', async () => {
    await page.focus('#nav-floor');
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('nav-power');
    expect(await page.getAttribute('body', 'data-view')).toBe('power');
    await page.keyboard.press('ArrowLeft');
    expect(await page.getAttribute('body', 'data-view')).toBe('floor');

    await page.focus('svg.plan .rack[data-rack="A01"]');
    const tip = page.locator('#tooltip');
    await tip.waitFor({ state: 'visible', ...WAIT });
    expect(await tip.textContent()).toContain('A01');
    await page.keyboard.press('Enter');
    await page.locator('#rack-panel').waitFor(WAIT);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id), { timeout: 5000 }).toBe('rack-panel-close');
    await page.keyboard.press('Escape');
    await page.locator('#rack-panel').waitFor({ state: 'detached', ...WAIT });
    expect(pageErrors).toEqual([]);
  });
});
