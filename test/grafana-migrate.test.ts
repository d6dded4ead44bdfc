import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { Dashboard, importGrafana, importGrafanaText, toGrafanaJson, type ImportResult } from '../dashboards/index.ts';
import { migrateDashboard, MIGRATIONS } from '../dashboards/grafana/migrate.ts';
import { grafanaSchemaDir } from './support/grafana.ts';
import { run } from './support/net.ts';

/*
 * Real dashboards saved before Grafana 5 (pre-"panels", laid out in rows of spans), InfluxDB data sources,
 * copied byte for byte; provenance in test/fixtures/grafana-old/SOURCE.md.
 */
const FIXTURES = 'test/fixtures/grafana-old';
const OLD = [
  { file: 'lma-elasticsearch-schema8.json', schemaVersion: 8, title: 'Elasticsearch' },
  { file: 'lma-influxdb-schema12.json', schemaVersion: 12, title: 'InfluxDB' },
  { file: 'pgwatch2-db-overview-schema14.json', schemaVersion: 14, title: 'DB overview' },
] as const;

type Json = Record<string, unknown>;
interface RawTarget { refId?: string; rawQuery?: boolean; query?: string; measurement?: string; alias?: string; tags?: { key: string }[]; select?: { type: string; params: string[] }[][] }
interface RawPanel { type: string; span?: number; height?: string | number; title?: string; gauge?: { show?: boolean }; targets?: RawTarget[] }
interface RawRow { title?: string; height?: string | number; showTitle?: boolean; collapse?: boolean; repeat?: string; panels: RawPanel[] }

const load = (file: string): Json => JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as Json;
const text = (r: ImportResult): string => r.notes.map((n) => `${n.action} ${n.path}: ${n.message}`).join('\n');

/** Grid rows of a pixel height: 30 px cells with 8 px margins, at least 90 px (Grafana's getGridHeight). */
const cells = (px: string | number): number => Math.ceil(Math.max(90, typeof px === 'number' ? px : parseInt(px, 10)) / 38);

interface Expected { type: string; title?: string; gridPos: { x: number; y: number; w: number; h: number }; raw?: RawPanel }

/**
 * Where Grafana puts each panel of a rows dashboard, worked out here independently of the importer: each
 * row's panels side by side, span*2 of 24 columns, wrapping to a new line of the row's height when full;
 * a row panel above each row when any row shows its title, is collapsed or repeats.
 */
function expectedLayout(rows: RawRow[]): Expected[] {
  const showRows = rows.some((r) => r.collapse || r.showTitle || r.repeat);
  const out: Expected[] = [];
  let y = 0;
  for (const row of rows) {
    const h = cells(row.height ?? 250);
    if (showRows) out.push({ type: 'row', title: row.title, gridPos: { x: 0, y: y++, w: 24, h: 1 } });
    let x = 0;
    let line = y;
    for (const p of row.panels) {
      const w = (p.span ?? 4) * 2;
      if (x + w > 24) {
        x = 0;
        line += h;
      }
      out.push({ type: p.type, raw: p, gridPos: { x, y: line, w, h: p.height ? cells(p.height) : h } });
      x += w;
    }
    y = line + h;
  }
  return out;
}

const mappedType = (p: RawPanel): string => (p.type === 'graph' ? 'timeseries' : p.type === 'singlestat' ? (p.gauge?.show ? 'gauge' : 'stat') : p.type);

describe('dashboards saved before Grafana 5, migrated as Grafana migrates them', () => {
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  const validateGrafana = ajv.compile(JSON.parse(readFileSync(`${grafanaSchemaDir}/dashboard.schema.json`, 'utf8')) as object);

  for (const { file, schemaVersion, title } of OLD) {
    it(`imports ${file} (schemaVersion ${schemaVersion}): rows laid out on the grid, types mapped, targets intact`, () => {
      const raw = load(file);
      expect(raw.schemaVersion).toBe(schemaVersion);
      expect(Array.isArray(raw.rows) && raw.panels === undefined).toBe(true);
      const r = importGrafana(raw);
      expect(r.dashboard.title).toBe(title);
      expect(Dashboard.safeParse(r.dashboard).success).toBe(true);
      expect(r.notes.filter((n) => n.action === 'dropped')).toEqual([]);
      expect(text(r)).toMatch(new RegExp(`^converted schemaVersion: migrated from schemaVersion ${schemaVersion} as Grafana does .*16:rowsToGridLayout`, 'm'));

      const expected = expectedLayout(raw.rows as RawRow[]);
      const got = r.dashboard.panels;
      expect(got.map((p) => p.type)).toEqual(expected.map((e) => (e.raw ? mappedType(e.raw) : 'row')));
      expect(got.map((p) => p.gridPos)).toEqual(expected.map((e) => e.gridPos));
      got.forEach((p, i) => {
        const e = expected[i] as Expected;
        if (p.type === 'row') return expect(p.title).toBe(e.title);
        expect(p.title).toBe(e.raw?.title ?? '');
        if (p.type === 'text') return;
        const rawTargets = e.raw?.targets ?? [];
        expect(p.targets.map((t) => t.refId)).toEqual(rawTargets.map((t) => t.refId));
        p.targets.forEach((t, ti) => {
          const rt = rawTargets[ti] as RawTarget;
          if (rt.alias) expect(t.alias).toBe(rt.alias);
          // A raw query is kept as written; a builder target is what Grafana renders from its parts.
          if (rt.rawQuery) return expect(t.query).toBe(rt.query);
          expect(t.query).toMatch(new RegExp(`^SELECT .* FROM "${rt.measurement}" WHERE .*\\$timeFilter`));
          for (const tag of rt.tags ?? []) expect(t.query).toContain(`"${tag.key}"`);
          for (const parts of rt.select ?? []) expect(t.query).toContain(`"${parts[0]?.params[0]}"`);
        });
      });
      // What Watchfloor exports from it is a dashboard Grafana's own schema accepts.
      expect(validateGrafana(toGrafanaJson(r.dashboard)) ? [] : validateGrafana.errors?.slice(0, 3)).toEqual([]);
    });
  }

  it('adds row panels when a row shows its title (schemaVersion 8 and 12) and none otherwise (pgwatch2)', () => {
    const es = importGrafana(load('lma-elasticsearch-schema8.json')).dashboard.panels;
    expect(es.filter((p) => p.type === 'row').map((p) => [p.title, p.gridPos.y])).toEqual([['Cluster', 0], ['Instance $server', 8]]);
    // 200px rows are 6 cells: ceil(200 / 38); spans 2, 3, 3, 4 fill the first line, 2 + 10 wrap below it.
    expect(es.filter((p) => p.gridPos.y === 9).map((p) => [p.gridPos.x, p.gridPos.w])).toEqual([[0, 4], [4, 6], [10, 6], [16, 8]]);
    expect(es.filter((p) => p.gridPos.y === 15).map((p) => [p.gridPos.x, p.gridPos.w])).toEqual([[0, 4], [4, 20]]);
    // A row titled "New row" without showTitle still gets its row panel, since other rows show theirs.
    const influx = importGrafana(load('lma-influxdb-schema12.json')).dashboard.panels;
    expect(influx.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(['HTTPD', 'Runtime', 'New row', 'Grafana']);
    const pg = importGrafana(load('pgwatch2-db-overview-schema14.json')).dashboard.panels;
    expect(pg.some((p) => p.type === 'row')).toBe(false);
    // Six singlestats of span 2, 150 px high: one line of six 4-column stats, 4 cells high.
    expect(pg.slice(0, 6).map((p) => [p.type, p.gridPos.x, p.gridPos.y, p.gridPos.w, p.gridPos.h])).toEqual([0, 4, 8, 12, 16, 20].map((x) => ['stat', x, 0, 4, 4]));
  });

  it('carries singlestat and graph options Grafana carries (unit, thresholds, which value) and old variable settings', () => {
    const r = importGrafana(load('lma-elasticsearch-schema8.json'));
    const stat = r.dashboard.panels.find((p) => p.type === 'stat');
    if (stat?.type !== 'stat') throw new Error('a stat panel');
    // singlestat thresholds "1,3" with three colours: a base step and two levels.
    expect(stat.fieldConfig.defaults.thresholds?.steps.map((s) => s.value)).toEqual([null, 1, 3]);
    expect(stat.options).toEqual({ reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } });
    const free = r.dashboard.panels.find((p) => p.title === 'Free space on /opt/es/data');
    expect(free?.type === 'stat' && free.options).toEqual({ reduceOptions: { calcs: ['mean'], fields: '', values: false } });
    const graph = r.dashboard.panels.find((p) => p.title === 'Resident Set Size');
    expect(graph?.type === 'timeseries' && graph.fieldConfig.defaults).toEqual({ unit: 'bytes', min: 0 });
    // schemaVersion 8 saved `refresh: true`; step 12 makes it 1 (on dashboard load).
    expect(r.dashboard.templating.list.map((v) => [v.name, v.refresh])).toEqual([['environment', 1], ['server', 1]]);
    expect(text(r)).toMatch(/^converted rows\[0\]\.panels\[0\]: legacy panel type "singlestat" converted to "stat"/m);
    expect(text(r)).toMatch(/^converted rows\[1\]\.panels\[5\]: legacy panel type "graph" converted to "timeseries"/m);
  });

  it('renders a builder target from its parts, not from the stale query it was saved with', () => {
    const raw = load('pgwatch2-db-overview-schema14.json') as { rows: RawRow[] };
    const bloat = raw.rows[0]?.panels[4];
    expect(bloat?.targets?.[0]).toMatchObject({ rawQuery: false, measurement: 'table_bloat_approx_summary', query: expect.stringContaining('"load_5"') });
    const panel = importGrafana(raw).dashboard.panels[4];
    expect(panel?.type === 'stat' && panel.targets[0]?.query).toBe('SELECT mean("approx_free_space_b") FROM "table_bloat_approx_summary" WHERE ("dbname" =~ /^$dbname$/) AND $timeFilter GROUP BY time($interval) fill(none)');
  });

  it('walks the steps keyed by the schemaVersion they produce, only those above the file\'s', () => {
    expect(Object.keys(MIGRATIONS).map(Number)).toEqual([6, 7, 8, 9, 12, 16, 17, 24, 26, 28, 29]);
    expect(migrateDashboard(load('pgwatch2-db-overview-schema14.json')).steps).toEqual([
      '16:rowsToGridLayout', '17:minSpanToMaxPerRow', '24:angularTableToTableOld', '26:text2ToText', '28:singlestatToStatOrGauge', '29:queryVariablesRefresh',
    ]);
    const raw = load('lma-elasticsearch-schema8.json');
    const before = JSON.stringify(raw);
    migrateDashboard(raw);
    expect(JSON.stringify(raw)).toBe(before); // the input is left as it was
  });

  it('turns the pre-3.0 InfluxDB editor shape (fields, groupBy interval/key, fill) into select parts (step 8)', () => {
    // The target shape Grafana's step 8 reads (DashboardMigrator "update old influxdb query schema").
    const r = importGrafanaText(JSON.stringify({
      title: 'old influx', schemaVersion: 7,
      rows: [{ height: '250px', panels: [{ type: 'graph', span: 12, targets: [{
        measurement: 'cpu', fields: [{ name: 'usage_idle', func: 'mean', mathExpr: '* -1', asExpr: 'busy' }],
        tags: [{ key: 'host', value: 'sw1' }], groupBy: [{ type: 'time', interval: '1m' }, { type: 'tag', key: 'cpu' }], fill: 'null',
      }] }] }],
    }));
    const p = r.dashboard.panels[0];
    expect(p?.type === 'timeseries' && p.targets).toEqual([{ refId: 'A', rawQuery: true, resultFormat: 'time_series', query: `SELECT mean("usage_idle") * -1 AS "busy" FROM "cpu" WHERE ("host" = 'sw1') AND $timeFilter GROUP BY time(1m), "cpu" fill(null)` }]);
  });
});

describe('watchfloor dashboards import on dashboards of every age', () => {
  it('exits 0 on each old dashboard and saves a dashboard the model accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-dash-old-'));
    const runs = await Promise.all(OLD.map(({ file }) => run(process.execPath, ['bin/watchfloor.js', 'dashboards', 'import', join(FIXTURES, file), '--data-dir', dir], 120_000)));
    runs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^imported "${OLD[i]?.title}"`));
      expect(r.stdout).toMatch(/ 0 not mapped:/);
      expect(r.stdout).toMatch(/converted +rows\[0\]\.panels\[0\]: legacy panel type "(singlestat|graph)"/);
    });
    for (const uid of ['elasticsearch', 'influxdb', 'db-overview']) {
      const saved = JSON.parse(readFileSync(join(dir, 'dashboards', `${uid}.json`), 'utf8')) as unknown;
      expect(Dashboard.safeParse(saved).success, uid).toBe(true);
    }
  }, 180_000);
});
