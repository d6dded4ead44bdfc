/*
 * The CSV import format: one device a row, a header row naming the columns (any order; unknown
 * columns are an error). Lists (`parents`, `addresses`) are separated by ";", labels are `k=v;k=v`.
 * Rows are counted as a spreadsheet shows them: the header is row 1.
 */
import type { ImportSource, ParsedImport } from './inventory-import.ts';

/** The documented columns, in the order `watchfloor inventory import --help` lists them. */
export const CSV_COLUMNS = [
  'id', 'name', 'kind', 'layer', 'sensorType',
  'site', 'area', 'room', 'x', 'y', 'rack', 'u', 'heightU', 'position',
  'parents', 'labels', 'addresses', 'expectedIntervalSeconds',
  'snmp_host', 'snmp_port', 'snmp_version', 'snmp_community', 'snmp_profile', 'snmp_credentials', 'snmp_interval',
] as const;
type Column = (typeof CSV_COLUMNS)[number];

const NUMERIC: ReadonlySet<Column> = new Set(['x', 'y', 'u', 'heightU', 'expectedIntervalSeconds', 'snmp_port', 'snmp_interval']);
const SNMP_KEY: Partial<Record<Column, string>> = {
  snmp_host: 'host', snmp_port: 'port', snmp_version: 'version', snmp_community: 'community', snmp_profile: 'profile', snmp_credentials: 'credentials', snmp_interval: 'intervalSeconds',
};
const LOCATION_KEYS: Record<string, Column> = { rack: 'rack', u: 'u', heightU: 'heightU', position: 'position', room: 'room', x: 'x', y: 'y', site: 'site', area: 'area' };

/** A CSV record and the line of the file it starts on (1-based): a row number as an editor shows it. */
export interface CsvRecord {
  line: number;
  cells: string[];
}

/** RFC 4180 records: quoted fields may hold commas, quotes ("") and line breaks; CRLF or LF ends a record. */
export function parseCsvRecords(text: string): CsvRecord[] {
  const rows: CsvRecord[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') i++;
      row.push(field);
      rows.push({ line: start, cells: row });
      row = [];
      field = '';
      start = ++line;
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push({ line: start, cells: row });
  }
  return rows;
}

/** Which column a device field came from: `location.rack` -> rack, `snmp.host` -> snmp_host, `parents.2` -> parents. */
function columnOf(path: readonly (string | number)[]): string {
  const [head, sub] = path;
  if (head === 'location') return typeof sub === 'string' ? (LOCATION_KEYS[sub] ?? 'rack') : 'rack';
  if (head === 'snmp') {
    if (sub === 'v3') return 'snmp_credentials';
    const col = Object.entries(SNMP_KEY).find(([, k]) => k === sub)?.[0];
    return col ?? 'snmp_host';
  }
  return String(head ?? 'id');
}

function cellValue(column: Column, text: string): unknown {
  if (NUMERIC.has(column)) {
    const n = Number(text);
    return Number.isFinite(n) ? n : text; // the schema names the column when it is not a number
  }
  return text;
}

/** Reads a CSV import into raw devices (validated by the planner) and the errors of the file's own shape. */
export function parseCsvImport(text: string): ParsedImport {
  const records = parseCsvRecords(text).filter((r) => r.cells.some((c) => c.trim() !== ''));
  const [header, ...rows] = records;
  const out: ParsedImport = { devices: [], links: [], errors: [] };
  if (!header) {
    out.errors.push({ row: 1, column: '(header)', message: 'the file is empty: the first row names the columns (id,name,kind,...)' });
    return out;
  }
  const columns = header.cells.map((h) => h.trim());
  columns.forEach((c, i) => {
    if (!(CSV_COLUMNS as readonly string[]).includes(c)) out.errors.push({ row: header.line, column: c || `#${i + 1}`, message: `unknown column "${c}" (columns: ${CSV_COLUMNS.join(', ')})` });
    else if (columns.indexOf(c) !== i) out.errors.push({ row: header.line, column: c, message: `column "${c}" appears twice` });
  });
  for (const required of ['id', 'kind'] as const) if (!columns.includes(required)) out.errors.push({ row: header.line, column: required, message: `the "${required}" column is required` });
  if (out.errors.length > 0) return out;

  for (const { line: rowNumber, cells } of rows) {
    const source: ImportSource = { row: rowNumber };
    if (cells.length > columns.length) {
      out.errors.push({ row: rowNumber, column: `#${columns.length + 1}`, message: `${cells.length} cells in a row of ${columns.length} columns` });
      continue;
    }
    const device: Record<string, unknown> = {};
    const location: Record<string, unknown> = {};
    const snmp: Record<string, unknown> = {};
    columns.forEach((name, i) => {
      const column = name as Column;
      const text = (cells[i] ?? '').trim();
      if (text === '') return;
      if (column in LOCATION_KEYS) location[column] = cellValue(column, text);
      else if (SNMP_KEY[column]) snmp[SNMP_KEY[column]] = cellValue(column, text);
      else if (column === 'parents' || column === 'addresses') device[column] = text.split(';').map((s) => s.trim()).filter(Boolean);
      else if (column === 'labels') {
        const labels: Record<string, string> = {};
        for (const pair of text.split(';').map((s) => s.trim()).filter(Boolean)) {
          const eq = pair.indexOf('=');
          if (eq <= 0) out.errors.push({ row: rowNumber, column, message: `label "${pair}" is not key=value` });
          else labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
        }
        device.labels = labels;
      } else device[column] = cellValue(column, text);
    });
    // A rack (with U or a sensor position) wins over a room plan, which wins over a site: the finer place.
    if (location.rack !== undefined) device.location = pick(location, ['rack', 'u', 'heightU', 'position']);
    else if (location.room !== undefined) device.location = pick(location, ['room', 'x', 'y']);
    else if (location.site !== undefined) device.location = pick(location, ['site', 'area']);
    else {
      out.errors.push({ row: rowNumber, column: 'rack', message: 'a device needs a rack (with u or position), a room (with x, y) or a site' });
      continue;
    }
    if (Object.keys(snmp).length > 0) device.snmp = snmp;
    out.devices.push({ source, raw: device, locate: (path) => ({ row: rowNumber, column: columnOf(path) }) });
  }
  return out;
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}
