// The entity view of the SOC: every alert and log line about one source address, user or host over a
// chosen window, as one timeline, newest first (GET /entities/{type}/{value}).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, http } from './api.ts';
import { formatAge } from './dom.ts';
import { named, t } from './i18n.ts';
import { html, useStore } from './ui.ts';
import { WINDOWS, formatStamp, type Entity, type StoredLog } from './soc-common.ts';
import type { Alert, Page } from './page.ts';

interface EntityAnswer {
  entity: Entity;
  since: number;
  until: number;
  alerts: Alert[];
  logs: StoredLog[];
  timeline: { ts: number; kind: 'alert' | 'log'; id: string | number }[];
}

/** The timeline of `entity`; `onClose` leaves it, `onEntity` follows another entity named by one of its alerts. */
export function EntityView({ page, entity, onClose }: { page: Page; entity: Entity; onClose: () => void }) {
  useStore(page.store, 'lang');
  const [range, setRange] = useState('24h');
  const [answer, setAnswer] = useState<EntityAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    setAnswer(null);
    setError(null);
    const until = Math.floor(page.now());
    const since = until - (WINDOWS[range] ?? 86_400_000);
    http
      .get<EntityAnswer>(`/entities/${encodeURIComponent(entity.type)}/${encodeURIComponent(entity.value)}`, { since: String(since), until: String(until) })
      .then((a) => !gone && setAnswer(a), (err: unknown) => !gone && setError(err instanceof ApiError && err.status === 404 ? t('logs.unavailable') : err instanceof Error ? err.message : String(err)));
    return () => {
      gone = true;
    };
  }, [entity.type, entity.value, range]);

  const alerts = new Map((answer?.alerts ?? []).map((a) => [a.id, a]));
  const logs = new Map((answer?.logs ?? []).map((l) => [String(l.id), l]));
  const timeline = answer?.timeline ?? [];
  const span = timeline.length > 1 ? (timeline[0] as { ts: number }).ts - (timeline.at(-1) as { ts: number }).ts : 0;
  return html`<section id="soc-entity" class="entity-view" style="border: 1px solid var(--line); border-radius: 6px; padding: 0 0.8rem 0.6rem; margin: 0.6rem 0" data-entity-type=${entity.type} data-entity-value=${entity.value} aria-label=${t('entity.title', { type: named('entity', entity.type), value: entity.value })}>
    <h3>${t('entity.title', { type: named('entity', entity.type), value: entity.value })}
      <button type="button" id="entity-close" onClick=${onClose}>${t('entity.close')}</button></h3>
    <label>${t('entity.window')} <select id="entity-window" value=${range} onChange=${(e: Event) => setRange((e.currentTarget as HTMLSelectElement).value)}>
      ${Object.keys(WINDOWS).map((w) => html`<option value=${w}>${t(`range.${w}`)}</option>`)}</select></label>
    ${error && html`<p class="error" role="alert">${t('entity.failed', { error })}</p>`}
    ${!answer && !error && html`<p class="muted">…</p>`}
    ${answer && html`<p id="entity-counts" data-span=${answer.until - answer.since} data-alerts=${answer.alerts.length} data-logs=${answer.logs.length}>${t('entity.counts', { alerts: answer.alerts.length, logs: answer.logs.length })}${span > 0 ? ` · ${formatAge(span)}` : ''}</p>`}
    ${answer && timeline.length === 0 && html`<p class="muted">${t('entity.empty')}</p>`}
    ${timeline.length > 0 && html`<h4>${t('entity.timeline')}</h4><ol id="entity-timeline" class="timeline">
      ${timeline.map((e) => {
        if (e.kind === 'alert') {
          const a = alerts.get(String(e.id));
          return html`<li class="timeline-alert" data-kind="alert" data-id=${e.id}><time>${formatStamp(e.ts)}</time>${' '}
            <span class=${`sev-text sev-${a?.severity ?? 'info'}`}>${named('sev', a?.severity ?? 'info').toUpperCase()}</span> ${a?.name ?? e.id}
            <small class="muted"> ${named('triage', a?.triage ?? 'new')}</small></li>`;
        }
        const l = logs.get(String(e.id));
        return html`<li class="timeline-log" data-kind="log" data-id=${e.id}><time>${formatStamp(e.ts)}</time>${' '}
          <span class=${`logsev logsev-${l?.severity ?? 'info'}`}>${named('logsev', l?.severity ?? 'info')}</span>${' '}${l?.host ?? ''} ${l?.program ?? ''}: <code>${l?.message ?? ''}</code></li>`;
      })}</ol>`}
  </section>`;
}
