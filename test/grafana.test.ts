import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory, bundledConfigDir, readDataFile } from '../core/index.ts';
import { builtinDashboards, DashboardImportError, importGrafanaText, linkedInterfaces, toGrafanaJson, type ImportResult } from '../dashboards/index.ts';
import { run } from './support/net.ts';
import { grafanaSchemaDir, interpolate, realDashboardsDir } from './support/grafana.ts';
import { ADMIN_PASSWORD, startProduct, type StartedProduct } from './support/start-product.ts';

const sample = readDataFile(join(bundledConfigDir, 'sample-datacenter.yaml'), Inventory);
const sampleLinks = linkedInterfaces(sample);

const schema = JSON.parse(readFileSync(`${grafanaSchemaDir}/dashboard.schema.json`, 'utf8')) as object;
let validate: ValidateFunction;
const panelOptions = new Map<string, ValidateFunction>();

beforeAll(() => {
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  validate = ajv.compile(schema);
  for (const type of ['timeseries', 'stat', 'gauge', 'bargauge', 'table', 'text']) {
    const s = JSON.parse(readFileSync(`${grafanaSchemaDir}/panels/${type}.schema.json`, 'utf8')) as { definitions: Record<string, unknown> };
    panelOptions.set(type, ajv.compile({ definitions: s.definitions, $ref: '#/definitions/Options' }));
  }
});

interface GPanel {
  type: string;
  options?: unknown;
  panels?: GPanel[];
  targets?: { query: string }[];
}

function expectValid(json: Record<string, unknown>): void {
  const ok = validate(json);
  expect(ok ? [] : validate.errors?.slice(0, 5)).toEqual([]);
  const panels = (json.panels as GPanel[]).flatMap((p) => [p, ...(p.panels ?? [])]);
  for (const p of panels) {
    const v = panelOptions.get(p.type);
    if (v && p.options !== undefined) expect(v(p.options) ? [] : v.errors, `${p.type} options`).toEqual([]);
  }
}

describe('dashboards as code, exported as Grafana JSON', () => {
  let p: StartedProduct;
  beforeAll(async () => {
    p = await startProduct();
  });
  afterAll(async () => {
    await p.app.stop();
  });

  it('exports the four built-in dashboards, each valid against Grafana\'s dashboard schema', () => {
    const dashboards = builtinDashboards(sampleLinks);
    expect(dashboards.map((d) => d.title)).toEqual(['Data center environment', 'Power and cooling', 'Network', 'Security']);
    const types = new Set<string>();
    for (const d of dashboards) {
      const json = toGrafanaJson(d);
      expectValid(json);
      for (const panel of json.panels as GPanel[]) types.add(panel.type);
    }
    expect([...types].sort()).toEqual(['bargauge', 'gauge', 'row', 'stat', 'table', 'text', 'timeseries']);
  });

  it('charts on the network dashboard exactly the interfaces the inventory\'s links name', () => {
    // The sample: the edge router's Internet, WAN, MAN and VPN links, each switch's linked ports, the firewalls' sides and tunnels.
    expect(sampleLinks.router).toEqual(['Gi0/0/0', 'Gi0/0/1', 'Gi0/0/2', 'Gi0/0/4', 'Gi0/0/5', 'Te0/1/0']);
    expect(sampleLinks.firewall).toEqual(['eth1', 'eth2', 'tunnel1', 'tunnel2']);
    expect(sampleLinks.switch).toContain('Hu1/0/49');
    const network = builtinDashboards(sampleLinks).find((d) => d.uid === 'wf-network')!;
    const routerIn = network.panels.find((p) => p.title === 'Router links in (bits/s)');
    expect(routerIn && 'targets' in routerIn ? routerIn.targets.map((t) => t.query) : []).toEqual(
      sampleLinks.router.map((name) => `SELECT mean("if_in_bps.${name.replace(/[^A-Za-z0-9_]+/g, '_')}") AS "${name}" FROM "router" WHERE $timeFilter GROUP BY time($__interval), "device" fill(null)`),
    );
    // Another estate: one switch with two linked ports, no router or firewall: their panels are left out, not left empty.
    const small = linkedInterfaces({
      devices: [{ id: 'sw-1', kind: 'switch' }, { id: 'srv-1', kind: 'server' }],
      links: [{ id: 'l1', kind: 'lan', a: { device: 'sw-1', interface: 'ge-0/0/1' }, b: { device: 'srv-1', interface: 'eth0' } }, { id: 'l2', kind: 'internet', a: { device: 'sw-1', interface: 'ge-0/0/48' }, b: { external: 'ISP' } }],
    });
    expect(small).toEqual({ router: [], switch: ['ge-0/0/1', 'ge-0/0/48'], firewall: [] });
    const titles = builtinDashboards(small).flatMap((d) => d.panels.map((p) => p.title));
    expect(titles).toContain('Switch links in (bits/s)');
    expect(titles.filter((t) => /Router|Firewall/.test(t ?? ''))).toEqual([]);
  });

  it('exports queries that Watchfloor\'s own /query answers without an error, as Grafana would send them', async () => {
    const now = Date.now();
    for (const d of builtinDashboards(sampleLinks)) {
      for (const panel of (toGrafanaJson(d).panels as GPanel[])) {
        for (const t of panel.targets ?? []) {
          const q = interpolate(t.query, now - 3_600_000, now, 'room-1');
          const res = await fetch(`${p.base}/query?${new URLSearchParams({ q, epoch: 'ms', u: 'admin', p: ADMIN_PASSWORD })}`);
          const body = (await res.json()) as { results: { error?: string }[] };
          expect(res.status, q).toBe(200);
          expect(body.results[0]?.error, q).toBeUndefined();
        }
      }
    }
  });
});

describe('importing real Grafana exports', () => {
  const load = (f: string): ImportResult => importGrafanaText(readFileSync(`${realDashboardsDir}/${f}`, 'utf8'));
  const messages = (r: ImportResult): string => r.notes.map((n) => `${n.action} ${n.path}: ${n.message}`).join('\n');

  it('imports the NX-OS dashboard: __inputs, string datasources, legacy graphs, a collapsed row and 261 expanded repeat copies', () => {
    const r = load('cisco-nxos-telegraf-snmp-influxql.json');
    const text = messages(r);
    expect(text).toMatch(/converted __inputs\[0\]: input DS_INFLUXDB/);
    expect(text).toMatch(/string data source "\$\{DS_INFLUXDB\}"/);
    expect(text).toMatch(/legacy panel type "graph" converted to "timeseries"/);
    expect(r.notes.filter((n) => /expanded copy of repeated panel/.test(n.message))).toHaveLength(261);
    const rows = r.dashboard.panels.filter((p) => p.type === 'row');
    expect(rows.some((row) => row.collapsed && row.panels.some((c) => c.repeat !== undefined))).toBe(true);
    // Every note names where it came from in the file (schemaVersion: the migration from 22 that ran).
    for (const n of r.notes) expect(n.path).toMatch(/^(__inputs|panels|templating)\[|^schemaVersion$/);
    expect(text).toMatch(/^converted schemaVersion: migrated from schemaVersion 22 as Grafana does \(steps 24:angularTableToTableOld, 26:text2ToText, 28:singlestatToStatOrGauge, 29:queryVariablesRefresh\)$/m);
  });

  it('imports the UniFi dashboard\'s query-builder targets as InfluxQL and the Flux one with its queries reported as not mapped', () => {
    const unifi = load('unifi-poller-usw-switch-influxql.json');
    const queries = unifi.dashboard.panels.flatMap((p) => (p.type === 'row' ? p.panels : [p])).flatMap((p) => ('targets' in p ? p.targets : []));
    expect(queries.length).toBeGreaterThan(10);
    expect(queries.map((t) => t.query)).toContainEqual(expect.stringMatching(/^SELECT non_negative_derivative\(sum\("rx_bytes"\), 1s\) AS "Bytes Rx".* FROM "usw_ports" WHERE \("site_name" =~ \/\^\$\{Site:regex\}\$\/ AND "device_name" =~ .*\) AND \$timeFilter GROUP BY time\(\$__interval\)/));
    const flux = load('cisco-sg300-telegraf-snmp-flux.json');
    expect(flux.notes.filter((n) => n.action === 'dropped' && /Flux query/.test(n.message)).length).toBe(23);
    expect(messages(flux)).toMatch(/Flux variable query removed/);
  });

  it('re-exports every imported dashboard as Grafana JSON that passes the schema', () => {
    for (const f of readdirSync(realDashboardsDir).filter((x) => x.endsWith('.json'))) expectValid(toGrafanaJson(load(f).dashboard));
  });

  it('refuses corrupt or truncated dashboard JSON with the path of the problem', () => {
    const text = readFileSync(`${realDashboardsDir}/unifi-poller-usw-switch-influxql.json`, 'utf8');
    expect(() => importGrafanaText(text.slice(0, 5000))).toThrow(/^\(file\): not valid JSON: .*position|^\(file\): not valid JSON/);
    expect(() => importGrafanaText('{"title": "x", "panels": {}}')).toThrow(DashboardImportError);
    expect(() => importGrafanaText('{"title": "x", "panels": [1]}')).toThrow('panels[0]: a panel is an object');
    expect(() => importGrafanaText('{"title": "x", "rows": {}}')).toThrow(/^rows: expected an array of rows/);
    expect(() => importGrafanaText('{"title": "x"}')).toThrow(/^panels: expected an array of panels/);
    // A pre-5.0 dashboard is migrated as Grafana migrates it (test/grafana-migrate.test.ts), even an empty one.
    expect(importGrafanaText('{"title": "x", "rows": []}').dashboard.panels).toEqual([]);
  });
});

describe('watchfloor dashboards export / import', () => {
  it('writes the built-in dashboards into a directory and imports a real one with its report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-dash-'));
    const exported = await run(process.execPath, ['bin/watchfloor.js', 'dashboards', 'export', join(dir, 'out')], 60_000);
    expect(exported.code, exported.stderr).toBe(0);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['wf-environment.json', 'wf-network.json', 'wf-power-cooling.json', 'wf-security.json']);
    expectValid(JSON.parse(readFileSync(join(dir, 'out', 'wf-environment.json'), 'utf8')) as Record<string, unknown>);

    const imported = await run(process.execPath, ['bin/watchfloor.js', 'dashboards', 'import', `${realDashboardsDir}/unifi-poller-usw-switch-influxql.json`, '--data-dir', dir], 60_000);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^imported "UniFi-Poller: USW Insights - InfluxDB"/);
    expect(imported.stdout).toMatch(/converted +panels\[\d+\]: legacy panel type "graph"/);
    expect(readdirSync(join(dir, 'dashboards'))).toHaveLength(1);

    writeFileSync(join(dir, 'broken.json'), '{"title": "x", "panels": [');
    const broken = await run(process.execPath, ['bin/watchfloor.js', 'dashboards', 'import', join(dir, 'broken.json')], 60_000);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken\.json: \(file\): not valid JSON/);
  }, 180_000);
});
