/**
 * The data directory's format marker and its migrations, run once at open before any part reads a file.
 *
 * `DATA_DIR/watchfloor-data.json` says which data format the directory holds (store schema, alert
 * state, sessions, accounts: every file the product keeps there) and which version last opened it.
 * A directory from an older format is brought forward one step at a time by MIGRATIONS; one from a
 * newer format is refused with a message saying which version wrote it, never opened and half-read.
 *
 * Format 1 is the first with a marker. Release 0.1.0 wrote none: a directory with a store (tsdb/)
 * but no marker is format 0, whose files format 1 reads as they are (the DuckDB tables are created with
 * IF NOT EXISTS, alerts/state.json and sessions.json are validated on load), so step 1 only stamps.
 * The next change to a file's shape is a step here that rewrites it (naming the file in `rewrites`),
 * and DATA_FORMAT + 1.
 *
 * Only `watchfloor start` (the whole product) migrates and stamps. The other parts that use the
 * directory (`start --role broker`, the offline commands `users`, `devices`, `inventory`, `audit`)
 * go through checkDataDir: they refuse what openDataDir refuses and write no marker, since a broker
 * node or a command may run beside a running product, and two writers of the marker would race.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { wfError, type Logger } from '../core/index.ts';

/** The data format this version writes and reads. */
export const DATA_FORMAT = 1;
export const DATA_MARKER_FILE = 'watchfloor-data.json';

const Marker = z.object({
  format: z.number().int().nonnegative(),
  /** The version that last opened the directory. */
  writtenBy: z.string(),
  createdBy: z.string().optional(),
  migrations: z.array(z.object({ from: z.number(), to: z.number(), by: z.string(), at: z.number() })).default([]),
});
export type DataDirMarker = z.infer<typeof Marker>;

interface Migration {
  /** The format it produces (from `to - 1`). */
  to: number;
  what: string;
  /** The files (under the directory) the step rewrites: until it ran, this version cannot read them as they are. */
  rewrites: readonly string[];
  run(dir: string): void;
}

const MIGRATIONS: readonly Migration[] = [
  { to: 1, what: 'the data directory gets its format marker (0.1.0 wrote none; its files are read as they are)', rewrites: [], run: () => undefined },
];

function newerFormat(dir: string, found: DataDirMarker, version: string): Error {
  return wfError('DATA_DIR', `the data directory ${dir} holds data format ${found.format}, written by Watchfloor ${found.writtenBy}; this is Watchfloor ${version}, which reads data format ${DATA_FORMAT} and older. Run ${found.writtenBy} or newer on it, or restore a backup this version made (docs/production.md, "Backups").`);
}

/** Reads the marker of `dir`, undefined when there is none; an unreadable marker is an error (never taken for format 0). */
export function readDataMarker(dir: string): DataDirMarker | undefined {
  const file = join(dir, DATA_MARKER_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return Marker.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw wfError('DATA_DIR', `${file} is unreadable (${(err as Error).message.split('\n')[0]}): restore it from a backup; it says which data format the directory holds`);
  }
}

/**
 * Creates or opens the data directory for `version`: a new one is stamped, an older format is migrated
 * step by step (each step recorded in the marker), a newer format is refused. Returns the marker now on disk.
 */
export function openDataDir(dir: string, o: { version: string; now: number; logger: Logger }): DataDirMarker {
  mkdirSync(dir, { recursive: true });
  const found = readDataMarker(dir);
  if (found && found.format > DATA_FORMAT) throw newerFormat(dir, found, o.version);
  const fresh = !found && formatWithoutMarker(dir) === DATA_FORMAT;
  let marker: DataDirMarker = found ?? { format: formatWithoutMarker(dir), writtenBy: fresh ? o.version : '0.1.0', createdBy: fresh ? o.version : undefined, migrations: [] };
  for (const step of MIGRATIONS) {
    if (step.to <= marker.format) continue;
    o.logger.info({ dir, from: marker.format, to: step.to }, `data directory: migrating: ${step.what}`);
    step.run(dir);
    marker = { ...marker, format: step.to, migrations: [...marker.migrations, { from: marker.format, to: step.to, by: o.version, at: o.now }] };
    // Each step is written down as it ends, so a crash between steps resumes at the next one.
    writeMarker(dir, marker);
  }
  if (!found || found.writtenBy !== o.version) writeMarker(dir, { ...marker, writtenBy: o.version });
  return readDataMarker(dir) as DataDirMarker;
}

/**
 * No marker: a directory 0.1.0 ran in has its store (tsdb/), format 0; without one it is new (or does
 * not exist yet), perhaps with files the offline commands wrote before the first start (`users add`,
 * `devices passwd`), which every format reads.
 */
const formatWithoutMarker = (dir: string): number => (existsSync(join(dir, 'tsdb')) ? 0 : DATA_FORMAT);

/**
 * The check of the parts that use the data directory but leave its format to `watchfloor start`: a
 * newer format is refused in openDataDir's words, and so is an older one a pending migration would
 * rewrite (these parts would read or write that file in the shape this version expects). Reads only:
 * creates nothing, stamps nothing, migrates nothing. Returns the marker, undefined when there is none.
 * `migrations` is for tests; the product's are MIGRATIONS.
 */
export function checkDataDir(dir: string, version: string, migrations: readonly Migration[] = MIGRATIONS): DataDirMarker | undefined {
  const found = readDataMarker(dir);
  if (found && found.format > DATA_FORMAT) throw newerFormat(dir, found, version);
  const format = found?.format ?? formatWithoutMarker(dir);
  const pending = migrations.filter((m) => m.to > format && m.rewrites.length > 0);
  if (pending.length > 0) {
    const files = [...new Set(pending.flatMap((m) => m.rewrites))].join(', ');
    throw wfError('DATA_DIR', `the data directory ${dir} holds data format ${format}; Watchfloor ${version} rewrites its ${files} to format ${DATA_FORMAT} at its first start: run \`watchfloor start\` once on it (after a backup, docs/production.md), then this command`);
  }
  return found;
}

/** Writes the marker whole or not at all (a temp file renamed over it). */
function writeMarker(dir: string, marker: DataDirMarker): void {
  const file = join(dir, DATA_MARKER_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(marker, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}
