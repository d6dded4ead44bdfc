import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/net.ts';
import { api } from './support/start-product.ts';
import { artifactsDir } from './support/ui.ts';
import { ADMIN_PASSWORD, WAIT, watchFloorSuite } from './support/watch-floor.ts';

/**
 * The Services view in Chromium against the whole product with `--simulate`: the simulated
 * e-government services (simulators/services) in the book, a service added through the API that
 * probes the portal every second, its state moving when the portal fails, its latency chart, its
 * dependency chain down to the rack, and the links to the monthly report and /status.
 */
describe('the Services view in the browser', () => {
  const floor = watchFloorSuite();

  beforeAll(async () => {
    const portal = floor.app.serviceEstate?.services.find((s) => s.id === 'portal');
    if (!portal) throw new Error('the simulated services did not start');
    // The simulated portal's own checks run every 30 s; this one probes the same site every second.
    const body = {
      id: 'portal-fast', name: 'Cổng dịch vụ công (kiểm tra nhanh)', public: false,
      dependsOn: ['vm-public-services', 'cloud-host-1', 'inet-vnpt'],
      checks: portal.checks.filter((c) => c.type === 'http').map((c) => ({ ...c, intervalSeconds: 1, timeoutSeconds: 5, retries: 1 })),
    };
    const res = await api(floor.base, floor.admin, '/api/v1/services', { method: 'POST', body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await floor.open('admin', ADMIN_PASSWORD);
  }, 60_000);

  it('lists the simulated e-government services and the one added, with its state from its checks', async () => {
    const page = floor.pages[0]!;
    await page.click('#nav-services');
    for (const id of ['portal', 'document-mgmt', 'lgsp', 'email', 'web-portal', 'dns', 'portal-fast']) await page.locator(`#services-table tr[data-service="${id}"]`).waitFor(WAIT);
    expect(await page.locator('#services-table tr[data-service="portal"] td').first().textContent()).toContain('Cổng dịch vụ công tỉnh');
    const row = page.locator('#services-table tr[data-service="portal-fast"]');
    await page.locator('#services-table tr[data-service="portal-fast"][data-state="up"]').waitFor(WAIT);
    expect((await row.locator('.svc-state').textContent())?.trim()).toBe('up');
  }, 60_000);

  it('opens a service: its checks, latency chart and dependency chain down to the rack', async () => {
    const page = floor.pages[0]!;
    await page.click('#services-table tr[data-service="portal-fast"] .svc-open');
    const detail = page.locator('#svc-detail[data-service="portal-fast"]');
    await detail.waitFor(WAIT);
    await detail.locator('#svc-checks tr[data-check="https"][data-state="up"]').waitFor(WAIT);
    // The chain the inventory gives: VM -> its hypervisor host -> the core switch -> its rack.
    const vm = detail.locator('#svc-chain li[data-node="vm-public-services"]');
    await vm.waitFor(WAIT);
    const host = vm.locator('li[data-node="cloud-host-1"]');
    expect(await host.count()).toBe(1);
    const sw = host.locator('li[data-node="core-sw-1"]').first();
    expect(await sw.locator('.chain-rack').first().getAttribute('data-rack')).toBe('e01');
    expect(await detail.locator('#svc-chain li[data-node="inet-vnpt"]').getAttribute('data-kind')).toBe('link');
    // The latency of the https check, from the stored check_latency_ms: a line with a latest value.
    await eventually(async () => {
      await page.click('#services-table tr[data-service="portal"] .svc-open');
      await page.click('#services-table tr[data-service="portal-fast"] .svc-open');
      const last = await detail.locator('.svc-chart .chart-legend li[data-series="https"]').getAttribute('data-last', { timeout: 2000 }).catch(() => '');
      return last && Number(last) > 0 ? true : undefined;
    }, 40_000, 1000);
    // The printable monthly report and the public status page.
    const report = await detail.locator('#svc-report').getAttribute('href');
    expect(report).toMatch(/^\/api\/v1\/services\/report\?month=\d{4}-\d{2}&format=html&lang=(en|vi)&service=portal-fast$/);
    const answer = await api(floor.base, floor.admin, report as string);
    expect(answer.status).toBe(200);
    expect(String(answer.body)).toContain('Cổng dịch vụ công (kiểm tra nhanh)');
    expect(await detail.locator('#svc-status-page').getAttribute('href')).toMatch(/^\/status\?lang=/);
  }, 90_000);

  it('follows the portal failing: down with its reason after the retries, availability under 100 %, then up again', async () => {
    const page = floor.pages[0]!;
    const estate = floor.app.serviceEstate!;
    await estate.fault('portal-500', true);
    try {
      const row = page.locator('#services-table tr[data-service="portal-fast"][data-state="down"]');
      await row.waitFor({ timeout: 30_000 });
      expect(await row.locator('.svc-row-reason').textContent()).toContain('expected status 200, got 500');
      const detail = page.locator('#svc-detail[data-service="portal-fast"]');
      await detail.locator('#svc-checks tr[data-check="https"][data-state="down"]').waitFor(WAIT);
    } finally {
      await estate.fault('portal-500', false);
    }
    await page.locator('#services-table tr[data-service="portal-fast"][data-state="up"]').waitFor({ timeout: 30_000 });
    await eventually(async () => {
      await page.click('#services-table tr[data-service="portal"] .svc-open');
      await page.click('#services-table tr[data-service="portal-fast"] .svc-open');
      const v = await page.locator('#services-table tr[data-service="portal-fast"] .svc-availability').getAttribute('data-value', { timeout: 2000 }).catch(() => '');
      return v && Number(v) < 100 ? true : undefined;
    }, 40_000, 1000);
    // The outage among this month's incidents, with its reason.
    const incident = page.locator('#svc-detail[data-service="portal-fast"] .svc-incidents li').first();
    await incident.waitFor(WAIT);
    expect(await incident.textContent()).toContain('https');
    await page.screenshot({ path: join(artifactsDir, 'services.png'), fullPage: true });
  }, 120_000);

  it('speaks Vietnamese too', async () => {
    const page = floor.pages[0]!;
    await page.click('#lang-switch');
    try {
      await page.locator('html[lang="vi"]').waitFor(WAIT);
      expect(await page.textContent('#nav-services')).toBe('Dịch vụ');
      // The nav is written in the language switch's own handler; the table is a preact view that renders on its next turn.
      await page.locator('#services-table tr[data-service="portal-fast"] .svc-state', { hasText: 'hoạt động' }).waitFor(WAIT);
      expect((await page.locator('#services-table tr[data-service="portal-fast"] .svc-state').textContent())?.trim()).toBe('hoạt động');
      expect(await page.locator('#svc-detail h3').first().textContent()).toBe('Các phép kiểm tra');
    } finally {
      if ((await page.getAttribute('html', 'lang')) === 'vi') await page.click('#lang-switch');
    }
    expect(floor.pageErrors).toEqual([]);
  }, 30_000);
});
