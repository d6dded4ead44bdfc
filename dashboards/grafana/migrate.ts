/*
 * Grafana's dashboard migrations, the steps that matter for InfluxDB dashboards, so a dashboard saved
 * by any Grafana since 2.x imports as Grafana itself would open it. Grafana walks `schemaVersion` up one
 * block at a time (DashboardMigrator.updateSchema, public/app/features/dashboard/state/DashboardMigrator.ts
 * in grafana/grafana, "if (oldVersion < N)"); each step here is the block that produces version N, under
 * the same number. Then the angular panels Grafana 11 no longer draws are switched to their React
 * successors as Grafana does on load (PanelModel's autoMigrateAngular: graph -> timeseries,
 * singlestat -> stat, table-old -> table).
 *
 * Not ported, because Watchfloor's model has no place for what they produce or the importer already
 * covers them: 2-4 and 13 (graph legend, axis and threshold shapes of Grafana 1.x), 14 (sharedCrosshair),
 * 18-23, 25, 30-32, 34-39 (gauge options, links, value mappings, CloudWatch, tooltips, legends, table
 * cell options, transformations), 27 (repeat copies: the importer drops them with a note) and 33/36
 * (data source names: the importer turns them into references).
 */

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export interface MigrationNote {
  /** JSON path in the source file (rows[1].panels[2] for a pre-5.0 panel). */
  path: string;
  action: 'converted' | 'dropped';
  message: string;
}

export interface Migrated {
  /** A migrated copy; the input is not changed. */
  dashboard: Json;
  /** The schemaVersion the file declared (0 when absent, as Grafana reads it). */
  from: number;
  /** The steps that ran, in order. */
  steps: string[];
  notes: MigrationNote[];
  /** Where each panel object of the result came from in the file, for the importer's notes. */
  origins: WeakMap<object, string>;
}

/** The version the migrations lead to: Grafana 10.x's DASHBOARD_SCHEMA_VERSION, the model's default. */
export const TARGET_SCHEMA_VERSION = 39;

// Grafana's layout constants (public/app/core/constants.ts).
const GRID_CELL_HEIGHT = 30;
const GRID_CELL_VMARGIN = 8;
const GRID_COLUMN_COUNT = 24;
const DEFAULT_PANEL_SPAN = 4;
const DEFAULT_ROW_HEIGHT = 250;
const MIN_PANEL_HEIGHT = GRID_CELL_HEIGHT * 3;

interface StepContext {
  note(panelOrPath: object | string, action: MigrationNote['action'], message: string): void;
  origins: WeakMap<object, string>;
}
type Step = (d: Json, ctx: StepContext) => void;

/** Every panel wherever it sits: in pre-5.0 rows, at the top level, inside collapsed row panels. */
function eachPanel(d: Json, fn: (p: Json) => void): void {
  for (const row of arr(d.rows)) if (isObj(row)) for (const p of arr(row.panels)) if (isObj(p)) fn(p);
  for (const p of arr(d.panels)) {
    if (!isObj(p)) continue;
    fn(p);
    for (const c of arr(p.panels)) if (isObj(c)) fn(c);
  }
}
const variables = (d: Json): Json[] => (isObj(d.templating) ? arr(d.templating.list).filter(isObj) : []);

/** 6: variables of type "filter" or none are query variables. */
function variablesAreQueries(d: Json): void {
  for (const v of variables(d)) if (v.type === 'filter' || v.type === undefined) v.type = 'query';
}

/** 7: every target has a refId (A, B, ...), as getNextQueryLetter gives them. */
function targetRefIds(d: Json): void {
  eachPanel(d, (p) => {
    const targets = arr(p.targets).filter(isObj);
    const used = new Set(targets.map((t) => t.refId).filter((r) => typeof r === 'string' && r !== ''));
    for (const t of targets) {
      if (typeof t.refId === 'string' && t.refId !== '') continue;
      let i = 0;
      while (used.has(refIdOf(i))) i++;
      t.refId = refIdOf(i);
      used.add(t.refId);
    }
  });
}
const refIdOf = (i: number): string => (i < 26 ? String.fromCharCode(65 + i) : `${String.fromCharCode(65 + (Math.floor(i / 26) - 1))}${String.fromCharCode(65 + (i % 26))}`);

/** 8: the InfluxDB editor's first query shape (fields, tags, groupBy with interval/key, fill) becomes select parts. */
function influxdbSelectParts(d: Json, ctx: StepContext): void {
  eachPanel(d, (p) => {
    for (const t of arr(p.targets).filter(isObj)) {
      if (!(t.fields && t.tags && t.groupBy)) continue;
      if (t.rawQuery) {
        delete t.fields;
        delete t.fill;
        continue;
      }
      t.select = arr(t.fields).filter(isObj).map((f) => {
        const parts: Json[] = [{ type: 'field', params: [f.name] }, { type: f.func, params: [] }];
        if (f.mathExpr) parts.push({ type: 'math', params: [f.mathExpr] });
        if (f.asExpr) parts.push({ type: 'alias', params: [f.asExpr] });
        return parts;
      });
      delete t.fields;
      for (const part of arr(t.groupBy).filter(isObj)) {
        if (part.type === 'time' && part.interval) {
          part.params = [part.interval];
          delete part.interval;
        }
        if (part.type === 'tag' && part.key) {
          part.params = [part.key];
          delete part.key;
        }
      }
      if (t.fill) {
        (t.groupBy as unknown[]).push({ type: 'fill', params: [t.fill] });
        delete t.fill;
      }
      ctx.note(p, 'converted', `InfluxDB target ${String(t.refId ?? '')} in the pre-3.0 editor shape (fields) turned into select parts`);
    }
  });
}

/** 9: singlestat thresholds saved with a leading value ("0,50,80") lose it. */
function singlestatThresholds(d: Json): void {
  eachPanel(d, (p) => {
    if (p.type !== 'singlestat' && p.thresholds !== '') return;
    if (typeof p.thresholds !== 'string' || !p.thresholds) return;
    const k = p.thresholds.split(',');
    if (k.length >= 3) {
      k.shift();
      p.thresholds = k.join(',');
    }
  });
}

/** 12: variables' refresh becomes 0/1 and hideVariable/hideLabel become hide 2/1; graphs get yaxes from grid and y_formats. */
function variableRefreshAndGraphAxes(d: Json): void {
  for (const v of variables(d)) {
    v.refresh = v.refresh ? 1 : 0;
    if (v.hideVariable) v.hide = 2;
    else if (v.hideLabel) v.hide = 1;
  }
  eachPanel(d, (p) => {
    if (p.type !== 'graph' || !isObj(p.grid) || p.yaxes) return;
    const formats = arr(p.y_formats);
    p.yaxes = [
      { show: p['y-axis'], min: p.grid.leftMin, max: p.grid.leftMax, logBase: p.grid.leftLogBase, format: formats[0], label: p.leftYAxisLabel },
      { show: p['y-axis'], min: p.grid.rightMin, max: p.grid.rightMax, logBase: p.grid.rightLogBase, format: formats[1], label: p.rightYAxisLabel },
    ];
    for (const k of ['leftMin', 'leftMax', 'leftLogBase', 'rightMin', 'rightMax', 'rightLogBase']) delete p.grid[k];
    for (const k of ['y_formats', 'leftYAxisLabel', 'rightYAxisLabel', 'y-axis', 'x-axis']) delete p[k];
  });
}

/** A pixel height (250, "250px") in grid rows of 30 px + 8 px margin, at least 3 rows (getGridHeight). */
function gridHeight(height: unknown, fallback: number): number {
  let px = typeof height === 'string' ? parseInt(height.replace('px', ''), 10) : typeof height === 'number' ? height : NaN;
  if (!Number.isFinite(px)) return fallback;
  if (px < MIN_PANEL_HEIGHT) px = MIN_PANEL_HEIGHT;
  return Math.ceil(px / (GRID_CELL_HEIGHT + GRID_CELL_VMARGIN));
}

/**
 * The cells of one pre-5.0 row, filled left to right by panels of `span * 2` columns; a panel that does
 * not fit wraps below (Grafana's RowArea: `area[i]` is how tall column i is filled, relative to `yPos`).
 */
class RowArea {
  private readonly area: number[];
  constructor(
    private readonly height: number,
    public yPos: number,
  ) {
    this.area = new Array<number>(GRID_COLUMN_COUNT).fill(0);
  }

  addPanel(g: { x: number; y: number; w: number; h: number }): void {
    for (let i = g.x; i < g.x + g.w; i++) {
      if (!this.area[i] || g.y + g.h - this.yPos > (this.area[i] ?? 0)) this.area[i] = g.y + g.h - this.yPos;
    }
  }

  position(width: number, callOnce = false): { x: number; y: number } | undefined {
    let start: number | undefined;
    let end: number | undefined;
    const at = (i: number): number => this.area[i] ?? 0;
    for (let i = this.area.length - 1; i >= 0; i--) {
      if (this.height - at(i) <= 0) break;
      if (end === undefined) end = i;
      else if (i < this.area.length - 1 && at(i) <= at(i + 1)) start = i;
      else break;
    }
    if (start !== undefined && end !== undefined && end - start >= width - 1) return { x: start, y: Math.max(...this.area.slice(start)) };
    if (callOnce) return undefined;
    // Wrap to the next line of the row.
    this.yPos += this.height;
    this.area.fill(0);
    return this.position(width, true);
  }
}

/**
 * 16: pre-5.0 rows become panels on the 24-column grid (upgradeToGridLayout): each row's panels side by
 * side, `span` (of 12) times 2 columns wide, as tall as the row (or their own height), wrapping when a
 * line is full; a row panel is added for every row when any row is collapsed, titled or repeated.
 */
function rowsToGridLayout(d: Json, ctx: StepContext): void {
  if (!Array.isArray(d.rows)) return;
  const rows = d.rows.filter(isObj);
  const panels: unknown[] = Array.isArray(d.panels) ? d.panels : [];
  const ids = rows.flatMap((r) => arr(r.panels).filter(isObj).map((p) => (typeof p.id === 'number' ? p.id : 0)));
  let nextRowId = Math.max(0, ...ids) + 1;
  const showRows = rows.some((r) => r.collapse || r.showTitle || r.repeat);
  let yPos = 0;
  d.rows.forEach((row, ri) => {
    if (!isObj(row) || row.repeatIteration) return;
    const rowHeight = gridHeight(row.height ?? DEFAULT_ROW_HEIGHT, gridHeight(DEFAULT_ROW_HEIGHT, 7));
    let rowPanel: Json | undefined;
    if (showRows) {
      rowPanel = {
        id: nextRowId++, type: 'row', title: row.title, collapsed: row.collapse === true,
        ...(typeof row.repeat === 'string' && row.repeat ? { repeat: row.repeat } : {}),
        panels: [], gridPos: { x: 0, y: yPos, w: GRID_COLUMN_COUNT, h: rowHeight },
      };
      ctx.origins.set(rowPanel, `rows[${ri}]`);
      yPos++;
    }
    const area = new RowArea(rowHeight, yPos);
    for (const panel of arr(row.panels)) {
      if (!isObj(panel)) continue;
      const span = typeof panel.span === 'number' && panel.span > 0 ? panel.span : DEFAULT_PANEL_SPAN;
      if (typeof panel.minSpan === 'number') panel.minSpan = Math.min(GRID_COLUMN_COUNT, (GRID_COLUMN_COUNT / 12) * panel.minSpan);
      const w = Math.min(GRID_COLUMN_COUNT, Math.max(1, Math.floor(span) * (GRID_COLUMN_COUNT / 12)));
      const h = panel.height ? gridHeight(panel.height, rowHeight) : rowHeight;
      const at = area.position(w) ?? { x: 0, y: 0 };
      yPos = area.yPos;
      panel.gridPos = { x: at.x, y: yPos + at.y, w, h };
      area.addPanel(panel.gridPos as { x: number; y: number; w: number; h: number });
      delete panel.span;
      if (rowPanel && rowPanel.collapsed) (rowPanel.panels as unknown[]).push(panel);
      else panels.push(panel);
    }
    if (rowPanel) panels.push(rowPanel);
    if (!(rowPanel && rowPanel.collapsed)) yPos += rowHeight;
  });
  // DashboardModel sorts its panels by position once migrated (sortPanelsByGridPos).
  d.panels = panels
    .map((p, i) => ({ p, i }))
    .sort((a, b) => posOf(a.p).y - posOf(b.p).y || posOf(a.p).x - posOf(b.p).x || a.i - b.i)
    .map(({ p }) => p);
  delete d.rows;
}
const posOf = (p: unknown): { x: number; y: number } => {
  const g = isObj(p) && isObj(p.gridPos) ? p.gridPos : {};
  return { x: Number(g.x ?? 0), y: Number(g.y ?? 0) };
};

/** 17: minSpan (columns of 24) becomes maxPerRow, the largest factor of 24 not above 24 / minSpan. */
function minSpanToMaxPerRow(d: Json): void {
  const factors = [1, 2, 3, 4, 6, 8, 12, 24];
  eachPanel(d, (p) => {
    if (typeof p.minSpan === 'number' && p.minSpan > 0) {
      const max = GRID_COLUMN_COUNT / p.minSpan;
      const i = factors.findIndex((f) => f > max);
      const best = factors[(i === -1 ? factors.length : i) - 1];
      if (best !== undefined) p.maxPerRow = best;
    }
    delete p.minSpan;
  });
}

/** 24: Grafana 7 renamed the angular table (one with `styles`) to table-old. */
function angularTableToTableOld(d: Json): void {
  eachPanel(d, (p) => {
    if (p.type === 'table' && p.styles && p.table !== 'table2') p.type = 'table-old';
  });
}

/** 26: the React text panel of 7.0 betas ("text2") is the text panel. */
function text2ToText(d: Json): void {
  eachPanel(d, (p) => {
    if (p.type !== 'text2') return;
    p.type = 'text';
    if (isObj(p.options)) delete p.options.angular;
  });
}

/** 28: singlestat becomes stat, or gauge when it drew one (migrateSinglestat). */
function singlestatToStatOrGauge(d: Json, ctx: StepContext): void {
  eachPanel(d, (p) => {
    if (p.type === 'singlestat') fromSinglestat(p, ctx);
  });
}

/** 29: query variables refresh on dashboard load unless they refresh on time range change. */
function queryVariablesRefresh(d: Json): void {
  for (const v of variables(d)) if (v.type === 'query' && v.refresh !== 1 && v.refresh !== 2) v.refresh = 1;
}

/** Grafana's reducer ids for singlestat's valueName (fieldReducers with their aliases); mean otherwise. */
const REDUCERS: Record<string, string> = {
  avg: 'mean', current: 'lastNotNull', total: 'sum', min: 'min', max: 'max', first: 'first', delta: 'delta', diff: 'diff', range: 'range',
};

/**
 * The angular singlestat's options as the stat and gauge panels read them (sharedSingleStatPanelChangedHandler's
 * migrateFromAngularSinglestat, packages/grafana-ui/src/components/SingleStatShared/SingleStatBaseOptions.ts):
 * format -> unit, decimals, thresholds "50,80" with one colour more -> steps, gauge min/max, valueName -> calcs.
 */
function fromSinglestat(p: Json, ctx: StepContext): void {
  const gauge = isObj(p.gauge) && p.gauge.show === true;
  const from = String(p.type);
  p.type = gauge ? 'gauge' : 'stat';
  const defaults: Json = {};
  if (typeof p.format === 'string' && p.format) defaults.unit = p.format;
  if (typeof p.decimals === 'number') defaults.decimals = p.decimals;
  if (typeof p.thresholds === 'string' && p.thresholds && Array.isArray(p.colors)) {
    const levels = p.thresholds.split(',').map((s) => Number(s.trim()));
    const steps: Json[] = [];
    p.colors.forEach((color, i) => {
      const value = i === 0 ? null : levels[i - 1];
      if (value === null || (value !== undefined && Number.isFinite(value))) steps.push({ color: String(color), value });
    });
    if (steps.length > 0) defaults.thresholds = { mode: 'absolute', steps };
  }
  if (gauge && isObj(p.gauge)) {
    if (typeof p.gauge.minValue === 'number') defaults.min = p.gauge.minValue;
    if (typeof p.gauge.maxValue === 'number') defaults.max = p.gauge.maxValue;
  }
  p.fieldConfig = { defaults, overrides: [] };
  const calc = REDUCERS[String(p.valueName ?? 'avg')] ?? 'mean';
  p.options = { ...(isObj(p.options) ? p.options : {}), reduceOptions: { calcs: [calc], fields: typeof p.tableColumn === 'string' && p.tableColumn ? `/^${p.tableColumn}$/` : '', values: false } };
  const carried = Object.keys(defaults).join(', ');
  ctx.note(p, 'converted', `legacy panel type "${from}" converted to "${p.type}" (${carried ? `${carried} and ` : ''}the "${String(p.valueName ?? 'avg')}" value carried over; value mappings, prefix and postfix are not)`);
}

/** The y-axis of an angular graph as the time series panel reads it (graphToTimeseriesOptions: unit, decimals, min, max). */
function fromGraph(p: Json, ctx: StepContext): void {
  p.type = 'timeseries';
  const y = isObj(arr(p.yaxes)[0]) ? (arr(p.yaxes)[0] as Json) : {};
  const defaults: Json = isObj(p.fieldConfig) && isObj(p.fieldConfig.defaults) ? { ...p.fieldConfig.defaults } : {};
  if (typeof y.format === 'string' && y.format) defaults.unit = y.format;
  if (typeof y.decimals === 'number') defaults.decimals = y.decimals;
  for (const k of ['min', 'max'] as const) {
    const n = y[k] === null || y[k] === undefined || y[k] === '' ? NaN : Number(y[k]);
    if (Number.isFinite(n)) defaults[k] = n;
  }
  p.fieldConfig = { defaults, overrides: isObj(p.fieldConfig) ? arr(p.fieldConfig.overrides) : [] };
  const carried = ['unit', 'decimals', 'min', 'max'].filter((k) => defaults[k] !== undefined).join(', ');
  ctx.note(p, 'converted', `legacy panel type "graph" converted to "timeseries" (${carried ? `left axis ${carried} carried over; ` : ''}its other display options are not)`);
}

/** The schema steps, keyed by the schemaVersion each produces. */
export const MIGRATIONS: Readonly<Record<number, Step>> = {
  6: variablesAreQueries,
  7: targetRefIds,
  8: influxdbSelectParts,
  9: singlestatThresholds,
  12: variableRefreshAndGraphAxes,
  16: rowsToGridLayout,
  17: minSpanToMaxPerRow,
  24: angularTableToTableOld,
  26: text2ToText,
  28: singlestatToStatOrGauge,
  29: queryVariablesRefresh,
};

/** After the schema steps: angular panels switched to their successors whatever the version (autoMigrateAngular). */
function autoMigrateAngularPanels(d: Json, ctx: StepContext): void {
  eachPanel(d, (p) => {
    if (p.type === 'graph') fromGraph(p, ctx);
    else if (p.type === 'singlestat' || p.type === 'grafana-singlestat-panel') fromSinglestat(p, ctx);
    else if (p.type === 'table-old') {
      p.type = 'table';
      ctx.note(p, 'converted', 'legacy panel type "table-old" converted to "table" (its column styles are not carried over)');
    }
  });
}

/** Migrates a Grafana dashboard object from its schemaVersion to TARGET_SCHEMA_VERSION, then its angular panels. */
export function migrateDashboard(raw: Json): Migrated {
  const d = structuredClone(raw);
  const origins = new WeakMap<object, string>();
  arr(d.rows).forEach((row, ri) => {
    if (isObj(row)) arr(row.panels).forEach((p, pi) => isObj(p) && origins.set(p, `rows[${ri}].panels[${pi}]`));
  });
  arr(d.panels).forEach((p, i) => {
    if (!isObj(p)) return;
    origins.set(p, `panels[${i}]`);
    arr(p.panels).forEach((c, ci) => isObj(c) && origins.set(c, `panels[${i}].panels[${ci}]`));
  });
  const notes: MigrationNote[] = [];
  const ctx: StepContext = {
    origins,
    note: (at, action, message) => {
      // Expanded repeat copies are dropped by the importer, with its own note; converting them is no news.
      if (isObj(at) && (typeof at.repeatPanelId === 'number' || at.repeatIteration !== undefined)) return;
      notes.push({ path: typeof at === 'string' ? at : (origins.get(at) ?? '(panel)'), action, message });
    },
  };
  const from = typeof d.schemaVersion === 'number' && Number.isFinite(d.schemaVersion) ? d.schemaVersion : 0;
  const steps: string[] = [];
  for (const [version, step] of Object.entries(MIGRATIONS).sort(([a], [b]) => Number(a) - Number(b))) {
    if (from >= Number(version)) continue;
    step(d, ctx);
    steps.push(`${version}:${step.name}`);
  }
  if (from < TARGET_SCHEMA_VERSION) d.schemaVersion = TARGET_SCHEMA_VERSION;
  autoMigrateAngularPanels(d, ctx);
  return { dashboard: d, from, steps, notes, origins };
}
