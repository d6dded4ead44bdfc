import { z } from 'zod';
import { AlertKind, MetricName } from '../../core/index.ts';
import { formatValue } from '../alert-book.ts';
import { Finite, ruleSchema, TagMatch } from './base.ts';
import { elapseThreshold, evaluateThreshold, Held, type Condition } from './condition.ts';
import { trackSeries, type SeriesKind } from './series.ts';

/**
 * State of a status metric (ifOperStatus, UPS output source, CRAC running): fires while the value
 * is one of `firing`. `states` names the values for the summary (RFC 2863: 1 up, 2 down).
 */
export const StateRule = ruleSchema('state', AlertKind, {
  match: z.strictObject({ metric: MetricName, tags: TagMatch.optional() }),
  firing: z.array(Finite).min(1),
  states: z.record(z.string(), z.string()).optional(),
  ...Held,
});
export type StateRule = z.output<typeof StateRule>;

/** A state rule's condition on the measure, 1 while the value is a firing one and 0 otherwise. */
const conditionOf = (def: StateRule): Condition => ({ when: { above: 0.5 }, clear: { below: 0.5 }, for: def.for, keep_firing_for: def.keep_firing_for });

/** The pure step: 1 (the value is one of `firing`) or 0, held for `for`. */
export const evaluate = evaluateThreshold;

export const state = {
  schema: StateRule,
  evaluate,
  elapse: elapseThreshold,
  track: trackSeries,
  orphans: 'confirm',
  compile(def) {
    const firing = new Set(def.firing);
    return { cond: conditionOf(def), measure: (value) => (firing.has(value) ? 1 : 0) };
  },
  describe(def, value) {
    const text = formatValue(value);
    return { vars: { value: text, state: def.states?.[String(value)] ?? text }, template: '{{device}} {{metric}} is {{state}}', value };
  },
} satisfies SeriesKind<StateRule>;
