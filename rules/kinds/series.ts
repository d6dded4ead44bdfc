import type { Alert, DeviceTags, Point } from '../../core/index.ts';
import { formatValue, type Opening } from '../alert-book.ts';
import { isFlapping, recordBit, type FlapPolicy } from '../flapping.ts';
import { formatDuration, matchesTags, openingOf, type AlertPort, type BaseRule, type KindOf, type RuleKind, type Step, type TagMatch, type Tracker, type Waiting } from './base.ts';
import { waitsOnTime, type Condition, type ThresholdState } from './condition.ts';

/** A rule on one metric's series per device: threshold, rate and state. */
export type SeriesRuleDef = BaseRule & { readonly match: { metric: string; tags?: TagMatch | undefined }; readonly for: number };

/** The table entry of a series kind: its pure step over the measured value, and how it measures and describes. */
export interface SeriesKind<R extends SeriesRuleDef> extends RuleKind<R> {
  evaluate(rule: Condition, state: ThresholdState | undefined, measured: number, now: number): Step<ThresholdState> | undefined;
  elapse(rule: Condition, state: ThresholdState | undefined, now: number): Step<ThresholdState> | undefined;
  /** Worked out once per rule when the rules load, so a value costs no allocation. */
  compile(def: R): SeriesCompiled;
  /** The summary's variables (beyond labels, rule, name, value, for) and template, and the alert's value. */
  describe(def: R, value: number, measured: number): { vars: Record<string, string>; template: string; value: number };
}

export interface SeriesCompiled {
  /** The condition the measured value is judged by. */
  readonly cond: Condition;
  /**
   * What the condition sees of a value: its change over a window, 1 or 0 for a state; undefined:
   * nothing to judge yet. Without it, the value itself (a threshold), with no call on the hot path.
   */
  readonly measure?: (value: number, memory: unknown, now: number) => number | undefined;
  /** Per-series memory the measure keeps (a rate's window of samples). */
  readonly memory?: () => unknown;
}

/** A series rule as the hot path sees it: its definition, its kind's table entry and what was compiled from it. */
interface SeriesRule extends SeriesCompiled {
  readonly def: SeriesRuleDef;
  readonly kind: SeriesKind<SeriesRuleDef>;
  /** The kind's `evaluate`, looked up once. */
  readonly evaluate: SeriesKind<SeriesRuleDef>['evaluate'];
}

/** One series rule on one device's series of the rule's metric. */
interface Series {
  readonly rule: SeriesRule;
  readonly device: string;
  /** The tags object `matches` was worked out from; a different object (device moved) means look again. */
  tags: DeviceTags | undefined;
  matches: boolean;
  state: ThresholdState | undefined;
  /** The latest raw value and what the condition saw (the value, the change, 1/0 for a state). */
  value: number;
  measured: number;
  alert: Alert | undefined;
  readonly memory: unknown;
  /** Flap history: firing (1) or not per evaluation, newest in bit 0; `seen` evaluations so far. */
  bits: number;
  seen: number;
  flapping: boolean;
}

/**
 * The state of every series rule (threshold, rate, state) per device, indexed by metric so a point
 * costs one look-up; flap detection after Nagios holds a flapping alert firing (rules/flapping.ts).
 */
class SeriesTracker implements Tracker, Waiting<Series> {
  private readonly byMetric = new Map<string, { rules: SeriesRule[]; byDevice: Map<string, Series[]> }>();
  private readonly flap: FlapPolicy;

  constructor(rules: readonly SeriesRuleDef[], private readonly port: AlertPort, kindOf: KindOf) {
    this.flap = port.flap;
    for (const def of rules) {
      const kind = kindOf(def) as unknown as SeriesKind<SeriesRuleDef>;
      let entry = this.byMetric.get(def.match.metric);
      if (!entry) this.byMetric.set(def.match.metric, (entry = { rules: [], byDevice: new Map() }));
      const { cond, measure, memory } = kind.compile(def);
      entry.rules.push({ def, kind, evaluate: kind.evaluate, cond, measure, memory });
    }
  }

  onPoint(point: Point, tags: DeviceTags | undefined, now: number): void {
    const entry = this.byMetric.get(point.metric);
    if (entry === undefined) return;
    let series = entry.byDevice.get(point.device);
    if (series === undefined) {
      series = entry.rules.map((rule) => this.newSeries(rule, point.device, tags));
      entry.byDevice.set(point.device, series);
    }
    for (const s of series) {
      if (s.tags !== tags) this.retag(s, tags, now);
      if (!s.matches) continue;
      s.value = point.value;
      const rule = s.rule;
      const measured = rule.measure === undefined ? point.value : rule.measure(point.value, s.memory, now);
      if (measured === undefined) continue;
      s.measured = measured;
      const step = rule.evaluate(rule.cond, s.state, measured, now);
      if (step !== undefined) this.apply(s, step, now);
      this.recordFlap(s, now);
    }
  }

  elapse(s: Series, now: number): void {
    const step = s.rule.kind.elapse(s.rule.cond, s.state, now);
    if (step !== undefined) this.apply(s, step, now);
  }

  ruleOf(s: Series): string {
    return s.rule.def.id;
  }

  private labels(s: Pick<Series, 'device' | 'tags' | 'rule'>): Record<string, string> {
    return { ...s.tags, ...s.rule.def.labels, device: s.device, metric: s.rule.def.match.metric };
  }

  private newSeries(rule: SeriesRule, device: string, tags: DeviceTags | undefined): Series {
    const s: Series = {
      rule, device, tags, matches: matchesTags(rule.def.match.tags, device, tags), state: undefined, value: Number.NaN, measured: Number.NaN, alert: undefined,
      memory: rule.memory?.(), bits: 0, seen: 0, flapping: false,
    };
    if (s.matches) {
      const orphan = this.port.adopt(rule.def.id, this.labels(s));
      if (orphan) {
        s.alert = orphan;
        s.state = { phase: 'firing', since: orphan.startsAt };
        s.flapping = orphan.flapping ?? false;
      }
    }
    return s;
  }

  private retag(s: Series, tags: DeviceTags | undefined, now: number): void {
    s.tags = tags;
    s.matches = matchesTags(s.rule.def.match.tags, s.device, tags);
    if (s.matches || s.state === undefined || s.state.phase === 'inactive') return;
    // The device moved out of the rule's reach: drop the pending wait, resolve a firing alert.
    s.flapping = false;
    const transition = s.state.phase === 'firing' ? ('resolved' as const) : undefined;
    this.apply(s, { state: { phase: 'inactive', since: now }, transition }, now);
  }

  private apply(s: Series, step: Step<ThresholdState>, now: number): void {
    s.state = step.state;
    if (waitsOnTime(step.state)) this.port.wait(s, this);
    else this.port.done(s);
    if (step.transition === 'firing') {
      // A flapping alert is held firing through its flaps: one alert, not one per flap.
      if (this.port.live(s.alert)) return;
      s.alert = this.port.raise(this.opening(s, step.state.since), now);
      if (s.flapping) {
        // Raised while the series flaps: marked at once, and said, so every view shows it as flapping.
        const next = this.port.update(s.alert.id, { flapping: true }, now, 'flapping');
        if (next) s.alert = next;
      }
    } else if (step.transition === 'resolved' && s.alert && !s.flapping) {
      this.port.settle(s.alert, now);
      s.alert = undefined;
    }
  }

  /** Appends this evaluation to the flap history; entering or leaving flapping updates the alert once. */
  private recordFlap(s: Series, now: number): void {
    const firing = s.state?.phase === 'firing';
    const flap = this.flap;
    s.bits = recordBit(s.bits, firing, flap.window);
    if (s.seen < flap.window) s.seen++;
    const flapping = isFlapping(flap, s.flapping, s.bits, s.seen);
    if (flapping === s.flapping) return;
    s.flapping = flapping;
    if (s.alert === undefined) return;
    if (!flapping && !firing) {
      // Leaving flapping with the condition clear: the held alert resolves now.
      this.port.settle(s.alert, now);
      s.alert = undefined;
      return;
    }
    const next = this.port.update(s.alert.id, { flapping }, now, flapping ? 'flapping' : 'stopped flapping');
    if (next) s.alert = next;
  }

  private opening(s: Series, startsAt: number): Opening {
    const { def, kind } = s.rule;
    const labels = this.labels(s);
    const d = kind.describe(def, s.value, s.measured);
    const vars: Record<string, string> = { ...labels, rule: def.id, name: def.name, value: formatValue(s.measured), for: formatDuration(def.for), ...d.vars };
    return openingOf(def, labels, vars, def.summary ?? d.template, d.value, startsAt);
  }
}

/** The tracker of the series kinds: threshold, rate and state name it, and share one. */
export const trackSeries = (rules: readonly SeriesRuleDef[], port: AlertPort, kindOf: KindOf): Tracker => new SeriesTracker(rules, port, kindOf);
