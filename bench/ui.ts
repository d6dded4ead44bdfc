// node bin/run-ts.js bench/ui.ts: the watch floor page in Debian's Chromium while 1,000 rack sensors
// (250 racks x 4 positions) update once a second over MQTT. Figures only, never pass/fail:
//   - floor plan load: login -> every sensor marker drawn with a current value, and a reload likewise;
//   - frame times: requestAnimationFrame intervals p50/p99/max and long tasks (> 50 ms) over the window;
//   - publish -> colour: from an MQTT publish (this process) to the frame in which the sensor's marker
//     has the new colour (a MutationObserver on the marker, stamped at the next animation frame).
// The product runs in its own process (bench/product-process.ts); 990 sensors come from a separate
// publisher process (bench/publisher-process.ts), and 10 probe sensors from this one, each flipping
// between 16 and 44 °C every second so every publish must change its colour.
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import mqtt from 'mqtt';
import { chromium } from 'playwright-core';
import { BENCH_COLLECTOR, benchDeviceIds } from './fixtures.ts';

const RUNNER = new URL('../bin/run-ts.js', import.meta.url).pathname;
const script = (name: string): string => new URL(name, import.meta.url).pathname;
const RACKS = Number(process.env.BENCH_RACKS ?? 250);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP_S = 5;
const PROBES = 10;
// BENCH_VIEWPORT=3840x2160 plays the 4K wall screen; the default is a 1080p one.
const [WIDTH, HEIGHT] = (process.env.BENCH_VIEWPORT ?? '1920x1080').split('x').map(Number) as [number, number];
const ADMIN_PASSWORD = 'bench-admin-password';
const COMMAND = `BENCH_RACKS=${RACKS} BENCH_SECONDS=${SECONDS}${process.env.BENCH_VIEWPORT ? ` BENCH_VIEWPORT=${process.env.BENCH_VIEWPORT}` : ''} node bin/run-ts.js bench/ui.ts`;

/** Runs in the page: rAF intervals, long tasks, and each probe marker's flip between cold and hot, stamped at the next frame. */
const INSTRUMENT = `function (probeIds) {
  const bench = { frames: [], longTasks: [], changes: [], stop: false };
  window.__bench = bench;
  let last = performance.now();
  const frame = (now) => {
    bench.frames.push(now - last);
    last = now;
    if (!bench.stop) requestAnimationFrame(frame);
  };
  requestAnimationFrame((now) => { last = now; requestAnimationFrame(frame); });
  new PerformanceObserver((list) => { for (const e of list.getEntries()) bench.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: false });
  const wall = () => performance.timeOrigin + performance.now();
  const ids = new Set(probeIds);
  const hotOf = (fill) => {
    const m = /rgb\\((\\d+), (\\d+), (\\d+)\\)/.exec(fill);
    return m ? 0.2126 * Number(m[1]) + 0.7152 * Number(m[2]) + 0.0722 * Number(m[3]) > 128 : undefined;
  };
  const seen = new Map();
  new MutationObserver((records) => {
    const mutated = wall();
    for (const r of records) {
      const device = r.target.getAttribute('data-device');
      if (!device || !ids.has(device)) continue;
      const hot = hotOf(r.target.style.fill);
      if (hot === undefined || seen.get(device) === hot) continue;
      seen.set(device, hot);
      const change = { device, hot, mutated, framed: NaN };
      bench.changes.push(change);
      requestAnimationFrame(() => { change.framed = wall(); });
    }
  }).observe(document.querySelector('svg.plan'), { subtree: true, attributes: true, attributeFilter: ['style'] });
}`;

function startProduct(): Promise<{ child: ChildProcess; mqttPort: number; httpPort: number; devices: number }> {
  const child = fork(RUNNER, [script('product-process.ts')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, BENCH_RACKS: String(RACKS) } });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`product exited with ${code}`)));
    child.on('message', (m: { type: string; mqttPort: number; httpPort: number; devices: number }) => {
      if (m.type === 'ready') resolve({ child, mqttPort: m.mqttPort, httpPort: m.httpPort, devices: m.devices });
    });
  });
}

function startPublisher(mqttPort: number, devices: string[], seconds: number): { child: ChildProcess; done: Promise<{ sent: number; seconds: number }> } {
  const child = fork(RUNNER, [script('publisher-process.ts')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_MQTT_PORT: String(mqttPort), BENCH_RATE: String(devices.length), BENCH_SECONDS: String(seconds), BENCH_DEVICES: devices.join(','), BENCH_CONNECTIONS: '2' },
  });
  const done = new Promise<{ sent: number; seconds: number }>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (m: { type: string; sent: number; seconds: number }) => {
      if (m.type === 'done') resolve(m);
    });
  });
  return { child, done };
}

const quantile = (sorted: number[], q: number): number => (sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number));
const ms = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');

interface PageChange {
  device: string;
  hot: boolean;
  mutated: number;
  framed: number;
}

const { child: product, mqttPort, httpPort, devices } = await startProduct();
const all = benchDeviceIds(RACKS);
// Probe sensors spread over the hall: one every `all.length / PROBES` devices.
const probes = Array.from({ length: PROBES }, (_, i) => all[Math.floor(((i + 0.5) * all.length) / PROBES)] as string);
const load = all.filter((d) => !probes.includes(d));
const base = `http://127.0.0.1:${httpPort}`;
console.log(`product: ${devices} devices, ${all.length} rack sensors; HTTP ${base}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);

const publisher = startPublisher(mqttPort, load, WARMUP_S + SECONDS + 40);
const prober = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { ...BENCH_COLLECTOR, clientId: 'bench-ui-probe', reconnectPeriod: 0 });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const currentMarkers = (): Promise<number> => page.locator('svg.plan [data-device][data-stale="false"]').count();
  const allCurrent = async (): Promise<void> => {
    await page.waitForFunction((n) => document.querySelectorAll('svg.plan [data-device][data-stale="false"]').length >= n, load.length, { timeout: 60_000, polling: 50 });
  };

  // Load: login -> plan with every load sensor current (they publish once a second, so within ~1 s of the plan).
  await page.goto(base);
  await page.locator('#login-form').waitFor({ timeout: 30_000 });
  await page.fill('#username', 'admin');
  await page.fill('#password', ADMIN_PASSWORD);
  let t0 = Date.now();
  await page.click('#login-submit');
  await page.locator('svg.plan[data-room="hall"]').waitFor({ timeout: 30_000 });
  const loginToPlan = Date.now() - t0;
  await allCurrent();
  const loginToLive = Date.now() - t0;
  t0 = Date.now();
  await page.reload();
  await page.locator('svg.plan[data-room="hall"]').waitFor({ timeout: 30_000 });
  const reloadToPlan = Date.now() - t0;
  await allCurrent();
  const reloadToLive = Date.now() - t0;
  await page.locator('#live[data-state=live]').waitFor({ timeout: 30_000 });
  await page.waitForTimeout(WARMUP_S * 1000);

  // Instrument: frame intervals, long tasks, and every colour change of a probe marker. (Plain JS in a
  // string: tsx would wrap functions written here in helpers that do not exist inside the page.)
  await page.evaluate(`(${INSTRUMENT})(${JSON.stringify(probes)})`);

  // BENCH_PROFILE=1: a CPU profile of the page over the window, its top functions by self time printed at the end.
  const cdp = process.env.BENCH_PROFILE === '1' ? await page.context().newCDPSession(page) : undefined;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
  }
  // BENCH_TRACE=1: a Chromium trace of the window, the renderer main thread's time by event printed at
  // the end (style, layout, paint, script: what a JS profile lumps together as "(program)").
  const tracing = process.env.BENCH_TRACE === '1';
  if (tracing) await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline.invalidationTracking'] });

  // Measure: each probe flips once a second, spread over the second.
  const sentLog: { device: string; hot: boolean; at: number }[] = [];
  const started = Date.now();
  let hot = true;
  while (Date.now() - started < SECONDS * 1000) {
    for (const [i, device] of probes.entries()) {
      const due = started + sentLog.length * (1000 / PROBES);
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const value = hot ? 44 : 16;
      const at = Date.now();
      prober.publish(`devices/${device}/telemetry`, JSON.stringify({ metrics: { temperature: value, humidity: 50 } }), { qos: 0 });
      sentLog.push({ device, hot, at });
      if (i === probes.length - 1) hot = !hot;
    }
  }
  await page.waitForTimeout(1500);
  const result = (await page.evaluate('(() => { const b = window.__bench; b.stop = true; return { frames: b.frames, longTasks: b.longTasks, changes: b.changes }; })()')) as {
    frames: number[];
    longTasks: number[];
    changes: PageChange[];
  };

  // Match each publish with the first matching colour change of that marker after it.
  const latencies: number[] = [];
  const mutationLatencies: number[] = [];
  let missed = 0;
  const byDevice = new Map<string, PageChange[]>();
  for (const c of result.changes) byDevice.set(c.device, [...(byDevice.get(c.device) ?? []), c]);
  for (const s of sentLog) {
    const c = (byDevice.get(s.device) ?? []).find((x) => x.hot === s.hot && x.mutated >= s.at);
    if (!c) {
      missed++;
      continue;
    }
    latencies.push((Number.isFinite(c.framed) ? c.framed : c.mutated) - s.at);
    mutationLatencies.push(c.mutated - s.at);
  }
  latencies.sort((a, b) => a - b);
  mutationLatencies.sort((a, b) => a - b);
  const frames = [...result.frames].sort((a, b) => a - b);
  const longTasks = result.longTasks;
  const published = await publisher.done.catch(() => undefined);
  const trace = tracing ? await browser.stopTracing() : undefined;

  console.log(`\nwatch floor page, Chromium ${browser.version()}, ${WIDTH}x${HEIGHT}, ${all.length} sensors at 1 update/s (${load.length} from a publisher process, ${PROBES} probes from this one), ${SECONDS} s window`);
  console.log(`floor plan load:   login -> plan ${loginToPlan} ms, -> all ${load.length} markers current ${loginToLive} ms; reload -> plan ${reloadToPlan} ms, -> all current ${reloadToLive} ms`);
  console.log(`frames:            ${frames.length} frames (${(frames.length / SECONDS).toFixed(1)}/s), interval p50 ${ms(quantile(frames, 0.5))}, p99 ${ms(quantile(frames, 0.99))}, max ${ms(frames[frames.length - 1] ?? NaN)}; over 50 ms: ${frames.filter((f) => f > 50).length}`);
  console.log(`long tasks:        ${longTasks.length} (${longTasks.reduce((a, b) => a + b, 0).toFixed(0)} ms in all, longest ${ms(Math.max(0, ...longTasks))})`);
  console.log(`publish -> colour: ${latencies.length} of ${sentLog.length} publishes seen (${missed} missed); painted-frame p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))}, max ${ms(latencies[latencies.length - 1] ?? NaN)}; DOM change p50 ${ms(quantile(mutationLatencies, 0.5))}, p99 ${ms(quantile(mutationLatencies, 0.99))}`);
  console.log(`load publisher:    ${published ? `${published.sent} messages in ${published.seconds.toFixed(1)} s` : 'still running at the end'}; markers current at the end: ${await currentMarkers()}`);
  if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
  if (cdp) {
    const { profile } = await cdp.send('Profiler.stop');
    const self = new Map<string, number>();
    const dt = profile.timeDeltas ?? [];
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    (profile.samples ?? []).forEach((id, i) => {
      const f = byId.get(id)?.callFrame;
      const key = f ? `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}` : '?';
      self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
    });
    console.log('page CPU by function (self time):');
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${v.toFixed(0).padStart(7)} ms  ${k}`);
  }
  if (trace) {
    if (process.env.BENCH_TRACE_FILE) writeFileSync(process.env.BENCH_TRACE_FILE, trace);
    const events = (JSON.parse(trace.toString('utf8')) as { traceEvents: { name: string; ph: string; dur?: number; pid: number; tid: number; args?: { name?: string; data?: { reason?: string; nodeName?: string } } }[] }).traceEvents;
    const reasons = new Map<string, number>();
    for (const e of events) {
      if (e.name !== 'LayoutInvalidationTracking') continue;
      const k = `${e.args?.data?.reason ?? '?'} on ${(e.args?.data?.nodeName ?? '?').slice(0, 40)}`;
      reasons.set(k, (reasons.get(k) ?? 0) + 1);
    }
    if (reasons.size) console.log(`layout invalidations: ${[...reasons].sort((a, b) => b[1] - a[1]).filter(([k]) => !k.startsWith('SVG changed')).slice(0, 12).map(([k, n]) => `${n}x ${k}`).join('; ')}`);
    const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
    const byName = new Map<string, { ms: number; n: number }>();
    for (const e of events) {
      if (e.ph !== 'X' || e.dur === undefined || !main.has(`${e.pid}:${e.tid}`)) continue;
      const s = byName.get(e.name) ?? { ms: 0, n: 0 };
      byName.set(e.name, { ms: s.ms + e.dur / 1000, n: s.n + 1 });
    }
    console.log('renderer main thread by trace event (inclusive time, nested events overlap):');
    for (const [k, v] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) console.log(`  ${v.ms.toFixed(0).padStart(7)} ms  ${String(v.n).padStart(6)}x  ${k}`);
  }
  console.log(`command: ${COMMAND}`);
} finally {
  await browser.close();
  await prober.endAsync().catch(() => undefined);
  publisher.child.kill();
  product.removeAllListeners('exit');
  product.send({ cmd: 'stop' });
  await new Promise((r) => product.once('exit', r));
}
