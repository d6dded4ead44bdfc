import { z } from 'zod';
import { AlertKind, MetricName } from '../../core/index.ts';
import { formatValue } from '../alert-book.ts';
import { formatDuration, PositiveDuration, ruleSchema, TagMatch } from './base.ts';
import { Bounds, checkBounds, ClearBounds, crossing, elapseThreshold, evaluateThreshold, Held } from './condition.ts';
import { trackSeries, type SeriesKind } from './series.ts';

/**
 * Rate of change: the value now minus the value `window` ago (Prometheus's delta) compared with
 * `when`; "temperature up more than 2 °C in 5 minutes" is `window: 5m, when: {above: 2}`.
 */
export const RateRule = ruleSchema('rate', AlertKind, {
  match: z.strictObject({ metric: MetricName, tags: TagMatch.optional() }),
  window: PositiveDuration,
  when: Bounds,
  clear: ClearBounds.optional(),
  ...Held,
}).superRefine(checkBounds);
export type RateRule = z.output<typeof RateRule>;

/**
 * Samples of one series over a rate rule's window, in a fixed ring: at most SLOTS samples, one kept
 * per window/(SLOTS-1), so memory is bounded whatever the sensor's interval and a value costs no
 * allocation.
 */
const SLOTS = 33;

export class RateWindow {
  private readonly ts = new Float64Array(SLOTS);
  private readonly values = new Float64Array(SLOTS);
  private head = 0;
  private size = 0;

  constructor(private readonly windowMs: number) {}

  /**
   * Records a value at `now` and returns the change since the oldest sample still inside the
   * window (Prometheus's delta), or NaN when there is none yet to compare with.
   */
  push(value: number, now: number): number {
    const start = now - this.windowMs;
    // Drop samples that fell out of the window, but keep the newest of them as the baseline when
    // nothing newer is left, so a sensor reporting exactly once per window still compares.
    while (this.size > 1 && this.ts[(this.head - this.size + 1 + SLOTS) % SLOTS]! <= start) this.size--;
    let delta = Number.NaN;
    if (this.size > 0) {
      const oldest = (this.head - this.size + SLOTS) % SLOTS;
      // A baseline from long before the window (the sensor was away) says nothing about this window.
      if (now - this.ts[oldest]! <= 2 * this.windowMs) delta = value - this.values[oldest]!;
    }
    const last = (this.head - 1 + SLOTS) % SLOTS;
    if (this.size === 0 || now - this.ts[last]! >= this.windowMs / (SLOTS - 1)) {
      this.ts[this.head] = now;
      this.values[this.head] = value;
      this.head = (this.head + 1) % SLOTS;
      if (this.size < SLOTS) this.size++;
    }
    return delta;
  }
}

/** The change over the series' window; undefined until there is a sample to compare with. */
function changeOver(value: number, window: unknown, now: number): number | undefined {
  const delta = (window as RateWindow).push(value, now);
  return Number.isNaN(delta) ? undefined : delta;
}

/** The pure step: the change over the window (measured by the series' RateWindow) against the rule's bounds. */
export const evaluate = evaluateThreshold;

export const rate = {
  schema: RateRule,
  evaluate,
  elapse: elapseThreshold,
  track: trackSeries,
  orphans: 'confirm',
  compile: (def) => ({ cond: def, measure: changeOver, memory: () => new RateWindow(def.window) }),
  describe(def, value, measured) {
    const { direction, threshold } = crossing(def, measured);
    return {
      vars: { direction, threshold: formatValue(threshold), window: formatDuration(def.window), current: formatValue(value) },
      template: '{{device}} {{metric}} changed {{value}} in {{window}}',
      value: measured,
    };
  },
} satisfies SeriesKind<RateRule>;
