import { z } from 'zod';
import { AlertKind, Id, Severity, type Alert, type DeviceEvent, type DeviceTags, type Point, type SecurityEvent } from '../../core/index.ts';
import { renderSummary, type Opening } from '../alert-book.ts';
import type { FlapPolicy } from '../flapping.ts';
import type { Detection } from '../sigma/index.ts';

// ---- what every rule kind shares: durations, numbers, tag matches, presentation, the base schema

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
export const Duration = z.string({ error: DURATION_HINT }).transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: DURATION_HINT });
    return z.NEVER;
  }
  return ms;
});
/** A duration longer than nothing (a window, a silence allowed). */
export const PositiveDuration = Duration.refine((ms) => ms > 0, 'must be longer than 0s');

export const Finite = z.number().refine(Number.isFinite, 'not a finite number');

/** Tag name to the value it must have, or a list of values any of which will do. */
export const TagMatch = z.record(z.string().min(1), z.union([z.string(), z.array(z.string()).min(1)]));
export type TagMatch = z.infer<typeof TagMatch>;

/** True when the device's tags meet every `match.tags` entry (a value, or any of a list). */
export function matchesTags(match: TagMatch | undefined, device: string, tags: DeviceTags | undefined): boolean {
  if (match === undefined) return true;
  for (const key in match) {
    const want = match[key];
    const have = key === 'device' ? device : tags?.[key];
    if (have === undefined || want === undefined) return false;
    if (typeof want === 'string' ? have !== want : !want.includes(have)) return false;
  }
  return true;
}

/** What every rule may add to its alerts: templated text, a runbook link, fixed labels. */
const Presentation = {
  summary: z.string().min(1).optional(),
  /** The summary in Vietnamese, same `{{...}}`: what notifications to Vietnamese receivers say. */
  summary_vi: z.string().min(1).optional(),
  /** Longer text for the alert's page; `{{...}}` as in the summary. */
  description: z.string().min(1).optional(),
  runbook: z.url().optional(),
  /** Fixed labels added to every alert of the rule (team, service). */
  labels: z.record(z.string().min(1), z.string()).optional(),
};

/**
 * The schema of one rule kind on the base every kind shares: `id`, `type`, `name`, `kind` (the
 * alert kind, with the default the rule kind gives), `severity`, the kind's own fields, then the
 * presentation (`summary`, `description`, `runbook`, `labels`). Strict: an unknown field is an error.
 */
export function ruleSchema<T extends string, K extends z.ZodType<AlertKind, AlertKind | undefined>, S extends z.ZodRawShape>(type: T, kind: K, fields: S) {
  return z.strictObject({ id: Id, type: z.literal(type), name: z.string().min(1), kind, severity: Severity, ...fields, ...Presentation });
}

/** What the engine reads of any rule, whatever its kind. */
export interface BaseRule {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly kind: AlertKind;
  readonly severity: Severity;
  readonly summary?: string | undefined;
  readonly summary_vi?: string | undefined;
  readonly description?: string | undefined;
  readonly runbook?: string | undefined;
  readonly labels?: Record<string, string> | undefined;
}

// ---- the pure step every kind's evaluation returns

/** What a step of evaluation did to an alert; absent when the alert neither started nor ended. */
export type Transition = 'firing' | 'resolved';

/** A new state and what it did to the alert; evaluators return undefined when nothing changed. */
export interface Step<S> {
  readonly state: S;
  readonly transition?: Transition;
}

/** The alert a rule opens: its rule's identity and presentation, `{{...}}` filled from `vars`. */
export function openingOf(def: BaseRule, labels: Record<string, string>, vars: Record<string, string>, template: string, value: number | null, startsAt: number): Opening {
  return {
    rule: def.id, name: def.name, kind: def.kind, severity: def.severity, labels, value, startsAt,
    summary: renderSummary(template, vars),
    ...(def.summary_vi ? { summaryVi: renderSummary(def.summary_vi, vars) } : {}),
    ...(def.description ? { description: renderSummary(def.description, vars) } : {}),
    ...(def.runbook ? { runbook: def.runbook } : {}),
  };
}

// ---- how the engine and a kind meet: the table entry, the kind's state-keeping, what the engine lends it

/** A device's reporting interval (the inventory's `expectedIntervalSeconds`, or its kind's default). */
export interface ExpectedInterval {
  readonly ms: number;
  /** The inventory states it; otherwise it is the kind's default, trusted only for a device that left. */
  readonly stated: boolean;
}

/**
 * What a device told us about itself: a value (of any metric), its status topic, or `left`: it ended
 * its connection with DISCONNECT [MQTT-3.14], as a sleeping sensor or a cron script does after each
 * report. Leaving is a sign of life, not of death: the device is due back within its interval.
 */
export type Presence = 'data' | 'online' | 'offline' | 'left';

/** Something waiting out a `for` or a `keep_firing_for`, and the tracker that knows what to do when time passes. */
export interface Waiting<T = unknown> {
  /** Time passed with no new input. */
  elapse(item: T, now: number): void;
  /** The rule's id, for the error report when `elapse` throws. */
  ruleOf(item: T): string;
}

/** What the engine lends a kind's tracker: opening and closing alerts with noise control applied. */
export interface AlertPort {
  readonly flap: FlapPolicy;
  tagsOf(device: string): DeviceTags | undefined;
  expectedIntervalOf(device: string): ExpectedInterval | undefined;
  /** Opens (or takes up) the alert, with its suppression and silences. */
  raise(o: Opening, now: number): Alert;
  /** Resolves an alert its condition no longer holds for. */
  settle(alert: Alert, now: number): void;
  /** A machine change to a live alert (flapping), sent out with the rest of this call's changes. */
  update(id: string, patch: Partial<Alert>, now: number, why: string): Alert | undefined;
  /** True when the alert is still firing (a person may have resolved it). */
  live(alert: Alert | undefined): boolean;
  /** The firing alert from before a restart or reload with this rule and labels, now owned again. */
  adopt(rule: string, labels: Record<string, string>): Alert | undefined;
  /** `item` waits on time: the engine's `tick` calls `by.elapse(item, now)` until `done(item)`. */
  wait<T>(item: T, by: Waiting<T>): void;
  done(item: unknown): void;
  /** Counts and reports a step that threw, so a tracker can go on with its other state. */
  failed(where: string, err: unknown): void;
}

/**
 * A kind's state-keeping for the rules loaded (the engine makes one per load and owns it). Each
 * hook is optional: the engine gives a tracker only the input it has a hook for.
 */
export interface Tracker {
  /** A value of a metric, with the device's tags. */
  onPoint?(point: Point, tags: DeviceTags | undefined, now: number): void;
  /** A sign of life or death: every point (`data`), a status message, a clean leave. */
  onPresence?(device: string, tags: DeviceTags | undefined, presence: Presence, now: number): void;
  onEvent?(event: DeviceEvent | SecurityEvent, source: 'device' | 'security', now: number): void;
  /** A Sigma detection on log lines (rules/sigma; the product runs the Sigma engine on every stored line). */
  onDetection?(detection: Detection, now: number): void;
  /** A new alert of any rule (correlations listen). */
  onAlert?(alert: Alert, now: number): void;
  /** Time passing, about once a second (`for` waits go through `AlertPort.wait` instead). */
  tick?(now: number): void;
}

/** The table entry of a rule's kind, as the engine and the trackers see any kind. */
export type KindOf = (rule: BaseRule) => RuleKind<BaseRule>;

/**
 * What becomes of a firing alert from before a restart or reload that no state of its rule took up:
 * `confirm` (a value rule): resolved once ORPHAN_GRACE_MS passed without a value confirming it;
 * `quiet`: resolved once `quiet(rule)` passed since its last change (events have no end);
 * `keep`: it stays (a silent device's no-data alert stands until the device is heard from).
 */
export type Orphans<R> = 'confirm' | 'keep' | { quiet(rule: R): number };

/** One entry of the table of rule kinds (rules/kinds/index.ts). */
export interface RuleKind<R extends BaseRule> {
  readonly schema: z.ZodType<R, unknown>;
  /** The kind's pure step, `(rule, previous state, input, now) -> Step | undefined`; its tracker calls it. */
  evaluate(...args: never[]): unknown;
  /** Makes the tracker of the loaded rules of the kind; kinds naming the same function share one tracker. */
  track(rules: readonly R[], port: AlertPort, kindOf: KindOf): Tracker;
  readonly orphans: Orphans<R>;
  /** Its firing alerts mean the device is down: its descendants' alerts are suppressed (rules/dependencies.ts). */
  readonly outage?: boolean;
  /** The other rules' ids the rule names, each with its path in the rule: a rules file must define them. */
  refs?(rule: R): readonly { path: readonly (string | number)[]; id: string }[];
}

/** A kind's tracking function. */
export type Track = RuleKind<BaseRule>['track'];
