import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { eventually } from './support/net.ts';
import { ADMIN_PASSWORD } from './support/start-product.ts';
import { ensureUiBuilt, launchChromium } from './support/ui.ts';
import { startLineProtocolProduct, type LineProtocolProduct } from './support/line-protocol-product.ts';

/** The End-user IT view in Chromium: PCs and servers written by line protocol, by site, who is short of disk, in English and Vietnamese. */
describe('End-user IT view', () => {
  let p: LineProtocolProduct;
  let browser: Browser;

  beforeAll(async () => {
    ensureUiBuilt();
    p = await startLineProtocolProduct({ autoRegister: [{ hosts: 'pc-*', kind: 'workstation', layer: 'enduser', site: 'dc1' }, { hosts: 'srv-*', kind: 'server', layer: 'server', site: 'dc1' }] });
    const writer = await p.token('telegraf', 'writer');
    const body = [
      'cpu,cpu=cpu-total,host=pc-01 usage_idle=80',
      'mem,host=pc-01 used_percent=50',
      'disk,host=pc-01,path=/ used_percent=40',
      'disk,host=pc-01,path=/home used_percent=95.5',
      'cpu,cpu=cpu-total,host=srv-01 usage_idle=97.5',
      'disk,host=srv-01,path=/ used_percent=20',
    ].join('\n');
    const r = await fetch(`${p.base}/api/v2/write?org=o&bucket=b`, { method: 'POST', headers: { authorization: `Token ${writer}` }, body });
    expect(r.status).toBe(204);
    browser = await launchChromium();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await p?.app.stop();
  });

  it('lists the site machines, the one short of disk first with its fullest mount, CPU busy from cpu.usage_idle', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${p.base}/`);
    await page.fill('#username', 'admin');
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('#login-submit');
    await page.locator('#live[data-state=live]').waitFor({ timeout: 20_000 });
    await page.click('#nav-enduser');
    const site = page.locator('.enduser-site[data-site="dc1"]');
    await site.waitFor({ timeout: 20_000 });
    await eventually(async () => ((await site.locator('tbody tr').count()) === 2 ? true : undefined), 20_000, 200);
    expect(await site.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device')))).toEqual(['pc-01', 'srv-01']);
    const pc = site.locator('tr[data-device="pc-01"]');
    await eventually(async () => ((await pc.locator('td.disk').textContent())?.includes('95.5 %') ? true : undefined), 20_000, 200);
    expect(await pc.getAttribute('class')).toContain('enduser-short');
    expect((await pc.locator('td.disk').textContent())?.trim()).toBe('95.5 % home');
    expect((await pc.locator('td.cpu').textContent())?.trim()).toBe('20.0 %');
    expect((await site.locator('tr[data-device="srv-01"] td.cpu').textContent())?.trim()).toBe('2.5 %');
    expect(await site.locator('.enduser-summary').textContent()).toBe('2 machines, 0 not reporting, 1 short of disk');
    expect(await pc.locator('td').nth(1).textContent()).toBe('workstation');
    // In Vietnamese: the language switch, as a person would.
    if ((await page.locator('html').getAttribute('lang')) !== 'vi') await page.click('#lang-switch');
    await eventually(async () => ((await site.locator('.enduser-summary').textContent()) === '2 máy, 0 không gửi dữ liệu, 1 sắp đầy đĩa' ? true : undefined), 10_000, 100);
    expect(await page.locator('#nav-enduser').textContent()).toBe('CNTT người dùng');
    expect(await pc.locator('td').nth(1).textContent()).toBe('máy trạm');
    expect(errors).toEqual([]);
  }, 90_000);
});
