import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesFor, simulatorPassword, startWatchfloor, type Watchfloor } from '../cli/index.ts';
import { Config, Inventory, bundledConfigDir, readDataFile, silentLogger, type Clock, type Device } from '../core/index.ts';
import { connectMqtt, eventually } from './support/net.ts';
import { launchChromium } from './support/ui.ts';

/**
 * The floor plan in Debian's Chromium against the real product (bundled sample data center, no
 * simulator): a technician logs in, a rack sensor publishes over MQTT and its marker changes
 * colour on the open page without a reload; an old reading is drawn stale; a sustained 35 °C at a
 * cold-aisle inlet shows up as a critical alert. The server clock can be moved forward so the
 * rule's `for` takes no real time; everything else runs on real time.
 */

const ADMIN_PASSWORD = 'browser-test-admin-pass';
const SENSOR_PASSWORD = 'secret-pass';
const WAIT = { timeout: 10_000 };

/** The system clock plus a skew the test can add to ("an hour later" without waiting an hour). */
class MovableClock implements Clock {
  skewMs = 0;
  now(): number {
    return Date.now() + this.skewMs;
  }
}

const inventory = readDataFile(join(bundledConfigDir, 'sample-datacenter.yaml'), Inventory);
const serverRooms = new Set(inventory.rooms.filter((r) => r.serverRoom).map((r) => r.id));
const rackOf = (d: Device): string | undefined => ('rack' in d.location ? d.location.rack : undefined);
const positionOf = (d: Device): string | undefined => ('rack' in d.location ? d.location.position : undefined);
const roomOfRack = new Map(inventory.racks.map((r) => [r.id, r.room]));
/** The first cold-aisle (front-middle) rack sensor in a server room, and the rear sensor of its rack. */
const sensor = inventory.devices.find(
  (d) => d.sensorType === 'temperature-humidity' && positionOf(d) === 'front-middle' && serverRooms.has(roomOfRack.get(rackOf(d) ?? '') ?? ''),
);
const rackId = sensor ? (rackOf(sensor) as string) : '';
const roomId = roomOfRack.get(rackId) ?? '';
const rearSensor = inventory.devices.find((d) => rackOf(d) === rackId && positionOf(d) === 'rear');

/** The built-in rule that pages for a hot inlet: a critical threshold on cold-aisle temperature below 35 °C. */
const hotInletRule = rulesFor(Config.parse({}), bundledConfigDir).find(
  (r) => r.type === 'threshold' && r.severity === 'critical' && r.match.metric === 'temperature' && r.when.above !== undefined && r.when.above < 35,
);

const rgb = (fill: string): [number, number, number] => {
  const m = /^rgb\((\d+), (\d+), (\d+)\)$/.exec(fill);
  if (!m) throw new Error(`not an rgb() fill: ${fill}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
};
const luminance = ([r, g, b]: [number, number, number]): number => 0.2126 * r + 0.7152 * g + 0.0722 * b;

describe('floor plan in the browser', () => {
  const clock = new MovableClock();
  let dataDir: string;
  let app: Watchfloor;
  let base: string;
  let browser: Browser;
  let page: Page;
  const mqttClients: MqttClient[] = [];
  const pageErrors: string[] = [];

  const marker = (id: string) => page.locator(`svg.plan [data-device="${id}"]`);
  const fillOf = (id: string): Promise<string> => marker(id).evaluate((el) => getComputedStyle(el).fill);
  const publishers = new Map<string, (payload: object) => Promise<unknown>>();
  /** A publisher connected as the device itself (its own MQTT identity), made once per device. */
  const publisher = async (id: string): Promise<(payload: object) => Promise<unknown>> => {
    const known = publishers.get(id);
    if (known) return known;
    await app.accounts.setDevicePassword(id, SENSOR_PASSWORD);
    const client = await connectMqtt(app.mqttPort, { username: id, password: SENSOR_PASSWORD, clientId: `browser-test-${id}` });
    mqttClients.push(client);
    const publish = (payload: object): Promise<unknown> => client.publishAsync(`devices/${id}/telemetry`, JSON.stringify(payload), { qos: 1 });
    publishers.set(id, publish);
    return publish;
  };

  beforeAll(async () => {
    if (!sensor || !rearSensor) throw new Error('the bundled sample has no front-middle and rear sensor pair in a server room');
    dataDir = mkdtempSync(join(tmpdir(), 'wf-browser-'));
    const config = Config.parse({ dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 } });
    app = await startWatchfloor({ config, inventory, logger: silentLogger, adminPassword: ADMIN_PASSWORD, clock });
    base = `http://127.0.0.1:${app.httpPort}`;
    browser = await launchChromium({ autoplay: false });
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  afterAll(async () => {
    await browser?.close();
    for (const c of mqttClients) await c.endAsync().catch(() => undefined);
    await app?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('asks for a login first and refuses a wrong password', async () => {
    await page.goto(`${base}/`);
    await page.locator('#login-form').waitFor(WAIT);
    expect(await page.locator('#app-view').isHidden()).toBe(true);
    await page.fill('#username', 'admin');
    await page.fill('#password', 'not-the-password');
    await page.click('#login-submit');
    await expectText(page, '#login-message', 'Wrong username or password.');
    expect(await page.inputValue('#password')).toBe('');
    expect(await page.locator('#app-view').isHidden()).toBe(true);
  });

  it('logs in and draws the room to scale, every rack sensor without data yet', async () => {
    await page.fill('#username', 'admin');
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('#login-submit');
    await page.locator('#app-view').waitFor(WAIT);
    await page.click(`#tab-${roomId}`);
    await page.locator(`svg.plan[data-room="${roomId}"]`).waitFor(WAIT);
    await page.locator('#live[data-state=live]').waitFor(WAIT);

    const room = inventory.rooms.find((r) => r.id === roomId)!;
    const viewBox = (await page.getAttribute('svg.plan', 'viewBox'))!.split(' ').map(Number);
    // Metres in, metres out: the same margin round the room on both axes.
    expect(viewBox[2]! - room.width).toBeCloseTo(viewBox[3]! - room.depth, 6);
    const racks = inventory.racks.filter((r) => r.room === roomId);
    expect(await page.locator('svg.plan .rack').count()).toBe(racks.length);
    const rack = racks.find((r) => r.id === rackId)!;
    const body = page.locator(`.rack[data-rack="${rackId}"] .rack-body`);
    const sideways = rack.facing === 'east' || rack.facing === 'west';
    expect(Number(await body.getAttribute('width'))).toBeCloseTo(sideways ? rack.depth : rack.width, 6);
    expect(Number(await body.getAttribute('height'))).toBeCloseTo(sideways ? rack.width : rack.depth, 6);
    expect(await page.locator(`.rack[data-rack="${rackId}"] .rack-front`).count()).toBe(1);

    const sensorsInRoom = inventory.devices.filter((d) => positionOf(d) && roomOfRack.get(rackOf(d) ?? '') === roomId);
    expect(await page.locator('svg.plan .sensor-rack').count()).toBe(sensorsInRoom.length);
    expect(await marker(sensor!.id).getAttribute('data-state')).toBe('nodata');
    expect(await marker(sensor!.id).getAttribute('data-stale')).toBe('true');
    expect(await fillOf(sensor!.id)).toMatch(/^url\(/);
  });

  it('lists nothing critical at first', async () => {
    await page.locator('#alert-summary[data-firing]').waitFor(WAIT);
    expect(await page.locator('#alert-list li.alert.sev-critical.state-firing').count()).toBe(0);
  });

  it('colours a sensor from an MQTT publish and recolours it on the next one, without a reload', async () => {
    await page.evaluate(() => Object.assign(window, { wfNoReload: true }));
    const publish = await publisher(sensor!.id);

    await publish({ metrics: { temperature: 21, humidity: 45 } });
    await page.locator(`svg.plan [data-device="${sensor!.id}"][data-temp="21.0"][data-stale="false"]`).waitFor(WAIT);
    const cool = await fillOf(sensor!.id);

    await publish({ metrics: { temperature: 35, humidity: 45 } });
    await page.locator(`svg.plan [data-device="${sensor!.id}"][data-temp="35.0"][data-stale="false"]`).waitFor(WAIT);
    const hot = await fillOf(sensor!.id);

    expect(hot).not.toBe(cool);
    // The scale is sequential in lightness: hotter reads brighter, whatever the colour vision.
    expect(luminance(rgb(hot))).toBeGreaterThan(luminance(rgb(cool)) + 40);
    expect(await page.evaluate(() => (window as unknown as { wfNoReload?: boolean }).wfNoReload)).toBe(true);
    expect(await page.textContent('#room-summary')).toContain(`hottest inlet 35.0 °C (${sensor!.id})`);
  });

  it('shows the numbers on hover', async () => {
    const box = (await marker(sensor!.id).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tooltip = page.locator('#tooltip');
    await tooltip.waitFor({ state: 'visible', ...WAIT });
    const text = await tooltip.textContent();
    expect(text).toContain(sensor!.id);
    expect(text).toContain('35.0 °C');
    expect(text).toContain('45.0 %RH');
    expect(text).toContain('front, middle');
    await page.mouse.move(2, 2);
  });

  it('draws a reading older than the stale threshold hatched and marked stale, never as current', async () => {
    const publish = await publisher(rearSensor!.id);
    await publish({ ts: clock.now() - 120_000, metrics: { temperature: 38, humidity: 30 } });
    const el = page.locator(`svg.plan [data-device="${rearSensor!.id}"][data-temp="38.0"]`);
    await el.waitFor(WAIT);
    expect(await el.getAttribute('data-stale')).toBe('true');
    expect(await el.getAttribute('data-state')).toBe('stale');
    expect(await fillOf(rearSensor!.id)).toMatch(/^url\(/);
    expect(await el.getAttribute('aria-label')).toMatch(/stale/);
    expect(await page.getAttribute('#room-summary', 'data-stale')).toBe('1');
  });

  it('lists a critical alert and outlines the rack once 35 °C has held for the rule\'s duration', async () => {
    if (hotInletRule?.type !== 'threshold') throw new Error('the bundled rules have no critical threshold on a hot inlet below 35 °C');
    const rule = hotInletRule;
    const publish = await publisher(sensor!.id);
    await publish({ metrics: { temperature: 35, humidity: 45 } });
    clock.skewMs += rule.for + 1_000;
    await publish({ metrics: { temperature: 35.2, humidity: 45 } });
    const item = page.locator(`#alert-list li.alert.sev-critical.state-firing[data-label-device="${sensor!.id}"]`);
    await item.waitFor(WAIT);
    expect(await item.locator('.sev-badge').textContent()).toBe('CRITICAL');
    expect(await page.getAttribute(`.rack[data-rack="${rackId}"]`, 'data-alert')).toBe('critical');
    expect(await page.textContent(`#tab-${roomId} .tab-badge`)).toMatch(/firing/);
    expect(pageErrors).toEqual([]);
  });

  it('draws at most 60 alert cards in a storm, counts the rest, and the filters reach any of them', async () => {
    const rule = hotInletRule as Extract<typeof hotInletRule, { type: 'threshold' }>;
    // Every cold-aisle inlet of the sample at 35 °C, published by one collector identity (the simulator's).
    const inlets = inventory.devices.filter((d) => d.sensorType === 'temperature-humidity' && positionOf(d)?.startsWith('front') && serverRooms.has(roomOfRack.get(rackOf(d) ?? '') ?? ''));
    expect(inlets.length).toBeGreaterThan(60);
    const client = await connectMqtt(app.mqttPort, { username: 'simulator', password: await simulatorPassword(dataDir, app.accounts), clientId: 'browser-test-storm' });
    mqttClients.push(client);
    const heat = (t: number): Promise<unknown> => Promise.all(inlets.map((d) => client.publishAsync(`devices/${d.id}/telemetry`, JSON.stringify({ metrics: { temperature: t, humidity: 45 } }), { qos: 1 })));
    await heat(35.1);
    clock.skewMs += rule.for + 1_000;
    await heat(35.3);

    const summary = page.locator('#alert-summary');
    await eventually(async () => (Number(await summary.getAttribute('data-firing')) > 60 ? true : undefined), 15_000, 200);
    const firing = Number(await summary.getAttribute('data-firing'));
    const more = page.locator('#alert-list .alert-more');
    await more.waitFor(WAIT);
    expect(await page.locator('#alert-list li.alert').count()).toBe(60);
    const hidden = Number(await more.getAttribute('data-more'));
    // Firing and resolved cards alike are counted: the 60 drawn plus the rest make the whole list.
    expect(hidden).toBeGreaterThanOrEqual(firing - 60);
    expect(await more.textContent()).toBe(`${hidden} more not shown: narrow the list with the filters.`);
    // The last inlet's alert may be beyond the 60 drawn; searching for its device brings it up.
    const last = inlets[inlets.length - 1]!.id;
    await page.fill('#filter-text', last);
    await page.locator(`#alert-list li.alert.sev-critical.state-firing[data-label-device="${last}"]`).waitFor(WAIT);
    expect(await more.count()).toBe(0);
    await page.fill('#filter-text', '');
    expect(pageErrors).toEqual([]);
  });
});

async function expectText(page: Page, selector: string, text: string): Promise<void> {
  await page.locator(selector).filter({ hasText: text }).waitFor(WAIT);
  expect(await page.textContent(selector)).toBe(text);
}
