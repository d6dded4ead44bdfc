// The built-in dashboards, rendered from their Grafana-model definitions: each panel's InfluxQL
// targets run against the product's own /query (the session cookie authenticates), with Grafana's
// macros filled in ($timeFilter, $__interval, template variables), on the chosen time range and
// refresh; the export button hands out the same JSON Grafana imports.
import { useEffect, useState } from 'preact/hooks';
import { influxql, type InfluxResult } from './api.ts';
import { builtinDashboards, linkedInterfaces } from '../../builtin.ts';
import { toGrafanaJson } from '../../grafana/export.ts';
import type { DataPanel, Panel, Target } from '../../grafana/model.ts';
import { TimeChart, type ChartSeries } from './chart.ts';
import { formatClock } from './dom.ts';
import { named, t } from './i18n.ts';
import { formatValue, thresholdColor } from './units.ts';
import { html, useStore } from './ui.ts';
import type { ViewProps } from './page.ts';

/** The time range the panels query: epoch ms, and $__interval in ms. */
interface QueryRange {
  from: number;
  to: number;
  intervalMs: number;
}
/** Template variables: each name's chosen values. */
type Vars = Record<string, string[]>;

const MIN = 60_000;
const RANGES: [string, number][] = [['5m', 5 * MIN], ['15m', 15 * MIN], ['1h', 60 * MIN], ['6h', 360 * MIN], ['24h', 1440 * MIN], ['7d', 7 * 1440 * MIN]];
const REFRESHES: [string, number][] = [['off', 0], ['5s', 5000], ['10s', 10_000], ['30s', 30_000], ['1m', MIN], ['5m', 5 * MIN]];
/** Grafana's nice intervals; $__interval is the first at or above range / MAX_POINTS. */
const INTERVALS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400].map((s) => s * 1000);
const MAX_POINTS = 240;
const MIN_INTERVAL_MS = 5000;
const GRID_ROW_PX = 30;
/** A built-in dashboard's own text (title, row, panel, note) in the page's language; the definition's English when there is no entry. */
const shown = (s: string): string => named('grafana', s);
/** "15m", "1h" as the pickers show them: "15m" in English, "15 phút" in Vietnamese. */
const span = (k: string): string => {
  const m = /^(\d+)([smhd])$/.exec(k);
  return m ? t(`span.${m[2]}`, { n: m[1] }) : k;
};

/** $__interval for a range: about MAX_POINTS buckets, never under MIN_INTERVAL_MS. */
export function intervalFor(rangeMs: number): number {
  const want = Math.max(MIN_INTERVAL_MS, rangeMs / MAX_POINTS);
  return INTERVALS.find((i) => i >= want) ?? INTERVALS[INTERVALS.length - 1]!;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A target's InfluxQL with Grafana's macros and variables filled in, as Grafana's InfluxDB data source does. */
export function interpolate(query: string, { from, to, intervalMs, vars }: QueryRange & { vars: Vars }): string {
  let q = query
    .replaceAll('$timeFilter', `time >= ${Math.floor(from)}ms and time <= ${Math.ceil(to)}ms`)
    .replaceAll('$__interval_ms', String(intervalMs))
    .replaceAll('$__interval', `${intervalMs / 1000}s`);
  for (const [name, values] of Object.entries(vars)) {
    // A multi-value or "All" variable inside a regex becomes (a|b|c), each value escaped.
    const text = values.length === 1 ? escapeRegex(values[0]!) : `(${values.map(escapeRegex).join('|')})`;
    q = q.replace(new RegExp(`\\$\\{${name}\\}|\\$${name}\\b`, 'g'), () => text);
  }
  return q;
}

const parseRange = (from: string | undefined): string => {
  const m = /^now-(\d+)([mhd])$/.exec(from ?? '');
  if (!m) return '6h';
  const key = `${m[1]}${m[2]}`;
  return RANGES.some(([k]) => k === key) ? key : '6h';
};

/** Series of one panel: [{label, points: [[ts, v|null]]}] from each target's statement result. */
function seriesOf(_panel: DataPanel, results: readonly InfluxResult[]): ChartSeries[] {
  const out: ChartSeries[] = [];
  const many = results.length > 1;
  for (const r of results) {
    for (const s of r.series ?? []) {
      const column = s.columns[1] ?? 'value';
      const tags = Object.values(s.tags ?? {}).filter((v) => v !== '');
      const label = [...tags, ...(many || tags.length === 0 ? [column] : [])].join(' · ') || s.name;
      out.push({ label, points: s.values.map((row) => [row[0], row[1]] as [number, number | null]) });
    }
  }
  return out.sort((a, b) => a.label.localeCompare(b.label, undefined, { numeric: true }));
}

const latest = (points: ChartSeries['points']): number | undefined => {
  for (let i = points.length - 1; i >= 0; i--) {
    const v = points[i]![1];
    if (typeof v === 'number') return v;
  }
  return undefined;
};

const COLOR: Record<string, string> = { green: 'var(--ok)', orange: 'var(--sev-major)', red: 'var(--sev-critical)', yellow: 'var(--sev-minor)', blue: 'var(--accent)' };
const colorOf = (panel: DataPanel, v: number | undefined): string | undefined => {
  const c = thresholdColor(panel.fieldConfig?.defaults?.thresholds?.steps, v);
  return c ? COLOR[c] ?? c : undefined;
};

/** A semicircular gauge from min to max with the value written in the middle. */
function Gauge({ panel, label, value }: { panel: DataPanel; label: string; value: number }) {
  const d: NonNullable<DataPanel['fieldConfig']['defaults']> = panel.fieldConfig?.defaults ?? {};
  const unit = d.unit;
  const min = d.min ?? 0;
  const max = d.max ?? (unit === 'percent' || unit === 'humidity' ? 100 : unit === 'celsius' ? 45 : Math.max(1, value * 1.25));
  const f = Math.min(1, Math.max(0, (value - min) / (max - min)));
  const a = Math.PI * (1 - f);
  const [x, y] = [50 + 40 * Math.cos(a), 50 - 40 * Math.sin(a)];
  return html`<div class="gauge" role="meter" aria-label=${label} aria-valuemin=${min} aria-valuemax=${max} aria-valuenow=${value}>
    <svg viewBox="0 0 100 58" aria-hidden="true">
      <path d="M10 50 A40 40 0 0 1 90 50" class="gauge-track" />
      ${f > 0 && html`<path d=${`M10 50 A40 40 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`} class="gauge-fill" style=${`stroke:${colorOf(panel, value) ?? 'var(--accent)'}`} />`}
    </svg>
    <p class="big-value" style=${`color:${colorOf(panel, value) ?? 'inherit'}`}>${formatValue(value, unit)}</p>
    <p class="muted">${label}</p>
  </div>`;
}

function PanelBody({ panel, series, range }: { panel: DataPanel; series: ChartSeries[]; range: QueryRange }) {
  const unit = panel.fieldConfig?.defaults?.unit;
  const withValue = series.map((s) => ({ ...s, last: latest(s.points) })).filter((s) => s.last !== undefined || panel.type === 'timeseries');
  if (withValue.length === 0) return html`<p class="muted chart-empty" data-points="0">${t('chart.noData')}</p>`;
  switch (panel.type) {
    case 'timeseries':
      return html`<${TimeChart} series=${series} unit=${unit} from=${range.from} to=${range.to} label=${shown(panel.title)} height=${Math.max(120, panel.gridPos.h * GRID_ROW_PX - 90)} />`;
    case 'gauge':
      return html`<div class="gauges">${withValue.map((s) => html`<${Gauge} panel=${panel} label=${s.label} value=${s.last} />`)}</div>`;
    case 'stat':
      return html`<ul class="stats">${withValue.map((s) => html`<li data-series=${s.label}><span class="big-value" style=${`color:${colorOf(panel, s.last) ?? 'inherit'}`}>${formatValue(s.last, unit)}</span> <span class="muted">${s.label}</span></li>`)}</ul>`;
    case 'bargauge': {
      const max = panel.fieldConfig?.defaults?.max ?? (unit === 'percent' ? 100 : Math.max(...withValue.map((s) => s.last!)));
      return html`<ul class="bars">${withValue.map((s) => html`<li data-series=${s.label}>
        <span class="bar-label">${s.label}</span>
        <span class="bar-track"><span class="bar-fill" style=${`width:${Math.min(100, Math.max(0, (s.last! / (max || 1)) * 100)).toFixed(1)}%;background:${colorOf(panel, s.last) ?? 'var(--accent)'}`}></span></span>
        <b class="bar-value">${formatValue(s.last, unit)}</b></li>`)}</ul>`;
    }
    case 'table':
      return html`<div class="table-scroll"><table class="data-table"><thead><tr><th>${t('common.series')}</th><th>${t('common.value')}</th></tr></thead>
        <tbody>${withValue.map((s) => html`<tr data-series=${s.label}><td>${s.label}</td><td style=${`color:${colorOf(panel, s.last) ?? 'inherit'}`}>${formatValue(s.last, unit)}</td></tr>`)}</tbody></table></div>`;
    default:
      return null;
  }
}

/** One panel: runs its targets whenever the range, the variables or the refresh tick change. */
function DashPanel({ panel, range, vars }: { panel: Panel; range: QueryRange; vars: Vars }) {
  const [state, setState] = useState<{ status: 'loading' | 'ok' | 'error'; series: ChartSeries[]; error: string }>({ status: 'loading', series: [], error: '' });
  const targets: Target[] = ('targets' in panel ? panel.targets : undefined) ?? [];
  const key = `${panel.id}|${range.from}|${range.to}|${JSON.stringify(vars)}`;
  useEffect(() => {
    if (panel.type === 'text' || panel.type === 'row') return undefined;
    let live = true;
    Promise.all(targets.map((tg) => influxql(interpolate(tg.query, { ...range, vars })).then((results): InfluxResult => results[0] ?? {})))
      .then((results) => {
        if (!live) return;
        const failed = results.find((r) => r.error);
        setState(failed ? { status: 'error', series: [], error: failed.error! } : { status: 'ok', series: seriesOf(panel as DataPanel, results), error: '' });
      })
      .catch((err: Error) => live && setState({ status: 'error', series: [], error: err.message }));
    return () => {
      live = false;
    };
  }, [key]);
  const g = panel.gridPos ?? { x: 0, y: 0, w: 24, h: 1 };
  const style = `grid-column: ${g.x + 1} / span ${g.w}; grid-row: ${g.y + 1} / span ${g.h}; min-height: ${g.h * GRID_ROW_PX}px`;
  if (panel.type === 'row') return html`<h3 class="dash-row" style=${style}>${shown(panel.title)}</h3>`;
  if (panel.type === 'text') {
    const paragraphs = shown(panel.options?.content ?? '').split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
    return html`<article class="dash-panel panel-text" data-panel=${panel.id} data-state="ok" style=${style}><h3>${shown(panel.title)}</h3>${paragraphs.map((p) => html`<p>${p}</p>`)}</article>`;
  }
  return html`<article class=${`dash-panel panel-${panel.type}`} data-panel=${panel.id} data-state=${state.status} data-series=${state.series.length} style=${style} aria-busy=${state.status === 'loading'}>
    <h3>${shown(panel.title)}</h3>
    ${state.status === 'error' && html`<p class="panel-error" role="status">${t('dash.error', { error: state.error })}</p>`}
    ${state.status !== 'error' && state.series.length > 0 && html`<${PanelBody} panel=${panel} series=${state.series} range=${range} />`}
    ${state.status === 'ok' && state.series.length === 0 && html`<p class="muted chart-empty" data-points="0">${t('chart.noData')}</p>`}
    ${state.status === 'loading' && state.series.length === 0 && html`<p class="muted">…</p>`}
    <details class="panel-query"><summary>InfluxQL</summary>${targets.map((q) => html`<code class="query">${q.query}</code>`)}</details>
  </article>`;
}

export function DashboardsView({ page }: ViewProps) {
  useStore(page.store, 'lang');
  // The network panels chart the interfaces the inventory's links name.
  const dashboards = builtinDashboards(linkedInterfaces({ links: page.links, devices: page.devicesById.values() }));
  const [uid, setUid] = useState(dashboards[0]?.uid);
  const d = dashboards.find((x) => x.uid === uid) ?? dashboards[0];
  const [rangeKey, setRangeKey] = useState(() => parseRange(d?.time?.from));
  const [refreshKey, setRefreshKey] = useState(() => (REFRESHES.some(([k]) => k === d?.refresh) ? d!.refresh! : '30s'));
  const [room, setRoom] = useState('$__all');
  // The range ends at "now" as of the last refresh; a new end refetches every panel.
  const [to, setTo] = useState(() => Math.round(page.now()));
  const refresh = () => setTo(Math.round(page.now()));
  const refreshMs = REFRESHES.find(([k]) => k === refreshKey)?.[1] ?? 0;
  useEffect(() => {
    if (!refreshMs) return undefined;
    const timer = setInterval(refresh, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);
  if (!d) return html`<div class="view-body"><p>—</p></div>`;

  const rangeMs = RANGES.find(([k]) => k === rangeKey)?.[1] ?? 360 * MIN;
  const range = { from: to - rangeMs, to, intervalMs: intervalFor(rangeMs) };
  const roomIds = [...page.roomNamesMap.keys()];
  const hasRoom = (d.templating?.list ?? []).some((v) => v.name === 'room');
  const vars: Vars = hasRoom ? { room: room === '$__all' ? roomIds : [room] } : {};
  const exportJson = () => {
    const blob = new window.Blob([JSON.stringify(toGrafanaJson(d), null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = window.URL.createObjectURL(blob);
    a.download = `${d.uid}.json`;
    a.click();
    setTimeout(() => window.URL.revokeObjectURL(a.href), 1000);
  };
  const panels = d.panels.flatMap((p) => (p.type === 'row' ? [p, ...(p.panels ?? [])] : [p]));
  return html`<div class="view-body">
    <h2>${t('dash.title')}</h2>
    <div class="dash-bar">
      <label>${t('nav.dashboards')} <select id="dash-pick" value=${d.uid} onChange=${(e: Event) => (setUid((e.currentTarget as HTMLSelectElement).value), refresh())}>${dashboards.map((x) => html`<option value=${x.uid}>${shown(x.title)}</option>`)}</select></label>
      ${hasRoom && html`<label>${t('dash.room')} <select id="dash-room" value=${room} onChange=${(e: Event) => setRoom((e.currentTarget as HTMLSelectElement).value)}>
        <option value="$__all">${t('filter.all')}</option>${roomIds.map((id) => html`<option value=${id}>${page.roomNamesMap.get(id) ?? id}</option>`)}</select></label>`}
      <label>${t('dash.range')} <select id="dash-range" value=${rangeKey} onChange=${(e: Event) => (setRangeKey((e.currentTarget as HTMLSelectElement).value), refresh())}>
        ${RANGES.map(([k]) => html`<option value=${k}>${t('dash.last', { span: span(k) })}</option>`)}</select></label>
      <label>${t('dash.refresh')} <select id="dash-refresh" value=${refreshKey} onChange=${(e: Event) => setRefreshKey((e.currentTarget as HTMLSelectElement).value)}>
        ${REFRESHES.map(([k]) => html`<option value=${k}>${k === 'off' ? t('dash.off') : span(k)}</option>`)}</select></label>
      <button type="button" id="dash-reload" onClick=${refresh}>${t('dash.refreshNow')}</button>
      <button type="button" id="dash-export" onClick=${exportJson}>${t('dash.export')}</button>
      <span class="muted" id="dash-span">${formatClock(range.from)} → ${formatClock(range.to)}</span>
    </div>
    <div class="dash-grid" data-uid=${d.uid} data-from=${range.from} data-to=${range.to}>${panels.map((p) => html`<${DashPanel} key=${`${d.uid}-${p.id}`} panel=${p} range=${range} vars=${vars} />`)}</div>
  </div>`;
}
