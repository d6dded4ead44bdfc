// A rack opened from the plan: its elevation (devices by U), PDU load, inlet and outlet
// temperatures over the last hour, and "why is this red": each firing alert with its rule and values.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { http } from './api.ts';
import { TimeChart, type ChartSeries } from './chart.ts';
import { formatAge, formatClock } from './dom.ts';
import { currentLang, named, t } from './i18n.ts';
import { html, useStore } from './ui.ts';
import type { Alert, Device, Rack, RuleDef, ViewProps } from './page.ts';

const HOUR = 3_600_000;
const CHART_REFRESH_MS = 30_000;
const fmtFor = (ms: number | undefined): string => formatAge(ms ?? 0);

/** One sentence per firing alert: the rule, its name, the device, the value and the condition. */
export function explain(alert: Alert, rule: RuleDef | undefined, unit: string): string {
  const value = alert.value === null || alert.value === undefined ? '—' : `${alert.value.toFixed(1)}${unit ? ` ${unit}` : ''}`;
  let cond = alert.summary;
  if (rule?.type === 'threshold' && rule.when?.above !== undefined) cond = t('why.above', { v: `${rule.when?.above}${unit ? ` ${unit}` : ''}`, for: fmtFor(rule.for) });
  else if (rule?.type === 'threshold' && rule.when?.below !== undefined) cond = t('why.below', { v: `${rule.when?.below}${unit ? ` ${unit}` : ''}`, for: fmtFor(rule.for) });
  // A no-data rule has no `for` (its schema is strict): its wait is `after`.
  else if (rule?.type === 'nodata') cond = t('why.nodata', { for: fmtFor(rule.after) });
  return t('why.line', { rule: alert.rule, name: alert.name, device: alert.labels?.device ?? alert.labels?.rack ?? '', value, cond, since: formatClock(alert.startsAt) });
}

function Elevation({ rack, devices }: { rack: Rack; devices: Device[] }) {
  const U = rack.heightU ?? 42;
  const uh = 0.5; // rem per U
  const placed = devices.filter((d) => d.location?.u !== undefined);
  return html`<svg class="elevation" viewBox=${`0 0 10 ${U + 2}`} role="img" aria-label=${`${t('rack.elevation')} ${rack.id}, ${U} U`} style=${`height:${(U + 2) * uh}rem`}>
    <rect class="elev-frame" x="0.5" y="1" width="9" height=${U} />
    ${Array.from({ length: U }, (_, i) => (i % 5 === 0 ? html`<text class="elev-u" x="0.3" y=${U + 1 - i - 0.2} font-size="0.6" text-anchor="end">${i + 1}</text>` : null))}
    ${placed.map((d) => {
      const h = d.location.heightU ?? 1;
      const u = d.location.u!;
      const y = U + 1 - (u + h - 1);
      return html`<g class="elev-device" data-device=${d.id}>
        <rect x="1" y=${y} width="8" height=${h} rx="0.1" />
        <text x="5" y=${y + h / 2} font-size=${Math.min(0.7, h * 0.7)} dominant-baseline="middle" text-anchor="middle">${d.id} (U${u}${h > 1 ? `-${u + h - 1}` : ''})</text>
      </g>`;
    })}
  </svg>`;
}

export function RackPanel({ page }: ViewProps) {
  useStore(page.store, 'rack', 'alerts', 'readings', 'lang');
  const rackId = page.openRack;
  const rack = rackId ? page.racksById.get(rackId) : undefined;
  const [series, setSeries] = useState<ChartSeries[] | null>(null);
  // The hour ends "now" as of the last fetch; every CHART_REFRESH_MS it moves on and the chart is fetched again.
  const [to, setTo] = useState(() => page.now());
  const sensors = rack ? page.rackSensors.get(rack.id) ?? [] : [];
  useEffect(() => {
    setSeries(null);
    setTo(page.now());
    if (!rackId) return undefined;
    const timer = setInterval(() => setTo(page.now()), CHART_REFRESH_MS);
    return () => clearInterval(timer);
  }, [rackId]);
  useEffect(() => {
    if (!rack) return undefined;
    let live = true;
    Promise.all(
      sensors.map((s) =>
        http
          .get<{ points: ChartSeries['points'] }>('/metrics/range', { device: s.id, metric: 'temperature', from: String(to - HOUR), to: String(to), step: '30000', agg: 'mean' })
          .then((r) => ({ label: `${named('posShort', s.location.position)} (${s.id})`, points: r.points }))
          .catch((err: Error) => ({ label: `${named('posShort', s.location.position)} (${s.id})`, points: [], error: err.message })),
      ),
    ).then((all: ChartSeries[]) => live && setSeries(all));
    return () => {
      live = false;
    };
    // The series are named in the page's language: a language change fetches them again.
  }, [rackId, to, currentLang()]);
  // Keyboard users land on the panel's close button as the panel is put in the page (a layout effect
  // runs right after the DOM is changed; a timer guessed at the time that takes and missed on a busy machine).
  const closeButton = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => {
    if (rack) closeButton.current?.focus();
  }, [rackId]);
  if (!rack) return null;
  const inRack = [...page.devicesById.values()].filter((d) => d.location?.rack === rack.id && !d.location.position);
  const pdus = inRack.filter((d) => d.kind === 'pdu');
  const firing = page.alerts.firing().filter((a) => a.labels?.rack === rack.id);
  const close = () => page.openRackPanel(null);
  return html`<section id="rack-panel" class="rack-panel" role="dialog" aria-modal="false" aria-labelledby="rack-panel-title" data-rack=${rack.id}
      onKeyDown=${(e: KeyboardEvent) => e.key === 'Escape' && close()}>
    <header class="rack-panel-head">
      <h2 id="rack-panel-title">${t('rack.title', { id: rack.id })}</h2>
      <button type="button" id="rack-panel-close" ref=${closeButton} onClick=${close}>${t('rack.close')}</button>
    </header>
    <div class="why" id="rack-why" data-firing=${String(firing.length)}>
      <h3>${t('rack.why')}</h3>
      ${firing.length === 0
        ? html`<p class="why-clear">${t('rack.allClear')}</p>`
        : html`<ul>${firing.map((a) => html`<li class="why-item sev-${a.severity}" data-rule=${a.rule}><b>${named('sev', a.severity).toUpperCase()}</b> ${explain(a, page.rules.get(a.rule), a.labels?.metric === 'humidity' ? '%RH' : '°C')}</li>`)}</ul>`}
    </div>
    <div class="rack-panel-body">
      <div>
        <h3>${t('rack.elevation')}</h3>
        <${Elevation} rack=${rack} devices=${inRack} />
      </div>
      <div>
        <h3>${t('rack.power')}</h3>
        <table class="data-table" id="rack-pdus">
          <thead><tr><th>PDU</th><th>kW</th><th>A</th></tr></thead>
          <tbody>${pdus.map((p) => {
            const kw = page.readings.get(p.id, 'power_kw');
            const amps = page.readings.get(p.id, 'current_a');
            return html`<tr data-device=${p.id}><td>${p.name ?? p.id}</td><td>${kw ? kw.value.toFixed(2) : '—'}</td><td>${amps ? amps.value.toFixed(1) : '—'}</td></tr>`;
          })}</tbody>
        </table>
        <h3>${t('rack.temps')}</h3>
        ${series === null
          ? html`<p class="muted">…</p>`
          : series.length > 0 && series.every((x) => x.error)
            ? html`<p class="panel-error" role="status">${t('dash.error', { error: series[0]!.error })}</p>`
            : html`<${TimeChart} series=${series} unit="celsius" from=${to - HOUR} to=${to} label=${t('rack.temps')} />`}
        <table class="data-table" id="rack-sensors">
          <tbody>${sensors.map((s) => {
            const v = page.readings.sensor(s.id, page.now());
            return html`<tr data-device=${s.id} data-state=${v.state}><td>${named('posShort', s.location.position)}</td>
              <td>${v.temperature === undefined ? t('common.noData') : `${v.temperature.toFixed(1)} °C`}${v.state === 'stale' ? ` · ${t('common.stale')}` : ''}</td>
              <td>${v.humidity === undefined ? '' : `${v.humidity.toFixed(0)} %RH`}</td></tr>`;
          })}</tbody>
        </table>
      </div>
    </div>
  </section>`;
}
