import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../collectors/index.ts';
import { readSnmprec, RecordStore, startAgent, type SimulatedAgent } from '../simulators/snmp/index.ts';
import { api, ADMIN_PASSWORD, login, smallInventory, startProduct, type StartedProduct } from './support/start-product.ts';
import { artifactsDir, ensureUiBuilt, launchChromium } from './support/ui.ts';

/**
 * The Discovery view in Chromium: "read neighbours of the polled inventory" on two switches served
 * from the real recordings, the proposed links shown, one between two inventory devices accepted with
 * its button (then in the inventory), and a link to a neighbour not yet accepted waiting for it.
 */
const REF = '/work/shared/reference/snmp';
const WAIT = { timeout: 20_000 };

describe('the Discovery view: neighbours of the inventory and accepting a link', () => {
  let product: StartedProduct;
  let agents: SimulatedAgent[] = [];
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ensureUiBuilt();
    const port = await freeUdpPort('127.0.0.3');
    agents = [
      await startAgent(new RecordStore(readSnmprec(`${REF}/cisco-nexus-5000.snmprec`).records), { address: '127.0.0.3', port, community: 'ui-nexus-c0mm' }),
      await startAgent(new RecordStore(readSnmprec(`${REF}/cisco-catalyst-3560.snmprec`).records), { address: '127.0.0.2', port, community: 'ui-cat-c0mm' }),
    ];
    product = await startProduct({
      inventory: {
        ...smallInventory,
        devices: [
          ...(smallInventory.devices ?? []),
          { id: 'core-nexus', kind: 'switch', location: { room: 'room-1', x: 5, y: 5 }, snmp: { host: '127.0.0.3', port, community: 'ui-nexus-c0mm', intervalSeconds: 3600 } },
          { id: 'access-cat', kind: 'switch', location: { room: 'room-1', x: 4, y: 5 }, snmp: { host: '127.0.0.2', port, community: 'ui-cat-c0mm', intervalSeconds: 3600 } },
          { id: 'ca-5548-02', name: 'NWPU-CA-5548-02', kind: 'switch', location: { room: 'room-1', x: 6, y: 5 } },
        ],
      },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    await page.goto(`${product.base}/?lang=en`);
    await page.locator('#login-form').waitFor(WAIT);
    await page.fill('#username', 'admin');
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('#login-submit');
    await page.locator('#nav-discovery').waitFor(WAIT);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await product?.app.stop();
    await Promise.all(agents.map((a) => a.close()));
  });

  it('reads the neighbours, shows the proposed links, and accepts one into the inventory', async () => {
    await page.click('#nav-discovery');
    await page.click('#discovery-neighbours');
    await page.locator('#discovery-sweep[data-state="done"]').waitFor(WAIT);
    expect(await page.locator('#discovery-found tr[data-address]').count()).toBe(2);
    const row = page.locator('#discovery-links tr[data-link="core-nexus|mgmt0|ca-5548-02|mgmt0"]');
    await row.waitFor(WAIT);
    // A link to a neighbour the inventory lacks cannot be taken yet: it says which device to accept first.
    expect(await page.locator('#discovery-links tr[data-link="access-cat|Gi0/50|kexuehuitang|GigabitEthernet0/1"]').textContent()).toContain('Accept kexuehuitang first');
    await row.locator('.discovery-accept-link').click();
    await page.locator('#discovery-note').waitFor(WAIT);
    expect(await page.locator('#discovery-note').textContent()).toBe('Link lan-core-nexus-mgmt0--ca-5548-02-mgmt0 added to the inventory');
    // Not proposed again, counted as known instead.
    await page.locator('#discovery-links-known').waitFor(WAIT);
    expect(await row.count()).toBe(0);
    await page.screenshot({ path: join(artifactsDir, 'discovery-neighbours.png'), fullPage: true });
    const admin = await login(product.base);
    const inv = (await api(product.base, admin, '/api/v1/inventory')).body as { links: { id: string }[] };
    expect(inv.links.map((l) => l.id)).toContain('lan-core-nexus-mgmt0--ca-5548-02-mgmt0');
  }, 60_000);
});
