import { z } from 'zod';
import { aggregate } from './aggregate.ts';
import type { BaseRule, KindOf, RuleKind } from './base.ts';
import { correlation } from './correlation.ts';
import { event } from './event.ts';
import { nodata } from './nodata.ts';
import { rate } from './rate.ts';
import { sigma } from './sigma.ts';
import { state } from './state.ts';
import { threshold } from './threshold.ts';

/**
 * The rule kinds, by the `type` a rules file names them with: each one file of this folder with
 * its schema, its pure `evaluate` and the tracker that keeps its state. The engine dispatches
 * through this table. A new kind is one file and one line here; the order is the order a bad
 * `type` lists them in.
 */
export const KINDS = { threshold, nodata, rate, state, event, aggregate, correlation, sigma } as const;

type Kinds = typeof KINDS;
type Schema = Kinds[keyof Kinds]['schema'];

/** One rule definition, told apart by `type`. */
export const RuleDef = z.discriminatedUnion('type', Object.values(KINDS).map((k) => k.schema) as unknown as [Schema, ...Schema[]]);
export type RuleDef = { [K in keyof Kinds]: z.output<Kinds[K]['schema']> }[keyof Kinds];
export type RuleInput = { [K in keyof Kinds]: z.input<Kinds[K]['schema']> }[keyof Kinds];
export type RuleType = RuleDef['type'];

const byType: Record<string, RuleKind<BaseRule>> = KINDS;
/** The table entry of a rule's kind. */
export const kindOf: KindOf = (rule) => byType[rule.type] as RuleKind<BaseRule>;

export type { BaseRule, KindOf, RuleKind, Tracker, AlertPort, Track, Orphans, Waiting, Step, Transition, Presence, ExpectedInterval, TagMatch } from './base.ts';
export { parseDuration, formatDuration, ruleSchema, openingOf, matchesTags, Duration } from './base.ts';
export { breaches, clears, crossing, evaluateThreshold, elapseThreshold, type Condition, type ThresholdState } from './condition.ts';
export { trackSeries, type SeriesKind, type SeriesRuleDef } from './series.ts';
export { ThresholdRule } from './threshold.ts';
export { RateRule, RateWindow } from './rate.ts';
export { StateRule } from './state.ts';
export { AggregateRule, measureGroup } from './aggregate.ts';
export { NodataRule, evaluateNodata, elapseNodata, silenceAllowed, type NodataState } from './nodata.ts';
export { EventRule } from './event.ts';
export { CorrelationRule } from './correlation.ts';
export { SigmaAlertRule, SEVERITY_OF_LEVEL } from './sigma.ts';
export { Schedule, inSchedule } from './schedule.ts';
export { FieldCondition, fieldOf, matchesFields } from './fields.ts';
