import { z } from 'zod';
import { AlertKind, MetricName } from '../../core/index.ts';
import { formatValue } from '../alert-book.ts';
import { ruleSchema, TagMatch } from './base.ts';
import { checkBounds, ClearBounds, Bounds, crossing, elapseThreshold, evaluateThreshold, Held } from './condition.ts';
import { trackSeries, type SeriesKind } from './series.ts';

/**
 * A value above `when.above` or below `when.below`, held for `for`, fires; it resolves only once
 * back past `clear` (by default the `when` threshold itself), so a value hovering at the line
 * does not flap.
 */
export const ThresholdRule = ruleSchema('threshold', AlertKind, {
  match: z.strictObject({ metric: MetricName, tags: TagMatch.optional() }),
  when: Bounds,
  clear: ClearBounds.optional(),
  ...Held,
}).superRefine(checkBounds);
export type ThresholdRule = z.output<typeof ThresholdRule>;

/** The pure step: the value against the rule's bounds, `for` and `keep_firing_for` (kinds/condition.ts). */
export const evaluate = evaluateThreshold;

export const threshold = {
  schema: ThresholdRule,
  evaluate,
  elapse: elapseThreshold,
  track: trackSeries,
  orphans: 'confirm',
  compile: (def) => ({ cond: def }),
  describe(def, _value, measured) {
    const { direction, threshold } = crossing(def, measured);
    return { vars: { direction, threshold: formatValue(threshold) }, template: '{{device}} {{metric}} {{value}}, {{direction}} {{threshold}}', value: measured };
  },
} satisfies SeriesKind<ThresholdRule>;
