import type { Dashboard, Panel } from './model.ts';

/** The data source every exported panel names: a dashboard variable, so the importer picks their InfluxDB (or Watchfloor's /query). */
const DATASOURCE = { type: 'influxdb', uid: '${datasource}' };

const reduceOptions = { calcs: ['lastNotNull'], fields: '', values: false };
const legend = { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] };

/** Grafana's defaults for the options each panel plugin requires (panels/*.schema.json, Options.required). */
const DEFAULT_OPTIONS: Record<string, Record<string, unknown>> = {
  timeseries: { legend, tooltip: { mode: 'multi', sort: 'none' } },
  stat: { graphMode: 'area', colorMode: 'value', justifyMode: 'auto', textMode: 'auto', wideLayout: true, showPercentChange: false, reduceOptions, percentChangeColorMode: 'standard', orientation: 'auto' },
  gauge: { showThresholdLabels: false, showThresholdMarkers: true, sizing: 'auto', minVizWidth: 75, minVizHeight: 75, reduceOptions, orientation: 'auto' },
  bargauge: { displayMode: 'gradient', valueMode: 'color', namePlacement: 'auto', showUnfilled: true, sizing: 'auto', minVizWidth: 8, minVizHeight: 16, legend, reduceOptions, maxVizHeight: 300, orientation: 'horizontal' },
  table: { frameIndex: 0, showHeader: true },
};

/** Grafana JSON for a dashboard: a `datasource` variable of type influxdb, and every panel and target pointed at it. */
export function toGrafanaJson(d: Dashboard): Record<string, unknown> {
  const withSource = (p: Panel): Panel => {
    if (p.type === 'row') return { ...p, panels: p.panels.map((c) => withSource(c) as typeof c) };
    if (p.type === 'text') return p;
    return { ...p, options: { ...DEFAULT_OPTIONS[p.type], ...p.options }, datasource: DATASOURCE, targets: p.targets.map((t) => ({ ...t, datasource: DATASOURCE })) };
  };
  return {
    uid: d.uid,
    title: d.title,
    ...(d.description ? { description: d.description } : {}),
    tags: d.tags,
    timezone: d.timezone,
    editable: d.editable,
    refresh: d.refresh,
    time: d.time,
    schemaVersion: d.schemaVersion,
    version: d.version,
    annotations: d.annotations,
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', label: 'InfluxDB (or Watchfloor /query)', query: 'influxdb', hide: 0, multi: false, includeAll: false, options: [] },
        ...d.templating.list.map((v) => (v.type === 'query' ? { ...v, datasource: DATASOURCE } : v)),
      ],
    },
    panels: d.panels.map(withSource),
  };
}
