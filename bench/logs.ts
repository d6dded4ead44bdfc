// Log store: insert N synthetic syslog lines (the 2,000 reference lines with their addresses varied),
// then `q` of one IP, 50 times. Prints figures, never fails on time.
//   node bin/run-ts.js bench/logs.ts [--lines 1000000] [--queries 50] [--dir DIR [--queries-only]]
// --queries-only reuses the lines a previous run left in DIR (same --lines) and times the queries alone.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseSyslogLine } from '../collectors/syslog/index.ts';
import { silentLogger, type LogLine } from '../core/index.ts';
import { openLogStore } from '../store/index.ts';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const dirArg = process.argv.indexOf('--dir');
const LINES = arg('lines', 1_000_000);
const QUERIES = arg('queries', 50);
const BATCH = 20_000;
const QUERIES_ONLY = process.argv.includes('--queries-only');

const reference = readFileSync(new URL('../../shared/reference/logs/linux-syslog-2k.log', import.meta.url), 'utf8')
  .split(/\r?\n/)
  .filter((l) => l !== '')
  .map((text) => parseSyslogLine(text, { receivedAt: Date.UTC(2026, 11, 1), source: '10.0.0.9' }));

const IPV4 = /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g;
/** The n-th address of a pool of 65,536 (10.x.y.z): each appears in about N/65,536 x (lines with an address) lines. */
const ipOf = (n: number): string => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/** Line i: a reference line, its addresses replaced by one from the pool, every 3rd line given one if it has none. */
function synthetic(i: number, t0: number): LogLine {
  const ref = reference[i % reference.length] as LogLine;
  const ip = ipOf((i * 2654435761) % 65_536);
  let message = ref.message.replace(IPV4, ip);
  if (message === ref.message && i % 3 === 0) message = `${message} src=${ip}`;
  const fields: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(ref.fields)) fields[k] = typeof v === 'string' ? v.replace(IPV4, ip) : v;
  return { ...ref, ts: t0 + i, claimedTs: t0 + i, message, fields, pid: ref.pid ?? undefined };
}

const dir = dirArg > 0 ? (process.argv[dirArg + 1] as string) : mkdtempSync(join(tmpdir(), 'wf-bench-logs-'));
// The same t0 for a rerun over the same directory: the time-window query must hit the lines written then.
const t0 = Date.UTC(2026, 10, 1);
const store = await openLogStore({ dir, logger: silentLogger, retentionDays: 36500, maintenanceIntervalMs: 0, flushIntervalMs: 3_600_000 });
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
console.log(`log store bench: ${LINES.toLocaleString()} lines into ${dir}`);
const started = performance.now();
for (let i = 0; i < (QUERIES_ONLY ? 0 : LINES); i += BATCH) {
  const batch: LogLine[] = [];
  for (let j = i; j < Math.min(LINES, i + BATCH); j++) batch.push(synthetic(j, t0));
  store.append(batch);
  await store.flush();
  if ((i / BATCH) % 25 === 24) console.log(`  ${(i + BATCH).toLocaleString()} lines, ${Math.round((i + BATCH) / ((performance.now() - started) / 1000)).toLocaleString()} lines/s so far`);
}
const insertS = (performance.now() - started) / 1000;
loop.disable();
const s = store.stats();
if (!QUERIES_ONLY) {
console.log(`insert: ${LINES.toLocaleString()} lines in ${insertS.toFixed(1)} s = ${Math.round(LINES / insertS).toLocaleString()} lines/s (synthetic lines made in the same loop), dropped ${JSON.stringify(s.dropped)}`);
console.log(`  event loop delay while inserting: p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms; disk ${(s.diskBytes / 2 ** 20).toFixed(0)} MiB (${(s.diskBytes / LINES).toFixed(0)} B/line); fresh postings ${s.freshPostings.toLocaleString()}`);
}

async function timeQueries(label: string, make: (k: number) => Parameters<typeof store.search>[0], n = QUERIES): Promise<void> {
  const times: number[] = [];
  let hits = 0;
  for (let k = 0; k < n; k++) {
    const q = make(k);
    const a = performance.now();
    const r = await store.search(q);
    times.push(performance.now() - a);
    hits += r.total;
  }
  times.sort((x, y) => x - y);
  const pick = (p: number): number => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] as number;
  console.log(`${label}: median ${pick(50).toFixed(1)} ms, p99 ${pick(99).toFixed(1)} ms, max ${(times.at(-1) as number).toFixed(1)} ms over ${n} queries; ${Math.round(hits / n)} matching lines on average`);
}

// Different addresses each time, so no query is answered from a warm cache of the one before.
await timeQueries('q of one IP (limit 100, with total)', (k) => ({ q: ipOf((k * 7919 + 13) % 65_536), limit: 100 }));
await timeQueries('q of one IP + severity + 1-day window', (k) => ({ q: ipOf((k * 104_729 + 5) % 65_536), severity: 'notice', since: t0, until: t0 + 86_400_000 }));
await timeQueries('q of two words ("authentication failure")', () => ({ q: 'authentication failure', limit: 100 }), 5);
await timeQueries('no q: program filter, newest 100', () => ({ program: 'su(pam_unix)', limit: 100 }), 5);
await store.close();
if (dirArg < 0) rmSync(dir, { recursive: true, force: true });
