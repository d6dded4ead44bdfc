// A device's liveness as the tables show it: current, stale, offline or without data, with its
// worst firing alert beside it; and the small bar beside a percentage. Shared by the power, cloud
// and network views.
import { named, t } from './i18n.ts';
import { STALE_AFTER_MS } from './readings.ts';
import type { Device, Page } from './page.ts';
import { html } from './ui.ts';

/** How a device is doing as the tables show it. */
export type Liveness = 'current' | 'stale' | 'offline' | 'nodata';

/** A device's latest value of `metric` with `digits` decimals, or a dash. */
export const num = (page: Page, id: string, metric: string, digits = 1): string => {
  const v = page.readings.get(id, metric);
  return v ? v.value.toFixed(digits) : '—';
};

/** A polled device is stale after three missed polls, a pushing one after STALE_AFTER_MS. */
export const staleAfter = (device: Device | undefined): number => Math.max(STALE_AFTER_MS, 3 * 1000 * (device?.snmp?.intervalSeconds ?? 0));

/** current / stale / offline / nodata, from the newest value and presence, as the plan judges it. */
export function liveness(page: Page, id: string): Liveness {
  const last = page.readings.lastSeen(id);
  const p = page.readings.presence(id);
  if (p?.status === 'offline' && (last === undefined || p.since >= last)) return 'offline';
  if (last === undefined) return p?.status === 'online' ? 'current' : 'nodata';
  return page.now() - last > staleAfter(page.devicesById.get(id)) ? 'stale' : 'current';
}

const STATUS_TEXT: Record<Liveness, string> = { current: 'common.ok', stale: 'common.stale', offline: 'common.offline', nodata: 'common.noData' };

export const Status = ({ page, id }: { page: Page; id: string }) => {
  const s = liveness(page, id);
  const worst = page.alerts.worstBy('device').get(id);
  return html`<span class="status status-${s}" data-status=${s}>${t(STATUS_TEXT[s])}${worst ? html` · <b class="sev-text sev-${worst}">${named('sev', worst).toUpperCase()}</b>` : ''}</span>`;
};

/** A percentage (a link's utilisation, a host's CPU, a disk) as a small bar to put beside its number. */
export const UtilBar = ({ pct }: { pct: number | undefined }) =>
  html`<span class="util-bar" aria-hidden="true"><span style=${`width:${Math.min(100, Math.max(0, pct ?? 0)).toFixed(1)}%`}></span></span>`;
