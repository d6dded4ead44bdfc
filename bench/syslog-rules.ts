// The 100 Sigma rules of bench/syslog.ts: the built-in pack, the 22 SigmaHQ reference rules, and
// copies of the reference rules (ids and titles made unique) until there are 100.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinSigmaPath, compileSigma, readSigmaSources, type SigmaRule } from '../rules/sigma/index.ts';

export const referenceSigmaPath = fileURLToPath(new URL('../../shared/reference/sigma', import.meta.url));

/** The copies that bring the rule count to `target`, and a sentence saying how the 100 are made. */
export function benchSigmaCopies(target = 100): { copies: { file: string; text: string }[]; how: string } {
  const builtin = readSigmaSources([builtinSigmaPath]);
  const reference = readSigmaSources([referenceSigmaPath]);
  const base = compileSigma([...builtin, ...reference]).rules.length;
  const copies: { file: string; text: string }[] = [];
  for (let k = 1; base + copies.length < target; k++) {
    for (const s of reference) {
      if (base + copies.length >= target) break;
      copies.push({
        file: `copy${k}-${s.file.split('/').at(-1) ?? 'rule.yml'}`,
        text: s.text.replace(/^id: (\S+)/m, (_m, id: string) => `id: ${id.slice(0, -2)}c${k}`).replace(/^title: (.*)$/m, (_m, t: string) => `title: ${t} (copy ${k})`),
      });
    }
  }
  const nBuiltin = compileSigma(builtin).rules.length;
  return { copies, how: `${nBuiltin} built-in (rules/sigma/builtin, correlations included) + ${reference.length} SigmaHQ reference (../shared/reference/sigma) + ${copies.length} copies of the reference rules with new ids and titles` };
}

/** The 100 rules compiled, for the component pipeline. */
export function benchSigmaRules(target = 100): { rules: SigmaRule[]; how: string } {
  const { copies, how } = benchSigmaCopies(target);
  const { rules, errors } = compileSigma([...readSigmaSources([builtinSigmaPath, referenceSigmaPath]), ...copies]);
  if (errors.length > 0) console.log('not loaded:', errors);
  return { rules, how: `${how} = ${rules.length}` };
}

/** Writes the copies as .yml files into `dir` (for the product, which reads rule folders). */
export function writeSigmaCopies(dir: string, target = 100): string {
  const { copies, how } = benchSigmaCopies(target);
  mkdirSync(dir, { recursive: true });
  for (const c of copies) writeFileSync(join(dir, c.file), c.text);
  return how;
}
