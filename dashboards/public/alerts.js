// The live alert list: alerts by id, merged from `/alerts` and `alert` events (the newer `updatedAt`
// wins), firing first and worst first; resolved ones stay a while, greyed.
import { formatAge, formatClock, html } from './dom.js';

export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'];
const RANK = new Map(SEVERITIES.map((s, i) => [s, i]));
const rank = (s) => RANK.get(s) ?? SEVERITIES.length;
const KEEP_RESOLVED = 50;

/** The worse of two severities (undefined counts as none). */
export const worse = (a, b) => (a === undefined ? b : b === undefined ? a : rank(a) <= rank(b) ? a : b);

/** The alerts the page knows about. */
export class AlertBoard {
  #byId = new Map();

  /** Adds or updates one alert; returns false when it is older than what is known. */
  upsert(alert) {
    if (!alert || typeof alert.id !== 'string') return false;
    const prev = this.#byId.get(alert.id);
    if (prev && prev.updatedAt > alert.updatedAt) return false;
    this.#byId.set(alert.id, alert);
    this.#trim();
    return true;
  }

  merge(alerts) {
    for (const a of alerts) this.upsert(a);
  }

  /** Firing first, then by severity, then newest first; resolved by when they ended. */
  sorted() {
    return [...this.#byId.values()].sort((a, b) => {
      if (a.state !== b.state) return a.state === 'firing' ? -1 : 1;
      if (a.state === 'firing') return rank(a.severity) - rank(b.severity) || b.startsAt - a.startsAt;
      return (b.endsAt ?? b.updatedAt) - (a.endsAt ?? a.updatedAt);
    });
  }

  firing() {
    return [...this.#byId.values()].filter((a) => a.state === 'firing');
  }

  /** Worst firing severity per value of a label (`rack`, `device`, `room`). */
  worstBy(label) {
    const out = new Map();
    for (const a of this.firing()) {
      const key = a.labels?.[label];
      if (key !== undefined) out.set(key, worse(out.get(key), a.severity));
    }
    return out;
  }

  #trim() {
    const resolved = [...this.#byId.values()].filter((a) => a.state === 'resolved');
    if (resolved.length <= KEEP_RESOLVED) return;
    resolved.sort((a, b) => (a.endsAt ?? a.updatedAt) - (b.endsAt ?? b.updatedAt));
    for (const a of resolved.slice(0, resolved.length - KEEP_RESOLVED)) this.#byId.delete(a.id);
  }
}

function where(labels, roomNames) {
  const parts = [];
  if (labels.device) parts.push(labels.device);
  if (labels.rack && labels.rack !== labels.device) parts.push(`rack ${labels.rack}`);
  if (labels.room) parts.push(roomNames.get(labels.room) ?? labels.room);
  return parts.join(' · ');
}

function timeText(a, now) {
  if (a.state === 'firing') return `since ${formatClock(a.startsAt)} (${formatAge(now - a.startsAt)})`;
  const end = a.endsAt ?? a.updatedAt;
  return `resolved ${formatClock(end)}, lasted ${formatAge(end - a.startsAt)}`;
}

/**
 * Renders the list into `container` (a <ol>) and the counts into `summary`. `onLocate(room, id)`
 * is called when a person asks to see an alert's rack or device on the plan.
 */
export function renderAlerts(board, { container, summary, now, roomNames, onLocate }) {
  const alerts = board.sorted();
  const firing = alerts.filter((a) => a.state === 'firing');
  const counts = SEVERITIES.map((s) => [s, firing.filter((a) => a.severity === s).length]).filter(([, n]) => n > 0);
  summary.replaceChildren(
    firing.length === 0
      ? html('span', { class: 'all-clear', text: 'Nothing firing' })
      : html('span', {}, `${firing.length} firing: `, ...counts.map(([s, n]) => html('span', { class: `count sev-${s}`, text: `${n} ${s}` }))),
  );
  summary.dataset.firing = String(firing.length);
  if (alerts.length === 0) {
    container.replaceChildren(html('li', { class: 'alert-empty', text: 'No alerts. All quiet on the floor.' }));
    return;
  }
  container.replaceChildren(
    ...alerts.map((a) => {
      const labels = a.labels ?? {};
      const target = labels.rack ?? labels.device;
      const locatable = labels.room && target && roomNames.has(labels.room);
      return html(
        'li',
        {
          class: `alert sev-${a.severity} state-${a.state}`,
          'data-alert-id': a.id,
          'data-severity': a.severity,
          'data-state': a.state,
          'data-label-rack': labels.rack,
          'data-label-device': labels.device,
        },
        html('span', { class: 'sev-badge', text: a.state === 'firing' ? a.severity.toUpperCase() : `${a.severity.toUpperCase()} · RESOLVED` }),
        html('span', { class: 'alert-name', text: a.name }),
        html('span', { class: 'alert-summary', text: a.summary }),
        html(
          'span',
          { class: 'alert-meta' },
          html('span', { class: 'alert-where', text: where(labels, roomNames) }),
          html('span', { class: 'alert-time', text: timeText(a, now) }),
        ),
        locatable
          ? html('button', { type: 'button', class: 'locate', 'aria-label': `Show ${target} on the plan`, text: 'Show', onclick: () => onLocate(labels.room, target) })
          : undefined,
      );
    }),
  );
}

/** Refreshes the "since … (3 min)" texts without rebuilding the list. */
export function refreshAlertTimes(board, container, now) {
  const byId = new Map(board.sorted().map((a) => [a.id, a]));
  for (const li of container.querySelectorAll('li.alert')) {
    const a = byId.get(li.dataset.alertId);
    const t = li.querySelector('.alert-time');
    if (a && t) t.textContent = timeText(a, now);
  }
}
