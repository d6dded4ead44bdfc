import { chmodSync, existsSync, renameSync, statSync, writeFileSync } from 'node:fs';

/**
 * Writes a file that holds secrets (password hashes, token digests, keys) so that only the
 * product's user can read it: a temp file made and forced to mode 600, then renamed over the
 * old one, so a reader never sees half a file and a leftover temp file of another mode
 * (writeFileSync's `mode` applies only when it creates the file) cannot widen it.
 */
export function writeSecretFile(file: string, text: string): void {
  // Per process: the CLI and a running server may both write the same file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Sets a secrets file left readable by group or others (by an older version, or by hand) back to 600. */
export function tightenSecretFile(file: string): void {
  if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
}
