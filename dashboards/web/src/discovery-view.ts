// The Discovery view (issue 17, admins): start an SNMP sweep of the ranges given, or read the
// neighbours of the inventory's polled devices (POST /discovery/neighbours, each with its own
// credentials), follow its progress (GET /discovery/{id} once a second while it runs), cancel it, and
// accept what it proposes: found and neighbour devices as inventory devices, LAN links between two
// inventory devices as inventory links. Nothing is applied unless accepted. Strings are kept here,
// English and Vietnamese; the tab's label is `nav.discovery` in i18n.ts.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, http } from './api.ts';
import { currentLang, named } from './i18n.ts';
import { html, useStore } from './ui.ts';
import type { ViewProps } from './page.ts';

const TEXT = {
  en: {
    title: 'Network discovery', cidrs: 'Ranges (CIDR, one per line)', communities: 'Communities (one per line)', port: 'UDP port', force: 'Larger than a /16 (force)',
    start: 'Start sweep', cancel: 'Cancel', running: 'Running', done: 'Done', cancelled: 'Cancelled', progress: '{probed} of {total} addresses probed, {responding} answered',
    found: 'Found devices', address: 'Address', sysName: 'sysName', profile: 'Profile', kind: 'Kind', neighbours: 'Neighbours', known: 'In inventory as {id}', accept: 'Accept', newId: 'Device id',
    links: 'Proposed LAN links', via: 'Seen by', none: 'Nothing yet.', accepted: 'Registered as {id}', proposedDevices: 'Neighbours not in the inventory',
    neighbours_start: 'Read neighbours of the polled inventory', neighbours_hint: 'Asks every inventory device with SNMP for its LLDP/CDP neighbours, with its own credentials; no range is swept.',
    source_inventory: 'Neighbours of the inventory', acceptLink: 'Accept link', linkAccepted: 'Link {id} added to the inventory', acceptDeviceFirst: 'Accept {id} first',
    linksInInventory: '{n} seen cable(s) already in the inventory',
  },
  vi: {
    title: 'Dò tìm mạng', cidrs: 'Dải địa chỉ (CIDR, mỗi dòng một dải)', communities: 'Community (mỗi dòng một giá trị)', port: 'Cổng UDP', force: 'Lớn hơn /16 (buộc)',
    start: 'Bắt đầu dò', cancel: 'Hủy', running: 'Đang chạy', done: 'Xong', cancelled: 'Đã hủy', progress: 'Đã dò {probed}/{total} địa chỉ, {responding} trả lời',
    found: 'Thiết bị tìm thấy', address: 'Địa chỉ', sysName: 'sysName', profile: 'Hồ sơ', kind: 'Loại', neighbours: 'Láng giềng', known: 'Đã có trong danh mục: {id}', accept: 'Nhận', newId: 'Mã thiết bị',
    links: 'Liên kết LAN đề xuất', via: 'Phát hiện qua', none: 'Chưa có gì.', accepted: 'Đã đăng ký: {id}', proposedDevices: 'Láng giềng chưa có trong danh mục',
    neighbours_start: 'Đọc láng giềng của các thiết bị đang giám sát', neighbours_hint: 'Hỏi từng thiết bị có SNMP trong danh mục về láng giềng LLDP/CDP, bằng thông tin đăng nhập của chính nó; không dò dải địa chỉ nào.',
    source_inventory: 'Láng giềng của danh mục', acceptLink: 'Nhận liên kết', linkAccepted: 'Đã thêm liên kết {id} vào danh mục', acceptDeviceFirst: 'Hãy nhận {id} trước',
    linksInInventory: '{n} kết nối đã có trong danh mục',
  },
} as const;
type Key = keyof (typeof TEXT)['en'];
const tx = (key: Key, vars: Record<string, string | number> = {}): string =>
  (TEXT[currentLang() === 'vi' ? 'vi' : 'en'][key] as string).replace(/\{(\w+)\}/g, (_m, k: string) => String(vars[k] ?? ''));

interface Neighbour { localPort: string; remoteName: string; remoteAddress?: string; remotePort: string; via: string }
interface Found { address: string; sysName: string; sysObjectID: string; profile: string; kind: string; known?: string; neighbours: Neighbour[] }
interface LinkEnd { device: string; interface: string; known: boolean }
interface ProposedLink { a: LinkEnd; b: LinkEnd; via: string[] }
interface ProposedDevice { id: string; name: string; address?: string; kind: string; source: string }
interface Sweep {
  id: string;
  source?: 'ranges' | 'inventory';
  state: 'running' | 'done' | 'cancelled';
  progress: { total: number; probed: number; responding: number; percent: number };
  found: Found[];
  proposals: { links: ProposedLink[]; linksInInventory?: number; devices: ProposedDevice[] };
}

const lines = (s: string): string[] => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
const slug = (s: string): string => s.toLowerCase().replace(/\(.*\)$/, '').replace(/[^a-z0-9_.:-]+/g, '-').replace(/^[^a-z0-9]+|-+$/g, '') || 'device';

export function DiscoveryView({ page }: ViewProps) {
  useStore(page.store, 'lang');
  const [cidrs, setCidrs] = useState('');
  const [communities, setCommunities] = useState('public');
  const [port, setPort] = useState('161');
  const [force, setForce] = useState(false);
  const [sweep, setSweep] = useState<Sweep | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  // Progress: re-read once a second while the sweep runs.
  useEffect(() => {
    if (!sweep || sweep.state !== 'running') return undefined;
    const timer = setTimeout(() => {
      http.get<Sweep>(`/discovery/${sweep.id}`).then(setSweep, (e: unknown) => setError((e as Error).message));
    }, 1000);
    return () => clearTimeout(timer);
  }, [sweep]);

  const fail = (e: unknown): void => setError(e instanceof ApiError ? `${e.message}${e.code ? ` (${e.code})` : ''}` : (e as Error).message);
  const start = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    setError(null);
    setNote(null);
    try {
      const body = { cidrs: lines(cidrs), snmp: { versions: ['2c'], communities: lines(communities), port: Number(port) || 161 }, ...(force ? { force: true } : {}) };
      const { id } = await http.post<{ id: string }>('/discovery', body);
      setSweep(await http.get<Sweep>(`/discovery/${id}`));
    } catch (e) {
      fail(e);
    }
  };
  const cancel = async (): Promise<void> => {
    if (!sweep) return;
    try {
      await http.del(`/discovery/${sweep.id}`);
      setSweep(await http.get<Sweep>(`/discovery/${sweep.id}`));
    } catch (e) {
      fail(e);
    }
  };
  const neighbours = async (): Promise<void> => {
    setError(null);
    setNote(null);
    try {
      const { id } = await http.post<{ id: string }>('/discovery/neighbours', {});
      setSweep(await http.get<Sweep>(`/discovery/${id}`));
    } catch (e) {
      fail(e);
    }
  };
  const acceptLink = async (l: ProposedLink): Promise<void> => {
    if (!sweep) return;
    try {
      const link = await http.post<{ id: string }>(`/discovery/${sweep.id}/links/accept`, { a: { device: l.a.device, interface: l.a.interface }, b: { device: l.b.device, interface: l.b.interface } });
      setNote(tx('linkAccepted', { id: link.id }));
      setSweep(await http.get<Sweep>(`/discovery/${sweep.id}`));
    } catch (e) {
      fail(e);
    }
  };
  // A found address, or a neighbour heard of (by its address, else by the sweep's proposal id).
  const accept = async (f: { address?: string; proposed?: string }, id: string): Promise<void> => {
    if (!sweep) return;
    try {
      await http.post(`/discovery/${sweep.id}/accept`, f.address ? { address: f.address, id } : { proposed: f.proposed, id });
      setNote(tx('accepted', { id }));
      setSweep(await http.get<Sweep>(`/discovery/${sweep.id}`));
    } catch (e) {
      fail(e);
    }
  };

  const p = sweep?.progress;
  return html`<div class="view-body" id="discovery-view">
    <h2>${tx('title')}</h2>
    <form class="discovery-form" onSubmit=${start}>
      <label>${tx('cidrs')}<textarea id="discovery-cidrs" rows="3" value=${cidrs} onInput=${(e: Event) => setCidrs((e.currentTarget as HTMLTextAreaElement).value)}></textarea></label>
      <label>${tx('communities')}<textarea id="discovery-communities" rows="2" value=${communities} onInput=${(e: Event) => setCommunities((e.currentTarget as HTMLTextAreaElement).value)}></textarea></label>
      <label>${tx('port')}<input id="discovery-port" type="number" min="1" max="65535" value=${port} onInput=${(e: Event) => setPort((e.currentTarget as HTMLInputElement).value)} /></label>
      <label><input id="discovery-force" type="checkbox" checked=${force} onChange=${(e: Event) => setForce((e.currentTarget as HTMLInputElement).checked)} /> ${tx('force')}</label>
      <button type="submit" id="discovery-start" disabled=${sweep?.state === 'running'}>${tx('start')}</button>
    </form>
    <p class="discovery-neighbours"><button type="button" id="discovery-neighbours" disabled=${sweep?.state === 'running'} onClick=${neighbours}>${tx('neighbours_start')}</button>
      <small>${tx('neighbours_hint')}</small></p>
    ${error ? html`<p class="error" role="alert" id="discovery-error">${error}</p>` : ''}
    ${note ? html`<p class="note" id="discovery-note">${note}</p>` : ''}
    ${sweep && p
      ? html`<section id="discovery-sweep" data-state=${sweep.state}>
          <p>${sweep.source === 'inventory' ? html`<em>${tx('source_inventory')}</em> · ` : ''}<strong>${tx(sweep.state)}</strong> · <span id="discovery-progress">${tx('progress', p)}</span>
            ${sweep.state === 'running' ? html` <button type="button" id="discovery-cancel" onClick=${cancel}>${tx('cancel')}</button>` : ''}</p>
          <progress max="100" value=${p.percent}></progress>
          <h3>${tx('found')}</h3>
          ${sweep.found.length === 0 ? html`<p class="empty">${tx('none')}</p>` : html`<table class="data-table" id="discovery-found"><thead><tr>
              <th>${tx('address')}</th><th>${tx('sysName')}</th><th>${tx('profile')}</th><th>${tx('kind')}</th><th>${tx('neighbours')}</th><th></th></tr></thead><tbody>
            ${sweep.found.map((f) => html`<tr data-address=${f.address}><td>${f.address}</td><td>${f.sysName}</td><td>${f.profile}</td><td>${named('kind', f.kind)}</td><td>${f.neighbours.length}</td>
              <td>${f.known ? tx('known', { id: f.known }) : html`<${AcceptButton} suggested=${slug(f.sysName || `dev-${f.address.replace(/\./g, '-')}`)} onAccept=${(id: string) => accept({ address: f.address }, id)} />`}</td></tr>`)}
          </tbody></table>`}
          <h3>${tx('links')}</h3>
          ${sweep.proposals.links.length === 0 ? html`<p class="empty">${tx('none')}</p>` : html`<table class="data-table" id="discovery-links"><tbody>
            ${sweep.proposals.links.map((l) => {
              const missing = !l.a.known ? l.a.device : !l.b.known ? l.b.device : undefined;
              return html`<tr data-link=${`${l.a.device}|${l.a.interface}|${l.b.device}|${l.b.interface}`}><td>${l.a.device} <small>${l.a.interface}</small></td><td>↔</td><td>${l.b.device} <small>${l.b.interface}</small></td><td>${tx('via')}: ${l.via.join(', ').toUpperCase()}</td>
                <td>${missing ? html`<small>${tx('acceptDeviceFirst', { id: missing })}</small>` : html`<button type="button" class="discovery-accept-link" onClick=${() => acceptLink(l)}>${tx('acceptLink')}</button>`}</td></tr>`;
            })}
          </tbody></table>`}
          ${sweep.proposals.linksInInventory ? html`<p class="note" id="discovery-links-known">${tx('linksInInventory', { n: sweep.proposals.linksInInventory })}</p>` : ''}
          <h3>${tx('proposedDevices')}</h3>
          <ul id="discovery-proposed">${sweep.proposals.devices.filter((d) => d.source === 'neighbour').map((d) => html`<li data-proposed=${d.id}>${d.name}${d.address ? html` <small>${d.address}</small>` : ''}
            <${AcceptButton} suggested=${d.id} onAccept=${(id: string) => accept(d.address ? { address: d.address } : { proposed: d.id }, id)} /></li>`)}</ul>
        </section>`
      : ''}
  </div>`;
}

function AcceptButton({ suggested, onAccept }: { suggested: string; onAccept: (id: string) => Promise<void> }) {
  const [id, setId] = useState(suggested);
  return html`<span class="discovery-accept"><input aria-label=${tx('newId')} value=${id} onInput=${(e: Event) => setId((e.currentTarget as HTMLInputElement).value)} />
    <button type="button" onClick=${() => onAccept(id)}>${tx('accept')}</button></span>`;
}
