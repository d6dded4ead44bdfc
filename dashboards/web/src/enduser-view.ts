// The End-user IT view: the offices' PCs and servers (layers enduser and server: devices writing
// InfluxDB line protocol, auto-registered or in the inventory), by site; who is not reporting and who
// is short of disk first. Figures are Telegraf's as collectors/line-protocol names them:
// `cpu.usage_idle` (cpu-total), `mem.used_percent`, `disk.<mount>.used_percent` (`disk.root.` for /).
import { named, t } from './i18n.ts';
import { liveness, Status, UtilBar } from './status.ts';
import { html, useStore } from './ui.ts';
import type { Device, Page, ViewProps } from './page.ts';

const DISK = /^disk\.(.+)\.used_percent$/;
/** The agent-disk-nearly-full rule's line (config/rules.yaml). */
const SHORT_OF_DISK_PCT = 90;
const LAYERS = new Set(['enduser', 'server']);

/** The fullest disk of a device, mount and percent. */
function fullestDisk(page: Page, id: string): { mount: string; pct: number } | undefined {
  let best: { mount: string; pct: number } | undefined;
  for (const [metric, v] of page.readings.all(id)) {
    const m = DISK.exec(metric);
    if (m && (!best || v.value > best.pct)) best = { mount: m[1] === 'root' ? '/' : m[1]!, pct: v.value };
  }
  return best;
}

/** The site a device is on: its own, or its rack's room's, or its room's. */
function siteOf(page: Page, d: Device): string {
  if (d.location.site) return d.location.site;
  const roomId = d.location.room ?? (d.location.rack ? page.racksById.get(d.location.rack)?.room : undefined);
  return page.rooms.find((r) => r.id === roomId)?.site ?? '';
}

const Pct = ({ cls, value, name }: { cls: string; value: number | undefined; name?: string | undefined }) =>
  value === undefined
    ? html`<td class=${`util ${cls}`}>—</td>`
    : html`<td class=${`util ${cls}`} data-value=${String(value)}><${UtilBar} pct=${value} /> ${value.toFixed(1)} %${name ? html` <small class="disk-name">${name}</small>` : ''}</td>`;

export function EndUserView({ page }: ViewProps) {
  useStore(page.store, 'readings', 'alerts', 'lang');
  const machines = [...page.devicesById.values()].filter((d) => d.layer !== undefined && LAYERS.has(d.layer));
  if (machines.length === 0) return html`<div class="view-body"><p class="empty" id="enduser-empty">${t('enduser.empty')}</p></div>`;
  const bySite = new Map<string, Device[]>();
  for (const d of machines) {
    const s = siteOf(page, d);
    bySite.set(s, [...(bySite.get(s) ?? []), d]);
  }
  const head = [t('common.device'), t('cloud.kind'), t('common.status'), t('cloud.cpu'), t('cloud.memory'), t('cloud.disk')];
  return html`<div class="view-body" id="enduser-view">
    ${[...bySite.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([site, devices]) => {
      const rows = devices.map((d) => {
        const disk = fullestDisk(page, d.id);
        const idle = page.readings.get(d.id, 'cpu.usage_idle')?.value;
        return { d, disk, cpu: idle === undefined ? undefined : 100 - idle, down: liveness(page, d.id) !== 'current', short: disk !== undefined && disk.pct >= SHORT_OF_DISK_PCT };
      });
      // Who needs a look first: not reporting, then short of disk, then by name.
      rows.sort((a, b) => Number(b.down) - Number(a.down) || Number(b.short) - Number(a.short) || a.d.id.localeCompare(b.d.id));
      const down = rows.filter((r) => r.down).length;
      const short = rows.filter((r) => r.short).length;
      return html`<section class="enduser-site" data-site=${site}>
        <h2>${site || t('enduser.noSite')} <small class="enduser-summary">${t('enduser.summary', { total: rows.length, down, short })}</small></h2>
        <table class="data-table enduser-table"><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>
          ${rows.map((r) => html`<tr data-device=${r.d.id} data-layer=${r.d.layer} class=${[r.down ? 'enduser-down' : '', r.short ? 'enduser-short' : ''].join(' ').trim()}>
            <td>${r.d.name ?? r.d.id} <small>${r.d.id}</small></td><td>${named('kind', r.d.kind)}</td><td><${Status} page=${page} id=${r.d.id} /></td>
            <${Pct} cls="cpu" value=${r.cpu} /><${Pct} cls="mem" value=${page.readings.get(r.d.id, 'mem.used_percent')?.value} /><${Pct} cls="disk" value=${r.disk?.pct} name=${r.disk?.mount} /></tr>`)}
        </tbody></table></section>`;
    })}
  </div>`;
}
