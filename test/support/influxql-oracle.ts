/*
 * The InfluxDB 1.x oracle for /query: a data set shaped like the real dashboards' (Telegraf SNMP on
 * NX-OS, unpoller on UniFi switches), the dashboards' queries rendered as Grafana renders them, and
 * a comparison of two /query answers (series, tags, columns, timestamps, values).
 */
import { readFileSync } from 'node:fs';
import type { Point } from '../../core/index.ts';
// A small deterministic generator (mulberry32): the same data in every run.
import { seededRandom as random } from '../../simulators/index.ts';
import { realDashboardsDir } from './grafana.ts';

const SECOND = 1000;


interface DeviceSpec {
  id: string;
  tags: Record<string, string>;
  gauges: string[];
  counters: string[];
  states: string[];
  /** Seconds between samples. */
  every: number;
}

const devices: DeviceSpec[] = [];
for (const [n, host] of [[1, '10.1.1.1'], [2, '10.1.1.2']] as const) {
  devices.push({ id: `nx${n}`, tags: { kind: 'snmp', agent_host: host, hostname: `nx${n}`, source: `nx${n}.lab` }, gauges: ['CPU1m', 'MemUsed', 'MemFree'], counters: ['uptime'], states: [], every: 10 });
  for (let i = 1; i <= 3; i++) {
    devices.push({ id: `nx${n}-fru${i}`, tags: { kind: 'FRU', agent_host: host, index: `${i}` }, gauges: [], counters: [], states: ['PSU_Status', 'FAN_Status'], every: 30 });
  }
  for (let i = 1; i <= 3; i++) {
    devices.push({
      id: `nx${n}-eth${i}`,
      tags: { kind: 'IF', agent_host: host, ifName: `Ethernet1/${i}`, ifAlias: i === 1 ? 'uplink' : `srv-${i}`, ifOperStatusCause: i === 3 ? 'linkNotConnected' : 'none' },
      gauges: ['ifHighSpeed'],
      counters: ['ifHCInOctets', 'ifHCOutOctets', 'ifInDiscards', 'ifOutDiscards', 'ifInErrors', 'ifOutErrors', 'ifInUnknownProtos'],
      states: ['ifAdminStatus', 'ifOperStatus'],
      every: 20,
    });
  }
  devices.push({ id: `nx${n}-syslog`, tags: { kind: 'syslog', hostname: host, appname: n === 1 ? 'ntpd' : 'sshd' }, gauges: ['severity_code'], counters: [], states: [], every: 60 });
}
const unifiCommon = { source: 'https://unifi:8443', site_name: 'default' };
for (const [n, name] of [[1, 'USW-24-PoE'], [2, 'USW-Lite-8']] as const) {
  devices.push({
    id: `usw${n}`,
    tags: { kind: 'usw', ...unifiCommon, name, model: n === 1 ? 'US24P250' : 'USL8LP', serial: `F09FC2${n}`, mac: `f0:9f:c2:00:00:0${n}`, version: '6.5.59', type: 'usw' },
    gauges: ['general_temperature', 'mem', 'loadavg_1', 'loadavg_15', 'cpu'],
    counters: ['uptime', 'rx_bytes', 'tx_bytes'],
    states: [],
    every: 30,
  });
  for (let port = 1; port <= 3; port++) {
    devices.push({
      id: `usw${n}-p${port}`,
      tags: {
        kind: 'usw_ports', ...unifiCommon, name: `Port ${port}`, device_name: name, port_id: `${port}`, port_idx: `${port}`, media: 'GE', poe_mode: port === 1 ? 'auto' : 'off',
        flowctrl_rx: 'false', flowctrl_tx: 'false', type: 'usw',
      },
      gauges: ['poe_current', 'poe_voltage', 'poe_power', 'speed'],
      counters: ['rx_bytes', 'tx_bytes', 'rx_packets', 'tx_packets', 'rx_errors', 'tx_errors', 'rx_dropped', 'tx_dropped', 'rx_broadcast', 'tx_broadcast', 'rx_multicast', 'tx_multicast'],
      states: [],
      every: 30,
    });
  }
}
devices.push({ id: 'udm1', tags: { kind: 'udm', ...unifiCommon, name: 'UDM-Pro', type: 'udm' }, gauges: ['temp_Local', 'temp_PHY', 'temp_CPU', 'mem', 'loadavg_15', 'cpu'], counters: [], states: [], every: 30 });
devices.push({ id: 'uap1', tags: { kind: 'uap', ...unifiCommon, name: 'U6-Lite', type: 'uap' }, gauges: ['mem', 'loadavg_15', 'cpu'], counters: [], states: [], every: 30 });

/**
 * Points from `t0` for `hours`, at each device's interval with a jitter of a few seconds and a gap now
 * and then (a missed poll), values rounded to quarters so sums and means are exact in both engines.
 */
export function oraclePoints(t0: number, hours: number): Point[] {
  const out: Point[] = [];
  const rnd = random(13);
  for (const d of devices) {
    const level = new Map<string, number>();
    for (let t = t0 + Math.floor(rnd() * d.every) * SECOND; t < t0 + hours * 3_600_000; t += d.every * SECOND) {
      if (rnd() < 0.04) continue;
      const ts = t + Math.floor(rnd() * 3) * SECOND + Math.floor(rnd() * 1000);
      const tags = d.tags;
      for (const m of d.gauges) out.push({ device: d.id, metric: m, ts, value: Math.round((20 + 40 * rnd()) * 4) / 4, tags });
      for (const m of d.counters) {
        const prev = level.get(m) ?? Math.floor(rnd() * 1e6);
        // A counter wraps (or the device restarts) once in a while: non_negative_derivative must drop it.
        const next = rnd() < 0.01 ? Math.floor(rnd() * 100) : prev + Math.floor(rnd() * 50_000);
        level.set(m, next);
        out.push({ device: d.id, metric: m, ts, value: next, tags });
      }
      for (const m of d.states) out.push({ device: d.id, metric: m, ts, value: rnd() < 0.85 ? 1 : 2, tags });
    }
  }
  return out;
}

// ---- Grafana's InfluxQL rendering (public/app/plugins/datasource/influxdb/influx_query_model.ts) ----

interface SelectPart {
  type: string;
  params: (string | number)[];
}
interface BuilderTarget {
  measurement?: string;
  policy?: string;
  select?: SelectPart[][];
  groupBy?: SelectPart[];
  tags?: { key: string; operator?: string; value: string; condition?: string }[];
  orderByTime?: string;
  limit?: string | number;
  slimit?: string | number;
  fill?: string;
}

const AGGREGATE_LIKE = new Set(['mean', 'sum', 'last', 'first', 'max', 'min', 'count', 'median', 'mode', 'spread', 'stddev', 'distinct', 'integral']);

/** One column of the builder: field, then functions wrapping it, math appended, alias last (query_part.ts renderers). */
function renderColumn(parts: SelectPart[]): string {
  let expr = '';
  for (const p of parts) {
    const params = p.params.map(String);
    if (p.type === 'field') expr = params[0] === '*' ? '*' : `"${params[0]}"`;
    else if (p.type === 'math') expr = `${expr} ${params[0]}`;
    else if (p.type === 'alias') expr = `${expr} AS "${params[0]}"`;
    else if (AGGREGATE_LIKE.has(p.type) || p.type.includes('derivative') || p.type.includes('difference') || p.type.startsWith('moving') || p.type.startsWith('cumulative') || p.type === 'percentile' || p.type === 'top' || p.type === 'bottom') {
      expr = `${p.type}(${[expr, ...params].join(', ')})`;
    } else expr = `${p.type}(${[expr, ...params].join(', ')})`;
  }
  return expr;
}

function renderTag(tag: NonNullable<BuilderTarget['tags']>[number], index: number): string {
  const str = index > 0 ? `${tag.condition ?? 'AND'} ` : '';
  const operator = tag.operator ?? (/^\/.*\/$/.test(tag.value) ? '=~' : '=');
  let value = tag.value;
  // A number compared with < or > stays a number; every other non-regex value is quoted.
  const numeric = (operator === '<' || operator === '>') && /^-?\d+(\.\d+)?$/.test(value);
  if (operator !== '=~' && operator !== '!~' && !numeric) value = `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `${str}"${tag.key}" ${operator} ${value}`;
}

/** What Grafana sends for a query-builder target, before template interpolation. */
export function renderBuilder(t: BuilderTarget): string {
  const select = (t.select ?? []).map(renderColumn).join(', ');
  const rp = t.policy && t.policy !== 'default' ? `"${t.policy}".` : '';
  let q = `SELECT ${select} FROM ${rp}"${t.measurement}" WHERE `;
  const conditions = (t.tags ?? []).map(renderTag);
  if (conditions.length > 0) q += `(${conditions.join(' ')}) AND `;
  q += '$timeFilter';
  let group = '';
  (t.groupBy ?? []).forEach((p, i) => {
    if (i > 0) group += p.type === 'fill' ? ' ' : ', ';
    const param = String(p.params[0]);
    group += p.type === 'time' ? `time(${param})` : p.type === 'fill' ? `fill(${param})` : `"${param}"`;
  });
  if (group) q += ` GROUP BY ${group}`;
  if (t.fill) q += ` fill(${t.fill})`;
  if (t.orderByTime === 'DESC') q += ' ORDER BY time DESC';
  if (t.limit) q += ` LIMIT ${t.limit}`;
  if (t.slimit) q += ` SLIMIT ${t.slimit}`;
  return q;
}

interface RawPanel {
  repeatPanelId?: number;
  targets?: (BuilderTarget & { query?: string; rawQuery?: boolean; hide?: boolean })[];
  panels?: RawPanel[];
}

/** Every distinct query of a real dashboard as Grafana sends it (raw and builder targets, variable queries), before interpolation. */
export function dashboardQueries(file: string): string[] {
  const d = JSON.parse(readFileSync(`${realDashboardsDir}/${file}`, 'utf8')) as { panels: RawPanel[]; templating: { list: { type: string; query?: unknown }[] } };
  const out = new Set<string>();
  const walk = (panels: RawPanel[]): void => {
    for (const p of panels) {
      // A repeated panel's saved copies carry the same targets as the panel they repeat.
      if (p.repeatPanelId === undefined) for (const t of p.targets ?? []) out.add(t.rawQuery && typeof t.query === 'string' ? t.query : renderBuilder(t));
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  for (const v of d.templating.list) if (v.type === 'query' && typeof v.query === 'string') out.add(v.query);
  return [...out];
}

/** The template variables of the two dashboards, with values from the data set (Grafana's `:regex` format escapes them). */
export const dashboardVariables: Record<string, string> = {
  host: '10.1.1.1',
  ifName: 'Ethernet1\\/1',
  Controller: 'https:\\/\\/unifi:8443',
  Site: 'default',
  Devices: '(uap|udm|usw)',
  Switch: 'USW-24-PoE',
  Port: '1',
};

/** Grafana's interpolation of the variables (`$v`, `${v}`, `${v:regex}`, `[[v]]`). */
export function interpolateVariables(q: string, vars = dashboardVariables): string {
  return q.replace(/\$\{([A-Za-z_]\w*)(?::\w+)?\}|\$([A-Za-z_]\w*)|\[\[([A-Za-z_]\w*)\]\]/g, (all, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c) as string;
    return vars[name] ?? all;
  });
}

// ---- comparison ----

interface Series {
  name?: string;
  tags?: Record<string, string>;
  columns?: string[];
  values?: unknown[][];
  partial?: boolean;
}
interface Result {
  statement_id?: number;
  series?: Series[];
  error?: string;
  partial?: boolean;
}
export interface Answer {
  status: number;
  body: { results?: Result[]; error?: string };
}

const close = (a: unknown, b: unknown): boolean => {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  return a === b;
};

/** Why two answers differ, or undefined when they carry the same series, tags, columns, times and values. */
export function difference(ours: Answer, theirs: Answer): string | undefined {
  const oe = ours.body.error ?? (ours.status !== 200 ? `HTTP ${ours.status}` : undefined);
  const te = theirs.body.error ?? (theirs.status !== 200 ? `HTTP ${theirs.status}` : undefined);
  if (oe || te) return oe && te ? undefined : `error: ours ${oe ?? 'none'}, InfluxDB's ${te ?? 'none'}`;
  const or = ours.body.results ?? [];
  const tr = theirs.body.results ?? [];
  if (or.length !== tr.length) return `${or.length} results, InfluxDB ${tr.length}`;
  for (let i = 0; i < tr.length; i++) {
    const o = or[i] as Result;
    const t = tr[i] as Result;
    if (o.error || t.error) {
      if (o.error && t.error) continue;
      return `statement ${i}: error ours ${o.error ?? 'none'}, InfluxDB's ${t.error ?? 'none'}`;
    }
    if (!!o.partial !== !!t.partial) return `statement ${i}: partial ours ${o.partial}, InfluxDB's ${t.partial}`;
    const os = o.series ?? [];
    const ts = t.series ?? [];
    if (os.length !== ts.length) return `statement ${i}: ${os.length} series, InfluxDB ${ts.length} (first of theirs ${JSON.stringify(ts[0]?.tags ?? ts[0]?.name)})`;
    for (let s = 0; s < ts.length; s++) {
      const a = os[s] as Series;
      const b = ts[s] as Series;
      const where = `series ${s} (${b.name ?? ''}${b.tags ? ` ${JSON.stringify(b.tags)}` : ''})`;
      if ((a.name ?? '') !== (b.name ?? '')) return `${where}: name ${a.name}`;
      if (JSON.stringify(a.tags ?? {}) !== JSON.stringify(b.tags ?? {})) return `${where}: tags ${JSON.stringify(a.tags)}`;
      if (!!a.partial !== !!b.partial) return `${where}: partial ours ${a.partial}, InfluxDB's ${b.partial}`;
      if (JSON.stringify(a.columns) !== JSON.stringify(b.columns)) return `${where}: columns ${JSON.stringify(a.columns)}, InfluxDB ${JSON.stringify(b.columns)}`;
      const av = a.values ?? [];
      const bv = b.values ?? [];
      if (av.length !== bv.length) return `${where}: ${av.length} rows, InfluxDB ${bv.length} (theirs first ${JSON.stringify(bv[0])}, ours ${JSON.stringify(av[0])})`;
      for (let r = 0; r < bv.length; r++) {
        const x = av[r] as unknown[];
        const y = bv[r] as unknown[];
        if (x.length !== y.length || y.some((v, k) => !close(x[k], v))) return `${where} row ${r}: ours ${JSON.stringify(x)}, InfluxDB ${JSON.stringify(y)}`;
      }
    }
  }
  return undefined;
}

/** Our answer refused the query (a parse or statement error) where InfluxDB answered. */
export function refusal(ours: Answer, theirs: Answer): string | undefined {
  const theirsOk = theirs.status === 200 && !theirs.body.error && !(theirs.body.results ?? []).some((r) => r.error);
  if (!theirsOk) return undefined;
  if (ours.body.error) return ours.body.error;
  if (ours.status !== 200) return `HTTP ${ours.status}`;
  return (ours.body.results ?? []).find((r) => r.error)?.error;
}
