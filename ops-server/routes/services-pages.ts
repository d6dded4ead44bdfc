/*
 * Server-rendered pages of services: the public status page and the printable monthly report, in
 * Vietnamese and English. No script (the CSP forbids inline ones and none is needed); every value is
 * escaped. The public page is built from publicStatus(), which holds only what may be shown to anyone.
 */
import { bucketAvailability, lastDays, localDate, summarize, type MonthlyReport, type ServiceBook, type ServiceState } from '../../rules/index.ts';

export type Lang = 'vi' | 'en';

/** What /status.json answers and /status draws: public services only, and of them no check, device, address or reason. */
export interface PublicStatus {
  generatedAt: number;
  timeZone: string;
  overall: ServiceState;
  services: PublicService[];
  incidents: { service: string; name: string; state: ServiceState; since: number | null; until?: number; message?: string }[];
}
export interface PublicService {
  id: string;
  name: string;
  state: ServiceState;
  message?: string;
  /** Availability over the 90 days, percent, null with no data. */
  availabilityPct: number | null;
  days: { date: string; availabilityPct: number | null }[];
}

const BAR_DAYS = 90;
const ORDER: ServiceState[] = ['down', 'degraded', 'maintenance', 'up', 'pending'];

/** The public status of the services marked public, from the book and the stored results. */
export async function publicStatus(book: ServiceBook, now: number, timeZone: string): Promise<PublicStatus> {
  const bounds = lastDays(now, BAR_DAYS, timeZone);
  bounds[bounds.length - 1] = now;
  const from = bounds[0] as number;
  const services: PublicService[] = [];
  const incidents: PublicStatus['incidents'] = [];
  for (const s of book.list().filter((x) => x.public)) {
    const segments = await book.timeline(s.id, from, now);
    const status = book.status(s.id, now);
    const overall = summarize(segments, from, now, () => '');
    const days = bucketAvailability(segments, bounds).map((b) => ({ date: localDate(b.from, timeZone), availabilityPct: b.availabilityPct }));
    const p: PublicService = { id: s.id, name: s.name, state: status.state, availabilityPct: overall.availabilityPct, days };
    if (s.publicMessage) p.message = s.publicMessage;
    services.push(p);
    if (status.state === 'down' || status.state === 'degraded' || status.state === 'maintenance') {
      const ongoing = overall.incidents.find((i) => i.ongoing);
      const since = status.state === 'maintenance' ? (status.maintenance?.from ?? null) : status.state === 'down' ? (ongoing?.from ?? null) : null;
      const inc: PublicStatus['incidents'][number] = { service: s.id, name: s.name, state: status.state, since };
      if (status.state === 'maintenance' && status.maintenance) inc.until = status.maintenance.to;
      if (s.publicMessage) inc.message = s.publicMessage;
      incidents.push(inc);
    }
  }
  const overall = ORDER.find((st) => services.some((s) => s.state === st)) ?? 'pending';
  return { generatedAt: now, timeZone, overall, services, incidents };
}

const T = {
  vi: {
    title: 'Trạng thái dịch vụ',
    reportTitle: 'Báo cáo mức độ sẵn sàng dịch vụ',
    up: 'Hoạt động bình thường',
    degraded: 'Suy giảm',
    down: 'Gián đoạn',
    maintenance: 'Đang bảo trì',
    pending: 'Chưa có dữ liệu',
    overall: { up: 'Tất cả dịch vụ hoạt động bình thường', degraded: 'Một số dịch vụ bị suy giảm', down: 'Một số dịch vụ đang gián đoạn', maintenance: 'Một số dịch vụ đang bảo trì', pending: 'Chưa có dữ liệu' },
    incidents: 'Sự cố hiện tại',
    noIncidents: 'Không có sự cố nào.',
    since: 'từ',
    until: 'đến',
    days: '90 ngày qua',
    today: 'Hôm nay',
    noData: 'không có dữ liệu',
    availability: 'Mức độ sẵn sàng',
    updated: 'Cập nhật lúc',
    noServices: 'Chưa có dịch vụ công khai nào.',
    month: 'Tháng',
    service: 'Dịch vụ',
    owner: 'Đơn vị',
    downtime: 'Thời gian gián đoạn',
    maintenanceTime: 'Thời gian bảo trì',
    incidentCount: 'Số sự cố',
    slo: 'Cam kết (SLO)',
    sloMet: 'Đạt',
    sloMissed: 'Không đạt',
    all: 'Tất cả dịch vụ',
    incidentList: 'Danh sách sự cố',
    from: 'Bắt đầu',
    to: 'Kết thúc',
    duration: 'Thời lượng',
    reason: 'Nguyên nhân',
    ongoing: 'đang diễn ra',
    timeZone: 'Múi giờ',
    generated: 'Lập lúc',
    print: 'In trang này bằng Ctrl+P.',
  },
  en: {
    title: 'Service status',
    reportTitle: 'Service availability report',
    up: 'Operational',
    degraded: 'Degraded',
    down: 'Outage',
    maintenance: 'Under maintenance',
    pending: 'No data yet',
    overall: { up: 'All services are operational', degraded: 'Some services are degraded', down: 'Some services are down', maintenance: 'Some services are under maintenance', pending: 'No data yet' },
    incidents: 'Current incidents',
    noIncidents: 'No incidents.',
    since: 'since',
    until: 'until',
    days: 'Last 90 days',
    today: 'Today',
    noData: 'no data',
    availability: 'Availability',
    updated: 'Updated',
    noServices: 'No public services yet.',
    month: 'Month',
    service: 'Service',
    owner: 'Owner',
    downtime: 'Downtime',
    maintenanceTime: 'Maintenance',
    incidentCount: 'Incidents',
    slo: 'SLO',
    sloMet: 'Met',
    sloMissed: 'Missed',
    all: 'All services',
    incidentList: 'Incidents',
    from: 'From',
    to: 'To',
    duration: 'Duration',
    reason: 'Reason',
    ongoing: 'ongoing',
    timeZone: 'Time zone',
    generated: 'Generated',
    print: 'Print this page with Ctrl+P.',
  },
} as const;

const esc = (v: unknown): string =>
  String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** A local date-time in the zone, "2026-12-01 08:30". */
function when(ts: number, timeZone: string): string {
  const f = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return f.format(ts);
}

/** "2 h 05 min", "45 s". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const m = Math.round(seconds / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const pct = (p: number | null, lang: Lang): string => (p === null ? T[lang].noData : `${p.toFixed(p === 100 ? 0 : 2)} %`);

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:960px;margin:0 auto;padding:24px}
h1{font-size:1.6rem;margin:0 0 16px}h2{font-size:1.15rem;margin:24px 0 8px}
.banner{padding:14px 18px;border-radius:6px;color:#fff;font-weight:600;margin-bottom:20px}
.up{background:#1f9d55}.degraded{background:#d69e2e}.down{background:#c53030}.maintenance{background:#3182ce}.pending{background:#718096}
.svc{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:14px 16px;margin-bottom:12px}
.svc header{display:flex;justify-content:space-between;gap:12px;align-items:baseline}
.state{font-size:.9rem;padding:2px 8px;border-radius:10px;color:#fff}
.bars{display:flex;gap:2px;margin:10px 0 4px;height:28px}
.bars span{flex:1;border-radius:2px}.bars .none{background:#cbd5e0}.bars .full{background:#1f9d55}.bars .some{background:#d69e2e}.bars .bad{background:#c53030}
.legend{display:flex;justify-content:space-between;font-size:.8rem;color:#4a5568}
.msg{margin:6px 0 0;color:#2d3748}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #cbd5e0;padding:6px 8px;text-align:left;font-size:.9rem}
th{background:#edf2f7}.num{text-align:right}.met{color:#1f6f3f;font-weight:600}.missed{color:#9b2c2c;font-weight:600}
footer{margin-top:24px;font-size:.8rem;color:#4a5568}nav a{margin-right:8px}
@media print{body{background:#fff}main{max-width:none;padding:0}nav,.hint{display:none}.svc{break-inside:avoid}}
`;

function page(lang: Lang, title: string, body: string, refresh = false): string {
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${refresh ? '<meta http-equiv="refresh" content="60">' : ''}<title>${esc(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>
`;
}

/** The public status page (no login): nothing in it comes from outside publicStatus(). */
export function renderStatusPage(s: PublicStatus, lang: Lang): string {
  const t = T[lang];
  const other = lang === 'vi' ? 'en' : 'vi';
  const bars = (svc: PublicService): string =>
    svc.days
      .map((d) => {
        const cls = d.availabilityPct === null ? 'none' : d.availabilityPct >= 99.99 ? 'full' : d.availabilityPct >= 99 ? 'some' : 'bad';
        return `<span class="${cls}" title="${esc(d.date)}: ${esc(pct(d.availabilityPct, lang))}"></span>`;
      })
      .join('');
  const services = s.services
    .map(
      (svc) => `<section class="svc"><header><strong>${esc(svc.name)}</strong><span class="state ${svc.state}">${esc(t[svc.state])}</span></header>
<div class="bars" aria-label="${esc(t.days)}">${bars(svc)}</div>
<div class="legend"><span>${esc(t.days)}</span><span>${esc(t.availability)}: ${esc(pct(svc.availabilityPct, lang))}</span><span>${esc(t.today)}</span></div>
${svc.message ? `<p class="msg">${esc(svc.message)}</p>` : ''}</section>`,
    )
    .join('\n');
  const incidents =
    s.incidents.length === 0
      ? `<p>${esc(t.noIncidents)}</p>`
      : `<ul>${s.incidents
          .map(
            (i) =>
              `<li><strong>${esc(i.name)}</strong>: ${esc(t[i.state])}${i.since !== null ? ` ${esc(t.since)} ${esc(when(i.since, s.timeZone))}` : ''}${i.until !== undefined ? ` ${esc(t.until)} ${esc(when(i.until, s.timeZone))}` : ''}${i.message ? ` — ${esc(i.message)}` : ''}</li>`,
          )
          .join('')}</ul>`;
  const body = `<nav><a href="?lang=${other}" hreflang="${other}">${other === 'en' ? 'English' : 'Tiếng Việt'}</a></nav>
<h1>${esc(t.title)}</h1>
<div class="banner ${s.overall}">${esc(t.overall[s.overall])}</div>
<h2>${esc(t.incidents)}</h2>${incidents}
${s.services.length === 0 ? `<p>${esc(t.noServices)}</p>` : services}
<footer>${esc(t.updated)} ${esc(when(s.generatedAt, s.timeZone))} (${esc(s.timeZone)})</footer>`;
  return page(lang, t.title, body, true);
}

/** The printable monthly report (behind the login: incident reasons are internal). */
export function renderReportPage(r: MonthlyReport, lang: Lang): string {
  const t = T[lang];
  const slo = (met: boolean | null): string => (met === null ? '—' : met ? `<span class="met">${esc(t.sloMet)}</span>` : `<span class="missed">${esc(t.sloMissed)}</span>`);
  const rows = r.services
    .map(
      (s) =>
        `<tr><td>${esc(s.name)}<br><small>${esc(s.id)}</small></td><td>${esc(s.owner ?? '')}</td><td class="num">${esc(pct(s.availabilityPct, lang))}</td><td class="num">${esc(duration(s.downtimeSeconds))}</td><td class="num">${esc(duration(s.maintenanceSeconds))}</td><td class="num">${s.incidents.length}</td><td>${s.sloTargetPct !== undefined ? `${esc(s.sloTargetPct)} % ` : ''}${slo(s.sloMet)}</td></tr>`,
    )
    .join('\n');
  const o = r.overall;
  const total = `<tr><th>${esc(t.all)}</th><th></th><th class="num">${esc(pct(o.availabilityPct, lang))}</th><th class="num">${esc(duration(o.downtimeSeconds))}</th><th></th><th class="num">${o.incidents}</th><th>${o.sloTotal > 0 ? `${o.sloMet}/${o.sloTotal}` : '—'}</th></tr>`;
  const incidents = r.services
    .filter((s) => s.incidents.length > 0)
    .map(
      (s) =>
        `<h3>${esc(s.name)}</h3><table><tr><th>${esc(t.from)}</th><th>${esc(t.to)}</th><th>${esc(t.duration)}</th><th>${esc(t.reason)}</th></tr>${s.incidents
          .map(
            (i) =>
              `<tr><td>${esc(when(i.from, r.timeZone))}</td><td>${i.ongoing ? esc(t.ongoing) : esc(when(i.to, r.timeZone))}</td><td class="num">${esc(duration(Math.round((i.to - i.from) / 1000)))}</td><td>${esc(i.reason)}</td></tr>`,
          )
          .join('')}</table>`,
    )
    .join('\n');
  const body = `<nav class="hint">${esc(t.print)}</nav>
<h1>${esc(t.reportTitle)} — ${esc(t.month)} ${esc(r.month)}</h1>
<p>${esc(t.timeZone)}: ${esc(r.timeZone)} · ${esc(t.generated)} ${esc(when(r.generatedAt, r.timeZone))}</p>
<table><tr><th>${esc(t.service)}</th><th>${esc(t.owner)}</th><th>${esc(t.availability)}</th><th>${esc(t.downtime)}</th><th>${esc(t.maintenanceTime)}</th><th>${esc(t.incidentCount)}</th><th>${esc(t.slo)}</th></tr>
${rows}
${total}</table>
${incidents ? `<h2>${esc(t.incidentList)}</h2>${incidents}` : ''}`;
  return page(lang, `${t.reportTitle} ${r.month}`, body);
}
