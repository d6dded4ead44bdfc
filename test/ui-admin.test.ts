import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMqtt, eventually } from './support/net.ts';
import { ADMIN_PASSWORD, api, login, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';
import { artifactsDir, ensureUiBuilt, launchChromium } from './support/ui.ts';

/**
 * The Administration view in Chromium against the whole product: an admin adds a user and an API
 * token through the page, sees both in the audit log, verifies the chain (and sees a tampered log
 * found out); a noc user has no Administration tab, and the admin routes answer them 403.
 */

const WAIT = { timeout: 20_000 };
const NOC_PASSWORD = 'noc-user-password-1';

describe('the Administration view', () => {
  let product: StartedProduct;
  let browser: Browser;
  let page: Page;
  let admin: LoggedIn;
  const pageErrors: string[] = [];

  const openAs = async (username: string, password: string): Promise<Page> => {
    const p = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    p.on('pageerror', (err) => pageErrors.push(`${username}: ${err.message}`));
    await p.goto(`${product.base}/?lang=en`);
    await p.locator('#login-form').waitFor(WAIT);
    await p.fill('#username', username);
    await p.fill('#password', password);
    await p.click('#login-submit');
    await p.locator('#app-view:not([hidden])').waitFor(WAIT);
    return p;
  };
  const auditRow = (action: string, target?: string) => page.locator(`#admin-audit-table tr[data-action="${action}"]${target ? `[data-target="${target}"]` : ''}`);

  beforeAll(async () => {
    ensureUiBuilt();
    product = await startProduct();
    admin = await login(product.base);
    browser = await launchChromium();
    page = await openAs('admin', ADMIN_PASSWORD);
    await page.click('#nav-admin');
    await page.locator('#admin-view #admin-users-table tr[data-user="admin"]').waitFor(WAIT);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await product?.app.stop();
  });

  it('adds a local user with a role, and the audit log shows who did it', async () => {
    await page.fill('#admin-user-name', 'op.nguyen');
    await page.selectOption('#admin-user-role', 'noc');
    await page.fill('#admin-user-password', NOC_PASSWORD);
    await page.click('#admin-user-add');
    await page.locator('#admin-users-table tr[data-user="op.nguyen"][data-role="noc"][data-source="local"]').waitFor(WAIT);
    expect(await page.locator('#admin-note').textContent()).toContain('op.nguyen');
    // What the page shows is what the server keeps: the user signs in with that password and role.
    const s = await login(product.base, 'op.nguyen', NOC_PASSWORD);
    expect((await api(product.base, s, '/api/v1/auth/me')).body).toMatchObject({ user: { role: 'noc' } });
    const row = auditRow('user.create', 'op.nguyen');
    await row.waitFor(WAIT);
    expect(await row.getAttribute('data-actor')).toBe('admin');
    expect(await row.getAttribute('data-outcome')).toBe('ok');
  });

  it('creates a writer token shown once, which authenticates as a writer; it is in the audit log, and revoking it ends it', async () => {
    await page.fill('#admin-token-name', 'telegraf hanoi');
    await page.selectOption('#admin-token-role', 'writer');
    await page.click('#admin-token-create');
    const shown = page.locator('#admin-token-value');
    await shown.waitFor(WAIT);
    const token = ((await shown.textContent()) ?? '').trim();
    expect(token).toMatch(/^wft_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    // A writer token may call no API route: 403 (a known token of the wrong kind), not 401 (unknown).
    const asWriter = await fetch(`${product.base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(asWriter.status).toBe(403);
    // The list shows the record, never the secret.
    const row = page.locator('#admin-tokens-table tr[data-name="telegraf hanoi"][data-revoked="false"]');
    await row.waitFor(WAIT);
    expect(await page.locator('#admin-tokens-table').textContent()).not.toContain(token.split('.')[1]);
    const id = (await row.getAttribute('data-token')) as string;
    await auditRow('token.create', id).waitFor(WAIT);
    // Revoke: the first click arms the button, the second acts.
    await row.locator('button.token-revoke').click();
    await row.locator('button.token-revoke[data-armed="true"]').click();
    await page.locator(`#admin-tokens-table tr[data-token="${id}"][data-revoked="true"]`).waitFor(WAIT);
    expect((await fetch(`${product.base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    await auditRow('token.revoke', id).waitFor(WAIT);
  });

  it('changes a role and disables a user; the user\'s session ends and their logins are refused', async () => {
    const s = await login(product.base, 'op.nguyen', NOC_PASSWORD);
    await page.selectOption('#admin-users-table tr[data-user="op.nguyen"] select.user-role', 'soc');
    await page.locator('#admin-users-table tr[data-user="op.nguyen"][data-role="soc"]').waitFor(WAIT);
    expect((await api(product.base, s, '/api/v1/auth/me')).status).toBe(401);
    await page.click('#admin-users-table tr[data-user="op.nguyen"] button.user-disable');
    await page.locator('#admin-users-table tr[data-user="op.nguyen"][data-disabled="true"]').waitFor(WAIT);
    expect((await fetch(`${product.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'op.nguyen', password: NOC_PASSWORD }) })).status).toBe(401);
    await auditRow('user.role', 'op.nguyen').waitFor(WAIT);
    await auditRow('user.disable', 'op.nguyen').waitFor(WAIT);
  });

  it('adds an MQTT collector account with a generated password, shown once, which the broker takes; revoking it ends that', async () => {
    await page.fill('#admin-mqtt-name', 'nagios-bridge');
    await page.selectOption('#admin-mqtt-role', 'collector');
    await page.fill('#admin-mqtt-devices', '*');
    await page.click('#admin-mqtt-save');
    await page.locator('#admin-mqtt-table tr[data-account="nagios-bridge"][data-role="collector"]').waitFor(WAIT);
    const note = (await page.locator('#admin-note').textContent()) ?? '';
    const password = /The password of nagios-bridge, shown this once: (\S+)$/.exec(note)?.[1] as string;
    expect(password).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const client = await connectMqtt(product.app.mqttPort, { username: 'nagios-bridge', password });
    await client.endAsync();
    await auditRow('mqtt.account.create', 'nagios-bridge').waitFor(WAIT);
    await page.click('#admin-mqtt-table tr[data-account="nagios-bridge"] button.mqtt-remove');
    await page.click('#admin-mqtt-table tr[data-account="nagios-bridge"] button.mqtt-remove[data-armed="true"]');
    await page.locator('#admin-mqtt-table tr[data-account="nagios-bridge"]').waitFor({ state: 'detached', ...WAIT });
    await expect(connectMqtt(product.app.mqttPort, { username: 'nagios-bridge', password })).rejects.toThrow(/Bad username or password|Not authorized/i);
    await page.click('#admin-refresh');
    await auditRow('mqtt.account.revoke', 'nagios-bridge').waitFor(WAIT);
  });

  it('shows failed logins among the security events, and refused requests from the audit log', async () => {
    for (let i = 0; i < 2; i++) await fetch(`${product.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'mallory', password: 'guess' }) });
    await page.click('#admin-refresh');
    await page.locator('#admin-security-table tr[data-type="login_failed"][data-username="mallory"]').first().waitFor(WAIT);
    await page.locator('#admin-refused-table tr[data-action="auth.login"][data-target="mallory"][data-outcome="failed"]').first().waitFor(WAIT);
  });

  it('filters the audit log by actor and action', async () => {
    await page.fill('#admin-audit-actor', 'admin');
    await page.fill('#admin-audit-action', 'user');
    await page.click('#admin-audit-apply');
    await eventually(async () => {
      const rows = await page.locator('#admin-audit-table tbody tr').evaluateAll((els) => els.map((e) => [e.getAttribute('data-actor'), e.getAttribute('data-action')]));
      return rows.length >= 3 && rows.every(([actor, action]) => actor === 'admin' && action?.startsWith('user.')) ? true : undefined;
    }, 10_000, 100);
    await page.fill('#admin-audit-actor', '');
    await page.fill('#admin-audit-action', '');
    await page.click('#admin-audit-apply');
    await auditRow('token.create').waitFor(WAIT);
  });

  it('verifies the audit chain, and says where it breaks once a line is edited on disk', async () => {
    await page.click('#admin-audit-verify');
    const verdict = page.locator('#admin-audit-verdict');
    await page.locator('#admin-audit-verdict[data-ok="true"]').waitFor(WAIT);
    expect(await verdict.textContent()).toMatch(/^Chain intact: \d+ entries, [1-9]\d* signed anchors checked/);
    await page.screenshot({ path: join(artifactsDir, 'admin.png'), fullPage: true });
    // Someone rewrites who created the user, in the file itself.
    const file = join(product.dataDir, 'audit.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"user.create"'));
    expect(at).toBeGreaterThanOrEqual(0);
    lines[at] = (lines[at] as string).replace('"actor":"admin"', '"actor":"nobody"');
    writeFileSync(file, lines.join('\n'));
    await page.click('#admin-audit-verify');
    await page.locator('#admin-audit-verdict[data-ok="false"]').waitFor(WAIT);
    expect(await verdict.textContent()).toBe(`Chain broken at line ${at + 1}: content does not match its hash (the entry was edited)`);
  });

  it('speaks Vietnamese too', async () => {
    await page.click('#lang-switch');
    await eventually(async () => ((await page.locator('#nav-admin').textContent()) === 'Quản trị' ? true : undefined), 5000, 50);
    // The view hears of the language through the page store (a few ms after the tabs).
    await page.locator('#admin-view h2', { hasText: 'Quản trị hệ thống' }).waitFor(WAIT);
    expect(await page.locator('#admin-users h3').textContent()).toBe('Người dùng');
    await page.click('#lang-switch');
  });

  it('shows a noc user no Administration tab, and the admin routes answer them 403', async () => {
    expect((await api(product.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'noc-only', role: 'noc', password: NOC_PASSWORD } })).status).toBe(201);
    const noc = await openAs('noc-only', NOC_PASSWORD);
    await noc.locator('#nav-floor').waitFor(WAIT);
    expect(await noc.locator('#main-nav [role=tab]').evaluateAll((els) => els.map((e) => e.id))).not.toContain('nav-admin');
    // Asking for the view by URL gives the first allowed view, not the admin one.
    await noc.goto(`${product.base}/?view=admin`);
    await noc.locator('#app-view:not([hidden])').waitFor(WAIT);
    expect(await noc.locator('#admin-view').count()).toBe(0);
    await noc.close();
    const s = await login(product.base, 'noc-only', NOC_PASSWORD);
    for (const [method, path, body] of [
      ['GET', '/api/v1/users'], ['POST', '/api/v1/users', { username: 'x1', role: 'admin', password: 'long-enough-1' }], ['PATCH', '/api/v1/users/admin', { disabled: true }], ['DELETE', '/api/v1/users/admin'],
      ['GET', '/api/v1/tokens'], ['POST', '/api/v1/tokens', { name: 'x', role: 'admin' }], ['GET', '/api/v1/mqtt/accounts'], ['GET', '/api/v1/audit'], ['GET', '/api/v1/audit/verify'],
    ] as [string, string, unknown?][]) {
      expect((await api(product.base, s, path, { method, body })).status, `${method} ${path}`).toBe(403);
    }
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('answers a bad change with a 400 naming the field, and keeps the last local admin', async () => {
    expect((await api(product.base, admin, '/api/v1/users/op.nguyen', { method: 'PATCH', body: { role: 'root' } })).body).toMatchObject({ error: { field: 'role' } });
    expect((await api(product.base, admin, '/api/v1/users/op.nguyen', { method: 'PATCH', body: {} })).body).toMatchObject({ error: { field: '(body)' } });
    expect((await api(product.base, admin, '/api/v1/users/op.nguyen', { method: 'PATCH', body: { disabled: 'yes' } })).body).toMatchObject({ error: { field: 'disabled' } });
    expect((await api(product.base, admin, '/api/v1/users/nobody', { method: 'DELETE' })).status).toBe(404);
    for (const [method, body] of [['PATCH', { role: 'viewer' }], ['PATCH', { disabled: true }], ['DELETE', undefined]] as const) {
      const r = await api(product.base, admin, '/api/v1/users/admin', { method, body });
      expect(r.status, `${method} ${JSON.stringify(body)}`).toBe(409);
      expect((r.body as { error: { message: string } }).error.message).toMatch(/last enabled local admin/);
    }
    expect((await api(product.base, admin, '/api/v1/auth/me')).status).toBe(200);
    // Removing a user is audited and ends their sessions.
    const s = await login(product.base, 'noc-only', NOC_PASSWORD);
    expect((await api(product.base, admin, '/api/v1/users/noc-only', { method: 'DELETE' })).status).toBe(204);
    expect((await api(product.base, s, '/api/v1/auth/me')).status).toBe(401);
    const entries = (await api(product.base, admin, '/api/v1/audit?action=user.remove')).body as { target: string; actor: string }[];
    expect(entries).toContainEqual(expect.objectContaining({ target: 'noc-only', actor: 'admin' }));
  });
});
