import { z } from 'zod';
import { Duration, Finite, type Step } from './base.ts';

/**
 * The held condition that threshold, rate, state and aggregate rules share: a measured value past
 * `when` (strictly), held for `for`, fires; it resolves once back past `clear`, or after
 * `keep_firing_for` more (Prometheus's pending -> firing and keep_firing_for).
 */

export const Bounds = z.strictObject({ above: Finite.optional(), below: Finite.optional() });
export const ClearBounds = z.strictObject({ below: Finite.optional(), above: Finite.optional() });

/** `for` and `keep_firing_for` as a rule file gives them. */
export const Held = {
  /** Milliseconds once loaded; 0 fires on the first breaching value. */
  for: Duration.default(0),
  /** Prometheus's keep_firing_for: once cleared, the alert stays firing this long (a brief dip does not resolve it). */
  keep_firing_for: Duration.default(0),
};

interface BoundsOf {
  when: { above?: number | undefined; below?: number | undefined };
  clear?: { below?: number | undefined; above?: number | undefined } | undefined;
}
/** What threshold, rate, state and aggregate rules share: bounds, `for` and `keep_firing_for`. */
export type Condition = BoundsOf & { for: number; keep_firing_for: number };

/** `when` / `clear` make sense together: a clear line past the fire line would clear a breaching value. */
export function checkBounds(rule: BoundsOf, ctx: z.RefinementCtx): void {
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
 * Where one series stands against one threshold rule. `since` is when the phase began; for pending
 * and firing that is the first breaching value (Prometheus's activeAt), so a `for` wait does not
 * hide when the room started warming.
 */
export interface ThresholdState {
  readonly phase: 'inactive' | 'pending' | 'firing';
  readonly since: number;
  /** Firing but cleared at this time, kept firing for `keep_firing_for`; absent otherwise. */
  readonly clearedAt?: number;
}

/** True when the value is past a `when` threshold (strictly: a value on the line does not breach). */
export function breaches(rule: BoundsOf, value: number): boolean {
  const { above, below } = rule.when;
  return (above !== undefined && value > above) || (below !== undefined && value < below);
}

/**
 * True when a firing alert may resolve: the value is back past the clear threshold on every side
 * the rule watches. A value exactly on a line neither fires nor clears, so even without `clear`
 * a reading hovering at 27.0 / 27.1 against "above 27" stays firing instead of flapping.
 */
export function clears(rule: BoundsOf, value: number): boolean {
  const { when, clear } = rule;
  if (when.above !== undefined && !(value < (clear?.below ?? when.above))) return false;
  if (when.below !== undefined && !(value > (clear?.above ?? when.below))) return false;
  return true;
}

/** The `when` threshold a value crossed and on which side, for the summary. */
export function crossing(rule: BoundsOf, value: number): { direction: 'above' | 'below'; threshold: number } {
  const { above, below } = rule.when;
  if (above !== undefined && (below === undefined || value > above)) return { direction: 'above', threshold: above };
  return { direction: 'below', threshold: below ?? Number.NaN };
}

/**
 * One value of a series at time `now`. Pure; returns undefined when nothing changed (the hot path
 * allocates nothing then). A pending series that stops breaching starts over: `for` means held
 * without a break, as in Prometheus.
 */
export function evaluateThreshold(
  rule: Condition,
  previous: ThresholdState | undefined,
  value: number,
  now: number,
): Step<ThresholdState> | undefined {
  const phase = previous?.phase ?? 'inactive';
  if (phase === 'firing' && previous) {
    const clearedAt = previous.clearedAt;
    if (clearedAt !== undefined) {
      // keep_firing_for: a breach again cancels the countdown; otherwise it runs out here or in elapse.
      if (breaches(rule, value)) return { state: { phase: 'firing', since: previous.since } };
      return now - clearedAt >= rule.keep_firing_for ? { state: { phase: 'inactive', since: now }, transition: 'resolved' } : undefined;
    }
    if (!clears(rule, value)) return undefined;
    if (rule.keep_firing_for > 0) return { state: { phase: 'firing', since: previous.since, clearedAt: now } };
    return { state: { phase: 'inactive', since: now }, transition: 'resolved' };
  }
  if (!breaches(rule, value)) return phase === 'pending' ? { state: { phase: 'inactive', since: now } } : undefined;
  const since = phase === 'pending' && previous ? previous.since : now;
  if (now - since >= rule.for) return { state: { phase: 'firing', since }, transition: 'firing' };
  return phase === 'pending' ? undefined : { state: { phase: 'pending', since } };
}

/**
 * Time passing with no new value: a pending series whose `for` has run out fires. Without this a
 * sensor that reports every minute would need a second breaching value to fire a 30 s rule.
 */
export function elapseThreshold(rule: Condition, previous: ThresholdState | undefined, now: number): Step<ThresholdState> | undefined {
  if (previous?.phase === 'firing' && previous.clearedAt !== undefined) {
    return now - previous.clearedAt >= rule.keep_firing_for ? { state: { phase: 'inactive', since: now }, transition: 'resolved' } : undefined;
  }
  if (previous?.phase !== 'pending' || now - previous.since < rule.for) return undefined;
  return { state: { phase: 'firing', since: previous.since }, transition: 'firing' };
}

/** Whether the state waits on time: pending out a `for`, or cleared and kept firing for `keep_firing_for`. */
export const waitsOnTime = (state: ThresholdState): boolean => state.phase === 'pending' || state.clearedAt !== undefined;
