/*
 * Import of dashboards exported from Grafana, old and new: first migrated as Grafana migrates them
 * (./migrate.ts: pre-5.0 rows to the grid, old InfluxDB target shapes, graph/singlestat/table-old to
 * timeseries/stat/gauge/table), then mapped: `__inputs` placeholders, string data sources (pre-8.3),
 * collapsed rows holding their panels, repeated panels saved with their expanded copies, InfluxQL
 * builder targets. What cannot be mapped onto the model is listed in the report with its JSON path in
 * the source file, never dropped silently.
 */
import { z } from 'zod';
import { migrateDashboard } from './migrate.ts';
import { Dashboard, DataPanel, type LeafPanel, type Panel, type Target, type Variable } from './model.ts';

export interface ImportNote {
  /** JSON path in the source file, e.g. panels[3].panels[0].targets[1]. */
  path: string;
  /** What happened: converted (mapped with a change), dropped (not mappable), kept-as-is. */
  action: 'converted' | 'dropped';
  message: string;
}

export interface ImportResult {
  dashboard: Dashboard;
  notes: ImportNote[];
}

/** A dashboard file that is not JSON or not a dashboard; `path` names where. */
export class DashboardImportError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'DashboardImportError';
  }
}

const MODERN = new Set(['timeseries', 'stat', 'gauge', 'bargauge', 'table']);
/** The panels whose options hold reduceOptions (which value of the series they show: last, mean, ...). */
const REDUCING = new Set(['stat', 'gauge', 'bargauge']);

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses Grafana JSON text (a truncated or corrupt file is refused with its position). */
export function importGrafanaText(text: string): ImportResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DashboardImportError('(file)', `not valid JSON: ${(err as Error).message}`);
  }
  return importGrafana(raw);
}

/** Maps a Grafana dashboard object onto the model, with a note for everything converted or dropped. */
export function importGrafana(input: unknown): ImportResult {
  if (!isObj(input)) throw new DashboardImportError('(root)', 'a dashboard is a JSON object');
  const migrated = migrateDashboard(input);
  const raw = migrated.dashboard;
  if (!Array.isArray(raw.panels)) throw new DashboardImportError(input.rows !== undefined ? 'rows' : 'panels', input.rows !== undefined ? 'expected an array of rows' : 'expected an array of panels');
  const notes: ImportNote[] = [];
  const note = (path: string, action: ImportNote['action'], message: string): void => void notes.push({ path, action, message });
  if (migrated.steps.length > 0) {
    note('schemaVersion', 'converted', `migrated from schemaVersion ${migrated.from} as Grafana does (steps ${migrated.steps.join(', ')})`);
  }
  notes.push(...migrated.notes);
  // Notes name the panel where it is in the file (rows[1].panels[2] before Grafana 5), not where migration put it.
  const origin = (p: Json, path: string): string => migrated.origins.get(p) ?? path;

  // __inputs: "${DS_X}" placeholders that Grafana asks the importer to bind; here they become the influxdb data source.
  const inputs = new Map<string, string>();
  if (Array.isArray(raw.__inputs)) {
    raw.__inputs.forEach((inp, i) => {
      if (!isObj(inp) || typeof inp.name !== 'string') return;
      if (inp.type === 'datasource') inputs.set(inp.name, String(inp.pluginId ?? 'influxdb'));
      else if (inp.type === 'constant') inputs.set(inp.name, String(inp.value ?? ''));
      note(`__inputs[${i}]`, 'converted', `input ${inp.name} (${String(inp.type)}) bound to ${inp.type === 'datasource' ? 'the dashboard\'s datasource' : `"${String(inp.value ?? '')}"`}`);
    });
  }

  const datasource = (v: unknown, path: string): { type?: string; uid?: string } | undefined => {
    if (v === null || v === undefined) return undefined;
    if (typeof v === 'string') {
      note(path, 'converted', `string data source "${v}" turned into a reference`);
      return { type: 'influxdb', uid: v };
    }
    if (isObj(v)) return { ...(typeof v.type === 'string' ? { type: v.type } : {}), ...(typeof v.uid === 'string' ? { uid: v.uid } : {}) };
    return undefined;
  };

  let nextId = 1;
  const leaf = (p: Json, at: string): LeafPanel | undefined => {
    const path = origin(p, at);
    const type = String(p.type ?? '');
    if (typeof p.repeatPanelId === 'number' || p.repeatIteration !== undefined) {
      note(path, 'dropped', `expanded copy of repeated panel ${String(p.repeatPanelId)}: Grafana recreates it from the original's "repeat"`);
      return undefined;
    }
    const gridPos = isObj(p.gridPos) ? p.gridPos : { x: 0, y: 0, w: 12, h: 8 };
    const base = {
      id: nextId++,
      title: typeof p.title === 'string' ? p.title : '',
      gridPos: { x: Number(gridPos.x ?? 0), y: Number(gridPos.y ?? 0), w: Math.min(24, Math.max(1, Number(gridPos.w ?? 12))), h: Math.max(1, Number(gridPos.h ?? 8)) },
      ...(typeof p.repeat === 'string' && p.repeat !== '' ? { repeat: p.repeat } : {}),
      ...(p.repeatDirection === 'h' || p.repeatDirection === 'v' ? { repeatDirection: p.repeatDirection as 'h' | 'v' } : {}),
      ...(typeof p.maxPerRow === 'number' && Number.isInteger(p.maxPerRow) && p.maxPerRow > 0 ? { maxPerRow: p.maxPerRow } : {}),
      ...(typeof p.description === 'string' && p.description !== '' ? { description: p.description } : {}),
    };
    if (type === 'text') {
      const options = isObj(p.options) ? p.options : {};
      const content = typeof options.content === 'string' ? options.content : typeof p.content === 'string' ? p.content : '';
      const mode = ['markdown', 'html', 'code'].includes(String(options.mode ?? p.mode)) ? (options.mode ?? p.mode) : 'markdown';
      return { ...base, type: 'text', options: { mode: mode as 'markdown', content } };
    }
    if (!MODERN.has(type)) {
      note(path, 'dropped', `panel type "${type}" has no equivalent in Watchfloor's model`);
      return undefined;
    }
    const mapped = type as DataPanel['type'];
    const targets: Target[] = [];
    (Array.isArray(p.targets) ? p.targets : []).forEach((t, ti) => {
      const tpath = `${path}.targets[${ti}]`;
      if (!isObj(t)) return;
      const refId = typeof t.refId === 'string' && t.refId ? t.refId : String.fromCharCode(65 + ti);
      let query: string | undefined;
      // Grafana sends the builder's rendering unless rawQuery is set; a builder target keeps a stale `query`.
      const builder = t.rawQuery !== true && typeof t.measurement === 'string' && Array.isArray(t.select);
      if (!builder && typeof t.query === 'string' && (t.rawQuery === true || /^\s*(SELECT|SHOW)\b/i.test(t.query)) && !/\|>|from\(bucket/.test(t.query)) query = t.query;
      else if (!builder && typeof t.query === 'string' && /\|>|from\(bucket/.test(t.query)) {
        note(tpath, 'dropped', 'Flux query: Watchfloor speaks InfluxQL; rewrite it as InfluxQL');
        return;
      } else if (typeof t.measurement === 'string') {
        query = renderBuilderTarget(t);
        note(tpath, 'converted', 'query-builder target rendered as raw InfluxQL');
      }
      if (!query) {
        note(tpath, 'dropped', 'a target without an InfluxQL query');
        return;
      }
      targets.push({ refId, query, rawQuery: true, resultFormat: t.resultFormat === 'table' ? 'table' : 'time_series', ...(typeof t.alias === 'string' ? { alias: t.alias } : {}) });
    });
    const ds = datasource(p.datasource, `${path}.datasource`);
    const reduce = REDUCING.has(mapped) && isObj(p.options) ? reduceOptions(p.options.reduceOptions) : undefined;
    const r = DataPanel.safeParse({ ...base, type: mapped, targets, ...(ds ? { datasource: ds } : {}), fieldConfig: fieldConfig(p.fieldConfig, path, note), ...(reduce ? { options: { reduceOptions: reduce } } : {}) });
    if (!r.success) {
      note(path, 'dropped', `panel does not fit the model: ${r.error.issues[0]?.message ?? 'invalid'}`);
      return undefined;
    }
    return r.data;
  };

  const panels: Panel[] = [];
  raw.panels.forEach((p, i) => {
    if (!isObj(p)) throw new DashboardImportError(`panels[${i}]`, 'a panel is an object');
    const path = origin(p, `panels[${i}]`);
    if (p.type === 'row') {
      const children: LeafPanel[] = [];
      (Array.isArray(p.panels) ? p.panels : []).forEach((c, ci) => {
        const l = isObj(c) ? leaf(c, `${path}.panels[${ci}]`) : undefined;
        if (l) children.push(l);
      });
      const g = isObj(p.gridPos) ? p.gridPos : {};
      panels.push({ id: nextId++, type: 'row', title: String(p.title ?? ''), collapsed: p.collapsed === true, gridPos: { x: 0, y: Number(g.y ?? 0), w: 24, h: 1 }, panels: children, ...(typeof p.repeat === 'string' && p.repeat !== '' ? { repeat: p.repeat } : {}) });
      return;
    }
    const l = leaf(p, path);
    if (l) panels.push(l);
  });

  const variables: Variable[] = [];
  const list = isObj(raw.templating) && Array.isArray(raw.templating.list) ? raw.templating.list : [];
  list.forEach((v, i) => {
    const path = `templating.list[${i}]`;
    if (!isObj(v) || typeof v.name !== 'string') return note(path, 'dropped', 'a variable without a name');
    const type = String(v.type);
    if (!['query', 'custom', 'constant', 'datasource', 'interval', 'textbox'].includes(type)) return note(path, 'dropped', `variable type "${type}" is not supported`);
    let query = typeof v.query === 'string' ? v.query : isObj(v.query) && typeof v.query.query === 'string' ? v.query.query : '';
    if (/\|>|from\(bucket|import "/.test(query)) {
      note(`${path}.query`, 'dropped', 'Flux variable query removed: rewrite it as SHOW TAG VALUES');
      query = '';
    }
    for (const [name, value] of inputs) if (type === 'constant') query = query.replaceAll(`\${${name}}`, value);
    variables.push({
      name: v.name,
      type: type as Variable['type'],
      query,
      multi: v.multi === true,
      includeAll: v.includeAll === true,
      hide: v.hide === 1 || v.hide === 2 ? v.hide : 0,
      options: [],
      ...(typeof v.label === 'string' ? { label: v.label } : {}),
      ...(typeof v.regex === 'string' && v.regex !== '' ? { regex: v.regex } : {}),
      ...(v.refresh === 1 || v.refresh === 2 ? { refresh: v.refresh } : {}),
    });
  });

  const title = typeof raw.title === 'string' && raw.title !== '' ? raw.title : 'Imported dashboard';
  const uid = typeof raw.uid === 'string' && /^[A-Za-z0-9_-]{1,40}$/.test(raw.uid) ? raw.uid : slug(title);
  const time = isObj(raw.time) && typeof raw.time.from === 'string' && typeof raw.time.to === 'string' ? { from: raw.time.from, to: raw.time.to } : undefined;
  const r = Dashboard.safeParse({
    uid,
    title,
    tags: Array.isArray(raw.tags) ? raw.tags.filter((t) => typeof t === 'string') : [],
    refresh: typeof raw.refresh === 'string' && raw.refresh !== '' ? raw.refresh : '30s',
    ...(time ? { time } : {}),
    templating: { list: variables },
    panels,
  });
  if (!r.success) throw new DashboardImportError(pathOf(r.error), r.error.issues[0]?.message ?? 'invalid');
  return { dashboard: r.data, notes };
}

/** Which value a stat, gauge or bar gauge shows (reduceOptions.calcs: lastNotNull, mean...), kept as Grafana stores it. */
function reduceOptions(v: unknown): Json | undefined {
  if (!isObj(v) || !Array.isArray(v.calcs) || !v.calcs.every((c) => typeof c === 'string')) return undefined;
  return { calcs: v.calcs, fields: typeof v.fields === 'string' ? v.fields : '', values: v.values === true, ...(typeof v.limit === 'number' ? { limit: v.limit } : {}) };
}

function fieldConfig(fc: unknown, path: string, note: (p: string, a: ImportNote['action'], m: string) => void): unknown {
  if (!isObj(fc) || !isObj(fc.defaults)) return {};
  const d = fc.defaults;
  const out: Json = {};
  if (typeof d.unit === 'string') out.unit = d.unit;
  for (const k of ['decimals', 'min', 'max'] as const) if (typeof d[k] === 'number') out[k] = d[k];
  if (isObj(d.thresholds) && Array.isArray(d.thresholds.steps)) {
    out.thresholds = { mode: d.thresholds.mode === 'percentage' ? 'percentage' : 'absolute', steps: d.thresholds.steps.filter(isObj).map((s) => ({ color: String(s.color ?? 'green'), value: typeof s.value === 'number' ? s.value : null })) };
  }
  if (Array.isArray(fc.overrides) && fc.overrides.length > 0) note(`${path}.fieldConfig.overrides`, 'dropped', `${fc.overrides.length} field override(s) not carried over`);
  return { defaults: out };
}

/**
 * InfluxQL from a query-builder target, as Grafana's InfluxDB data source renders it (InfluxQueryModel.render
 * in public/app/plugins/datasource/influxdb/influx_query_model.ts, parts from query_part.ts).
 */
export function renderBuilderTarget(t: Json): string {
  const selects = Array.isArray(t.select) ? t.select : [];
  const fields = selects.map((parts) => {
    let expr = '';
    for (const part of Array.isArray(parts) ? parts : []) {
      if (!isObj(part)) continue;
      const params = Array.isArray(part.params) ? part.params.map(String) : [];
      if (part.type === 'field') expr = params[0] === '*' ? '*' : `"${params[0] ?? 'value'}"`;
      else if (part.type === 'alias') expr = `${expr} AS "${params[0] ?? ''}"`;
      else if (part.type === 'math') expr = `${expr} ${params[0] ?? ''}`;
      else expr = `${String(part.type)}(${[expr, ...params].filter((x) => x !== '').join(', ')})`;
    }
    return expr;
  });
  const tags = (Array.isArray(t.tags) ? t.tags : []).filter(isObj).map((tag, i) => {
    const value = String(tag.value ?? '');
    // No operator saved: a /regex/ value means =~ (renderTagCondition).
    const op = typeof tag.operator === 'string' && tag.operator ? tag.operator : /^\/.*\/$/.test(value) ? '=~' : '=';
    const rhs = op === '=~' || op === '!~' || op === '<' || op === '>' ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const key = String(tag.key);
    const quoted = key.endsWith('::tag') ? `"${key.slice(0, -5)}"::tag` : key.endsWith('::field') ? `"${key.slice(0, -7)}"::field` : `"${key}"`;
    return `${i > 0 ? `${String(tag.condition || 'AND')} ` : ''}${quoted} ${op} ${rhs}`;
  });
  const where = tags.length > 0 ? `(${tags.join(' ')}) AND $timeFilter` : '$timeFilter';
  const group = (Array.isArray(t.groupBy) ? t.groupBy : []).filter(isObj);
  // "auto" is the interval of Grafana 2-4's editor, rendered as $__interval (query_part functionRenderer).
  const groupParts = group.map((g) => {
    const param = String((g.params as unknown[] | undefined)?.[0] ?? (g.type === 'time' ? '$__interval' : g.type === 'fill' ? 'null' : ''));
    if (g.type === 'time') return `time(${param === 'auto' ? '$__interval' : param})`;
    if (g.type === 'fill') return `fill(${param})`;
    return `"${param}"`;
  });
  // "for some reason fill has no separator": fill() follows the part before it after a space.
  const groupBy = groupParts.reduce((acc, part, i) => (i === 0 ? part : `${acc}${group[i]?.type === 'fill' ? ' ' : ', '}${part}`), '');
  const measurement = String(t.measurement ?? 'measurement');
  const from = `${typeof t.policy === 'string' && t.policy !== '' && t.policy !== 'default' ? `"${t.policy}".` : ''}${/^\/.*\/$/.test(measurement) ? measurement : `"${measurement}"`}`;
  let q = `SELECT ${fields.join(', ')} FROM ${from} WHERE ${where}${groupBy ? ` GROUP BY ${groupBy}` : ''}`;
  if (typeof t.fill === 'string' && t.fill !== '') q += ` fill(${t.fill})`;
  if (t.orderByTime === 'DESC') q += ' ORDER BY time DESC';
  if (t.limit !== undefined && t.limit !== null && t.limit !== '') q += ` LIMIT ${String(t.limit)}`;
  if (t.slimit !== undefined && t.slimit !== null && t.slimit !== '') q += ` SLIMIT ${String(t.slimit)}`;
  if (typeof t.tz === 'string' && t.tz !== '') q += ` tz('${t.tz}')`;
  return q;
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'imported';
const pathOf = (e: z.ZodError): string => e.issues[0]?.path.join('.') || '(root)';
