// The cloud view: each hypervisor host with the VMs it runs grouped under it, then each storage array
// with its pools. The figures are the SNMP collector's HOST-RESOURCES-MIB ones (collectors/snmp/profiles.yaml,
// module host-resources): `cpu_load_pct` (hrProcessorLoad averaged over the CPUs), `mem_used_pct`
// (hrStorageRam) and `storage_used_pct.<disk>` for each fixed disk or pool.
import { named, t } from './i18n.ts';
import { Status, UtilBar } from './status.ts';
import { html, useStore } from './ui.ts';
import type { Alert, Device, Page, ViewProps } from './page.ts';

const DISK = /^storage_used_pct\.(.+)$/;

/** A device's disks or pools as [{name, pct}], the fullest first. */
function disksOf(page: Page, id: string): { name: string; pct: number }[] {
  const out: { name: string; pct: number }[] = [];
  for (const [metric, v] of page.readings.all(id)) {
    const m = DISK.exec(metric);
    if (m) out.push({ name: m[1]!, pct: v.value });
  }
  return out.sort((a, b) => b.pct - a.pct);
}

// The collector names a disk by its mount point made safe (`/data` -> `data`, `/` -> `root`); an
// unnamed one goes by its hrStorageIndex.
const diskName = (name: string): string => (/^\d+$/.test(name) ? t('cloud.diskIndex', { index: name }) : name === 'root' ? '/' : name);

/** A percentage as a number and a bar; `name` says which disk. */
function Pct({ cls, value, name }: { cls: string; value: number | undefined; name?: string | undefined }) {
  if (value === undefined) return html`<td class=${`util ${cls}`}>—</td>`;
  return html`<td class=${`util ${cls}`} data-value=${String(value)}><${UtilBar} pct=${value} /> ${value.toFixed(1)} %${name ? html` <small class="disk-name">${name}</small>` : ''}</td>`;
}

/** Each device's worst firing alert (`sorted()` puts the firing ones first, worst first). */
function worstAlerts(page: Page): Map<string, Alert> {
  const out = new Map<string, Alert>();
  for (const a of page.alerts.sorted()) {
    const device = a.labels?.device;
    if (a.state === 'firing' && device !== undefined && !out.has(device)) out.set(device, a);
  }
  return out;
}

function MachineRow({ page, d, parent, worst }: { page: Page; d: Device; parent?: string | undefined; worst: Alert | undefined }) {
  const fullest = disksOf(page, d.id)[0];
  return html`<tr data-device=${d.id} data-kind=${d.kind} data-parent=${parent ?? ''} class=${parent ? 'cloud-child' : 'cloud-parent'}>
    <td class="cloud-name">${d.name ?? d.id} <small>${d.id}</small></td><td class="cloud-kind">${named('kind', d.kind)}</td>
    <td class="cloud-status"><${Status} page=${page} id=${d.id} /></td>
    <${Pct} cls="cpu" value=${page.readings.get(d.id, 'cpu_load_pct')?.value} />
    <${Pct} cls="mem" value=${page.readings.get(d.id, 'mem_used_pct')?.value} />
    <${Pct} cls="disk" value=${fullest?.pct} name=${fullest && diskName(fullest.name)} />
    <td class="worst-alert">${worst ? html`<span class=${`sev-text sev-${worst.severity}`} title=${worst.summary ?? ''}>${worst.name}</span>` : '—'}</td></tr>`;
}

export function CloudView({ page }: ViewProps) {
  useStore(page.store, 'readings', 'alerts', 'lang');
  const devices = [...page.devicesById.values()];
  const hosts = devices.filter((d) => d.kind === 'host');
  const hostIds = new Set(hosts.map((h) => h.id));
  const vms = devices.filter((d) => d.kind === 'vm');
  const unplaced = vms.filter((vm) => !vm.parents.some((p) => hostIds.has(p)));
  const storage = devices.filter((d) => d.kind === 'storage');
  const worst = worstAlerts(page);
  const row = (d: Device, parent?: string) => html`<${MachineRow} page=${page} d=${d} parent=${parent} worst=${worst.get(d.id)} />`;
  const head = [t('common.device'), t('cloud.kind'), t('common.status'), t('cloud.cpu'), t('cloud.memory'), t('cloud.disk'), t('cloud.alert')];
  return html`<div class="view-body">
    <h2>${t('cloud.hosts')}</h2>
    <table class="data-table" id="cloud-table"><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead>
      ${hosts.map((h) => html`<tbody class="cloud-group" data-group=${h.id}>${row(h)}${vms.filter((vm) => vm.parents.includes(h.id)).map((vm) => row(vm, h.id))}</tbody>`)}
      ${unplaced.length > 0 && html`<tbody class="cloud-group" data-group="">${unplaced.map((vm) => row(vm))}</tbody>`}
      ${storage.map((s) => html`<tbody class="cloud-group" data-group=${s.id}>${row(s)}
        ${disksOf(page, s.id).map((p) => html`<tr class="cloud-child cloud-pool" data-pool=${p.name} data-parent=${s.id}>
          <td class="cloud-name">${diskName(p.name)}</td><td class="cloud-kind">${t('cloud.pool')}</td><td></td><td></td><td></td><${Pct} cls="disk" value=${p.pct} /><td></td></tr>`)}</tbody>`)}
    </table>
  </div>`;
}
