// Log search in the SOC view: filters (text, host, program, severity, time range), a histogram of the
// result over time (click a bar to narrow the range to it), the matching lines, and a live tail over
// socket.io (`logs:tail` with the same filters; the server sends matching lines as event `log`).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, http, missingRoute } from './api.ts';
import { formatClock } from './dom.ts';
import { named, t } from './i18n.ts';
import { html, useStore } from './ui.ts';
import { LOG_SEVERITIES, LogTable, WINDOWS, formatStamp, type StoredLog } from './soc-common.ts';
import type { Page } from './page.ts';

/** What a search asks for; empty strings are filters not set. */
export interface LogFilterForm {
  q: string;
  host: string;
  program: string;
  severity: string;
  range: string;
}

interface Histogram {
  stepMs: number;
  buckets: { ts: number; count: number }[];
}

/** Most lines the live tail keeps on screen; older ones scroll off. */
const TAIL_KEEP = 500;
const SEARCH_LIMIT = 200;

/** The query of a search: the filters set, and the window (an exact one when a bar was clicked). */
function queryOf(f: LogFilterForm, now: number, exact: { since: number; until: number } | null): Record<string, string> {
  const q: Record<string, string> = {};
  for (const k of ['q', 'host', 'program', 'severity'] as const) if (f[k].trim() !== '') q[k] = f[k].trim();
  const since = exact?.since ?? now - (WINDOWS[f.range] ?? 3_600_000);
  q.since = String(Math.floor(since));
  q.until = String(Math.floor(exact?.until ?? now));
  return q;
}

/** A bar chart of the histogram in SVG: one bar a bucket, its count in its title. */
function HistogramChart({ h, onPick }: { h: Histogram; onPick: (since: number, until: number) => void }) {
  const W = 800;
  const H = 120;
  const n = Math.max(1, h.buckets.length);
  const max = Math.max(1, ...h.buckets.map((b) => b.count));
  const bw = W / n;
  const first = h.buckets[0];
  const last = h.buckets.at(-1);
  return html`<figure class="log-histogram-box">
    <svg id="log-histogram" role="img" aria-label=${t('logs.histogram')} viewBox=${`0 0 ${W} ${H + 16}`} preserveAspectRatio="none" width="100%" height="136" data-buckets=${h.buckets.length} data-max=${max}>
      <line x1="0" y1=${H} x2=${W} y2=${H} stroke="currentColor" stroke-opacity="0.4" />
      ${h.buckets.map((b, i) => {
        const bh = b.count === 0 ? 0 : Math.max(2, (b.count / max) * (H - 4));
        return html`<rect class="bar" data-ts=${b.ts} data-count=${b.count} x=${i * bw + 0.5} y=${H - bh} width=${Math.max(1, bw - 1)} height=${bh} fill="#7cc4ff" style="cursor: pointer"
          onClick=${() => onPick(b.ts, b.ts + h.stepMs - 1)}><title>${t('logs.bar', { time: formatStamp(b.ts), n: b.count })}</title></rect>`;
      })}
      ${first && html`<text x="2" y=${H + 13} font-size="11" fill="currentColor">${formatClock(first.ts)}</text>`}
      ${last && html`<text x=${W - 2} y=${H + 13} font-size="11" fill="currentColor" text-anchor="end">${formatClock(last.ts + h.stepMs)}</text>`}
    </svg>
    <figcaption class="muted">${t('logs.histogram')} · ${t('logs.step', { s: Math.round(h.stepMs / 1000) })}</figcaption></figure>`;
}

/** The log search panel; `initial` fills the filters (from an entity or an alert). */
export function LogSearch({ page, initial }: { page: Page; initial?: Partial<LogFilterForm> }) {
  useStore(page.store, 'lang');
  const [form, setForm] = useState<LogFilterForm>({ q: '', host: '', program: '', severity: '', range: '1h', ...initial });
  const [exact, setExact] = useState<{ since: number; until: number } | null>(null);
  const [result, setResult] = useState<{ logs: StoredLog[]; total: number } | null>(null);
  const [hist, setHist] = useState<Histogram | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [live, setLive] = useState(false);
  const [tailed, setTailed] = useState<StoredLog[]>([]);
  const formRef = useRef(form);
  formRef.current = form;

  const search = async (f: LogFilterForm = form, win = exact): Promise<void> => {
    setBusy(true);
    setError(null);
    const q = queryOf(f, page.now(), win);
    try {
      const [r, h] = await Promise.all([http.get<{ logs: StoredLog[]; total: number }>('/logs', { ...q, limit: String(SEARCH_LIMIT) }), http.get<Histogram>('/logs/histogram', q)]);
      setResult(r);
      setHist(h);
      setTailed([]);
    } catch (err) {
      if (missingRoute(err) || (err instanceof ApiError && err.status === 404)) setMissing(true);
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void search();
  }, []);

  // The live tail: asked for with the filters of the form, again after a reconnect; stopped when unticked or gone.
  useEffect(() => {
    const socket = page.socket;
    if (!live || !socket) return undefined;
    const ask = (): void => {
      const f = formRef.current;
      const filters: Record<string, string> = {};
      for (const k of ['q', 'host', 'program', 'severity'] as const) if (f[k].trim() !== '') filters[k] = f[k].trim();
      socket.emit('logs:tail', filters);
    };
    const onLog = (batch: StoredLog[]): void => {
      if (!Array.isArray(batch) || batch.length === 0) return;
      setTailed((old) => [...[...batch].reverse(), ...old].slice(0, TAIL_KEEP));
    };
    ask();
    socket.on('connect', ask);
    socket.on('log', onLog);
    return () => {
      socket.off('connect', ask);
      socket.off('log', onLog);
      socket.emit('logs:untail');
    };
  }, [live, page.socket, result]);

  const set = (k: keyof LogFilterForm) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const submit = (e: Event): void => {
    e.preventDefault();
    setExact(null);
    void search(form, null);
  };
  if (missing) return html`<p class="muted" id="logs-unavailable">${t('logs.unavailable')}</p>`;
  const shown = [...tailed, ...(result?.logs ?? [])].slice(0, TAIL_KEEP + SEARCH_LIMIT);
  return html`<section class="log-search" aria-label=${t('soc.tab.logs')}>
    <form id="log-search-form" class="filters" style="display: flex; flex-wrap: wrap; gap: 0.4rem 0.9rem; align-items: center; margin: 0.5rem 0" onSubmit=${submit}>
      <label>${t('logs.q')} <input name="q" type="search" value=${form.q} onInput=${set('q')} placeholder=${t('logs.qHint')} /></label>
      <label>${t('logs.host')} <input name="host" value=${form.host} onInput=${set('host')} size="12" /></label>
      <label>${t('logs.program')} <input name="program" value=${form.program} onInput=${set('program')} size="10" /></label>
      <label>${t('logs.severity')} <select name="severity" value=${form.severity} onChange=${set('severity')}>
        <option value="">${t('logs.any')}</option>${LOG_SEVERITIES.map((s) => html`<option value=${s}>${named('logsev', s)}</option>`)}</select></label>
      <label>${t('logs.range')} <select name="range" value=${form.range} onChange=${set('range')}>
        ${Object.keys(WINDOWS).map((w) => html`<option value=${w}>${t(`range.${w}`)}</option>`)}</select></label>
      <button type="submit" id="log-search-submit" disabled=${busy}>${t('logs.search')}</button>
      <label class="live-tail"><input type="checkbox" id="log-live" checked=${live} disabled=${!page.socket} onChange=${(e: Event) => setLive((e.currentTarget as HTMLInputElement).checked)} /> ${t('logs.live')}</label>
    </form>
    ${exact && html`<p class="muted" id="log-exact">${t('logs.exact', { from: formatStamp(exact.since), to: formatStamp(exact.until) })}
      <button type="button" onClick=${() => { setExact(null); void search(form, null); }}>${t('logs.wholeRange')}</button></p>`}
    ${error && html`<p class="error" role="alert">${t('logs.failed', { error })}</p>`}
    ${hist && html`<${HistogramChart} h=${hist} onPick=${(since: number, until: number) => { setExact({ since, until }); void search(form, { since, until }); }} />`}
    ${result && html`<p id="log-total" data-total=${result.total}>${t('logs.shown', { shown: result.logs.length, total: result.total })}${live ? html` · <span id="log-tailing">${t('logs.tailing', { n: tailed.length })}</span>` : ''}</p>`}
    ${result && shown.length === 0 && html`<p class="muted">${t('logs.none')}</p>`}
    ${shown.length > 0 && html`<${LogTable} lines=${shown} id="log-table" />`}
  </section>`;
}
