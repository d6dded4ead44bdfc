import { readFileSync } from 'node:fs';

export const realDashboardsDir = '/work/shared/reference/grafana/real-dashboards';
export const grafanaSchemaDir = '/work/shared/reference/grafana';

interface RawPanel {
  targets?: { query?: string; rawQuery?: boolean }[];
  panels?: RawPanel[];
}

/** Every raw InfluxQL query in a real dashboard: the panels' raw targets and the templating variables' queries. */
export function influxqlQueriesOf(file: string): string[] {
  const d = JSON.parse(readFileSync(`${realDashboardsDir}/${file}`, 'utf8')) as { panels: RawPanel[]; templating: { list: { type: string; query?: unknown }[] } };
  const out = new Set<string>();
  const walk = (panels: RawPanel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.rawQuery && typeof t.query === 'string') out.add(t.query);
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  for (const v of d.templating.list) if (v.type === 'query' && typeof v.query === 'string') out.add(v.query);
  return [...out];
}

/** What Grafana does before sending: $timeFilter, $__interval and template variables replaced. */
export function interpolate(query: string, from: number, to: number, value: string): string {
  return query
    .replace(/\$timeFilter/g, `time >= ${from}ms and time <= ${to}ms`)
    .replace(/\$__interval/g, '1m')
    .replace(/\$\{[A-Za-z_]\w*(:\w+)?\}|\$[A-Za-z_]\w*|\[\[[A-Za-z_]\w*\]\]/g, value);
}
