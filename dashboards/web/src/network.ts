// The network view: the topology of WAN, MAN, LAN, VPN and Internet links from the inventory with
// live status and utilisation, and per-device interface tables with traffic charts, all from the SNMP
// collector's per-interface metrics (collectors/snmp/interfaces.ts): `if_in_bps.<ifName>`,
// `if_out_bps.<ifName>`, `if_oper_status.<ifName>` (IF-MIB ifOperStatus, RFC 2863: 1 up, 2 down, ...),
// `if_admin_status`, `if_speed_bps`, `if_in_errors_ps`, `if_out_errors_ps`.
import { useEffect, useState } from 'preact/hooks';
import { http } from './api.ts';
import { ifDimension } from '../../builtin.ts';
import { TimeChart, type ChartSeries } from './chart.ts';
import { currentLang, named, t } from './i18n.ts';
import { UtilBar, staleAfter } from './status.ts';
import { formatValue } from './units.ts';
import { html, useStore } from './ui.ts';
import type { Link, Page, ViewProps } from './page.ts';

/** One interface of a device from its if_* metrics; `ts` is the newest of them. */
interface InterfaceRow {
  name: string;
  ts: number;
  in?: number;
  out?: number;
  oper?: number;
  admin?: number;
  speed?: number;
  inErr?: number;
  outErr?: number;
}

type LinkEnd = Link['a'];
type Interfaces = (deviceId: string) => Map<string, InterfaceRow>;

const HOUR = 3_600_000;
const OPER: readonly string[] = ['', 'up', 'down', 'testing', 'unknown', 'dormant', 'notPresent', 'lowerLayerDown'];
const IF_METRIC = /^if_(in_bps|out_bps|oper_status|admin_status|speed_bps|in_errors_ps|out_errors_ps)\.(.+)$/;
const NETWORK_KINDS = new Set(['router', 'switch', 'firewall']);


/** Every interface a device reports, by suffix: {in, out, oper, admin, speed, inErr, outErr, ts}. */
function interfacesOf(page: Page, deviceId: string): Map<string, InterfaceRow> {
  const out = new Map<string, InterfaceRow>();
  for (const [metric, v] of page.readings.all(deviceId)) {
    const m = IF_METRIC.exec(metric);
    if (!m) continue;
    const row = out.get(m[2]!) ?? { name: m[2]!, ts: 0 };
    const field = ({ in_bps: 'in', out_bps: 'out', oper_status: 'oper', admin_status: 'admin', speed_bps: 'speed', in_errors_ps: 'inErr', out_errors_ps: 'outErr' } as const)[m[1] as 'in_bps'];
    row[field] = v.value;
    row.ts = Math.max(row.ts, v.ts);
    out.set(m[2]!, row);
  }
  return out;
}

const utilisation = (row: InterfaceRow | undefined, speedBps?: number): number | undefined => {
  const speed = speedBps ?? row?.speed;
  if (!row || !speed || (row.in === undefined && row.out === undefined)) return undefined;
  return (100 * Math.max(row.in ?? 0, row.out ?? 0)) / speed;
};

const pct = (v: number | undefined): string => (v === undefined ? '—' : `${v < 10 ? v.toFixed(1) : v.toFixed(0)} %`);

/** Status and traffic of one end of a link, from its device's interface metrics. */
function linkEnd(page: Page, end: LinkEnd, ifaces: Interfaces): (InterfaceRow & { stale: boolean }) | undefined {
  if (!end.device || !end.interface) return undefined;
  const row = ifaces(end.device).get(ifDimension(end.interface));
  if (!row) return undefined;
  const stale = page.now() - row.ts > staleAfter(page.devicesById.get(end.device));
  return { ...row, stale };
}

function InterfaceChart({ page, device, name, title }: { page: Page; device: string; name: string; title: string }) {
  const [series, setSeries] = useState<ChartSeries[] | null>(null);
  const [to, setTo] = useState(() => page.now());
  useEffect(() => {
    const timer = setInterval(() => setTo(page.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    let live = true;
    const get = (metric: string, label: string): Promise<ChartSeries> =>
      http
        .get<{ points: ChartSeries['points'] }>('/metrics/range', { device, metric: `${metric}.${name}`, from: String(to - HOUR), to: String(to), step: '30000', agg: 'mean' })
        .then((r) => ({ label, points: r.points }), (err: Error) => ({ label, points: [], error: err.message }));
    Promise.all([get('if_in_bps', t('net.in')), get('if_out_bps', t('net.out'))]).then((s) => live && setSeries(s));
    return () => {
      live = false;
    };
    // The series are named in the page's language ("in", "vào"): a language change fetches them again.
  }, [device, name, to, currentLang()]);
  return html`<div class="if-chart" data-device=${device} data-interface=${name}>
    <h3>${t('net.traffic', { device, name: title })}</h3>
    ${series === null
      ? html`<p class="muted">…</p>`
      : series.every((x) => x.error)
        ? html`<p class="panel-error" role="status">${t('dash.error', { error: series[0]!.error })}</p>`
        : html`<${TimeChart} series=${series} unit="bps" from=${to - HOUR} to=${to} label=${t('net.traffic', { device, name: title })} />`}
  </div>`;
}

export function NetworkView({ page }: ViewProps) {
  useStore(page.store, 'readings', 'alerts', 'lang');
  const links = page.links;
  const [picked, setPicked] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const cache = new Map<string, Map<string, InterfaceRow>>();
  const ifaces: Interfaces = (id) => {
    if (!cache.has(id)) cache.set(id, interfacesOf(page, id));
    return cache.get(id)!;
  };
  const netDevices = [...page.devicesById.values()].filter((d) => NETWORK_KINDS.has(d.kind));
  const reporting = netDevices.filter((d) => ifaces(d.id).size > 0);
  const device = netDevices.find((d) => d.id === picked) ?? reporting[0] ?? netDevices[0];

  const linkInfo = (l: Link) => {
    const a = linkEnd(page, l.a, ifaces);
    const b = linkEnd(page, l.b, ifaces);
    const speed = l.bandwidthMbps ? l.bandwidthMbps * 1e6 : undefined;
    const measured = [a, b].filter((e): e is InterfaceRow & { stale: boolean } => !!e && !e.stale);
    const util = measured.length ? Math.max(...measured.map((e) => utilisation(e, speed) ?? 0)) : undefined;
    const devs = [l.a, l.b].filter((e) => e.device).map((e) => e.device!);
    const offline = devs.some((d) => page.readings.presence(d)?.status === 'offline');
    const critical = devs.some((d) => page.alerts.worstBy('device').get(d) === 'critical');
    let state = 'unknown';
    if (measured.some((e) => e.oper !== undefined && e.oper !== 1) || offline) state = 'down';
    else if (measured.some((e) => e.oper === 1)) state = critical ? 'degraded' : 'up';
    else if (critical) state = 'degraded';
    const end = measured[0];
    return { state, util, inBps: end?.in, outBps: end?.out, stale: [a, b].some((e) => e?.stale) && measured.length === 0 };
  };
  const infos = new Map(links.map((l) => [l.id, linkInfo(l)]));

  // A layered drawing: outside peers, then each inventory device by how far it is from the edge.
  const depth = new Map<string, number>();
  const ends = (l: Link): LinkEnd[] => [l.a, l.b];
  for (const l of links) for (const e of ends(l)) if (e.external) depth.set(`ext:${e.external}`, 0);
  let frontier = [...depth.keys()];
  for (let d = 1; frontier.length && d < 8; d++) {
    const next: string[] = [];
    for (const l of links) {
      const [a, b] = ends(l).map((e) => (e.external ? `ext:${e.external}` : e.device));
      for (const [x, y] of [[a, b], [b, a]]) if (frontier.includes(x!) && y && !depth.has(y)) { depth.set(y, d); next.push(y); }
    }
    frontier = next;
  }
  const cols = new Map<number, string[]>();
  for (const [node, d] of depth) cols.set(d, [...(cols.get(d) ?? []), node]);
  const pos = new Map<string, { x: number; y: number }>();
  const maxRows = Math.max(1, ...[...cols.values()].map((c) => c.length));
  for (const [d, nodes] of cols) nodes.forEach((n, i) => pos.set(n, { x: 10 + d * 22, y: ((i + 0.5) / nodes.length) * maxRows * 9 }));
  const key = (e: LinkEnd): string | undefined => (e.external ? `ext:${e.external}` : e.device);
  const stateText = (s: string): string => t(`net.state.${s}`);
  const rows = device ? [...ifaces(device.id).values()].sort((x, y) => x.name.localeCompare(y.name, undefined, { numeric: true })) : [];
  // The metric suffix lost the interface's slashes; the inventory's links still know the real name.
  const realName = new Map(links.flatMap((l) => [l.a, l.b]).filter((e) => e.device === device?.id && e.interface).map((e) => [ifDimension(e.interface!), e.interface!]));
  const deviceStale = (id: string): boolean => page.now() - (page.readings.lastSeen(id) ?? 0) > staleAfter(page.devicesById.get(id));

  return html`<div class="view-body">
    <h2>${t('net.topology')}</h2>
    <svg class="topology" viewBox=${`0 0 ${20 + cols.size * 22} ${maxRows * 9 + 4}`} role="img" aria-label=${t('net.topology')}>
      ${links.map((l) => {
        const a = pos.get(key(l.a)!);
        const b = pos.get(key(l.b)!);
        const info = infos.get(l.id)!;
        if (!a || !b) return null;
        return html`<g class="topo-edge" data-link=${l.id}>
          <line class=${`topo-link link-${l.kind} state-${info.state}`} x1=${a.x} y1=${a.y} x2=${b.x} y2=${b.y} style=${`stroke-width:${(0.25 + Math.min(100, info.util ?? 0) / 100).toFixed(2)}`}><title>${`${l.label ?? l.id}: ${stateText(info.state)}, ${pct(info.util)}`}</title></line>
          ${info.util !== undefined && html`<text class="topo-util" x=${(a.x + b.x) / 2} y=${(a.y + b.y) / 2 - 0.6} font-size="1.4" text-anchor="middle">${pct(info.util)}</text>`}
        </g>`;
      })}
      ${[...pos].map(([n, p]) => html`<g class="topo-node" data-node=${n} data-status=${n.startsWith('ext:') ? 'external' : page.readings.presence(n)?.status === 'offline' ? 'offline' : 'online'}>
        <circle cx=${p.x} cy=${p.y} r="1.6" /><text x=${p.x} y=${p.y + 3.4} font-size="1.6" text-anchor="middle">${n.replace(/^ext:/, '')}</text></g>`)}
    </svg>
    <h2>${t('net.links')}</h2>
    <table class="data-table" id="link-table"><thead><tr><th>${t('net.link')}</th><th>${t('net.kind')}</th><th>A</th><th>B</th><th>${t('net.capacity')}</th><th>${t('net.in')}</th><th>${t('net.out')}</th><th>${t('net.util')}</th><th>${t('common.status')}</th></tr></thead>
      <tbody>${links.map((l) => {
        const info = infos.get(l.id)!;
        return html`<tr data-link=${l.id} data-state=${info.state} data-util=${info.util === undefined ? '' : info.util.toFixed(2)}><td>${l.label ?? l.id}</td><td>${l.kind.toUpperCase()}</td>
        <td>${l.a.device ?? l.a.external}${l.a.interface ? ` ${l.a.interface}` : ''}</td><td>${l.b.device ?? l.b.external}${l.b.interface ? ` ${l.b.interface}` : ''}</td>
        <td>${l.bandwidthMbps ? formatValue(l.bandwidthMbps * 1e6, 'bps') : '—'}</td><td>${formatValue(info.inBps, 'bps')}</td><td>${formatValue(info.outBps, 'bps')}</td>
        <td class="util"><${UtilBar} pct=${info.util} /> ${pct(info.util)}</td>
        <td class=${`link-state state-${info.state}`}>${stateText(info.state)}${info.stale ? ` · ${t('common.stale')}` : ''}</td></tr>`;
      })}</tbody></table>

    <h2>${t('net.interfaces')}</h2>
    ${reporting.length === 0
      ? html`<p class="muted" id="no-interfaces">${t('net.noInterfaces')}</p>`
      : html`<div class="dash-bar"><label>${t('common.device')} <select id="if-device" value=${device?.id} onChange=${(e: Event) => (setPicked((e.currentTarget as HTMLSelectElement).value), setOpen(null))}>
          ${netDevices.map((d) => html`<option value=${d.id}>${d.name ?? d.id} (${ifaces(d.id).size})</option>`)}</select></label>
          ${device && deviceStale(device.id) && html`<span class="status-stale">${t('common.stale')}</span>`}</div>
        ${rows.length === 0 && html`<p class="muted">${t('net.noDeviceInterfaces', { device: device?.id ?? '' })}</p>`}
        ${open && html`<${InterfaceChart} key=${`${device!.id}/${open}`} page=${page} device=${device!.id} name=${open} title=${realName.get(open) ?? open} />`}
        <div class="table-scroll"><table class="data-table" id="if-table" data-device=${device?.id}><thead><tr><th>${t('net.interface')}</th><th>${t('common.status')}</th><th>${t('net.speed')}</th><th>${t('net.in')}</th><th>${t('net.out')}</th><th>${t('net.util')}</th><th>${t('net.errors')}</th><th></th></tr></thead>
          <tbody>${rows.map((r) => {
            const util = utilisation(r);
            const oper = OPER[r.oper!] ?? (r.oper === undefined ? '—' : String(r.oper));
            return html`<tr data-interface=${r.name} data-oper=${oper} class=${open === r.name ? 'selected' : ''}>
              <td>${realName.get(r.name) ?? r.name}</td><td class=${r.oper === 1 ? '' : 'sev-text sev-critical'}>${named('oper', oper)}${r.admin === 2 ? ` (${t('net.adminDown')})` : ''}</td>
              <td>${formatValue(r.speed, 'bps')}</td><td class="if-in">${formatValue(r.in, 'bps')}</td><td class="if-out">${formatValue(r.out, 'bps')}</td><td>${pct(util)}</td>
              <td>${r.inErr === undefined && r.outErr === undefined ? '—' : `${(r.inErr ?? 0).toFixed(1)} / ${(r.outErr ?? 0).toFixed(1)}`}</td>
              <td><button type="button" class="if-chart-open" aria-pressed=${String(open === r.name)} onClick=${() => setOpen(open === r.name ? null : r.name)}>${t('net.chart')}</button></td></tr>`;
          })}</tbody></table></div>`}
  </div>`;
}
