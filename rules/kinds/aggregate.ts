import { z } from 'zod';
import { AlertKind, MetricName, type Alert, type DeviceTags, type Point } from '../../core/index.ts';
import { formatValue } from '../alert-book.ts';
import { Finite, matchesTags, openingOf, ruleSchema, TagMatch, type AlertPort, type RuleKind, type Step, type Tracker, type Waiting } from './base.ts';
import { Bounds, checkBounds, ClearBounds, crossing, elapseThreshold, evaluateThreshold, Held, waitsOnTime, type ThresholdState } from './condition.ts';

/**
 * An aggregate over a group of devices from the inventory (`group_by: [row]`, `[rack]`): the mean,
 * max or min of their latest values, or how many are above `of` (3 sensors of one rack over 30 °C).
 */
export const AggregateRule = ruleSchema('aggregate', AlertKind, {
  match: z.strictObject({ metric: MetricName, tags: TagMatch.optional() }),
  group_by: z.array(z.string().min(1)).min(1),
  fn: z.enum(['mean', 'max', 'min', 'count_above']),
  /** For count_above: the value a member must exceed to count. */
  of: Finite.optional(),
  when: Bounds,
  clear: ClearBounds.optional(),
  ...Held,
}).superRefine((rule, ctx) => {
  checkBounds(rule, ctx);
  if (rule.fn === 'count_above' && rule.of === undefined) ctx.addIssue({ code: 'custom', path: ['of'], message: 'count_above needs "of", the value a member must exceed' });
});
export type AggregateRule = z.output<typeof AggregateRule>;

/** The group's measure: the mean, max or min of the members' latest values, or how many are above `of`. */
export function measureGroup(rule: Pick<AggregateRule, 'fn' | 'of'>, values: ReadonlyMap<string, number>): number {
  const { fn, of } = rule;
  let acc = fn === 'max' ? -Infinity : fn === 'min' ? Infinity : 0;
  for (const v of values.values()) {
    if (fn === 'mean') acc += v;
    else if (fn === 'max') acc = Math.max(acc, v);
    else if (fn === 'min') acc = Math.min(acc, v);
    else if (v > (of as number)) acc++;
  }
  return fn === 'mean' ? acc / values.size : acc;
}

/** The pure step: the group's measure against the rule's bounds, `for` and `keep_firing_for`. */
export const evaluate = evaluateThreshold;

/** One aggregate rule's group (a row, a rack): the members' latest values. */
interface Group {
  readonly rule: AggregateRule;
  readonly labels: Record<string, string>;
  readonly values: Map<string, number>;
  state: ThresholdState | undefined;
  value: number;
  alert: Alert | undefined;
}

/** One aggregate rule seen from one device: which group its values count in. */
interface Member {
  readonly rule: AggregateRule;
  readonly device: string;
  tags: DeviceTags | undefined;
  group: Group | undefined;
}

/** The groups of every aggregate rule, and which group each device's values count in. */
class GroupTracker implements Tracker, Waiting<Group> {
  private readonly byMetric = new Map<string, { rules: AggregateRule[]; byDevice: Map<string, Member[]> }>();
  /** Groups by rule id, then by the group's label values. */
  private readonly groups: Record<string, Map<string, Group>> = {};

  constructor(rules: readonly AggregateRule[], private readonly port: AlertPort) {
    for (const rule of rules) {
      let entry = this.byMetric.get(rule.match.metric);
      if (!entry) this.byMetric.set(rule.match.metric, (entry = { rules: [], byDevice: new Map() }));
      entry.rules.push(rule);
    }
  }

  onPoint(point: Point, tags: DeviceTags | undefined, now: number): void {
    const entry = this.byMetric.get(point.metric);
    if (entry === undefined) return;
    let members = entry.byDevice.get(point.device);
    if (members === undefined) {
      members = entry.rules.map((rule) => ({ rule, device: point.device, tags: undefined, group: undefined }));
      entry.byDevice.set(point.device, members);
    }
    for (const m of members) {
      if (m.tags !== tags) this.regroup(m, tags, point.metric);
      if (m.group === undefined) continue;
      m.group.values.set(m.device, point.value);
      const g = m.group;
      g.value = measureGroup(g.rule, g.values);
      const step = evaluate(g.rule, g.state, g.value, now);
      if (step !== undefined) this.apply(g, step, now);
    }
  }

  elapse(g: Group, now: number): void {
    const step = elapseThreshold(g.rule, g.state, now);
    if (step !== undefined) this.apply(g, step, now);
  }

  ruleOf(g: Group): string {
    return g.rule.id;
  }

  private regroup(m: Member, tags: DeviceTags | undefined, metric: string): void {
    m.group?.values.delete(m.device);
    m.tags = tags;
    m.group = undefined;
    if (!matchesTags(m.rule.match.tags, m.device, tags)) return;
    const labels: Record<string, string> = { ...m.rule.labels, metric };
    for (const key of m.rule.group_by) {
      const v = key === 'device' ? m.device : tags?.[key];
      if (v === undefined) return;
      labels[key] = v;
    }
    const groups = (this.groups[m.rule.id] ??= new Map<string, Group>());
    const key = m.rule.group_by.map((k) => labels[k]).join('\0');
    let g = groups.get(key);
    if (!g) {
      g = { rule: m.rule, labels, values: new Map(), state: undefined, value: Number.NaN, alert: undefined };
      const orphan = this.port.adopt(m.rule.id, labels);
      if (orphan) {
        g.alert = orphan;
        g.state = { phase: 'firing', since: orphan.startsAt };
      }
      groups.set(key, g);
    }
    m.group = g;
  }

  private apply(g: Group, step: Step<ThresholdState>, now: number): void {
    g.state = step.state;
    if (waitsOnTime(step.state)) this.port.wait(g, this);
    else this.port.done(g);
    if (step.transition === 'firing') {
      const def = g.rule;
      const { direction, threshold } = crossing(def, g.value);
      const group = def.group_by.map((k) => `${k} ${g.labels[k]}`).join(', ');
      const vars = { ...g.labels, rule: def.id, name: def.name, fn: def.fn === 'count_above' ? `sensors above ${formatValue(def.of ?? 0)}:` : def.fn, group, value: formatValue(g.value), direction, threshold: formatValue(threshold), members: String(g.values.size) };
      g.alert = this.port.raise(openingOf(def, g.labels, vars, def.summary ?? '{{fn}} {{metric}} of {{group}} is {{value}}, {{direction}} {{threshold}}', g.value, step.state.since), now);
    } else if (step.transition === 'resolved' && g.alert) {
      this.port.settle(g.alert, now);
      g.alert = undefined;
    }
  }
}

export const aggregate = {
  schema: AggregateRule,
  evaluate,
  track: (rules, port) => new GroupTracker(rules, port),
  orphans: 'confirm',
} satisfies RuleKind<AggregateRule>;
