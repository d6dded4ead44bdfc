import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { AlertKind, ConfigError, Id, MetricName, Severity } from '../core/index.ts';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** "30s", "1.5m", "250ms", "2h" in milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
}

/** Milliseconds as the shortest exact duration text ("30s", "2m", "1500ms"), for summaries. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

const DURATION_HINT = 'expected a duration like "30s"';
/** A duration in the file; milliseconds once loaded. */
const Duration = z.string({ error: DURATION_HINT }).transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: DURATION_HINT });
    return z.NEVER;
  }
  return ms;
});

const Finite = z.number().refine(Number.isFinite, 'not a finite number');

/** Tag name to the value it must have, or a list of values any of which will do. */
const TagMatch = z.record(z.string().min(1), z.union([z.string(), z.array(z.string()).min(1)]));
export type TagMatch = z.infer<typeof TagMatch>;

/**
 * A value above `when.above` or below `when.below`, held for `for`, fires; it resolves only once
 * back past `clear` (by default the `when` threshold itself), so a value hovering at the line
 * does not flap.
 */
export const ThresholdRule = z
  .strictObject({
    id: Id,
    type: z.literal('threshold'),
    name: z.string().min(1),
    kind: AlertKind,
    severity: Severity,
    match: z.strictObject({ metric: MetricName, tags: TagMatch.optional() }),
    when: z.strictObject({ above: Finite.optional(), below: Finite.optional() }),
    clear: z.strictObject({ below: Finite.optional(), above: Finite.optional() }).optional(),
    /** Milliseconds once loaded; 0 fires on the first breaching value. */
    for: Duration.default(0),
    summary: z.string().min(1).optional(),
  })
  .superRefine((rule, ctx) => {
    const { when, clear } = rule;
    const issue = (path: string[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    if (when.above === undefined && when.below === undefined) issue(['when'], 'give "above", "below" or both');
    if (when.above !== undefined && when.below !== undefined && when.below >= when.above)
      issue(['when'], `"below" (${when.below}) must be less than "above" (${when.above}), or every value would fire`);
    if (clear?.below !== undefined) {
      if (when.above === undefined) issue(['clear', 'below'], 'only applies with "when.above"');
      else if (clear.below > when.above) issue(['clear', 'below'], `must not exceed when.above (${when.above}): it would clear a value that still breaches`);
    }
    if (clear?.above !== undefined) {
      if (when.below === undefined) issue(['clear', 'above'], 'only applies with "when.below"');
      else if (clear.above < when.below) issue(['clear', 'above'], `must not be under when.below (${when.below}): it would clear a value that still breaches`);
    }
  });
export type ThresholdRule = z.output<typeof ThresholdRule>;

/**
 * A matching device that sent nothing for `after` is offline; an `offline` status (its MQTT last
 * will, or the broker seeing the connection drop) makes it offline at once.
 */
export const NodataRule = z.strictObject({
  id: Id,
  type: z.literal('nodata'),
  name: z.string().min(1),
  kind: AlertKind.default('availability'),
  severity: Severity,
  match: z.strictObject({ tags: TagMatch.optional() }).default({}),
  /** Milliseconds once loaded. */
  after: Duration.refine((ms) => ms > 0, 'must be longer than 0s'),
  summary: z.string().min(1).optional(),
});
export type NodataRule = z.output<typeof NodataRule>;

/** One rule definition, told apart by `type`. */
export const RuleDef = z.discriminatedUnion('type', [ThresholdRule, NodataRule]);
export type RuleDef = z.output<typeof RuleDef>;
export type RuleInput = z.input<typeof RuleDef>;

/** A rules file: `rules: [...]`, ids unique. */
export const RuleFile = z.strictObject({ rules: z.array(RuleDef) }).superRefine((file, ctx) => {
  const seen = new Set<string>();
  file.rules.forEach((rule, i) => {
    if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${rule.id}"` });
    seen.add(rule.id);
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
