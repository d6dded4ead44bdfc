// The Services view (issue 16): each service's state from its checks, its availability this month, and
// for the one opened its checks' latency over the last hour (chart.ts), its dependency chain down to the
// rack (service -> VM -> host -> switch -> rack, from the inventory) and links to the printable monthly
// report and the public /status page. States follow the socket.io `service` event; the rest is re-read.
import { useEffect, useState } from 'preact/hooks';
import { http } from './api.ts';
import { TimeChart, type ChartSeries } from './chart.ts';
import { formatAge } from './dom.ts';
import { currentLang, named, t } from './i18n.ts';
import { Status } from './status.ts';
import { html, useStore } from './ui.ts';
import type { Device, Page, ViewProps } from './page.ts';

/** A service as GET /services lists it (the fields the view reads). */
interface ServiceRow {
  id: string;
  name: string;
  owner?: string;
  public: boolean;
  state: string;
  reason?: string;
  causes: string[];
  dependsOn: string[];
  origin?: string;
  slo?: { availabilityPct: number; windowDays: number };
  checks: { id?: string; type: string }[];
}

interface CheckRow {
  key: string;
  type: string;
  state: string;
  at?: number;
  ok?: boolean;
  latencyMs?: number;
  reason?: string;
  warning?: string;
}

interface AvailabilityAnswer {
  availabilityPct: number | null;
  downtimeSeconds: number;
  incidents: { from: number; to: number; reason: string; ongoing?: boolean }[];
}

const HOUR = 3_600_000;
const REFRESH_MS = 15_000;
/** How deep the chain under a service goes (VM, host, switch, the switch's uplink...). */
const MAX_DEPTH = 5;

/** The month of `now` as YYYY-MM and its first millisecond (the page's time zone). */
function monthOf(now: number): { month: string; from: number } {
  const d = new Date(now);
  const from = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
  return { month: `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`, from };
}

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${v.toFixed(v >= 99.9 ? 3 : 2)} %`);

const StateBadge = ({ state }: { state: string }) => html`<span class=${`svc-state svc-${state}`} data-state=${state}>${named('svcState', state)}</span>`;

/** The services, re-read every REFRESH_MS and on each `service` event. */
function useServices(page: Page): { rows: ServiceRow[] | null; error: string | null; reload: () => void } {
  const [rows, setRows] = useState<ServiceRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    http.get<ServiceRow[]>('/services').then(
      (r) => {
        if (!live) return;
        setRows(Array.isArray(r) ? r : []);
        setError(null);
      },
      (err: Error) => live && setError(err.message),
    );
    return () => {
      live = false;
    };
  }, [tick]);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), REFRESH_MS);
    const socket = page.socket;
    const onService = (): void => setTick((n) => n + 1);
    socket?.on('service', onService);
    return () => {
      clearInterval(timer);
      socket?.off('service', onService);
    };
  }, [page.socket]);
  return { rows, error, reload: () => setTick((n) => n + 1) };
}

/** This month's availability of one service, from the stored check results. */
function MonthAvailability({ id, from, to }: { id: string; from: number; to: number }) {
  const [a, setA] = useState<AvailabilityAnswer | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    http.get<AvailabilityAnswer>(`/services/${encodeURIComponent(id)}/availability`, { from: String(from), to: String(to) }).then((r) => live && setA(r), () => live && setA(null));
    return () => {
      live = false;
    };
  }, [id, from, Math.floor(to / REFRESH_MS)]);
  if (a === undefined) return html`<span class="muted">…</span>`;
  return html`<span class="svc-availability" data-value=${a?.availabilityPct ?? ''}>${pct(a?.availabilityPct)}</span>`;
}

/** One device of the chain with its status, the rack it sits in, and what it hangs from below it. */
function ChainNode({ page, id, depth, seen }: { page: Page; id: string; depth: number; seen: ReadonlySet<string> }) {
  const d: Device | undefined = page.devicesById.get(id);
  const link = page.links.find((l) => l.id === id);
  if (!d) {
    return html`<li class="chain-node" data-node=${id} data-kind=${link ? 'link' : 'unknown'}>
      <span class="chain-kind">${link ? t('svc.link') : '?'}</span> <b>${link?.label ?? id}</b> <small>${id}</small></li>`;
  }
  const rack = d.location.rack;
  const next = new Set([...seen, id]);
  const parents = depth < MAX_DEPTH ? d.parents.filter((p) => !seen.has(p)) : [];
  return html`<li class="chain-node" data-node=${id} data-kind=${d.kind}>
    <span class="chain-kind">${named('kind', d.kind)}</span> <b>${d.name ?? d.id}</b> <small>${d.id}</small> <${Status} page=${page} id=${d.id} />
    ${rack && html` <span class="chain-rack" data-rack=${rack}>${t('svc.inRack', { rack })}</span>`}
    ${parents.length > 0 && html`<ul class="chain">${parents.map((p) => html`<${ChainNode} page=${page} id=${p} depth=${depth + 1} seen=${next} />`)}</ul>`}
  </li>`;
}

/** The latency of each check over the last hour (check_latency_ms of the service's check devices). */
function LatencyChart({ page, s }: { page: Page; s: ServiceRow }) {
  const [series, setSeries] = useState<ChartSeries[] | null>(null);
  const [to, setTo] = useState(() => page.now());
  useEffect(() => {
    const timer = setInterval(() => setTo(page.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  const keys = s.checks.map((c, i) => c.id ?? `${c.type}-${i}`);
  useEffect(() => {
    let live = true;
    Promise.all(keys.map((key) =>
      http.get<{ points: ChartSeries['points'] }>('/metrics/range', { device: `service:${s.id}:${key}`, metric: 'check_latency_ms', from: String(to - HOUR), to: String(to), step: '30000', agg: 'mean' })
        .then((r) => ({ label: key, points: r.points }), (err: Error) => ({ label: key, points: [], error: err.message })),
    )).then((r) => live && setSeries(r));
    return () => {
      live = false;
    };
  }, [s.id, keys.join(), to, currentLang()]);
  const title = t('svc.latency', { name: s.name });
  return html`<div class="svc-chart" data-service=${s.id}><h3>${title}</h3>
    ${series === null ? html`<p class="muted">…</p>` : html`<${TimeChart} series=${series} unit="ms" from=${to - HOUR} to=${to} label=${title} />`}</div>`;
}

/** The opened service: its checks now, latency, dependency chain, incidents and the report links. */
function ServiceDetail({ page, s, month }: { page: Page; s: ServiceRow; month: { month: string; from: number } }) {
  const [checks, setChecks] = useState<CheckRow[] | null>(null);
  const [a, setA] = useState<AvailabilityAnswer | null>(null);
  useEffect(() => setA(null), [s.id]);
  useEffect(() => {
    let live = true;
    http.get<{ lastChecks: CheckRow[] }>(`/services/${encodeURIComponent(s.id)}`).then((r) => live && setChecks(r.lastChecks ?? []), () => live && setChecks([]));
    http.get<AvailabilityAnswer>(`/services/${encodeURIComponent(s.id)}/availability`, { from: String(month.from), to: String(page.now()) }).then((r) => live && setA(r), () => undefined);
    return () => {
      live = false;
    };
  }, [s.id, s.state, s.reason]);
  const lang = currentLang();
  const report = `/api/v1/services/report?month=${month.month}&format=html&lang=${lang}&service=${encodeURIComponent(s.id)}`;
  return html`<section class="svc-detail" id="svc-detail" data-service=${s.id} aria-label=${s.name}>
    <h2>${s.name} <${StateBadge} state=${s.state} /></h2>
    ${s.reason && html`<p class="svc-reason">${s.reason}</p>`}
    <p class="svc-links">
      <a id="svc-report" href=${report} target="_blank" rel="noopener">${t('svc.report', { month: month.month })}</a>${' · '}<a id="svc-report-all" href=${`/api/v1/services/report?month=${month.month}&format=html&lang=${lang}`} target="_blank" rel="noopener">${t('svc.reportAll')}</a>${' · '}<a id="svc-csv" href=${`/api/v1/services/report?month=${month.month}&format=csv`}>CSV</a>${' · '}<a id="svc-status-page" href=${`/status?lang=${lang}`} target="_blank" rel="noopener">${t('svc.statusPage')}</a></p>
    <h3>${t('svc.checks')}</h3>
    <table class="data-table" id="svc-checks"><thead><tr><th>${t('svc.check')}</th><th>${t('svc.type')}</th><th>${t('common.status')}</th><th>${t('svc.latencyCol')}</th><th>${t('svc.lastProbe')}</th><th>${t('svc.detail')}</th></tr></thead>
      <tbody>${(checks ?? []).map((c) => html`<tr data-check=${c.key} data-state=${c.state}>
        <td>${c.key}</td><td>${c.type}</td><td><${StateBadge} state=${c.state} /></td>
        <td>${c.latencyMs === undefined ? '—' : `${Math.round(c.latencyMs)} ms`}</td>
        <td>${c.at ? formatAge(page.now() - c.at) : '—'}</td><td class="svc-check-reason">${c.reason ?? c.warning ?? ''}</td></tr>`)}</tbody></table>
    <${LatencyChart} page=${page} s=${s} />
    <h3>${t('svc.chain')}</h3>
    <ul class="chain chain-root" id="svc-chain"><li class="chain-node" data-node=${s.id} data-kind="service"><span class="chain-kind">${t('svc.service')}</span> <b>${s.name}</b>
      <ul class="chain">${s.dependsOn.filter((d) => !s.dependsOn.some((o) => o !== d && page.devicesById.get(o)?.parents.includes(d)))
        .map((d) => html`<${ChainNode} page=${page} id=${d} depth=${1} seen=${new Set([s.id])} />`)}</ul></li></ul>
    <h3>${t('svc.incidents')}</h3>
    ${a === null ? html`<p class="muted">…</p>` : a.incidents.length === 0 ? html`<p class="muted" id="svc-no-incidents">${t('svc.noIncidents')}</p>` : html`<ul class="svc-incidents">
      ${a.incidents.slice(-10).reverse().map((i) => html`<li data-ongoing=${String(!!i.ongoing)}>${new Date(i.from).toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB')} · ${i.ongoing ? t('svc.ongoing') : t('svc.lasted', { min: Math.max(1, Math.round((i.to - i.from) / 60_000)) })} · ${i.reason}</li>`)}</ul>`}
  </section>`;
}

export function ServicesView({ page }: ViewProps) {
  useStore(page.store, 'alerts', 'readings', 'lang');
  const { rows, error } = useServices(page);
  const [open, setOpen] = useState<string | null>(null);
  const now = page.now();
  const month = monthOf(now);
  if (error && rows === null) return html`<div class="view-body"><p class="panel-error" role="alert">${t('svc.failed', { error })}</p></div>`;
  if (rows === null) return html`<div class="view-body"><p class="muted">…</p></div>`;
  const opened = rows.find((r) => r.id === (open ?? rows[0]?.id));
  const head = [t('svc.service'), t('common.status'), t('svc.reason'), t('svc.month', { month: month.month }), t('svc.slo'), t('svc.public')];
  return html`<div class="view-body services-view">
    <h2>${t('svc.title')}</h2>
    ${rows.length === 0 ? html`<p class="muted" id="svc-none">${t('svc.none')}</p>` : html`
    <table class="data-table" id="services-table"><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead>
      <tbody>${rows.map((s) => html`<tr data-service=${s.id} data-state=${s.state} class=${opened?.id === s.id ? 'selected' : ''} onClick=${() => setOpen(s.id)}>
        <td><button type="button" class="linkish svc-open" onClick=${() => setOpen(s.id)}>${s.name}</button> <small>${s.id}</small></td>
        <td><${StateBadge} state=${s.state} /></td>
        <td class="svc-row-reason">${s.reason ?? ''}</td>
        <td><${MonthAvailability} id=${s.id} from=${month.from} to=${now} /></td>
        <td>${s.slo ? `${s.slo.availabilityPct} %` : '—'}</td>
        <td>${s.public ? t('svc.yes') : t('svc.no')}</td></tr>`)}</tbody></table>`}
    ${opened && html`<${ServiceDetail} page=${page} s=${opened} month=${month} />`}
  </div>`;
}
