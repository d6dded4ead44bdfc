/**
 * The monthly availability report a director is handed: per service its availability over the
 * calendar month (in the site's time zone), downtime, incidents and whether the SLO target was met
 * over that month; and one line for all. As data (JSON, the printable page) and as CSV.
 */
import type { ServiceBook } from './book.ts';
import type { Incident } from './availability.ts';
import { monthBounds } from './calendar.ts';

export interface ServiceReportRow {
  id: string;
  name: string;
  owner?: string;
  availabilityPct: number | null;
  downtimeSeconds: number;
  maintenanceSeconds: number;
  noDataSeconds: number;
  incidents: Incident[];
  sloTargetPct?: number;
  /** null when there is no SLO or nothing was measured. */
  sloMet: boolean | null;
}

export interface MonthlyReport {
  month: string;
  timeZone: string;
  from: number;
  to: number;
  generatedAt: number;
  services: ServiceReportRow[];
  /** All services: the mean of their availabilities, incidents and downtime summed, SLOs met of those with one. */
  overall: { availabilityPct: number | null; downtimeSeconds: number; incidents: number; sloMet: number; sloTotal: number };
}

/** The report of `month` ("2026-11"); a month still running is reported up to `now`. `ids` narrows it to some services. */
export async function monthlyReport(book: ServiceBook, month: string, timeZone: string, now: number, ids?: readonly string[]): Promise<MonthlyReport | undefined> {
  const bounds = monthBounds(month, timeZone);
  if (!bounds) return undefined;
  const to = Math.max(bounds.from, Math.min(bounds.to, now));
  const services = book.list().filter((s) => !ids || ids.includes(s.id));
  const rows: ServiceReportRow[] = [];
  for (const s of services) {
    const a = await book.availability(s.id, bounds.from, to);
    const row: ServiceReportRow = {
      id: s.id,
      name: s.name,
      availabilityPct: a.availabilityPct,
      downtimeSeconds: a.downtimeSeconds,
      maintenanceSeconds: a.maintenanceSeconds,
      noDataSeconds: a.noDataSeconds,
      incidents: a.incidents,
      sloMet: s.slo && a.availabilityPct !== null ? a.availabilityPct >= s.slo.availabilityPct : null,
    };
    if (s.owner !== undefined) row.owner = s.owner;
    if (s.slo) row.sloTargetPct = s.slo.availabilityPct;
    rows.push(row);
  }
  const measured = rows.filter((r) => r.availabilityPct !== null).map((r) => r.availabilityPct as number);
  const withSlo = rows.filter((r) => r.sloMet !== null);
  return {
    month,
    timeZone,
    from: bounds.from,
    to,
    generatedAt: now,
    services: rows,
    overall: {
      availabilityPct: measured.length > 0 ? Math.round((measured.reduce((a, b) => a + b, 0) / measured.length) * 10_000) / 10_000 : null,
      downtimeSeconds: rows.reduce((a, r) => a + r.downtimeSeconds, 0),
      incidents: rows.reduce((a, r) => a + r.incidents.length, 0),
      sloMet: withSlo.filter((r) => r.sloMet).length,
      sloTotal: withSlo.length,
    },
  };
}

const CSV_HEADER = ['month', 'service_id', 'service_name', 'owner', 'availability_pct', 'downtime_seconds', 'maintenance_seconds', 'no_data_seconds', 'incidents', 'slo_target_pct', 'slo_met'];

/** RFC 4180 CSV, one row per service and a last row `*` for all; a cell a spreadsheet would run as a formula is quoted with a leading '. */
export function reportCsv(r: MonthlyReport): string {
  const rows: unknown[][] = [CSV_HEADER];
  for (const s of r.services) {
    rows.push([r.month, s.id, s.name, s.owner ?? '', s.availabilityPct ?? '', s.downtimeSeconds, s.maintenanceSeconds, s.noDataSeconds, s.incidents.length, s.sloTargetPct ?? '', s.sloMet === null ? '' : s.sloMet ? 'yes' : 'no']);
  }
  const o = r.overall;
  rows.push([r.month, '*', 'all services', '', o.availabilityPct ?? '', o.downtimeSeconds, '', '', o.incidents, '', o.sloTotal > 0 ? `${o.sloMet}/${o.sloTotal}` : '']);
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

function csvCell(v: unknown): string {
  let s = String(v);
  // OWASP CSV injection: a leading = + - @ (or tab/CR) would be a formula in Excel or LibreOffice.
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
