/**
 * Service-check benchmark (issue 16): N HTTP checks scheduled in this one process against loopback
 * HTTP servers run in a child process (so the RSS added is the checker's alone), each on its own
 * interval with jitter. Prints checks/min achieved, scheduling lag p50/p99/max and RSS added; then a
 * `fping` sweep of as many loopback targets, for comparison. Target from the issue: >= 5,000 checks/min,
 * lag p99 < 1 s, < 150 MB RSS added.
 * Run: node bin/run-ts.js bench/checks.ts [checks=1000] [intervalSeconds=10] [seconds=40] [servers=8]
 * Prints figures only; never fails on time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CheckScheduler, parseCheck } from '../collectors/checks/index.ts';

const checks = Number(process.argv[2] ?? 1000);
const intervalSeconds = Number(process.argv[3] ?? 10);
const seconds = Number(process.argv[4] ?? 40);
const serverCount = Number(process.argv[5] ?? 8);
const mb = (bytes: number): string => `${Math.round(bytes / 1048576)} MB`;

// The targets: plain Node HTTP servers in another process, answering a small health page.
const serverScript = `
const http = require('node:http');
const ports = [];
let n = ${serverCount};
for (let i = 0; i < ${serverCount}; i++) {
  const s = http.createServer((req, res) => res.end('<html>Cổng dịch vụ công: Đăng nhập</html>'));
  s.listen(0, '127.0.0.1', () => { ports.push(s.address().port); if (--n === 0) console.log(JSON.stringify(ports)); });
}`;
const servers = spawn(process.execPath, ['-e', serverScript], { stdio: ['ignore', 'pipe', 'inherit'] });
const ports: number[] = await new Promise((resolve) => createInterface({ input: servers.stdout }).once('line', (l) => resolve(JSON.parse(l) as number[])));

globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;
let rssPeak = rssBefore;
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 500);

const warmupMs = intervalSeconds * 1000; // the first interval spreads the checks' phases
const cpu0 = process.cpuUsage();
const t0 = Date.now();
let counted = 0;
let failed = 0;
const lags: number[] = [];
const reasons = new Map<string, number>();
const scheduler = new CheckScheduler({
  concurrency: 256,
  onResult: (_id, result, _state, info) => {
    if (info.at - t0 < warmupMs) return;
    counted++;
    lags.push(info.lagMs);
    if (!result.ok) {
      failed++;
      const r = (result.reason ?? '?').replace(/\d+/g, 'N');
      reasons.set(r, (reasons.get(r) ?? 0) + 1);
    }
  },
});
for (let i = 0; i < checks; i++) {
  const port = ports[i % ports.length] as number;
  scheduler.add(`portal-${i}`, parseCheck({ type: 'http', url: `http://127.0.0.1:${port}/?c=${i}`, intervalSeconds, timeoutSeconds: 5, expect: { status: 200, body: 'Đăng nhập' } }));
}
await new Promise((r) => setTimeout(r, seconds * 1000));
const measuredMs = Date.now() - t0 - warmupMs;
const cpu = process.cpuUsage(cpu0);
const wallMs = Date.now() - t0;
await scheduler.stop();
clearInterval(sampler);
servers.kill();

lags.sort((a, b) => a - b);
const q = (p: number): number => Math.round(lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? 0);
const perMin = Math.round((counted / measuredMs) * 60_000);
console.log(`${checks} http checks every ${intervalSeconds} s against ${serverCount} loopback servers, measured over ${(measuredMs / 1000).toFixed(0)} s after a ${intervalSeconds} s warm-up`);
console.log(`checks/min achieved: ${perMin} (planned ${Math.round((checks * 60) / intervalSeconds)}; target >= 5,000), failures ${failed}`);
console.log(`scheduling lag: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${Math.round(lags.at(-1) ?? 0)} ms (target p99 < 1,000 ms)`);
console.log(`CPU of the checker: ${(((cpu.user + cpu.system) / 1000 / wallMs) * 100).toFixed(0)}% of one core`);
console.log(`RSS: ${mb(rssBefore)} before, peak ${mb(rssPeak)}, added ${mb(rssPeak - rssBefore)} (target < 150 MB)`);
for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`  failed ${n}x: ${reason}`);

// For comparison: one fping sweep over as many loopback addresses (127.0.0.0/8 all answer on lo).
const sweep = Math.min(checks, 65_000);
const targets = [...Array(sweep).keys()].map((i) => `127.0.${Math.floor((i + 1) / 256)}.${(i + 1) % 256}`);
const s0 = Date.now();
const f = spawnSync('fping', ['-C', '1', '-q', '-i', '1', '-t', '500', ...targets], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
if (f.error) console.log(`fping sweep: not run (${f.error.message}; Debian: apt-get install fping)`);
else {
  const answered = (f.stderr.match(/ : \d/g) ?? []).length;
  const ms = Date.now() - s0;
  console.log(`fping sweep of ${sweep} loopback targets (fping -C 1 -q -i 1): ${answered} answered in ${ms} ms, ${Math.round((sweep / ms) * 60_000)} targets/min`);
}
