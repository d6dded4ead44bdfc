import { asNumber, asText, type SnmpValue } from '../snmp-common/index.ts';
import { counterRate, type CounterSample } from './counters.ts';
import { metricName, rowSuffixes } from './metric-names.ts';
import type { DeviceEventOut } from './poll-outcome.ts';
import type { SnmpClient } from './session.ts';

// IF-MIB (RFC 2863): ifEntry 1.3.6.1.2.1.2.2.1 and ifXEntry 1.3.6.1.2.1.31.1.1.1.
const IF = '1.3.6.1.2.1.2.2.1';
const IFX = '1.3.6.1.2.1.31.1.1.1';
const col = {
  ifDescr: `${IF}.2`, ifSpeed: `${IF}.5`, ifAdminStatus: `${IF}.7`, ifOperStatus: `${IF}.8`,
  ifInOctets: `${IF}.10`, ifInDiscards: `${IF}.13`, ifInErrors: `${IF}.14`,
  ifOutOctets: `${IF}.16`, ifOutDiscards: `${IF}.19`, ifOutErrors: `${IF}.20`,
  ifName: `${IFX}.1`, ifHCInOctets: `${IFX}.6`, ifHCOutOctets: `${IFX}.10`, ifHighSpeed: `${IFX}.15`, ifCounterDiscontinuityTime: `${IFX}.19`,
};
const IF_COLUMNS = [col.ifDescr, col.ifSpeed, col.ifAdminStatus, col.ifOperStatus, col.ifInOctets, col.ifInDiscards, col.ifInErrors, col.ifOutOctets, col.ifOutDiscards, col.ifOutErrors];
const IFX_COLUMNS = [col.ifName, col.ifHCInOctets, col.ifHCOutOctets, col.ifHighSpeed, col.ifCounterDiscontinuityTime];

const OPER = ['', 'up', 'down', 'testing', 'unknown', 'dormant', 'notPresent', 'lowerLayerDown'];

/** What the interface reader remembers between polls of one device. */
export interface InterfaceState {
  counters: Map<string, CounterSample>;
  oper: Map<string, number>;
  hasIfX: boolean | undefined;
}

export const newInterfaceState = (): InterfaceState => ({ counters: new Map(), oper: new Map(), hasIfX: undefined });

const sample = (v: SnmpValue | undefined, ts: number, epoch: number | undefined): CounterSample | undefined => {
  if (!v) return undefined;
  if (v.kind === 'big') return { value: v.value, ts, bits: 64, epoch };
  if (v.kind === 'number' && v.value >= 0) return { value: BigInt(v.value), ts, bits: 32, epoch };
  return undefined;
};

/**
 * Reads ifTable and ifXTable: bits/s from the 64-bit HC counters when the agent has them (32-bit otherwise),
 * error and discard rates, admin/oper status; an oper-status change becomes an event.
 */
export async function readInterfaces(
  client: SnmpClient,
  state: InterfaceState,
  now: number,
  uptimeEpoch: number | undefined,
  out: { metrics: Record<string, number>; events: DeviceEventOut[]; warnings: string[] },
): Promise<number> {
  const columns = state.hasIfX === false || client.version === '1' ? IF_COLUMNS : [...IF_COLUMNS, ...IFX_COLUMNS];
  const walked = await client.walk(columns);
  out.warnings.push(...walked.warnings);
  const c = (oid: string): Map<string, SnmpValue> => walked.columns.get(oid) ?? new Map();
  if (state.hasIfX === undefined) state.hasIfX = c(col.ifName).size > 0 || c(col.ifHCInOctets).size > 0;
  let varbinds = 0;
  for (const m of walked.columns.values()) varbinds += m.size;

  const indexes = [...new Set([...c(col.ifOperStatus).keys(), ...c(col.ifDescr).keys()])];
  const names = rowSuffixes(indexes.map((i) => ({ index: i, label: asText(c(col.ifName).get(i)) || asText(c(col.ifDescr).get(i)) })));
  for (const i of indexes) {
    const dim = names.get(i) as string;
    const put = (base: string, v: number | undefined): void => {
      if (v !== undefined && Number.isFinite(v)) out.metrics[metricName(base, dim)] = v;
    };
    const admin = asNumber(c(col.ifAdminStatus).get(i));
    const oper = asNumber(c(col.ifOperStatus).get(i));
    put('if_admin_status', admin);
    put('if_oper_status', oper);
    const high = asNumber(c(col.ifHighSpeed).get(i));
    const speedBps = high !== undefined && high > 0 ? high * 1e6 : asNumber(c(col.ifSpeed).get(i));
    // RFC 2863 §3.1.5: ifCounterDiscontinuityTime changes when any counter of this row restarted.
    const epoch = asNumber(c(col.ifCounterDiscontinuityTime).get(i)) ?? uptimeEpoch;
    const maxBytes = speedBps !== undefined && speedBps > 0 ? speedBps / 8 : undefined;
    const rate = (key: string, v: SnmpValue | undefined, max: number | undefined): number | undefined => {
      const cur = sample(v, now, epoch);
      if (!cur) return undefined;
      const prev = state.counters.get(`${i}:${key}`);
      state.counters.set(`${i}:${key}`, cur);
      const r = counterRate(prev, cur, max);
      if (!r.ok && r.reason !== 'first' && r.reason !== 'no_time') out.warnings.push(`interface ${dim} ${key}: counter ${r.reason}, rate skipped`);
      return r.ok ? r.perSecond : undefined;
    };
    const inOct = c(col.ifHCInOctets).get(i) ?? c(col.ifInOctets).get(i);
    const outOct = c(col.ifHCOutOctets).get(i) ?? c(col.ifOutOctets).get(i);
    const inBytes = rate('in', inOct, maxBytes);
    const outBytes = rate('out', outOct, maxBytes);
    put('if_in_bps', inBytes === undefined ? undefined : inBytes * 8);
    put('if_out_bps', outBytes === undefined ? undefined : outBytes * 8);
    put('if_in_errors_ps', rate('inErr', c(col.ifInErrors).get(i), undefined));
    put('if_out_errors_ps', rate('outErr', c(col.ifOutErrors).get(i), undefined));
    put('if_in_discards_ps', rate('inDisc', c(col.ifInDiscards).get(i), undefined));
    put('if_out_discards_ps', rate('outDisc', c(col.ifOutDiscards).get(i), undefined));
    if (speedBps !== undefined) put('if_speed_bps', speedBps);

    if (oper !== undefined) {
      const before = state.oper.get(i);
      state.oper.set(i, oper);
      if (before !== undefined && before !== oper) {
        out.events.push({
          type: 'interface_oper_status',
          severity: oper === 2 || oper === 7 ? 'warning' : 'info',
          attributes: {
            ifIndex: Number(i), ifName: asText(c(col.ifName).get(i)) ?? asText(c(col.ifDescr).get(i)) ?? i,
            from: OPER[before] ?? String(before), to: OPER[oper] ?? String(oper), adminStatus: admin, source: 'poll',
          },
        });
      }
    }
  }
  out.metrics.if_count = indexes.length;
  return varbinds;
}
