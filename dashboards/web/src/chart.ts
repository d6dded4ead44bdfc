// Time series with uPlot (the library Grafana's own panels use): one chart, several series.
//
// uPlot draws what it is given literally: data is [xs in seconds, ...ys] with numbers, `null` for a gap
// and `undefined` for "no sample here, join across". Before this file said so, an hour-wide axis with
// a minute of data squeezed every line into the last pixels, and the legend (values under the cursor
// only) read "--": a legend and no lines. So: the axis starts where the data does, a missed sample or
// two is joined while a longer silence stays a gap, the chart follows its container's width, and the
// legend beside it shows each series' latest value.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatClock } from './dom.ts';
import { currentLang, t } from './i18n.ts';
import { formatValue } from './units.ts';
import { html } from './ui.ts';

/** One line of a chart: its name and [ts ms, value or null] samples; `error` when its query failed. */
export interface ChartSeries {
  label: string;
  points: [number, number | null][];
  error?: string;
}

/** A column of values for uPlot: a number, `undefined` to join across, `null` for a gap. */
type Column = (number | null | undefined)[];

export const PALETTE = ['#7cc4ff', '#ff9d42', '#6fdc8c', '#f2d04b', '#c9a7ff', '#ff5d5d', '#4dd6c8', '#ff8fc8', '#b8e986', '#a0b4ff'];
/** Up to this many missing buckets in a row are joined over; more show as a gap. */
const JOIN_MISSING = 2;
/** A series with at most this many values also draws its points. */
const SPARSE = 24;
/**
 * The time axis in Vietnamese: 24-hour clock, day before month (uPlot's default is American: "8:52pm",
 * "11/26"). Rows as uPlot's axis.values: tick step (s), label, then the label added when the year,
 * month, day, hour, minute or second rolls over, and 1 for "add" (uPlot's own table, reformatted).
 */
const DAY = 86_400;
const VI_TIME_AXIS: uPlot.Axis.Values = [
  [365 * DAY, '{YYYY}', null, null, null, null, null, null, 1],
  [28 * DAY, 'tháng {M}', '\n{YYYY}', null, null, null, null, null, 1],
  [DAY, '{D}/{M}', '\n{YYYY}', null, null, null, null, null, 1],
  [3600, '{HH}:{mm}', '\n{D}/{M}/{YYYY}', null, '\n{D}/{M}', null, null, null, 1],
  [60, '{HH}:{mm}', '\n{D}/{M}/{YYYY}', null, '\n{D}/{M}', null, null, null, 1],
  [1, ':{ss}', '\n{D}/{M}/{YYYY} {HH}:{mm}', null, '\n{D}/{M} {HH}:{mm}', null, '\n{HH}:{mm}', null, 1],
];

/**
 * Columns for uPlot from series of [ts ms, value|null] on their own timestamps: xs in seconds, and
 * per series numbers, `undefined` inside a short run of missing buckets, `null` for a longer gap.
 */
export function toColumns(series: readonly ChartSeries[]): { times: number[]; ys: Column[] } {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const ys = series.map((s) => {
    const m = new Map(s.points.map(([ts, v]) => [ts, typeof v === 'number' && Number.isFinite(v) ? v : null]));
    const col: Column = times.map((ts) => m.get(ts) ?? null);
    for (let i = 0; i < col.length; ) {
      if (col[i] !== null) {
        i++;
        continue;
      }
      let j = i;
      while (j < col.length && col[j] === null) j++;
      if (i > 0 && j < col.length && j - i <= JOIN_MISSING) for (let k = i; k < j; k++) col[k] = undefined;
      i = j;
    }
    return col;
  });
  return { times, ys };
}

const lastValue = (points: ChartSeries['points']): { ts: number; value: number } | undefined => {
  for (let i = points.length - 1; i >= 0; i--) {
    const [ts, v] = points[i]!;
    if (typeof v === 'number' && Number.isFinite(v)) return { ts, value: v };
  }
  return undefined;
};

/**
 * series: [{label, points: [[ts ms, value|null], ...]}]; unit: a Grafana unit id or text; from/to: the
 * range asked for (ms), the axis ending at `to` and starting there or where the first value is.
 */
/** The props of TimeChart. */
export interface TimeChartProps {
  series: ChartSeries[];
  unit?: string;
  height?: number;
  label?: string;
  from?: number;
  to?: number;
}

export function TimeChart({ series, unit, height = 180, label, from, to }: TimeChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const { times, ys } = toColumns(series);
  let first: number | undefined;
  ys.forEach((col) => {
    const i = col.findIndex((v) => v !== null && v !== undefined);
    if (i >= 0 && (first === undefined || times[i]! < first)) first = times[i];
  });
  const xMax = (to ?? times[times.length - 1])!;
  // The axis starts at the range's start, or at the first value when the store holds less than the range.
  const xMin = first === undefined ? from : from === undefined || first > from ? first : from;
  const since = first !== undefined && from !== undefined && first - from > 0.05 * (xMax - from) ? first : undefined;
  const lang = currentLang();

  useEffect(() => {
    const el = host.current;
    if (!el || first === undefined) return undefined;
    const start = xMin!;
    const counts = ys.map((col) => col.filter((v) => v !== null && v !== undefined).length);
    const width = () => Math.max(200, Math.floor(el.clientWidth || el.parentElement?.clientWidth || 360));
    const plot = new uPlot(
      {
        width: width(),
        height,
        scales: { x: { time: true, range: (): uPlot.Range.MinMax => [start / 1000, Math.max(xMax, start + 1000) / 1000] } },
        // A line needs two neighbouring values: a sparse series (a new poller, a lone sample) shows its points too.
        series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false, points: { show: counts[i]! <= SPARSE, size: 6, fill: PALETTE[i % PALETTE.length] } }))],
        axes: [
          { stroke: '#9aa5b1', grid: { stroke: '#2c3642' }, ...(lang === 'vi' ? { values: VI_TIME_AXIS } : {}) },
          { stroke: '#9aa5b1', grid: { stroke: '#2c3642' }, values: (_u: uPlot, vals: number[]) => vals.map((v) => formatValue(v, unit)), size: 80 },
        ],
        legend: { show: false },
      },
      [times.map((ts) => ts / 1000), ...ys] as uPlot.AlignedData,
      el,
    );
    const ro = new window.ResizeObserver(() => {
      const w = width();
      if (w !== plot.width) plot.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [series, unit, height, xMin, xMax, lang]);

  if (first === undefined) return html`<p class="muted chart-empty" data-points="0">${t('chart.noData')}</p>`;
  return html`<figure class="chart-box">
    <div class="chart" role="img" aria-label=${label} ref=${host}></div>
    <figcaption>
      ${since !== undefined && html`<p class="muted chart-since">${t('chart.since', { time: formatClock(since) })}</p>`}
      <ul class="chart-legend">${series.map((s, i) => {
        const last = lastValue(s.points);
        return html`<li data-series=${s.label} data-last=${last ? String(last.value) : ''}>
          <span class="swatch" style=${`background:${PALETTE[i % PALETTE.length]}`} aria-hidden="true"></span>
          <span class="series-label">${s.label}</span> <b class="series-last">${last ? formatValue(last.value, unit) : t('common.noData')}</b></li>`;
      })}</ul>
    </figcaption>
  </figure>`;
}
