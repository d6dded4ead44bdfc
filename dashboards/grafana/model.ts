/*
 * Grafana's classic dashboard JSON model (schemaVersion-numbered, "v1"), the part Watchfloor emits and
 * understands, in zod. Field names and shapes follow Grafana's own kind (kinds/dashboard/dashboard_kind.cue,
 * as JSON Schema in ../shared/reference/grafana/dashboard.schema.json): a dashboard holds panels laid out
 * on a 24-column grid (gridPos), rows (collapsed rows hold their panels), templating variables and targets.
 */
import { z } from 'zod';

/** The panel types Watchfloor defines and renders. */
export const PANEL_TYPES = ['timeseries', 'stat', 'gauge', 'bargauge', 'table', 'text'] as const;
export type PanelType = (typeof PANEL_TYPES)[number];

export const GridPos = z.strictObject({
  h: z.number().int().positive(),
  w: z.number().int().min(1).max(24),
  x: z.number().int().min(0).max(23),
  y: z.number().int().min(0),
});

export const DataSourceRef = z.strictObject({ type: z.string().optional(), uid: z.string().optional() });

/** An InfluxQL target, as Grafana's InfluxDB data source stores a raw query. */
export const Target = z.strictObject({
  refId: z.string().min(1),
  query: z.string().min(1),
  rawQuery: z.literal(true).default(true),
  resultFormat: z.enum(['time_series', 'table']).default('time_series'),
  alias: z.string().optional(),
  datasource: DataSourceRef.optional(),
});
export type Target = z.infer<typeof Target>;

export const Threshold = z.strictObject({ color: z.string(), value: z.number().nullable() });

export const FieldConfig = z.strictObject({
  defaults: z
    .strictObject({
      unit: z.string().optional(),
      decimals: z.number().optional(),
      min: z.number().optional(),
      max: z.number().optional(),
      thresholds: z.strictObject({ mode: z.enum(['absolute', 'percentage']), steps: z.array(Threshold).min(1) }).optional(),
    })
    .default({}),
  overrides: z.array(z.unknown()).default([]),
});

const panelBase = {
  id: z.number().int().nonnegative(),
  title: z.string().default(''),
  description: z.string().optional(),
  gridPos: GridPos,
  datasource: DataSourceRef.optional(),
  repeat: z.string().optional(),
  repeatDirection: z.enum(['h', 'v']).optional(),
  maxPerRow: z.number().int().positive().optional(),
};

export const DataPanel = z.strictObject({
  ...panelBase,
  type: z.enum(['timeseries', 'stat', 'gauge', 'bargauge', 'table']),
  targets: z.array(Target).default([]),
  fieldConfig: FieldConfig.prefault({}),
  options: z.record(z.string(), z.unknown()).default({}),
  interval: z.string().optional(),
});
export type DataPanel = z.infer<typeof DataPanel>;

export const TextPanel = z.strictObject({
  ...panelBase,
  type: z.literal('text'),
  options: z.strictObject({ mode: z.enum(['markdown', 'html', 'code']).default('markdown'), content: z.string() }),
});

export const LeafPanel = z.discriminatedUnion('type', [DataPanel, TextPanel]);
export type LeafPanel = z.infer<typeof LeafPanel>;

export const RowPanel = z.strictObject({
  id: z.number().int().nonnegative(),
  type: z.literal('row'),
  title: z.string().default(''),
  gridPos: GridPos,
  collapsed: z.boolean().default(false),
  /** A collapsed row keeps its panels inside; an open row's panels follow it at the top level. */
  panels: z.array(LeafPanel).default([]),
  repeat: z.string().optional(),
  datasource: DataSourceRef.optional(),
});

export const Panel = z.discriminatedUnion('type', [DataPanel, TextPanel, RowPanel]);
export type Panel = z.infer<typeof Panel>;

export const Variable = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  type: z.enum(['query', 'custom', 'constant', 'datasource', 'interval', 'textbox']),
  label: z.string().optional(),
  query: z.string().default(''),
  datasource: DataSourceRef.optional(),
  multi: z.boolean().default(false),
  includeAll: z.boolean().default(false),
  refresh: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  regex: z.string().optional(),
  hide: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
  current: z.strictObject({ text: z.union([z.string(), z.array(z.string())]), value: z.union([z.string(), z.array(z.string())]) }).optional(),
  options: z.array(z.strictObject({ text: z.string(), value: z.string(), selected: z.boolean() })).default([]),
});
export type Variable = z.infer<typeof Variable>;

export const Dashboard = z.strictObject({
  uid: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'a Grafana uid: letters, digits, "_" or "-", at most 40'),
  title: z.string().min(1),
  description: z.string().optional(),
  tags: z.array(z.string()).default([]),
  timezone: z.string().default('browser'),
  editable: z.boolean().default(true),
  refresh: z.string().default('30s'),
  time: z.strictObject({ from: z.string(), to: z.string() }).default({ from: 'now-6h', to: 'now' }),
  schemaVersion: z.number().int().default(39),
  version: z.number().int().default(1),
  templating: z.strictObject({ list: z.array(Variable) }).default({ list: [] }),
  annotations: z.strictObject({ list: z.array(z.record(z.string(), z.unknown())) }).default({ list: [] }),
  panels: z.array(Panel),
});
export type Dashboard = z.infer<typeof Dashboard>;
export type DashboardInput = z.input<typeof Dashboard>;
