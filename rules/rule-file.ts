import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../core/index.ts';
import { kindOf, RuleDef } from './kinds/index.ts';

/** A rules file: `rules: [...]`, ids unique, every rule a rule names defined in the file. */
export const RuleFile = z.strictObject({ rules: z.array(RuleDef) }).superRefine((file, ctx) => {
  const seen = new Set<string>();
  file.rules.forEach((rule, i) => {
    if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${rule.id}"` });
    seen.add(rule.id);
  });
  file.rules.forEach((rule, i) => {
    for (const ref of kindOf(rule).refs?.(rule) ?? []) {
      if (!seen.has(ref.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, ...ref.path], message: `unknown rule "${ref.id}"` });
    }
  });
});

/** "rules.2 (cold-aisle-warm).for": the rule's index and, when it has one, its id, then the field. */
function issueLine(issue: z.core.$ZodIssue, doc: unknown): string {
  const [head, index, ...rest] = issue.path;
  let where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  if (head === 'rules' && typeof index === 'number') {
    const raw = (doc as { rules: unknown[] }).rules[index];
    const id = typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'string' ? ` (${raw.id})` : '';
    where = [`rules.${index}${id}`, ...rest].join('.');
  }
  return `${where}: ${issue.message}`;
}

/** Validates rule definitions (`{rules: [...]}` or the bare list), or throws a ConfigError naming each rule and field. */
export function loadRules(raw: unknown, source: string): RuleDef[] {
  const doc = Array.isArray(raw) ? { rules: raw } : raw;
  const r = RuleFile.safeParse(doc);
  if (!r.success) throw new ConfigError(source, r.error.issues.map((i) => issueLine(i, doc)));
  return r.data.rules;
}

/** Reads a YAML (or JSON) rules file and validates it. */
export function loadRulesFile(path: string): RuleDef[] {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(path, [(err as Error).message.split('\n')[0] ?? 'unreadable']);
  }
  return loadRules(raw, path);
}

/** The built-in rules for the bundled sample data center. */
export const builtinRulesPath = fileURLToPath(new URL('../config/rules.yaml', import.meta.url));
