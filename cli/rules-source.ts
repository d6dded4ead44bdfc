import { join } from 'node:path';
import type { Config } from '../core/index.ts';
import { builtinRulesPath, loadRules, loadRulesFile, type RuleDef } from '../rules/index.ts';

/** Loads the rules named by the config (a file beside it, or inline), else the built-in ones. */
export function rulesFor(config: Config, baseDir: string): RuleDef[] {
  if (config.rules === undefined) return loadRulesFile(builtinRulesPath);
  if (typeof config.rules === 'string') return loadRulesFile(join(baseDir, config.rules));
  return loadRules(config.rules, 'config: rules');
}
