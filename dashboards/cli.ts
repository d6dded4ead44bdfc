import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Inventory, bundledConfigDir, readDataFile } from '../core/index.ts';
import { builtinDashboards, linkedInterfaces } from './builtin.ts';
import { toGrafanaJson } from './grafana/export.ts';
import { DashboardImportError, importGrafanaText } from './grafana/import.ts';

const HELP = `Usage:
  watchfloor dashboards export DIR     write the built-in dashboards as Grafana JSON (InfluxQL queries) into DIR;
                                       the network panels chart the interfaces the inventory's links name
  watchfloor dashboards import FILE    import a dashboard exported from Grafana, of any age: it is migrated as
                                       Grafana migrates it (pre-5.0 rows to the grid, graph/singlestat/table-old
                                       to timeseries/stat/gauge/table); prints what was converted or could not
                                       be mapped, and saves it under DATA_DIR/dashboards/

  --inventory FILE the inventory whose links the network panels chart (default: the bundled sample)
  --data-dir DIR   where imported dashboards are kept (default: WATCHFLOOR_DATA_DIR or ./data)
`;

/** `watchfloor dashboards export DIR | import FILE`; returns the exit code. */
export async function runDashboardsCommand(args: string[], out = process.stdout, err = process.stderr): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' }, 'data-dir': { type: 'string' }, inventory: { type: 'string' } } });
  const [action, target] = positionals;
  if (values.help || action === undefined) {
    out.write(HELP);
    return values.help ? 0 : 2;
  }
  if (action === 'export' && target) {
    const inventory = readDataFile(values.inventory ?? join(bundledConfigDir, 'sample-datacenter.yaml'), Inventory);
    mkdirSync(target, { recursive: true });
    for (const d of builtinDashboards(linkedInterfaces(inventory))) {
      const file = join(target, `${d.uid}.json`);
      writeFileSync(file, `${JSON.stringify(toGrafanaJson(d), null, 2)}\n`);
      out.write(`${file}  ${d.title}\n`);
    }
    return 0;
  }
  if (action === 'import' && target) {
    let text: string;
    try {
      text = readFileSync(target, 'utf8');
    } catch (e) {
      err.write(`watchfloor: cannot read ${target}: ${(e as Error).message}\n`);
      return 1;
    }
    try {
      const { dashboard, notes } = importGrafanaText(text);
      const dir = resolve(values['data-dir'] ?? process.env.WATCHFLOOR_DATA_DIR ?? './data', 'dashboards');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${dashboard.uid}.json`);
      writeFileSync(file, `${JSON.stringify(dashboard, null, 2)}\n`);
      const dropped = notes.filter((n) => n.action === 'dropped');
      out.write(`imported "${dashboard.title}" (${dashboard.panels.length} top-level panels) into ${file}\n`);
      out.write(`${notes.length - dropped.length} converted, ${dropped.length} not mapped:\n`);
      for (const n of notes) out.write(`  ${n.action.padEnd(9)} ${n.path}: ${n.message}\n`);
      return 0;
    } catch (e) {
      if (e instanceof DashboardImportError) {
        err.write(`watchfloor: ${target}: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  }
  err.write(`watchfloor dashboards: unknown action "${action}"${target ? '' : ' or missing argument'}\n\n${HELP}`);
  return 2;
}
