import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { startWatchfloor, type Watchfloor } from '../../cli/index.ts';
import { Config, Inventory, bundledConfigDir, readDataFile, silentLogger, type Clock } from '../../core/index.ts';
import { freeUdpPort } from '../../collectors/index.ts';
import { api, login, type LoggedIn } from './start-product.ts';
import { ensureUiBuilt, launchChromium } from './ui.ts';

/**
 * The watch floor in Chromium against the whole product with the sample data center and its fleet,
 * for the browser suites (test/ui.test.ts, test/ui-views.test.ts): one product and one browser per
 * suite, an admin and one user per role.
 */

export const ADMIN_PASSWORD = 'ui-test-admin-pass';
export const PASSWORDS = { noc: 'noc-pass-1234', soc: 'soc-pass-1234', viewer: 'viewer-pass-1234' } as const;
export const WAIT = { timeout: 20_000 };

export const inventory = readDataFile(join(bundledConfigDir, 'sample-datacenter.yaml'), Inventory);

export class MovableClock implements Clock {
  skewMs = 0;
  now(): number {
    return Date.now() + this.skewMs;
  }
}

/** The product and the browser of one suite; the fields are set by the suite's beforeAll (and `start` again on a restart). */
export class WatchFloor {
  readonly clock = new MovableClock();
  readonly pages: Page[] = [];
  readonly pageErrors: string[] = [];
  dataDir = '';
  app!: Watchfloor;
  base = '';
  port = 0;
  browser!: Browser;
  admin!: LoggedIn;

  async start(httpPort: number): Promise<void> {
    // A free UDP port for traps: net-snmp reads port 0 as 162, and 1162 may be another suite's.
    const config = Config.parse({ dataDir: this.dataDir, http: { host: '127.0.0.1', port: httpPort }, mqtt: { host: '127.0.0.1', port: 0 }, snmp: { trapPort: await freeUdpPort() }, store: { flushIntervalMs: 100 } });
    this.app = await startWatchfloor({ config, inventory, logger: silentLogger, adminPassword: ADMIN_PASSWORD, clock: this.clock });
    this.port = this.app.httpPort;
    this.base = `http://127.0.0.1:${this.port}`;
    await this.app.startSimulation({ intervalMs: 500 });
  }

  /** A new page logged in as `username`, live. */
  async open(username: string, password: string, query = ''): Promise<Page> {
    const page = await this.browser.newPage({ viewport: { width: 1600, height: 900 } });
    page.on('pageerror', (err) => this.pageErrors.push(`${username}: ${err.message}`));
    this.pages.push(page);
    await page.goto(`${this.base}/${query}`);
    await page.locator('#login-form').waitFor(WAIT);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('#login-submit');
    await page.locator('#live[data-state=live]').waitFor(WAIT);
    return page;
  }

  navIds(page: Page): Promise<string[]> {
    return page.locator('#main-nav [role=tab]').evaluateAll((els) => els.map((e) => e.id));
  }
}

/** Starts the product and Chromium before the suite's tests (a user per role added), and stops both after. */
export function watchFloorSuite(): WatchFloor {
  const floor = new WatchFloor();
  beforeAll(async () => {
    ensureUiBuilt();
    floor.dataDir = mkdtempSync(join(tmpdir(), 'wf-ui-'));
    await floor.start(0);
    floor.browser = await launchChromium();
    floor.admin = await login(floor.base, 'admin', ADMIN_PASSWORD);
    for (const [role, password] of Object.entries(PASSWORDS)) {
      const r = await api(floor.base, floor.admin, '/api/v1/users', { method: 'POST', body: { username: role, role, password } });
      expect(r.status).toBe(201);
    }
  });
  afterAll(async () => {
    await floor.browser?.close();
    await floor.app?.stop();
    if (floor.dataDir) rmSync(floor.dataDir, { recursive: true, force: true });
  });
  return floor;
}
