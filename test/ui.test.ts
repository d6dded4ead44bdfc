import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulatorPassword } from '../cli/index.ts';
import { runSimulateCommand } from '../simulators/index.ts';
import { connectMqtt, eventually } from './support/net.ts';
import { api } from './support/start-product.ts';
import { artifactsDir, launchChromium, plottedPixels } from './support/ui.ts';
import { ADMIN_PASSWORD, PASSWORDS, WAIT, watchFloorSuite } from './support/watch-floor.ts';

/**
 * The watch floor in Chromium against the whole product with the sample data center and its fleet:
 * each role sees its views, both languages, the crac-failure scenario heats the plan and raises alerts,
 * noc acknowledges one and sets a CRAC, soc triages a brute force, the server restarts under the page.
 * The views fed by the SNMP collector and /query are test/ui-views.test.ts.
 */

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

describe('the watch floor in the browser', () => {
  const floor = watchFloorSuite();

  it('shows each role only the views and controls it may use', async () => {
    const viewer = await floor.open('viewer', PASSWORDS.viewer);
    expect(await floor.navIds(viewer)).toEqual(['nav-floor', 'nav-power', 'nav-network', 'nav-cloud', 'nav-enduser', 'nav-services', 'nav-dashboards']);
    await viewer.click('#nav-power');
    await viewer.locator('#crac-table tbody tr').first().waitFor(WAIT);
    expect(await viewer.locator('.crac-control').count()).toBe(0);

    const soc = await floor.open('soc', PASSWORDS.soc);
    expect(await floor.navIds(soc)).toEqual(['nav-floor', 'nav-network', 'nav-services', 'nav-soc', 'nav-dashboards']);

    const noc = await floor.open('noc', PASSWORDS.noc);
    expect(await floor.navIds(noc)).not.toContain('nav-soc');
    await noc.click('#nav-power');
    await noc.locator('.crac-control[data-device="crac-1"]').waitFor(WAIT);

    const adminPage = await floor.open('admin', ADMIN_PASSWORD);
    expect(await floor.navIds(adminPage)).toEqual(['nav-floor', 'nav-power', 'nav-network', 'nav-cloud', 'nav-enduser', 'nav-services', 'nav-soc', 'nav-dashboards', 'nav-discovery', 'nav-admin']);
    for (const v of ['power', 'network', 'cloud', 'soc', 'dashboards', 'floor']) {
      await adminPage.click(`#nav-${v}`);
      await adminPage.waitForTimeout(600);
      await adminPage.screenshot({ path: join(artifactsDir, `view-${v}.png`) });
    }
    await viewer.close();
    await soc.close();
    // noc and admin got their CRAC controls from their role: no request probed the command API (it would be audited).
    const audit = await api(floor.base, floor.admin, '/api/v1/audit?limit=5000');
    expect(audit.status).toBe(200);
    expect(JSON.stringify(audit.body)).not.toContain('__probe__');
    // Four logins and six views drawn while the fleet starts, beside test/ui-views.test.ts's own product.
  }, 60_000);

  it('offers Vietnamese on the login page, says a wrong password in it, and keeps it after the login', async () => {
    // A browser set to English, as a shared wall-screen PC often is: the switch is on the login card.
    const page = await floor.browser.newPage({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    page.on('pageerror', (err) => floor.pageErrors.push(`login in Vietnamese: ${err.message}`));
    try {
      await page.goto(`${floor.base}/`);
      await page.locator('#login-form').waitFor(WAIT);
      expect(await page.textContent('#login-submit')).toBe('Log in');
      await page.click('#login-lang');
      await page.locator('html[lang="vi"]').waitFor(WAIT);
      expect(await page.textContent('#login-submit')).toBe('Đăng nhập');
      expect(await page.textContent('label[for="password"]')).toBe('Mật khẩu');
      expect(await page.getAttribute('#login-lang', 'lang')).toBe('en');
      expect(await page.textContent('#login-lang')).toBe('English');
      await page.fill('#username', 'viewer');
      await page.fill('#password', 'not-the-password');
      await page.click('#login-submit');
      await page.locator('#login-message:not([hidden])').waitFor(WAIT);
      expect(await page.textContent('#login-message')).toBe('Sai tên đăng nhập hoặc mật khẩu.');
      await page.fill('#password', PASSWORDS.viewer);
      await page.click('#login-submit');
      await page.locator('#live[data-state=live]').waitFor(WAIT);
      await page.locator('#nav-floor', { hasText: /^Sơ đồ phòng máy$/ }).waitFor(WAIT);
      expect(await page.textContent('#lang-switch')).toBe('English');
    } finally {
      await page.close();
    }
  });

  it('draws the heat map with numbers beside the colours, in English and Vietnamese', async () => {
    const page = floor.pages[3]!;
    await page.click('#tab-sr1');
    await page.locator('svg.plan[data-room="sr1"]').waitFor(WAIT);
    // The heat map is a canvas under the plan's SVG, over the room's rectangle, with coloured cells.
    const heat = page.locator('#plan canvas.heat-layer[data-layer="temperature"]:not([data-points="0"])');
    await heat.waitFor(WAIT);
    expect(Number(await heat.getAttribute('data-cells'))).toBeGreaterThan(50);
    const painted = await heat.evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(50);
    const [canvasBox, floorBox] = [await heat.boundingBox(), await page.locator('svg.plan .room-floor').boundingBox()];
    expect(Math.abs(canvasBox!.x - floorBox!.x)).toBeLessThan(3);
    expect(Math.abs(canvasBox!.width - floorBox!.width)).toBeLessThan(4);
    await page.locator('.rack[data-rack="a01"] .rack-reading').filter({ hasText: /^\d+\.\d°$/ }).waitFor(WAIT);
    await page.selectOption('#heat-layer', 'humidity');
    expect(await page.textContent('#legend-title')).toBe('Relative humidity %');
    await page.selectOption('#heat-layer', 'temperature');
    await page.hover('.rack[data-rack="a01"]');
    await page.locator('#tooltip:not([hidden])').filter({ hasText: 'Rack a01' }).waitFor(WAIT);
    expect(await page.textContent('#tooltip')).toMatch(/row A · front faces \w+/);
    const aisles = page.locator('svg.plan .aisle-label');
    const filterLabels = page.locator('#alerts-pane .alert-filters label.filter > span');
    expect(new Set(await aisles.allTextContents())).toEqual(new Set(['COLD AISLE', 'HOT AISLE']));
    expect(await page.getAttribute('.rack[data-rack="a01"]', 'aria-label')).toMatch(/^Rack a01, row A, front faces south/);
    await page.click('#lang-switch');
    expect(await page.textContent('#nav-floor')).toBe('Sơ đồ phòng máy');
    // The plan's own words follow the language: aisles, the scale bar, the racks' and the plan's labels for a screen reader.
    expect(new Set(await aisles.allTextContents())).toEqual(new Set(['LỐI LẠNH', 'LỐI NÓNG']));
    expect(await page.textContent('svg.plan .scale-bar text')).toBe('1 m · lưới ô sàn 0.6 m · hướng bắc ở trên');
    expect(await page.getAttribute('.rack[data-rack="a01"]', 'aria-label')).toMatch(/^Tủ rack a01, dãy A, mặt trước hướng nam/);
    expect(await page.getAttribute('svg.plan', 'aria-label')).toMatch(/^Sơ đồ Server room 1/);
    expect(await page.getAttribute('#room-tabs', 'aria-label')).toBe('Phòng máy');
    // The plan drawn again in Vietnamese is painted live at once: current sensors keep their colours, racks their numbers.
    const current = page.locator('svg.plan .sensor-rack[data-state="current"]').first();
    await current.waitFor(WAIT);
    expect(await current.evaluate((el) => getComputedStyle(el).fill)).toMatch(/^rgb\(/);
    expect(await current.getAttribute('aria-label')).toMatch(/^\S+, tủ a?\w+ (trước|sau)/);
    await page.locator('.rack[data-rack="a01"] .rack-reading').filter({ hasText: /^\d+\.\d°$/ }).waitFor(WAIT);
    // The alert pane's filters.
    expect(await filterLabels.allTextContents()).toEqual(['Mức độ', 'Trạng thái', 'Loại', 'Tìm kiếm']);
    expect(await page.locator('#filter-severity option').allTextContents()).toEqual(['tất cả', 'nghiêm trọng', 'cao', 'trung bình', 'cảnh báo', 'thông tin']);
    expect(await page.locator('#filter-kind option').allTextContents()).toEqual(['tất cả', 'khả dụng', 'môi trường', 'nguồn điện', 'an ninh', 'hiệu năng']);
    expect(await page.getAttribute('html', 'lang')).toBe('vi');
    // The switch itself reads "English", and says so to a screen reader.
    expect(await page.getAttribute('#lang-switch', 'lang')).toBe('en');
    const legend = (await page.textContent('.legend-keys')) ?? '';
    expect(legend).toContain('tủ có cảnh báo đang kích hoạt');
    expect(legend).toContain('cũ: không có giá trị trong 30 giây');
    expect(legend).not.toContain('rack with a firing alert');
    await page.mouse.move(0, 0);
    await page.hover('.rack[data-rack="a01"]');
    const card = page.locator('#tooltip:not([hidden])').filter({ hasText: 'Tủ rack a01' });
    await card.waitFor(WAIT);
    expect(await card.textContent()).toMatch(/dãy A · mặt trước hướng (bắc|nam|đông|tây)/);
    expect(await card.textContent()).toMatch(/trước-giữa\s*\d+\.\d °C/);
    await page.screenshot({ path: join(artifactsDir, 'floor-vi.png') });
    await page.mouse.move(0, 0);
    await page.click('#lang-switch');
    expect(await page.textContent('#nav-floor')).toBe('Floor plan');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('.legend-keys')).toContain('rack with a firing alert');
    expect(new Set(await aisles.allTextContents())).toEqual(new Set(['COLD AISLE', 'HOT AISLE']));
    expect(await page.getAttribute('.rack[data-rack="a01"]', 'aria-label')).toMatch(/^Rack a01, row A, front faces south/);
    expect(await filterLabels.allTextContents()).toEqual(['Severity', 'State', 'Kind', 'Search']);
    await page.locator('.rack[data-rack="a01"] .rack-reading').filter({ hasText: /^\d+\.\d°$/ }).waitFor(WAIT);
  });

  it('leaves no English on any view in Vietnamese: the floor, the alert pane, power, network, cloud, SOC, dashboards', async () => {
    const page = floor.pages[3]!;
    try {
      await page.click('#lang-switch');
      await page.locator('html[lang="vi"]').waitFor(WAIT);
      await page.click('#nav-cloud');
      await page.locator('#cloud-table').waitFor(WAIT);
      expect(await page.locator('#cloud-table thead th').allTextContents()).toEqual(['Thiết bị', 'loại', 'Trạng thái', 'CPU', 'Bộ nhớ', 'Ổ đĩa đầy nhất', 'Cảnh báo']);
      await page.click('#nav-soc');
      await page.locator('#soc-table').waitFor(WAIT);
      expect(await page.locator('#soc-table thead th').allTextContents()).toEqual(['', 'cảnh báo', 'vị trí', 'từ lúc', 'phân loại', 'kết luận', '']);

      // Phrases the UI itself writes in English (not names from the inventory or the rules): none may be left.
      const english = [
        'COLD AISLE', 'HOT AISLE', 'north up', 'Floor plan', 'Rack a01', 'front faces', 'no data', 'since ', 'lasted ', 'firing',
        'Power & cooling', 'Network', 'SOC queue', 'Dashboards', 'Alerts', 'Severity', 'Search', 'Heat map', 'Legend', 'Server rooms',
        'Log out', 'Retry', 'Hosts, VMs and storage', 'Fullest disk', 'Security queue', 'disposition', 'triage', 'related:',
        'Topology', 'Links', 'Interfaces', 'Utilisation', 'Built-in dashboards', 'Time range', 'Refresh', 'Export JSON',
        'Data center environment', 'Rack inlet temperature', 'Hottest inlet', 'Latest readings',
      ];
      const left: Record<string, string[]> = {};
      for (const v of ['floor', 'power', 'network', 'cloud', 'soc', 'dashboards']) {
        await page.click(`#nav-${v}`);
        await page.locator(`#nav-${v}[aria-selected="true"]`).waitFor(WAIT);
        await page.waitForTimeout(1000);
        // What a person reads (body.innerText, the plan's SVG words) and what a screen reader says (aria-label).
        const text = await page.evaluate(() =>
          [
            document.body.innerText,
            ...Array.from(document.querySelectorAll('svg text'), (e) => e.textContent ?? ''),
            ...Array.from(document.querySelectorAll('[aria-label]'), (e) => e.getAttribute('aria-label') ?? ''),
          ].join('\n'),
        );
        const found = english.filter((phrase) => text.includes(phrase));
        if (found.length) left[v] = found;
        await page.screenshot({ path: join(artifactsDir, `view-${v}-vi.png`) });
      }
      expect(left).toEqual({});
      // Severities are named in Vietnamese on the alert cards (their data-severity and classes stay English).
      const badges = await page.locator('#alert-list .sev-badge').allTextContents();
      expect(badges.filter((b) => /CRITICAL|MAJOR|MINOR|WARNING|INFO|RESOLVED/.test(b))).toEqual([]);
    } finally {
      // The next tests read English: a failure here must not leave the page in Vietnamese.
      if ((await page.getAttribute('html', 'lang')) === 'vi') await page.click('#lang-switch');
      await page.click('#nav-floor');
    }

    // And back (the switch clicked in `finally`): English again, on the view that is open and on the floor.
    await page.locator('html[lang="en"]').waitFor(WAIT);
    expect(await page.textContent('#nav-dashboards')).toBe('Dashboards');
    expect(await page.locator('svg.plan .aisle-label-cold').first().textContent()).toBe('COLD AISLE');
    await page.click('#nav-soc');
    expect(await page.locator('#soc-table thead th').allTextContents()).toEqual(['', 'alert', 'where', 'since', 'triage', 'disposition', '']);
    await page.click('#nav-cloud');
    expect(await page.locator('#cloud-table thead th').allTextContents()).toEqual(['Device', 'kind', 'Status', 'CPU', 'Memory', 'Fullest disk', 'Alert']);
    await page.click('#nav-floor');
    expect(await page.getAttribute('.rack[data-rack="a01"]', 'aria-label')).toMatch(/^Rack a01, row A, front faces south/);
  }, 60_000);

  it('turns racks red and raises critical alerts in the crac-failure scenario, with a cue, and explains why', async () => {
    const page = floor.pages[3]!;
    const password = await simulatorPassword(floor.dataDir, floor.app.accounts);
    const lines: string[] = [];
    const abort = new AbortController();
    const running = runSimulateCommand(
      ['crac-failure', '--broker', `mqtt://127.0.0.1:${floor.app.mqttPort}`, '--password', password, '--speed', '120', '--interval-ms', '250'],
      { stdout: (l) => lines.push(l), stderr: (l) => lines.push(l), signal: abort.signal },
    );
    try {
      let ended: number | undefined;
      void running.then((code) => (ended = code));
      // A simulator that could not start says why: the failure shows its words, not only a timeout.
      await eventually(() => {
        if (ended !== undefined) throw new Error(`watchfloor simulate exited ${ended}: ${lines.join(' | ')}`);
        return lines.find((l) => l.includes('racks it cools'));
      }, 30_000).catch((err: Error) => {
        throw new Error(`${err.message}; the simulator said: ${lines.join(' | ') || '(nothing)'}`);
      });
      const cooled = (lines.find((l) => l.includes('racks it cools')) as string).split('racks it cools: ')[1]!.split(', ');
      const hot = cooled[0]!;
      // The plan heats up: the rack's number rises past 32 °C before any alert fires.
      await eventually(async () => {
        const text = (await page.locator(`.rack[data-rack="${hot}"] .rack-reading`).textContent()) ?? '';
        return Number.parseFloat(text) > 32.5 ? true : undefined;
      }, 30_000, 250);
      floor.clock.skewMs += 31_000;
      await page.locator(`.rack[data-rack="${hot}"][data-alert="critical"]`).waitFor(WAIT);
      await page.locator(`#alert-list li.alert.sev-critical.state-firing[data-label-rack="${hot}"]`).first().waitFor(WAIT);
      await page.locator('#critical-cue:not([hidden])').waitFor(WAIT);
      expect(Number(await page.getAttribute('#critical-cue', 'data-beeps'))).toBeGreaterThan(0);
      await page.screenshot({ path: join(artifactsDir, 'crac-failure.png') });

      await page.click(`.rack[data-rack="${hot}"]`);
      const why = page.locator('#rack-why');
      await why.locator('.why-item.sev-critical').first().waitFor(WAIT);
      const text = (await why.textContent()) ?? '';
      expect(text).toContain('cold-aisle-hot');
      expect(text).toMatch(/reads \d+\.\d °C, above \d+(\.\d+)? °C/);
      await page.locator('#rack-panel .chart .uplot').waitFor(WAIT);
      // The lines are drawn (not only axes and a legend), and the legend says each sensor's latest value.
      expect(await plottedPixels(page.locator('#rack-panel .chart'))).toBeGreaterThan(30);
      expect(await page.locator('#rack-panel .chart-legend .series-last').first().textContent()).toMatch(/^\d+\.\d °C$/);
      expect(await page.locator('#rack-panel .elev-device').count()).toBeGreaterThan(0);
      await page.screenshot({ path: join(artifactsDir, 'rack-panel.png') });
      await page.keyboard.press('Escape');
      await page.locator('#rack-panel').waitFor({ state: 'detached', ...WAIT });

      // noc acknowledges one from its own screen; everyone sees it acknowledged.
      const noc = floor.pages[2]!;
      await noc.click('#nav-floor');
      const item = noc.locator(`#alert-list li.alert.sev-critical.state-firing[data-label-rack="${hot}"]`).first();
      await item.waitFor(WAIT);
      const id = (await item.getAttribute('data-alert-id'))!;
      await item.locator('.act-ack').click();
      await noc.locator(`#alert-list li[data-alert-id="${id}"][data-acked="true"] .badge-ack`).waitFor(WAIT);
      await page.locator(`#alert-list li[data-alert-id="${id}"][data-acked="true"]`).waitFor(WAIT);
      expect(((await api(floor.base, floor.admin, `/api/v1/alerts/${id}`)).body as { acknowledged?: boolean }).acknowledged).toBe(true);
    } finally {
      abort.abort();
      await running;
    }
  }, 90_000);

  it('sends a CRAC setpoint as noc after a confirmation and shows the new setpoint', async () => {
    const noc = floor.pages[2]!;
    await eventually(() => floor.app.fleet, 15_000);
    await noc.click('#nav-power');
    const row = noc.locator('#crac-table tr[data-device="crac-1"]');
    await row.locator('.in-setpoint').fill('21.5');
    await row.locator('.apply-setpoint').click();
    await row.locator('.confirm').waitFor(WAIT);
    await row.locator('.confirm-yes').click();
    await row.locator('.command-result').filter({ hasText: /set_setpoint sent to crac-1: ok/ }).waitFor(WAIT);
    await row.locator('td.setpoint').filter({ hasText: /^21\.5$/ }).waitFor(WAIT);
  }, 60_000);

  it('lets soc triage an MQTT brute-force alert', async () => {
    for (let i = 0; i < 6; i++) await connectMqtt(floor.app.mqttPort, { username: 'attacker', password: `guess-${i}`, clientId: `ui-attack-${i}` }).catch(() => undefined);
    const soc = await floor.open('soc', PASSWORDS.soc);
    await soc.click('#nav-soc');
    const row = soc.locator('#soc-table tr[data-triage="new"]').filter({ hasText: 'MQTT brute force' }).first();
    await row.waitFor(WAIT);
    const id = (await row.getAttribute('data-alert-id'))!;
    await row.locator('.triage-start').click();
    const r = soc.locator(`#soc-table tr[data-alert-id="${id}"]`);
    await soc.locator(`#soc-table tr[data-alert-id="${id}"][data-triage="in_progress"]`).waitFor(WAIT);
    await r.locator('.triage-disposition').selectOption('true_positive');
    await r.locator('.triage-close').click();
    await soc.locator(`#soc-table tr[data-alert-id="${id}"][data-triage="closed"][data-disposition="true_positive"]`).waitFor(WAIT);
    await soc.screenshot({ path: join(artifactsDir, 'soc.png') });
    // The link a notification carries (`/?alert=<id>`) opens the page with that alert marked in the list, first.
    await soc.goto(`${floor.base}/?alert=${encodeURIComponent(id)}`);
    await soc.locator(`#alert-list li[data-alert-id="${id}"][data-linked="true"]`).waitFor(WAIT);
    expect(await soc.locator('#alert-list li[data-linked="true"]').count()).toBe(1);
    expect(await soc.locator('#alert-list li').first().getAttribute('data-alert-id')).toBe(id);
  }, 60_000);

  it('has no serious accessibility violations (axe-core) on the floor plan, in kiosk mode too', async () => {
    const page = await floor.open('viewer', PASSWORDS.viewer, '?kiosk=1');
    expect(await page.getAttribute('body', 'data-kiosk')).toBe('1');
    await page.screenshot({ path: join(artifactsDir, 'kiosk.png') });
    await page.evaluate(axeSource);
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length}): ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(', ')}`);
    });
    expect(violations).toEqual([]);
  });


  it('says whether the critical cue will be heard: blocked until a click, then on; muted stays muted across a reload', async () => {
    const strict = await launchChromium({ autoplay: false });
    try {
      const page = await strict.newPage({ viewport: { width: 1600, height: 900 } });
      await page.goto(`${floor.base}/?kiosk=1`);
      await page.locator('#login-form').waitFor(WAIT);
      await page.fill('#username', 'noc');
      await page.fill('#password', PASSWORDS.noc);
      await page.click('#login-submit');
      await page.locator('#live[data-state=live]').waitFor(WAIT);
      // A wall screen reloaded on its own (a power cut, a restart) has had no click: it says the sound is off.
      await page.reload();
      await page.locator('#live[data-state=live]').waitFor(WAIT);
      expect(await page.getAttribute('#sound', 'data-state')).toBe('blocked');
      expect(await page.textContent('#sound')).toBe('Sound off: click to allow');
      expect(await page.isVisible('#sound')).toBe(true);
      await page.click('#sound');
      await page.locator('#sound[data-state=on]').waitFor(WAIT);
      expect(await page.evaluate(() => document.getElementById('sound')?.getAttribute('aria-pressed'))).toBe('true');
      await page.click('#sound');
      await page.locator('#sound[data-state=muted]').waitFor(WAIT);
      await page.reload();
      await page.locator('#live[data-state=live]').waitFor(WAIT);
      expect(await page.getAttribute('#sound', 'data-state')).toBe('muted');
      expect(await page.textContent('#sound')).toBe('Sound muted');
    } finally {
      await strict.close();
    }
  }, 60_000);

  it('reconnects after a server restart and resyncs without a login; asks for one when its session is gone', async () => {
    const page = floor.pages[3]!;
    await page.click('#nav-floor');
    floor.clock.skewMs = 0;
    // A step that hangs fails by its name, not as the whole test's timeout.
    const within = <T>(ms: number, step: string, p: Promise<T>): Promise<T> =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${step} did not finish in ${ms} ms`)), ms).unref())]);
    const restart = async (between?: () => void): Promise<void> => {
      await within(60_000, 'stopping the product', floor.app.stop());
      await page.locator('#live[data-state=offline]').waitFor(WAIT);
      between?.();
      await within(60_000, 'starting the product again on its port', floor.start(floor.port));
    };

    // The wall screen's session outlives the restart: the page reconnects by itself and catches up.
    let restartedAt = 0;
    await restart(() => {
      restartedAt = Date.now();
    });
    await page.locator('#live[data-state=live]').waitFor({ timeout: 40_000 });
    expect(await page.isVisible('#login-view')).toBe(false);
    // Every marker current again from values published after the restart (resync plus live telemetry).
    await eventually(async () => {
      const fresh = await page.locator('svg.plan [data-device][data-stale="false"]').count();
      return fresh === 96 ? true : undefined;
    }, 30_000, 250);
    const latest = await api(floor.base, floor.admin, '/api/v1/metrics/latest?device=s-a01-ft');
    expect((latest.body as { ts: number }[])[0]!.ts).toBeGreaterThan(restartedAt);

    // Without its session (the file of sessions lost), the page says so and asks again; it never shows old data as live.
    await restart(() => rmSync(join(floor.dataDir, 'sessions.json'), { force: true }));
    await page.locator('#login-view:not([hidden])').waitFor({ timeout: 40_000 });
    expect(await page.textContent('#login-message')).toContain('session has ended');
    await page.fill('#username', 'admin');
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('#login-submit');
    await page.locator('#live[data-state=live]').waitFor(WAIT);
    await page.locator('svg.plan [data-device][data-stale="false"]').first().waitFor(WAIT);
    expect(floor.pageErrors).toEqual([]);
    // Its waits add up to more than 90 s on a loaded machine (two restarts with 100 SNMP agents, login, live).
  }, 180_000);
});
