import { asNumber, asText, type SnmpValue } from '../snmp-common/index.ts';
import { newInterfaceState, readInterfaces, type InterfaceState } from './interfaces.ts';
import { metricName, rowSuffixes } from './metric-names.ts';
import type { PollOutcome } from './poll-outcome.ts';
import { matchProfile, type Profile, type ProfileSet, type ProfileTable } from './profiles.ts';
import type { SnmpClient } from './session.ts';

// SNMPv2-MIB system group (RFC 3418).
const SYS_OBJECT_ID = '1.3.6.1.2.1.1.2.0';
const SYS_UPTIME = '1.3.6.1.2.1.1.3.0';
const TICKS_WRAP = 2 ** 32;

/** Everything the poller remembers about one device between polls; the poll itself is `poll()`. */
export class DevicePoll {
  private profile: Profile | undefined;
  private uptime: { ticks: number; at: number } | undefined;
  private epoch = 0;
  private readonly ifState: InterfaceState = newInterfaceState();

  constructor(
    private readonly profiles: ProfileSet,
    private readonly namedProfile?: string,
  ) {}

  /** Polls the device once: system group, interfaces, the profile's modules. Rejects only when the device does not answer. */
  async poll(client: SnmpClient, now: number): Promise<PollOutcome> {
    const out: PollOutcome = { metrics: {}, events: [], warnings: [], varbinds: 0, profile: '' };
    const sys = await client.get([SYS_OBJECT_ID, SYS_UPTIME]);
    out.varbinds += sys.size;
    if (!this.profile) this.profile = matchProfile(this.profiles, asText(sys.get(SYS_OBJECT_ID)), this.namedProfile);
    out.profile = this.profile.name;

    const ticks = asNumber(sys.get(SYS_UPTIME));
    if (ticks !== undefined) {
      out.metrics.sys_uptime_s = ticks / 100;
      if (this.rebooted(ticks, now)) {
        this.epoch++;
        out.events.push({ type: 'reboot', severity: 'warning', attributes: { uptimeSeconds: ticks / 100, previousUptimeSeconds: (this.uptime?.ticks ?? 0) / 100, source: 'poll' } });
      }
      this.uptime = { ticks, at: now };
    }

    if (this.profile.interfaces) {
      try {
        out.varbinds += await readInterfaces(client, this.ifState, now, this.epoch, out);
      } catch (err) {
        if (isTimeout(err)) throw err;
        out.warnings.push(`IF-MIB: ${(err as Error).message}`);
      }
    }
    for (const name of this.profile.modules) {
      const mod = this.profiles.modules[name];
      if (!mod) continue;
      try {
        if (mod.scalars.length > 0) {
          const values = await client.get(mod.scalars.map((s) => s.oid));
          out.varbinds += values.size;
          for (const s of mod.scalars) {
            const v = mapped(asNumber(values.get(s.oid)), s.map, s.mapDefault);
            if (v !== undefined) out.metrics[s.metric] = v * (s.map ? 1 : s.scale);
          }
        }
        for (const table of mod.tables) out.varbinds += await readTable(client, table, out);
      } catch (err) {
        if (isTimeout(err)) throw err;
        out.warnings.push(`${name}: ${(err as Error).message}`);
      }
    }
    return out;
  }

  /**
   * sysUpTime (hundredths of a second, wrapping at 2^32 after 497 days) going backwards, or being less than
   * the time since the last poll, means the agent restarted and its counters with it.
   */
  private rebooted(ticks: number, now: number): boolean {
    if (!this.uptime) return false;
    const elapsedTicks = ((now - this.uptime.at) / 10) | 0;
    if (ticks >= this.uptime.ticks) return false;
    const expected = this.uptime.ticks + elapsedTicks;
    // A wrap: the old value was near 2^32 and the new one is what the elapsed time predicts past it.
    if (expected >= TICKS_WRAP && Math.abs(expected - TICKS_WRAP - ticks) < 6000 + elapsedTicks / 10) return false;
    return true;
  }
}

const isTimeout = (err: unknown): boolean => (err as Error)?.name === 'RequestTimedOutError';

function mapped(v: number | undefined, map: Record<string, number> | undefined, dflt: number | undefined): number | undefined {
  if (v === undefined || !map) return v;
  return map[String(v)] ?? dflt;
}

/** Walks one profile table and turns its rows into metrics. */
async function readTable(client: SnmpClient, t: ProfileTable, out: PollOutcome): Promise<number> {
  const needed = new Set<number>(t.metrics.flatMap((m) => [m.column, m.precisionColumn, m.scaleColumn, m.percentOf].filter((c): c is number => c !== undefined)));
  if (t.label?.column) needed.add(t.label.column);
  if (t.filter) needed.add(t.filter.column);
  const columnOids = [...needed].map((n) => `${t.entry}.${n}`);
  if (t.label?.oid) columnOids.push(t.label.oid);
  const walked = await client.walk(columnOids);
  out.warnings.push(...walked.warnings.map((w) => `${t.name}: ${w}`));
  let varbinds = 0;
  for (const m of walked.columns.values()) varbinds += m.size;
  const cell = (column: number, index: string): SnmpValue | undefined => walked.columns.get(`${t.entry}.${column}`)?.get(index);

  const first = t.metrics[0];
  let indexes = [...(walked.columns.get(`${t.entry}.${first?.column ?? 1}`)?.keys() ?? [])];
  if (t.filter) {
    const f = t.filter;
    indexes = indexes.filter((i) => {
      const v = cell(f.column, i);
      return f.in.some((want) => (typeof want === 'number' ? asNumber(v) === want : asText(v) === want));
    });
  }
  if (t.rows === 'first') indexes = indexes.slice(0, 1);
  const labelOf = (i: string): string | undefined => {
    if (!t.label) return undefined;
    const raw = t.label.column ? asText(cell(t.label.column, i)) : t.label.oid ? asText(walked.columns.get(t.label.oid)?.get(i)) : undefined;
    return raw === undefined || raw === '' ? undefined : `${t.label.prefix ?? ''}${raw}`;
  };
  const suffixes = rowSuffixes(indexes.map((i) => ({ index: i, label: labelOf(i) })));
  for (const m of t.metrics) {
    const values: number[] = [];
    for (const i of indexes) {
      let v = mapped(asNumber(cell(m.column, i)), m.map, m.mapDefault);
      if (v === undefined) continue;
      if (!m.map) v *= m.scale;
      if (m.precisionColumn) v /= 10 ** (asNumber(cell(m.precisionColumn, i)) ?? 0);
      if (m.scaleColumn) v *= 1000 ** ((asNumber(cell(m.scaleColumn, i)) ?? 9) - 9);
      if (m.percentOf) {
        const whole = asNumber(cell(m.percentOf, i));
        if (!whole) continue;
        v = (100 * v) / whole;
      }
      if (!Number.isFinite(v)) continue;
      v = Number(v.toPrecision(12)); // 1951.6000000000001 -> 1951.6
      values.push(v);
      if (!m.aggregate) out.metrics[t.rows === 'first' ? m.metric : metricName(m.metric, suffixes.get(i) as string)] = v;
    }
    if (m.aggregate && values.length > 0) {
      const sum = values.reduce((a, b) => a + b, 0);
      out.metrics[m.metric] = m.aggregate === 'sum' ? sum : m.aggregate === 'max' ? Math.max(...values) : sum / values.length;
    }
  }
  return varbinds;
}
