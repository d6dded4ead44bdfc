// The NOC's live alert list: filters, and the actions the viewer's role may take on each alert.
// An action whose route the server lacks (404/405) is hidden from then on, never faked.
import { useEffect, useState } from 'preact/hooks';
import type { VNode } from 'preact';
import { ApiError, http, missingRoute } from './api.ts';
import { SEVERITIES } from './alerts.ts';
import { formatAge, formatClock } from './dom.ts';
import { named, t } from './i18n.ts';
import { html, useStore } from './ui.ts';
import type { Alert, Page, ViewProps } from './page.ts';

/** Mirrors rules/triage-desk.ts `mayActOn`: who may act on which kind of alert. */
export function mayActOn(role: string, kind: string): boolean {
  if (role === 'admin') return true;
  if (role === 'soc') return kind === 'security';
  if (role === 'noc') return kind !== 'security';
  return false;
}

const KINDS = ['availability', 'environment', 'power', 'security', 'performance'];
// A wall screen shows a dozen cards; past this many the rest are counted, not drawn, so a storm of
// alerts cannot make the page itself slow. The filters narrow the list to what is wanted.
export const MAX_SHOWN = 60;

function where(labels: Record<string, string>, roomNames: Map<string, string>): string {
  const parts: string[] = [];
  if (labels.device) parts.push(labels.device);
  if (labels.rack && labels.rack !== labels.device) parts.push(t('alerts.rack', { id: labels.rack }));
  if (labels.room) parts.push(roomNames.get(labels.room) ?? labels.room);
  return parts.join(' · ');
}

function timeText(a: Alert, now: number): string {
  if (a.state === 'firing') return t('alerts.since', { clock: formatClock(a.startsAt), age: formatAge(now - a.startsAt) });
  const end = a.endsAt ?? a.updatedAt;
  return t('alerts.ended', { clock: formatClock(end), age: formatAge(end - a.startsAt) });
}

/** Runs an alert action; the answer (the changed alert) goes into the board at once. */
export async function act(page: Page, alert: Alert, action: string, body: Record<string, unknown> = {}): Promise<boolean> {
  try {
    const updated = await http.post<Alert | undefined>(`/alerts/${encodeURIComponent(alert.id)}/${action}`, body);
    if (updated && updated.id) page.alerts.upsert(updated);
    page.store.changed('alerts');
    return true;
  } catch (err) {
    if (missingRoute(err)) {
      page.unsupported.add(action);
      page.store.changed('alerts');
      return false;
    }
    page.notify(err instanceof ApiError ? err.message : String(err));
    return false;
  }
}

async function silence(page: Page, alert: Alert): Promise<void> {
  const matchers = [{ name: 'alertname', value: alert.rule }];
  for (const k of ['device', 'rack']) if (alert.labels?.[k]) matchers.push({ name: k, value: alert.labels[k] });
  try {
    await http.post('/silences', { matchers, endsAt: page.now() + 3_600_000, comment: `silenced from the watch floor by ${page.user!.username}` });
    page.notify(t('badge.silenced'));
  } catch (err) {
    if (missingRoute(err)) {
      page.unsupported.add('silence');
      page.store.changed('alerts');
    } else page.notify(err instanceof ApiError ? err.message : String(err));
  }
}

function Badges({ a }: { a: Alert }) {
  const out: VNode[] = [];
  if (a.acknowledged) out.push(html`<span class="badge badge-ack">${t('badge.acked', { who: a.ackedBy ?? '' })}</span>`);
  if (a.assignee) out.push(html`<span class="badge badge-assignee">${t('badge.assigned', { who: a.assignee })}</span>`);
  if (a.suppressedBy) out.push(html`<span class="badge badge-suppressed">${t('badge.suppressed', { id: a.suppressedBy })}</span>`);
  if (a.flapping) out.push(html`<span class="badge badge-flapping">${t('badge.flapping')}</span>`);
  if (a.silencedBy && a.silencedBy.length) out.push(html`<span class="badge badge-silenced">${t('badge.silenced')}</span>`);
  if (a.comments) out.push(html`<span class="badge badge-comments">${t('badge.comments', { n: a.comments })}</span>`);
  return out.length ? html`<span class="alert-badges">${out}</span>` : null;
}

function Actions({ page, a }: { page: Page; a: Alert }) {
  const [commenting, setCommenting] = useState(false);
  const [text, setText] = useState('');
  if (!page.user || !mayActOn(page.user.role, a.kind)) return null;
  const user = page.user;
  const can = (name: string): boolean => !page.unsupported.has(name);
  const buttons: VNode[] = [];
  if (a.state === 'firing' && !a.acknowledged && can('ack')) buttons.push(html`<button type="button" class="act act-ack" onClick=${() => act(page, a, 'ack')}>${t('action.ack')}</button>`);
  if (a.acknowledged && can('unack')) buttons.push(html`<button type="button" class="act act-unack" onClick=${() => act(page, a, 'unack')}>${t('action.unack')}</button>`);
  if (a.assignee !== user.username && can('assign')) buttons.push(html`<button type="button" class="act act-assign" onClick=${() => act(page, a, 'assign', { assignee: user.username })}>${t('action.assign')}</button>`);
  if (can('comment')) buttons.push(html`<button type="button" class="act act-comment" aria-expanded=${commenting} onClick=${() => setCommenting(!commenting)}>${t('action.comment')}</button>`);
  if (a.state === 'firing' && can('silence') && user.role !== 'viewer') buttons.push(html`<button type="button" class="act act-silence" onClick=${() => silence(page, a)}>${t('action.silence')}</button>`);
  const send = async (ev: SubmitEvent) => {
    ev.preventDefault();
    if (!text.trim()) return;
    if (await act(page, a, 'comment', { text: text.trim() })) {
      setText('');
      setCommenting(false);
    }
  };
  return html`<div class="alert-actions">
    ${buttons}
    ${commenting && html`<form class="comment-form" onSubmit=${send}>
      <label class="sr-only" for=${`c-${a.id}`}>${t('action.comment')}</label>
      <input id=${`c-${a.id}`} class="comment-text" value=${text} onInput=${(e: InputEvent) => setText((e.currentTarget as HTMLInputElement).value)} maxlength="10000" />
      <button type="submit" class="act act-send">${t('action.send')}</button>
    </form>`}
  </div>`;
}

/** `?alert=<id>`: the alert a notification links to (rules/notify/transports/site.ts), marked and scrolled to once. */
const linkedAlert = new URLSearchParams(location.search).get('alert');

/** The list beside every view: the summary counts, filters, and one card per alert. */
export function AlertPane({ page }: ViewProps) {
  useStore(page.store, 'alerts', 'clock', 'lang');
  const [f, setF] = useState({ severity: '', state: '', kind: '', text: '' });
  const [scrolled, setScrolled] = useState(false);
  const now = page.now();
  const all = page.alerts.sorted();
  // The linked alert comes first whatever its rank, so the list's cut (MAX_SHOWN) never hides it.
  const linkedIndex = linkedAlert ? all.findIndex((a) => a.id === linkedAlert) : -1;
  if (linkedIndex > 0) all.unshift(...all.splice(linkedIndex, 1));
  useEffect(() => {
    if (scrolled || linkedIndex < 0) return;
    document.querySelector('#alert-list [data-linked="true"]')?.scrollIntoView({ block: 'center' });
    setScrolled(true);
  }, [linkedIndex, scrolled]);
  const firing = all.filter((a) => a.state === 'firing');
  const counts = SEVERITIES.map((s): [string, number] => [s, firing.filter((a) => a.severity === s).length]).filter(([, n]) => n > 0);
  const needle = f.text.trim().toLowerCase();
  const shown = all.filter(
    (a) =>
      (!f.severity || a.severity === f.severity) &&
      (!f.state || a.state === f.state) &&
      (!f.kind || a.kind === f.kind) &&
      (!needle || `${a.name} ${a.summary} ${Object.values(a.labels ?? {}).join(' ')}`.toLowerCase().includes(needle)),
  );
  type Filters = typeof f;
  const set = (k: keyof Filters) => (e: Event) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value });
  const select = (id: string, key: keyof Filters, label: string, options: [string, string][]) => html`<label class="filter" for=${id}><span>${label}</span>
    <select id=${id} value=${f[key]} onChange=${set(key)}>
      <option value="">${t('filter.all')}</option>
      ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
    </select></label>`;
  return html`
    <h2 id="alerts-title">${t('alerts.title')}</h2>
    <p id="alert-summary" class="alerts-count" aria-live="polite" data-firing=${String(firing.length)}>
      ${firing.length === 0
        ? html`<span class="all-clear">${t('alerts.nothingFiring')}</span>`
        : html`<span>${t('alerts.firing', { n: firing.length })}${counts.map(([s, n]) => html`<span class="count sev-${s}">${n} ${named('sev', s)}</span>`)}</span>`}
    </p>
    <div class="alert-filters" role="search">
      ${select('filter-severity', 'severity', t('filter.severity'), SEVERITIES.map((s): [string, string] => [s, named('sev', s)]))}
      ${select('filter-state', 'state', t('filter.state'), [['firing', t('state.firing')], ['resolved', t('state.resolved')]])}
      ${select('filter-kind', 'kind', t('filter.kind'), KINDS.map((k): [string, string] => [k, named('alertKind', k)]))}
      <label class="filter" for="filter-text"><span>${t('filter.text')}</span><input id="filter-text" type="search" value=${f.text} onInput=${set('text')} /></label>
    </div>
    <ol id="alert-list" class="alert-list" aria-labelledby="alerts-title" tabindex="0">
      ${all.length === 0 && html`<li class="alert-empty">${t('alerts.none')}</li>`}
      ${all.length > 0 && shown.length === 0 && html`<li class="alert-empty">${t('alerts.noMatch')}</li>`}
      ${shown.slice(0, MAX_SHOWN).map((a) => {
        const labels = a.labels ?? {};
        const target = labels.rack ?? labels.device;
        const locatable = labels.room && target && page.roomNames.has(labels.room);
        return html`<li key=${a.id} class="alert sev-${a.severity} state-${a.state}${a.acknowledged ? ' acked' : ''}" data-alert-id=${a.id} data-severity=${a.severity}
            data-state=${a.state} data-kind=${a.kind} data-label-rack=${labels.rack} data-label-device=${labels.device} data-acked=${String(!!a.acknowledged)}
            data-linked=${a.id === linkedAlert ? 'true' : undefined}>
          <span class="sev-badge">${a.state === 'firing' ? named('sev', a.severity).toUpperCase() : `${named('sev', a.severity).toUpperCase()} · ${t('badge.resolved')}`}</span>
          <span class="alert-name">${a.name}</span>
          <span class="alert-summary">${a.summary}</span>
          <span class="alert-meta"><span class="alert-where">${where(labels, page.roomNames)}</span><span class="alert-time">${timeText(a, now)}</span></span>
          ${locatable && html`<button type="button" class="locate" aria-label=${`${t('action.show')} ${target}`} onClick=${() => page.locate(labels.room!, target!)}>${t('action.show')}</button>`}
          <${Badges} a=${a} />
          <${Actions} page=${page} a=${a} />
        </li>`;
      })}
      ${shown.length > MAX_SHOWN && html`<li class="alert-more" data-more=${String(shown.length - MAX_SHOWN)}>${t('alerts.more', { n: shown.length - MAX_SHOWN })}</li>`}
    </ol>`;
}
