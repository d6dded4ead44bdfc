import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/net.ts';
import { api } from './support/start-product.ts';
import { artifactsDir, plottedPixels } from './support/ui.ts';
import { ADMIN_PASSWORD, WAIT, inventory, watchFloorSuite } from './support/watch-floor.ts';

/**
 * The views beside the floor plan, in Chromium against the whole product and its simulated fleet:
 * PDU phases, hosts and VMs, links and interfaces from the SNMP collector, and the built-in
 * dashboards from /query, last, as their charts need the store to hold a run of samples.
 */

describe('the views in the browser', () => {
  const floor = watchFloorSuite();

  // One admin page for every test here (floor.pages[0]), once the collector has rates to show: a
  // link's traffic is a rate of its counters, known from the second poll of the edge router on.
  beforeAll(async () => {
    await floor.open('admin', ADMIN_PASSWORD);
    await eventually(async () => {
      const latest = await api(floor.base, floor.admin, '/api/v1/metrics/latest?device=edge-rtr-1');
      return (latest.body as { metric: string }[]).some((p) => p.metric === 'if_in_bps.Gi0_0_0') ? true : undefined;
    }, 60_000, 500);
  }, 90_000);

  it('shows every PDU per phase from the SNMP collector, the most loaded phase first', async () => {
    const page = floor.pages[0]!;
    await page.click('#nav-power');
    const pdus = inventory.devices.filter((d) => d.kind === 'pdu');
    const rows = page.locator('#pdu-phases tbody tr');
    await eventually(async () => ((await rows.count()) === pdus.length ? true : undefined), 20_000, 250);
    // pdu-a01-a's phase L1 shows what the collector read from its rPDU2 phase table (polled once a minute, so compare the same poll).
    const cell = page.locator('#pdu-phases tr[data-device="pdu-a01-a"] .phase[data-phase="phase1"]');
    await cell.waitFor({ timeout: 60_000 });
    await eventually(async () => {
      const latest = await api(floor.base, floor.admin, '/api/v1/metrics/latest?device=pdu-a01-a');
      const amps = (latest.body as { metric: string; value: number }[]).find((p) => p.metric === 'pdu_phase_current_a.phase1')?.value;
      return amps !== undefined && Number(await cell.getAttribute('data-amps')) === amps ? true : undefined;
    }, 20_000, 250);
    expect(await cell.textContent()).toMatch(/^\s*L1 \d+\.\d A \/ 32 A · 230 V · \d+\.\d\d kW\s*$/);
    // Sorted by the loaded share of the worst phase, highest first.
    const amps = await page.locator('#pdu-phases tbody tr .phase').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-amps'))));
    expect(amps.length).toBeGreaterThan(1);
    expect(amps).toEqual([...amps].sort((a, b) => b - a));
  }, 90_000);

  it('shows each hypervisor host with its VMs under it and the SAN with its pools: CPU, memory and fullest disk from the SNMP collector', async () => {
    const page = floor.pages[0]!;
    await page.click('#nav-cloud');
    const host = page.locator('#cloud-table tr[data-device="cloud-host-1"]');
    await host.locator('td.cpu[data-value]').waitFor({ timeout: 60_000 });
    // The CPU % the API's latest cpu_load_pct says (the values move: compare the same poll).
    await eventually(async () => {
      const latest = await api(floor.base, floor.admin, '/api/v1/metrics/latest?device=cloud-host-1');
      const cpu = (latest.body as { metric: string; value: number }[]).find((p) => p.metric === 'cpu_load_pct')?.value;
      return cpu !== undefined && (await host.locator('td.cpu').textContent())?.trim() === `${cpu.toFixed(1)} %` ? true : undefined;
    }, 40_000, 250);
    expect(await host.locator('td.mem').textContent()).toMatch(/^\s*\d+\.\d %\s*$/);
    expect(await host.locator('td.disk').textContent()).toMatch(/^\s*\d+\.\d % \S+\s*$/);
    // Its VMs are grouped under it: its group's rows are the host, then each VM naming it as parent.
    const group = page.locator('#cloud-table tbody[data-group="cloud-host-1"] tr');
    const vms = inventory.devices.filter((d) => d.kind === 'vm' && d.parents.includes('cloud-host-1')).map((d) => [d.id, 'cloud-host-1']);
    expect(vms.length).toBeGreaterThanOrEqual(2);
    expect(await group.evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-device'), r.getAttribute('data-parent')]))).toEqual([['cloud-host-1', ''], ...vms]);
    // The SAN shows its fullest pool by name, and every pool under it.
    const san = page.locator('#cloud-table tr[data-device="san-1"] td.disk[data-value]');
    await san.waitFor({ timeout: 60_000 });
    expect(await san.textContent()).toMatch(/^\s*\d+\.\d % pool_\w+\s*$/);
    await eventually(async () => ((await page.locator('#cloud-table tr.cloud-pool[data-parent="san-1"] td.disk[data-value]').count()) === 3 ? true : undefined), 20_000, 250);
    await page.screenshot({ path: join(artifactsDir, 'cloud.png'), fullPage: true });
  }, 120_000);

  it('shows link utilisation and interface traffic from the SNMP collector on the network view', async () => {
    const page = floor.pages[0]!;
    await page.click('#nav-network');
    // The primary Internet link is edge-rtr-1 Gi0/0/0 at 1 Gbit/s: its utilisation comes from if_in_bps/if_out_bps.Gi0_0_0.
    const link = page.locator('#link-table tr[data-link="inet-vnpt"][data-state="up"]:not([data-util=""])');
    await link.waitFor({ timeout: 60_000 });
    expect(await link.locator('td.util').textContent()).toMatch(/\d+(\.\d)? %$/);
    expect(await link.textContent()).toMatch(/Mbit\/s/);
    await page.selectOption('#if-device', 'edge-rtr-1');
    const row = page.locator('#if-table[data-device="edge-rtr-1"] tr[data-interface="Gi0_0_0"]');
    await row.waitFor(WAIT);
    expect(await row.locator('td').first().textContent()).toBe('Gi0/0/0');
    expect(await row.getAttribute('data-oper')).toBe('up');
    expect(await row.locator('.if-in').textContent()).toMatch(/^\d+(\.\d)? [kMG]?bit\/s$/);
    await row.locator('.if-chart-open').click();
    const chart = page.locator('.if-chart[data-interface="Gi0_0_0"]');
    await chart.locator('.chart .uplot').waitFor(WAIT);
    expect(await chart.locator('.chart-legend .series-last').first().textContent()).toMatch(/bit\/s$/);
    expect(await plottedPixels(chart.locator('.chart'))).toBeGreaterThan(10);
    await page.screenshot({ path: join(artifactsDir, 'network.png'), fullPage: true });
  }, 90_000);

  it('renders the built-in dashboards live from /query: lines drawn, a time range that refetches, the export', async () => {
    const page = floor.pages[0]!;
    await page.click('#nav-dashboards');
    const inlet = page.locator('.dash-panel.panel-timeseries').filter({ hasText: 'Rack inlet temperature' });
    await inlet.locator('.chart .uplot').waitFor(WAIT);

    // A shorter range: every panel asks /query again, for exactly that span.
    const spanBefore = await page.textContent('#dash-span');
    const asked = page.waitForRequest((r) => r.url().includes('/query?') && /"temperature"/.test(new URL(r.url()).searchParams.get('q') ?? ''), WAIT);
    await page.selectOption('#dash-range', '15m');
    const q = new URL((await asked).url()).searchParams.get('q') ?? '';
    const [, from, to] = /time >= (\d+)ms and time <= (\d+)ms/.exec(q) ?? [];
    expect(Number(to) - Number(from)).toBe(15 * 60_000);
    expect(q).toMatch(/GROUP BY time\(5s\)/);
    expect(q).toMatch(/"room" =~ \/\^\(sr1\|sr2\|/);
    expect(await page.textContent('#dash-span')).not.toBe(spanBefore);

    await eventually(async () => ((await plottedPixels(inlet.locator('.chart'))) > 100 ? true : undefined), 20_000, 500);
    expect(await inlet.locator('.chart-legend .series-last').first().textContent()).toMatch(/^\d+\.\d °C$/);
    const gauge = page.locator('.dash-panel.panel-gauge .gauge[role=meter]');
    expect(await gauge.locator('.big-value').textContent()).toMatch(/^\d+\.\d °C$/);
    // The table: a row per sensor with its latest value (the panel may answer after the charts).
    await page.locator('.dash-panel.panel-table tbody tr').nth(20).waitFor(WAIT);
    expect(await page.locator('.dash-panel.panel-table tbody tr td').nth(1).textContent()).toMatch(/^\d+(\.\d)? °C$/);
    await page.screenshot({ path: join(artifactsDir, 'dashboards.png') });

    const download = page.waitForEvent('download', WAIT);
    await page.click('#dash-export');
    const file = await (await download).path();
    const exported = JSON.parse(readFileSync(file, 'utf8')) as { uid: string; panels: { title: string }[] };
    expect(exported.uid).toBe('wf-environment');
    expect(exported.panels.map((p) => p.title)).toContain('Rack inlet temperature');

    await page.selectOption('#dash-pick', 'wf-power-cooling');
    const ups = page.locator('.dash-panel.panel-bargauge .bars li');
    await ups.first().waitFor(WAIT);
    expect(await ups.count()).toBe(2);
    expect(await ups.first().locator('.bar-value').textContent()).toMatch(/^\d+(\.\d)? %$/);
    await page.locator('.dash-panel.panel-stat .big-value').first().filter({ hasText: /^\d+ min$/ }).waitFor(WAIT);
  }, 60_000);
});
