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

/** What every rule may add to its alerts: templated text, a runbook link, fixed labels. */
const Presentation = {
  summary: z.string().min(1).optional(),
  /** Longer text for the alert's page; `{{...}}` as in the summary. */
  description: z.string().min(1).optional(),
  runbook: z.url().optional(),
  /** Fixed labels added to every alert of the rule (team, service). */
  labels: z.record(z.string().min(1), z.string()).optional(),
};

const Day = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Day = z.infer<typeof Day>;
const HOURS = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;

/**
 * Wall-clock hours in a time zone (IANA name, read with Intl, so daylight saving is the zone's):
 * `days` and `hours` "08:00-18:00" are the working hours; `outside: true` means the rule applies
 * outside them (a door opened after hours).
 */
export const Schedule = z.strictObject({
  timezone: z.string().refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'not an IANA time zone like "Asia/Ho_Chi_Minh"'),
  days: z.array(Day).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
  hours: z.string().regex(HOURS, 'expected "HH:MM-HH:MM", e.g. "08:00-17:30"').default('00:00-24:00'),
  outside: z.boolean().default(false),
});
export type Schedule = z.output<typeof Schedule>;

const Bounds = z.strictObject({ above: Finite.optional(), below: Finite.optional() });
const ClearBounds = z.strictObject({ below: Finite.optional(), above: Finite.optional() });

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
    /** Prometheus's keep_firing_for: once cleared, the alert stays firing this long (a brief dip does not resolve it). */
    keep_firing_for: Duration.default(0),
    ...Presentation,
  })
  .superRefine(checkBounds);
export type ThresholdRule = z.output<typeof ThresholdRule>;

/** `when` / `clear` make sense together: a clear line past the fire line would clear a breaching value. */
function checkBounds(rule: { when: { above?: number; below?: number }; clear?: { below?: number; above?: number } }, ctx: z.RefinementCtx): void {
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
}

/**
 * A matching device that sent nothing for `after` is offline; an `offline` status (its MQTT last
 * will, or the broker seeing the connection drop) makes it offline at once. A clean MQTT DISCONNECT
 * does not: with `intervals`, a device that left (or states `expectedIntervalSeconds`) is offline
 * once that many of its reporting intervals pass without data.
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
  /** Missed reporting intervals (the device's `expectedIntervalSeconds`, or its kind's default) that make a sleeping device offline, e.g. 2. */
  intervals: z.number().positive().max(1000).optional(),
  ...Presentation,
});
export type NodataRule = z.output<typeof NodataRule>;

/**
 * Rate of change: the value now minus the value `window` ago (Prometheus's delta) compared with
 * `when`; "temperature up more than 2 °C in 5 minutes" is `window: 5m, when: {above: 2}`.
 */
export const RateRule = z
  .strictObject({
    id: Id,
    type: z.literal('rate'),
    name: z.string().min(1),
    kind: AlertKind,
    severity: Severity,
    match: z.strictObject({ metric: MetricName, tags: TagMatch.optional() }),
    window: Duration.refine((ms) => ms > 0, 'must be longer than 0s'),
    when: Bounds,
    clear: ClearBounds.optional(),
    for: Duration.default(0),
    keep_firing_for: Duration.default(0),
    ...Presentation,
  })
  .superRefine(checkBounds);
export type RateRule = z.output<typeof RateRule>;

/**
 * State of a status metric (ifOperStatus, UPS output source, CRAC running): fires while the value
 * is one of `firing`. `states` names the values for the summary (RFC 2863: 1 up, 2 down).
 */
export const StateRule = z.strictObject({
  id: Id,
  type: z.literal('state'),
  name: z.string().min(1),
  kind: AlertKind,
  severity: Severity,
  match: z.strictObject({ metric: MetricName, tags: TagMatch.optional() }),
  firing: z.array(Finite).min(1),
  states: z.record(z.string(), z.string()).optional(),
  for: Duration.default(0),
  keep_firing_for: Duration.default(0),
  ...Presentation,
});
export type StateRule = z.output<typeof StateRule>;

/** A field condition: a value (equal), a list (any of), or {regex, above, below, not}. */
const Scalar = z.union([z.string(), z.number(), z.boolean()]);
export const FieldCondition = z.union([
  Scalar,
  z.array(Scalar).min(1),
  z.strictObject({
    regex: z.string().refine((r) => {
      try {
        new RegExp(r);
        return true;
      } catch {
        return false;
      }
    }, 'not a regular expression').optional(),
    above: Finite.optional(),
    below: Finite.optional(),
    not: z.union([Scalar, z.array(Scalar).min(1)]).optional(),
    exists: z.boolean().optional(),
  }),
]);
export type FieldCondition = z.infer<typeof FieldCondition>;

/**
 * Device events (door_open, traps such as linkDown) or security events (bad_credentials), matched
 * by type and field conditions (`attributes.ifIndex`, `source`, `username`); with `count`, N of
 * them within `window` for one value of `by` (N failed logins from one source in 5 minutes).
 * An event has no end, so the alert resolves after `resolve_after` without a matching event.
 */
export const EventRule = z.strictObject({
  id: Id,
  type: z.literal('event'),
  name: z.string().min(1),
  kind: AlertKind,
  severity: Severity,
  source: z.enum(['device', 'security']).default('device'),
  match: z.strictObject({
    type: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    tags: TagMatch.optional(),
    where: z.record(z.string().min(1), FieldCondition).optional(),
  }),
  count: z.strictObject({ min: z.number().int().min(1), window: Duration.refine((ms) => ms > 0, 'must be longer than 0s'), by: z.string().min(1).optional() }).optional(),
  schedule: Schedule.optional(),
  resolve_after: Duration.default(5 * 60_000),
  ...Presentation,
});
export type EventRule = z.output<typeof EventRule>;

/**
 * An aggregate over a group of devices from the inventory (`group_by: [row]`, `[rack]`): the mean,
 * max or min of their latest values, or how many are above `of` (3 sensors of one rack over 30 °C).
 */
export const AggregateRule = z
  .strictObject({
    id: Id,
    type: z.literal('aggregate'),
    name: z.string().min(1),
    kind: AlertKind,
    severity: Severity,
    match: z.strictObject({ metric: MetricName, tags: TagMatch.optional() }),
    group_by: z.array(z.string().min(1)).min(1),
    fn: z.enum(['mean', 'max', 'min', 'count_above']),
    /** For count_above: the value a member must exceed to count. */
    of: Finite.optional(),
    when: Bounds,
    clear: ClearBounds.optional(),
    for: Duration.default(0),
    keep_firing_for: Duration.default(0),
    ...Presentation,
  })
  .superRefine((rule, ctx) => {
    checkBounds(rule, ctx);
    if (rule.fn === 'count_above' && rule.of === undefined) ctx.addIssue({ code: 'custom', path: ['of'], message: 'count_above needs "of", the value a member must exceed' });
  });
export type AggregateRule = z.output<typeof AggregateRule>;

/**
 * Alerts of every rule in `rules` sharing the value of the `by` label within `within` become one
 * incident linking them (a door opened on a rack, a port of its switch coming up, an unknown device).
 */
export const CorrelationRule = z.strictObject({
  id: Id,
  type: z.literal('correlation'),
  name: z.string().min(1),
  kind: AlertKind.default('security'),
  severity: Severity,
  rules: z.array(Id).min(2),
  by: z.string().min(1),
  within: Duration.refine((ms) => ms > 0, 'must be longer than 0s'),
  resolve_after: Duration.default(30 * 60_000),
  ...Presentation,
});
export type CorrelationRule = z.output<typeof CorrelationRule>;

/** One rule definition, told apart by `type`. */
export const RuleDef = z.discriminatedUnion('type', [ThresholdRule, NodataRule, RateRule, StateRule, EventRule, AggregateRule, CorrelationRule]);
export type RuleDef = z.output<typeof RuleDef>;
export type RuleInput = z.input<typeof RuleDef>;

/** A rules file: `rules: [...]`, ids unique. */
export const RuleFile = z.strictObject({ rules: z.array(RuleDef) }).superRefine((file, ctx) => {
  const seen = new Set<string>();
  file.rules.forEach((rule, i) => {
    if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${rule.id}"` });
    seen.add(rule.id);
  });
  file.rules.forEach((rule, i) => {
    if (rule.type !== 'correlation') return;
    rule.rules.forEach((id, j) => {
      if (!seen.has(id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'rules', j], message: `unknown rule "${id}"` });
    });
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
