/** `watchfloor inventory import|export|remove`: bulk import with a dry run, the running inventory back as YAML, on the data directory. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, loadConfig, systemClock, type Config, type Estate } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { CSV_COLUMNS, exportInventoryYaml, parseImport, planImport, type ImportDiff, type ImportError } from '../ops-server/index.ts';
import { checkDataDir } from './data-dir.ts';
import { loadEstate, RegisteredDevices } from './registered-devices.ts';
import { loadLinks, RegisteredLinks } from './registered-links.ts';
import { packageVersion } from './version.ts';

const HELP = `Usage: watchfloor inventory COMMAND [--config FILE] ...

  inventory import FILE [--apply] [--format csv|netbox] [--snmp-profile NAME] [--json]
      Reads devices from a CSV file or a NetBox export and prints the diff with the running
      inventory (added / changed / unchanged / errors, each error with its row and column or its
      NetBox object and field). Nothing changes without --apply; with an error nothing is applied.
      --apply adds and changes the devices in DATA_DIR/devices.json (for a stopped product: a running
      one keeps its own copy; use POST /api/v1/inventory/import?dryRun=false there).
  inventory export [--out FILE]
      Writes the inventory (the file's devices and those added over the API) as YAML, to stdout or
      FILE (mode 0600: it holds SNMP secrets). Make it the inventory file to keep the file the
      source of truth.
  inventory remove DEVICE_ID [--drop-series]
      Removes a device added over the API from DATA_DIR/devices.json (a stopped product; a running
      one: DELETE /api/v1/devices/{id}). Devices of the inventory file are removed from the file.
      --drop-series also deletes its series and their points from the time-series store (every
      tier, and InfluxDB's copy with store: influxdb); without it they age out with retention.

CSV: a header row, then one device a row; lists (parents, addresses) separated by ";", labels k=v;k=v.
  Columns: ${CSV_COLUMNS.join(',')}
  Location: rack (+ u, heightU or a sensor position), else room (+ x, y), else site (+ area).
  snmp_profile names an snmpProfiles entry of the inventory (credentials defined once) or a poll profile.
NetBox: one JSON object {sites, racks, devices, interfaces, cables, device_types?}, each the answer of
  GET /api/dcim/<name>/?limit=0 (or its results array). Roles map to kinds by name (switch, router,
  firewall, server, storage, ups, pdu, ...); racks and sites must already be in the inventory; cables
  between interfaces are proposed as LAN links (add them to the inventory file).
`;

function errorLine(e: ImportError): string {
  const where = e.row !== undefined ? `row ${e.row}, column ${e.column}` : `${e.object}, field ${e.field}`;
  return `  error   ${where}: ${e.message}`;
}

/** The diff as people read it. */
export function formatDiff(diff: ImportDiff): string {
  const lines = [
    `${diff.format}: ${diff.added.length} added, ${diff.changed.length} changed, ${diff.unchanged.length} unchanged, ${diff.errors.length} errors`,
    ...diff.added.map((d) => `  added   ${d.id} (${d.kind})`),
    ...diff.changed.map((c) => `  changed ${c.id}: ${c.fields.join(', ')}`),
    ...diff.unchanged.map((id) => `  same    ${id}`),
    ...diff.errors.map(errorLine),
  ];
  if (diff.links.added.length > 0)
    lines.push(`links: ${diff.links.added.length} proposed (not applied; add them to the inventory file's links):`, ...diff.links.added.map((l) => `  link    ${l.id}: ${l.a.device}/${l.a.interface ?? ''} - ${l.b.device}/${l.b.interface ?? ''}`));
  return lines.join('\n') + '\n';
}

function openEstate(configFile: string | undefined): { estate: Estate; registered: RegisteredDevices; links: RegisteredLinks; config: Config } {
  const loaded = loadConfig(configFile);
  // A data directory of a newer format is refused before devices.json or links.json is read.
  checkDataDir(loaded.config.dataDir, packageVersion);
  const registered = new RegisteredDevices(join(loaded.config.dataDir, 'devices.json'), loaded.inventory.snmpProfiles);
  const logger = createLogger('watchfloor', 'error');
  const estate = loadEstate(loaded.inventory, registered, logger);
  const links = new RegisteredLinks(join(loaded.config.dataDir, 'links.json'));
  loadLinks(estate, links, logger);
  return { estate, registered, links, config: loaded.config };
}

/** Runs `watchfloor inventory ...`; returns the exit code. */
export async function runInventoryCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      apply: { type: 'boolean', default: false },
      format: { type: 'string' },
      'snmp-profile': { type: 'string' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      'drop-series': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, arg] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const fail = (message: string): number => {
    process.stderr.write(`watchfloor inventory: ${message}\n`);
    return 2;
  };
  if (command === 'export') {
    const { estate } = openEstate(values.config);
    const yaml = exportInventoryYaml(estate, Date.now());
    if (values.out) writeFileSync(values.out, yaml, { mode: 0o600 });
    else process.stdout.write(yaml);
    if (values.out) process.stdout.write(`${values.out}: ${estate.devices.size} devices\n`);
    return 0;
  }
  if (command === 'import') {
    if (!arg) return fail('import needs a FILE (CSV or a NetBox export)');
    if (values.format !== undefined && values.format !== 'csv' && values.format !== 'netbox') return fail(`--format "${values.format}": expected csv or netbox`);
    const format = values.format as 'csv' | 'netbox' | undefined;
    const { estate, registered } = openEstate(values.config);
    const { format: read, parsed } = parseImport(readFileSync(arg, 'utf8'), { format: format ?? (arg.endsWith('.csv') ? 'csv' : undefined), snmpProfile: values['snmp-profile'] });
    const plan = planImport(estate, read, parsed);
    process.stdout.write(values.json ? `${JSON.stringify(plan.diff, null, 2)}\n` : formatDiff(plan.diff));
    if (plan.diff.errors.length > 0) return 1;
    if (!values.apply) {
      if (plan.add.length + plan.change.length > 0) process.stdout.write('dry run: nothing changed (--apply to apply)\n');
      return 0;
    }
    for (const d of [...plan.add, ...plan.change]) registered.add(d);
    process.stdout.write(`applied: ${plan.add.length} added, ${plan.change.length} changed in devices.json\n`);
    return 0;
  }
  if (command === 'remove') {
    if (!arg) return fail('remove needs a DEVICE_ID');
    const { estate, registered, links, config } = openEstate(values.config);
    if (estate.inventory.devices.some((d) => d.id === arg)) return fail(`"${arg}" comes from the inventory file, the source of truth: remove it there`);
    const children = [...estate.devices.values()].filter((d) => d.parents.includes(arg)).map((d) => d.id);
    if (children.length > 0) return fail(`"${arg}" is the parent of ${children.join(', ')}: change or remove those first`);
    const dropSeries = values['drop-series'] === true;
    // The store first: a running product holds it (DuckDB's file lock), and then nothing is removed.
    const store = dropSeries ? await openStore(config.store, { dir: join(config.dataDir, 'tsdb'), logger: createLogger('watchfloor', 'error'), clock: systemClock }).catch((err: Error) => err) : undefined;
    if (store instanceof Error) return fail(`${store.message} (is the product running? stop it, or use DELETE /api/v1/devices/${arg}?dropSeries=true)`);
    try {
      const removed = registered.remove(arg);
      // Links added over the API to it go too, or the export would name a device it lacks.
      if (removed) links.removeDevice(arg);
      if (!removed && !(dropSeries && (store?.series({ device: arg }).length ?? 0) > 0)) return fail(`no device "${arg}" added over the API`);
      if (!store?.deleteSeries) {
        process.stdout.write(`${arg}: removed (its series are kept and age out with the store's retention)\n`);
        return 0;
      }
      const d = await store.deleteSeries({ device: arg });
      const counts = [`${d.series} series`, ...(d.points !== undefined ? [`${d.points} points`] : []), ...(d.rollupRows !== undefined ? [`${d.rollupRows} rollup rows`] : [])].join(', ');
      process.stdout.write(`${arg}: ${removed ? 'removed, and ' : ''}its series deleted (${counts})\n`);
      return 0;
    } finally {
      await store?.close();
    }
  }
  return fail(`unknown command "${command}"\n\n${HELP}`);
}
