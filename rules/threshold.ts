import type { ThresholdRule } from './schema.ts';

/** What a step of evaluation did to an alert; absent when the alert neither started nor ended. */
export type Transition = 'firing' | 'resolved';

/** A new state and what it did to the alert; evaluators return undefined when nothing changed. */
export interface Step<S> {
  readonly state: S;
  readonly transition?: Transition;
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

type Bounds = Pick<ThresholdRule, 'when' | 'clear'>;
/** What threshold, rate, state and aggregate rules share: bounds, `for` and `keep_firing_for`. */
export type Condition = Pick<ThresholdRule, 'when' | 'clear' | 'for' | 'keep_firing_for'>;

/** True when the value is past a `when` threshold (strictly: a value on the line does not breach). */
export function breaches(rule: Bounds, value: number): boolean {
  const { above, below } = rule.when;
  return (above !== undefined && value > above) || (below !== undefined && value < below);
}

/**
 * True when a firing alert may resolve: the value is back past the clear threshold on every side
 * the rule watches. A value exactly on a line neither fires nor clears, so even without `clear`
 * a reading hovering at 27.0 / 27.1 against "above 27" stays firing instead of flapping.
 */
export function clears(rule: Bounds, value: number): boolean {
  const { when, clear } = rule;
  if (when.above !== undefined && !(value < (clear?.below ?? when.above))) return false;
  if (when.below !== undefined && !(value > (clear?.above ?? when.below))) return false;
  return true;
}

/** The `when` threshold a value crossed and on which side, for the summary. */
export function crossing(rule: Bounds, value: number): { direction: 'above' | 'below'; threshold: number } {
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
