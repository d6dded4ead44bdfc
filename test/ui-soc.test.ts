import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatchfloor, type Watchfloor } from '../cli/index.ts';
import { SyslogCollector, freeUdpPort } from '../collectors/index.ts';
import { Config, Inventory, bundledConfigDir, readDataFile, silentLogger, type Alert } from '../core/index.ts';
import { eventually, run } from './support/net.ts';
import { api, login } from './support/start-product.ts';
import { artifactsDir, ensureUiBuilt, launchChromium } from './support/ui.ts';

/**
 * The SOC's investigation in Chromium against the whole product: Debian's `logger` sends sshd lines
 * over TCP with octet counting (RFC 6587) to the product's syslog port; they are stored, matched by
 * the built-in Sigma pack, and raise security alerts with their evidence. Then, as a person would:
 * the alerts about one source grouped into one incident, an alert's evidence, the entity view, the
 * log search with its histogram, the live tail, and all of it in Vietnamese.
 */

const WAIT = { timeout: 20_000 };
const ADMIN_PASSWORD = 'ui-soc-admin-pass';
const SOC_PASSWORD = 'soc-pass-for-ui-1234';
const inventory = readDataFile(join(bundledConfigDir, 'sample-datacenter.yaml'), Inventory);
const ATTACKER = '203.0.113.7';
const OTHER = '198.51.100.9';

describe('the SOC investigates in the browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wf-ui-soc-'));
  const pageErrors: string[] = [];
  let app: Watchfloor;
  let syslogPort = 0;
  let browser: Browser;
  let page: Page;
  let base = '';

  /** Sends lines with Debian util-linux logger: TCP, RFC 6587 octet counting, BSD format, tag sshd, facility auth. */
  const send = async (lines: string[]): Promise<void> => {
    for (const line of lines) {
      const r = await run('logger', ['--tcp', '--octet-count', '--rfc3164', '-n', '127.0.0.1', '-P', String(syslogPort), '-t', 'sshd', '-p', 'auth.info', line]);
      expect(r.code, r.stderr).toBe(0);
    }
  };
  const attackerAlerts = (): Alert[] => app.rules.alerts({ kind: 'security' }).filter((a) => a.labels.source === ATTACKER);

  beforeAll(async () => {
    ensureUiBuilt();
    const config = Config.parse({
      dataDir: dir,
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      snmp: { trapPort: await freeUdpPort() },
      syslog: { udpPort: false, tcpPort: 0, tlsPort: false },
    });
    app = await startWatchfloor({ config, inventory, logger: silentLogger, adminPassword: ADMIN_PASSWORD });
    base = `http://127.0.0.1:${app.httpPort}`;
    syslogPort = app.collectors.find((c): c is SyslogCollector => c instanceof SyslogCollector)?.ports.tcp ?? 0;
    expect(syslogPort).toBeGreaterThan(0);
    const admin = await login(base, 'admin', ADMIN_PASSWORD);
    expect((await api(base, admin, '/api/v1/users', { method: 'POST', body: { username: 'soc-user', role: 'soc', password: SOC_PASSWORD } })).status).toBe(201);

    // A brute force that succeeds (the built-in pack: brute force, success after failures, root login), and one stray failure.
    await send([1, 2, 3, 4, 5].map((i) => `Failed password for root from ${ATTACKER} port 5000${i} ssh2`));
    await send([`Accepted password for root from ${ATTACKER} port 50100 ssh2`, `Failed password for admin from ${OTHER} port 4022 ssh2`]);
    await eventually(() => (attackerAlerts().length >= 3 ? true : undefined), 15_000);

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, locale: 'en-US' });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${base}/?lang=en`);
    await page.locator('#login-form').waitFor(WAIT);
    await page.fill('#username', 'soc-user');
    await page.fill('#password', SOC_PASSWORD);
    await page.click('#login-submit');
    await page.locator('#live[data-state=live]').waitFor(WAIT);
    await page.click('#nav-soc');
    await page.locator('#soc-table').waitFor(WAIT);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('groups the alerts about one source into one incident card that expands, each alert with its own triage', async () => {
    const card = page.locator('#soc-table tr.incident-row');
    await card.waitFor(WAIT);
    expect(await card.count()).toBe(1);
    expect(await card.getAttribute('data-count')).toBe('3');
    expect(await card.locator('.entity-link').getAttribute('data-entity-value')).toBe(ATTACKER);
    expect(await card.textContent()).toMatch(/Incident: 3 alerts about/);
    // The incident's three alerts are folded in: no row of their own until it is opened.
    expect(await page.locator('#soc-table tr[data-alert-id]').filter({ hasText: ATTACKER }).count()).toBe(0);
    await card.locator('.incident-toggle').click();
    await page.locator('#soc-table tr.incident-member').nth(2).waitFor(WAIT);
    const member = page.locator('#soc-table tr.incident-member').filter({ hasText: 'SSH Login Succeeds After Brute Force' });
    await member.locator('.triage-start').click();
    await page.locator('#soc-table tr.incident-member[data-triage="in_progress"]').waitFor(WAIT);
    expect(await page.locator('#soc-table tr.incident-row .triage-status').textContent()).toBe('new');
    await page.screenshot({ path: join(artifactsDir, 'soc-incidents.png') });
  }, 60_000);

  it("opens an alert's evidence: the stored lines it matched, as logger sent them", async () => {
    const row = page.locator('#soc-table tr.incident-member').filter({ hasText: 'SSH Brute Force From One Source' });
    await row.locator('.show-evidence').click();
    const lines = page.locator('#soc-table tr.evidence-row .log-line');
    await lines.nth(4).waitFor(WAIT);
    expect(await lines.count()).toBe(5);
    const messages = await page.locator('#soc-table tr.evidence-row .log-message').allTextContents();
    expect(messages).toEqual([1, 2, 3, 4, 5].map((i) => `Failed password for root from ${ATTACKER} port 5000${i} ssh2`));
    expect(await lines.first().locator('td').nth(2).textContent()).toMatch(/^sshd/);
  }, 60_000);

  it('opens the entity view of the source: its alerts and log lines as one timeline', async () => {
    await page.locator('#soc-table tr.incident-row .entity-link').click();
    const view = page.locator(`#soc-entity[data-entity-type="source"][data-entity-value="${ATTACKER}"]`);
    await view.locator('#entity-timeline').waitFor(WAIT);
    expect(await view.locator('#entity-counts').getAttribute('data-alerts')).toBe('3');
    expect(await view.locator('#entity-counts').getAttribute('data-logs')).toBe('6');
    const kinds = await view.locator('#entity-timeline li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.kind));
    expect(kinds.filter((k) => k === 'alert')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'log')).toHaveLength(6);
    // Newest first: the brute force, raised by the fifth failure, is the oldest of the three.
    const alertNames = await view.locator('#entity-timeline li[data-kind="alert"]').allTextContents();
    expect(alertNames.at(-1)).toContain('SSH Brute Force From One Source');
    expect(await view.textContent()).not.toContain(OTHER);
    // Another window is asked for again: all of it happened in the last 15 minutes.
    await view.locator('#entity-window').selectOption('15m');
    await view.locator('#entity-counts[data-span="900000"][data-alerts="3"][data-logs="6"]').waitFor(WAIT);
    await page.screenshot({ path: join(artifactsDir, 'soc-entity.png') });
    await view.locator('#entity-close').click();
    await page.locator('#soc-entity').waitFor({ state: 'detached', ...WAIT });
  }, 60_000);

  it('searches the logs with filters, draws the histogram, and tails new lines live', async () => {
    await page.click('#soc-tab-logs');
    await page.locator('#log-total').waitFor(WAIT);
    expect(await page.getAttribute('#log-total', 'data-total')).toBe('7');
    expect(await page.locator('#log-table .log-line').count()).toBe(7);
    await page.fill('#log-search-form input[name="q"]', ATTACKER);
    await page.fill('#log-search-form input[name="program"]', 'sshd');
    await page.click('#log-search-submit');
    await page.locator('#log-total[data-total="6"]').waitFor(WAIT);
    const bars = page.locator('#log-histogram rect.bar');
    expect(await bars.count()).toBeGreaterThan(10);
    const counts = await bars.evaluateAll((els) => els.map((e) => Number((e as SVGElement).dataset.count)));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(6);
    // The tallest bar is drawn taller than an empty one: what a person sees as "the burst".
    const heights = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('height'))));
    expect(Math.max(...heights)).toBeGreaterThan(50);
    await page.screenshot({ path: join(artifactsDir, 'soc-logs.png') });

    await page.check('#log-live');
    await eventually(() => (app.ops.realtime.tailing === 1 ? true : undefined));
    await send([`Failed password for guest from ${ATTACKER} port 50999 ssh2`, `Failed password for guest from ${OTHER} port 50998 ssh2`]);
    const live = page.locator('#log-table .log-message').filter({ hasText: 'port 50999' });
    await live.waitFor(WAIT);
    // Only what matches the filters comes live: the other source's line does not.
    expect(await page.locator('#log-table .log-message').filter({ hasText: 'port 50998' }).count()).toBe(0);
    expect(await page.locator('#log-table .log-message').first().textContent()).toContain('port 50999');
    await page.uncheck('#log-live');
    await eventually(() => (app.ops.realtime.tailing === 0 ? true : undefined));
  }, 60_000);

  it('says it all in Vietnamese', async () => {
    await page.click('#lang-switch');
    await page.locator('html[lang="vi"]').waitFor(WAIT);
    // The views hear of the language a moment after the page's static text (ui.ts Store): wait for them.
    await page.locator('#soc-tab-logs', { hasText: 'Tìm nhật ký' }).waitFor(WAIT);
    expect(await page.textContent('#soc-tab-queue')).toBe('Hàng đợi');
    expect(await page.locator('#log-table thead th').allTextContents()).toEqual(['thời gian', 'máy', 'chương trình', 'mức độ', 'nội dung']);
    expect(await page.getAttribute('#log-histogram', 'aria-label')).toBe('Số dòng khớp theo thời gian');
    expect(await page.textContent('#log-search-submit')).toBe('Tìm');
    expect(await page.locator('#log-table .logsev').first().textContent()).toBe('thông tin');
    await page.click('#soc-tab-queue');
    await page.locator('#soc-table tr.incident-row').waitFor(WAIT);
    expect(await page.locator('#soc-table tr.incident-row').textContent()).toMatch(/Sự cố: 3 cảnh báo về/);
    await page.locator('#soc-table tr.incident-row .entity-link').click();
    await page.locator('#soc-entity #entity-counts').waitFor(WAIT);
    expect(await page.textContent('#soc-entity h3')).toContain(`Thực thể: nguồn ${ATTACKER}`);
    await page.screenshot({ path: join(artifactsDir, 'soc-vi.png') });
    // What the SOC view itself writes: none of it left in English (the log lines are the senders' own words).
    const text = await page.evaluate(() => {
      const root = document.querySelector('#view-main') as HTMLElement;
      Array.from(root.querySelectorAll('code, .log-message')).forEach((el) => el.remove());
      return root.innerText;
    });
    const english = ['Incident', 'alerts about', 'Evidence', 'Log search', 'Queue', 'Entity', 'Timeline', 'Window', 'Close', 'log lines', 'Show its alerts', 'Group alerts'];
    expect(english.filter((w) => text.includes(w))).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
