import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SigmaSource } from './compile.ts';

/** The built-in pack: rules/sigma/builtin/. */
export const builtinSigmaPath = fileURLToPath(new URL('./builtin', import.meta.url));

const isRuleFile = (f: string) => /\.ya?ml$/i.test(f);

/** Reads Sigma rule files from files and folders (recursively, *.yml and *.yaml, in name order). */
export function readSigmaSources(paths: string[]): SigmaSource[] {
  const out: SigmaSource[] = [];
  const walk = (p: string, explicit: boolean) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e), false);
    } else if (explicit || isRuleFile(p)) out.push({ file: p, text: readFileSync(p, 'utf8') });
  };
  for (const p of paths) walk(p, true);
  return out;
}
