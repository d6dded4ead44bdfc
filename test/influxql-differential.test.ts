import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toLine, type EmbeddedTimeSeriesStore } from '../store/index.ts';
import { dashboardQueries, difference, interpolateVariables, oraclePoints, refusal, type Answer } from './support/influxql-oracle.ts';
import { influxdb1, type ServerProcess } from './support/tsdb-servers.ts';
import { api, login, startProduct, type StartedProduct } from './support/start-product.ts';

/*
 * InfluxDB 1.x is the oracle for /query: the same points written to Debian's influxd (line protocol
 * on its /write) and to Watchfloor's embedded store (rolled up, as a live store is after a few
 * minutes), the queries of test/fixtures/influxql/queries.txt sent to both, the answers compared.
 * Every "match" query must answer as InfluxDB does; every query's outcome is written to the report.
 */
const REPORT = process.env.INFLUXQL_DIFF_REPORT ?? '/tmp/influxql-diff-report.txt';
const FIXTURE = new URL('./fixtures/influxql/queries.txt', import.meta.url);
const HOUR = 3_600_000;
const MIN = 60_000;
/** Four settled hours of data, ending an hour before now: rolled up into every tier, far from either clock. */
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
const FROM = T0 + 61 * MIN + 12_345;
const TO = T0 + 121 * MIN + 40_500;

interface Case {
  line: number;
  status: 'match' | 'todo';
  params: Record<string, string>;
  query: string;
}

function cases(): Case[] {
  const out: Case[] = [];
  readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const m = /^(match|todo)\s+((?:\?\S+\s+)?)(.+)$/.exec(text.trim());
      if (!m) return;
      const params = Object.fromEntries(new URLSearchParams((m[2] ?? '').trim().slice(1)));
      out.push({ line: i + 1, status: m[1] as Case['status'], params, query: (m[3] as string).trim() });
    });
  return out;
}

/** The absolute-time form of a case's query, as Grafana would send it over this range. */
function render(q: string): string {
  return q
    .replace(/\$timeFilter/g, `time >= ${FROM}ms and time <= ${TO}ms`)
    .replace(/\$wideFilter/g, `time >= ${T0}ms and time <= ${T0 + 4 * HOUR - 1}ms`)
    .replace(/\$fromRfc/g, new Date(FROM).toISOString())
    .replace(/\$toRfc/g, new Date(TO).toISOString())
    .replace(/\$fromNs/g, `${FROM}000000`)
    .replace(/\$toNs/g, `${TO}000000`)
    .replace(/now\(\)/g, `${TO}ms`)
    .replace(/\$__interval/g, '1m');
}

/** A /query answer; a chunked one (one JSON object a line) is read as the concatenation of its results. */
async function ask(base: string, q: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
  const search = new URLSearchParams({ db: 'watchfloor', epoch: 'ms', q, ...params });
  if (search.get('epoch') === '') search.delete('epoch');
  const r = await fetch(`${base}/query?${search}`, { headers });
  const text = await r.text();
  const chunks = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Answer['body']);
  if (chunks.length === 1) return { status: r.status, body: chunks[0] as Answer['body'] };
  return { status: r.status, body: { results: chunks.flatMap((c) => c.results ?? []), ...(chunks.find((c) => c.error) ?? {}) } };
}

let influx: ServerProcess;
let p: StartedProduct;
let token: string;
const all = cases();
const outcomes = new Map<Case, { kind: 'same' | 'differs' | 'refused'; why?: string }>();
const timings: string[] = [];

/** Representative queries for the timing: dashboard panels, tables, variables, raw and function forms. */
const TIMED = [
  'SELECT mean("CPU1m") AS "CPU", mean("MemUsed") *1000 AS "Mem" FROM "snmp" WHERE ("agent_host" =~ /^10.1.1.1$/) AND $timeFilter GROUP BY time($__interval) fill(null)',
  'SELECT non_negative_derivative(mean("ifHCInOctets"), 1s) * 8 FROM "IF" WHERE $timeFilter GROUP BY time(1m), "ifName" fill(null)',
  'SELECT non_negative_derivative(mean("rx_bytes"), 1s) AS "Rx", non_negative_derivative(mean("tx_bytes"), 1s) AS "Tx" FROM "usw_ports" WHERE $timeFilter GROUP BY time($__interval), "name", "port_id"',
  'SELECT mean("CPU1m") FROM "snmp" WHERE $wideFilter GROUP BY time(1m), "agent_host"',
  'SELECT last("ifAdminStatus") AS "AdminStatus", last("ifOperStatus") AS "OperStatus", last("ifHighSpeed") AS "Speed" FROM "IF" WHERE ("agent_host" =~ /^10.1.1.1$/ ) AND time > now() -2m GROUP BY "ifName", "ifAlias", "ifOperStatusCause"',
  'SELECT COUNT("PSU") FROM (SELECT last("PSU_Status") AS "PSU" FROM "FRU" WHERE ("index" != \'\') AND ("agent_host" =~ /^10.1.1.1$/) AND time > now() -2m GROUP BY "agent_host", "index")',
  'SELECT * FROM "snmp" WHERE $timeFilter',
  'SELECT percentile("CPU1m", 95), median("CPU1m"), stddev("CPU1m") FROM "snmp" WHERE $wideFilter GROUP BY time(10m)',
  'SHOW TAG VALUES FROM "usw_ports" WITH KEY = "port_id" WHERE "device_name" =~ /^USW-24-PoE$/',
  'SHOW SERIES CARDINALITY',
];

beforeAll(async () => {
  [influx, p] = await Promise.all([influxdb1(), startProduct()]);
  const points = oraclePoints(T0, 4);
  p.app.store.write(points);
  const lines = points.map((x) => toLine(x)).filter((l): l is string => l !== undefined);
  for (let i = 0; i < lines.length; i += 20_000) {
    const w = await fetch(`${influx.url}/write?db=watchfloor&precision=ms`, { method: 'POST', body: lines.slice(i, i + 20_000).join('\n') });
    if (w.status !== 204) throw new Error(`influxd /write: ${w.status} ${await w.text()}`);
  }
  await p.app.store.flush();
  // The rollup tiers, as any store a few minutes old has them: queries must not read whole rollup rows past their bounds.
  await (p.app.store as EmbeddedTimeSeriesStore).maintain();
  const admin = await login(p.base);
  const created = await api(p.base, admin, '/api/v1/tokens', { method: 'POST', body: { name: 'oracle', role: 'viewer' } });
  token = (created.body as { token: string }).token;
}, 120_000);

afterAll(async () => {
  const count = (k: string): number => [...outcomes.values()].filter((o) => o.kind === k).length;
  const lines = [
    `InfluxQL differential: Watchfloor /query vs InfluxDB 1.6 (influxd), ${outcomes.size} queries`,
    `same ${count('same')} / differs ${count('differs')} / refused ${count('refused')}`,
    `must match: ${all.filter((c) => c.status === 'match').length}`,
    '',
  ];
  for (const kind of ['refused', 'differs', 'same'] as const) {
    lines.push(`== ${kind}`);
    for (const [c, o] of outcomes) if (o.kind === kind) lines.push(`${c.status} line ${c.line}: ${Object.keys(c.params).length ? `?${new URLSearchParams(c.params)} ` : ''}${c.query}${o.why ? `\n    -> ${o.why}` : ''}`);
    lines.push('');
  }
  if (timings.length > 0) lines.push('== timing (median of 7 runs each, same machine, same run; Watchfloor with token auth)', ...timings, '');
  writeFileSync(REPORT, lines.join('\n'));
  console.log(lines.slice(0, 3).join('\n'), `(report: ${REPORT})`);
  await p?.app.stop();
  await influx?.destroy();
}, 30_000);

describe('InfluxQL against InfluxDB 1.6 as the oracle', () => {
  it('holds every query of the shared real dashboards, as Grafana renders them, and at least 150 in all', () => {
    const listed = new Set(all.map((c) => c.query));
    const missing = ['cisco-nxos-telegraf-snmp-influxql.json', 'unifi-poller-usw-switch-influxql.json']
      .flatMap(dashboardQueries)
      .map((q) => interpolateVariables(q.replace(/\s*\n\s*/g, ' ').trim()))
      .filter((q) => !listed.has(q));
    expect(missing).toEqual([]);
    expect(all.length).toBeGreaterThanOrEqual(150);
  });

  it('answers every "match" query as InfluxDB does (series, tags, columns, times, values)', async () => {
    const regressions: string[] = [];
    for (const c of all) {
      const q = render(c.query);
      const theirs = await ask(influx.url, q, c.params);
      const ours = await ask(p.base, q, c.params, { authorization: `Token ${token}` });
      const refused = refusal(ours, theirs);
      const why = refused ?? difference(ours, theirs);
      outcomes.set(c, { kind: refused ? 'refused' : why ? 'differs' : 'same', why });
      if (c.status === 'match' && why) regressions.push(`line ${c.line}: ${c.query}\n  ${why}`);
    }
    expect(regressions).toEqual([]);
  }, 120_000);

  it('answers /ping as influxd does: 204 and an X-Influxdb-Version header, without sign-in', async () => {
    for (const base of [influx.url, p.base]) {
      for (const method of ['GET', 'HEAD']) {
        const r = await fetch(`${base}/ping`, { method });
        expect(r.status, `${base} ${method}`).toBe(204);
        expect(r.headers.get('x-influxdb-version'), base).toMatch(/^1\.\d+/);
        expect(await r.text()).toBe('');
      }
    }
  });

  it('times representative queries on both servers (figures in the report)', async () => {
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const time = async (base: string, q: string, headers: Record<string, string>): Promise<number> => {
      const runs: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        const a = await ask(base, q, {}, headers);
        runs.push(performance.now() - t);
        expect(a.status, q).toBe(200);
      }
      return median(runs);
    };
    let ours = 0;
    let theirs = 0;
    for (const raw of TIMED) {
      const q = render(raw);
      const o = await time(p.base, q, { authorization: `Token ${token}` });
      const t = await time(influx.url, q, {});
      ours += o;
      theirs += t;
      timings.push(`${o.toFixed(1).padStart(8)} ms  ${t.toFixed(1).padStart(8)} ms  x${(o / t).toFixed(2).padStart(6)}  ${raw.slice(0, 110)}`);
    }
    timings.unshift(`   ours      influxd   ratio   (sum: ${ours.toFixed(0)} ms vs ${theirs.toFixed(0)} ms, x${(ours / theirs).toFixed(2)})`);
    console.log(timings.join('\n'));
    expect(timings.length).toBe(TIMED.length + 1);
  }, 120_000);
});
