// Rules engine alone: 1,000 threshold rules over 100,000 series (1,000 devices x 100 metrics,
// 10 rules per metric), values near but mostly under the thresholds so a few alerts fire.
// Run: node bin/run-ts.js bench/rules.ts
import { FakeClock, type Point } from '../core/index.ts';
import { loadRules, RuleEngine, type RuleInput } from '../rules/index.ts';

const METRICS = 100;
const DEVICES = 1000;
const RULES_PER_METRIC = 10;
const defs: RuleInput[] = [];
for (let m = 0; m < METRICS; m++) {
  for (let r = 0; r < RULES_PER_METRIC; r++) {
    defs.push({ id: `r${m}-${r}`, type: 'threshold', name: `rule ${m}/${r}`, kind: 'environment', severity: 'warning', match: { metric: `m${m}`, tags: { aisle: 'cold' } }, when: { above: 90 + r }, clear: { below: 85 }, for: '30s' });
  }
}
const clock = new FakeClock(1_700_000_000_000);
const tags = Array.from({ length: DEVICES }, (_, d) => ({ device: `d${d}`, rack: `R${d % 50}`, aisle: 'cold' }));
const engine = new RuleEngine({ rules: loadRules(defs, 'bench'), clock });
const points: Point[] = [];
for (let d = 0; d < DEVICES; d++) for (let m = 0; m < METRICS; m++) points.push({ device: `d${d}`, metric: `m${m}`, value: 50, ts: 0, tags: tags[d] });

// Warm-up: every series created once.
for (const p of points) engine.onPoint(p);
let seed = 1;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);

const N = 2_000_000;
let alerts = 0;
const heapBefore = process.memoryUsage().heapUsed;
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  const p = points[i % points.length] as Point;
  p.value = 40 + rand() * 51; // up to 91: rule 0 of each metric fires now and then
  if ((i & 0xffff) === 0) clock.advance(1000);
  alerts += engine.onPoint(p).length;
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

// Per-value cost, timed one by one on a sample.
const samples = new Float64Array(200_000);
for (let i = 0; i < samples.length; i++) {
  const p = points[(i * 7919) % points.length] as Point;
  p.value = 40 + rand() * 45;
  const s = process.hrtime.bigint();
  engine.onPoint(p);
  samples[i] = Number(process.hrtime.bigint() - s);
}
samples.sort();
const pct = (q: number): number => samples[Math.floor(q * (samples.length - 1))] as number;
const mem = process.memoryUsage();
console.log('bench/rules: 1,000 threshold rules, 100,000 series (node bin/run-ts.js bench/rules.ts)');
console.log(`  values/s (engine alone): ${Math.round(N / seconds).toLocaleString('en-US')}  (${N.toLocaleString('en-US')} values in ${seconds.toFixed(2)} s, ${alerts} alert changes)`);
console.log(`  cost per value: p50 ${(pct(0.5) / 1000).toFixed(2)} µs, p99 ${(pct(0.99) / 1000).toFixed(2)} µs, p99.9 ${(pct(0.999) / 1000).toFixed(2)} µs`);
console.log(`  memory: heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB (grew ${((mem.heapUsed - heapBefore) / 2 ** 20).toFixed(0)} MiB during the run), rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB`);
