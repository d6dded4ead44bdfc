import type { Alert, Clock, DeviceStatus, DeviceTags, Point } from '../core/index.ts';
import { AlertBook, formatValue, renderSummary, type AlertChange, type AlertFilter } from './alert-book.ts';
import { elapseNodata, evaluateNodata, type NodataState, type Presence } from './nodata.ts';
import { formatDuration, type NodataRule, type RuleDef, type TagMatch, type ThresholdRule } from './schema.ts';
import { crossing, elapseThreshold, evaluateThreshold, type Step, type ThresholdState } from './threshold.ts';

export interface RuleEngineOptions {
  rules: readonly RuleDef[];
  /** The time a point is evaluated at: arrival, not the device's own `ts`, which may be skewed or replayed. */
  clock: Clock;
  /** Tags of a device for status messages and for points that carry none (the Estate's `tagsOf`). */
  tagsOf?: (device: string) => DeviceTags | undefined;
  /** How long resolved alerts stay listed; 24 h by default, so a shift handover sees the night. */
  keepResolvedMs?: number;
  /** At most this many resolved alerts are kept; 1000 by default. */
  maxResolved?: number;
}

const DEFAULT_SUMMARY = {
  threshold: '{{device}} {{metric}} {{value}}, {{direction}} {{threshold}}',
  nodata: '{{device}} offline: {{reason}}',
} as const;

/** Changes gathered during one call; created only when there is one. */
type Changes = AlertChange[] | undefined;

/** Returned when nothing changed, so the hot path allocates no array. */
const NO_CHANGES: readonly AlertChange[] = Object.freeze([]);

/** One threshold rule on one device's series of the rule's metric. */
interface ThresholdSeries {
  readonly rule: ThresholdRule;
  readonly device: string;
  /** The tags object `matches` was worked out from; a different object (device moved) means look again. */
  tags: DeviceTags | undefined;
  matches: boolean;
  state: ThresholdState | undefined;
  /** The latest value: a pending series fired by `tick` reports it. */
  value: number;
  alert: Alert | undefined;
}

/** The threshold rules of one metric and their series, by device: a point costs one look-up. */
interface MetricRules {
  readonly rules: ThresholdRule[];
  readonly byDevice: Map<string, ThresholdSeries[]>;
}

/** One no-data rule on one device. */
interface Watch {
  readonly rule: NodataRule;
  matches: boolean;
  state: NodataState | undefined;
  alert: Alert | undefined;
}

/** A device heard from since start (a point or a status), with its no-data watches. */
interface Heard {
  readonly device: string;
  tags: DeviceTags | undefined;
  /** Undefined for a device known only from an `offline` status: it has not been seen alive. */
  lastSeen: number | undefined;
  readonly watches: Watch[];
}

const newSeries = (rule: ThresholdRule, device: string, tags: DeviceTags | undefined): ThresholdSeries => ({
  rule, device, tags, matches: matchesTags(rule.match.tags, device, tags), state: undefined, value: Number.NaN, alert: undefined,
});

const newWatch = (rule: NodataRule, device: string, tags: DeviceTags | undefined): Watch => ({
  rule, matches: matchesTags(rule.match.tags, device, tags), state: undefined, alert: undefined,
});

function matchesTags(match: TagMatch | undefined, device: string, tags: DeviceTags | undefined): boolean {
  if (match === undefined) return true;
  for (const key in match) {
    const want = match[key];
    const have = key === 'device' ? device : tags?.[key];
    if (have === undefined || want === undefined) return false;
    if (typeof want === 'string' ? have !== want : !want.includes(have)) return false;
  }
  return true;
}

/**
 * Turns points and device status into alerts. The evaluation itself is the pure functions in
 * threshold.ts and nodata.ts; this class keeps their state per series and device, and the alerts.
 * Single-threaded and synchronous: call it from the ingest path, and `tick` about once a second.
 */
export class RuleEngine {
  private readonly clock: Clock;
  private readonly tagsOf: (device: string) => DeviceTags | undefined;
  private readonly byMetric = new Map<string, MetricRules>();
  private readonly nodataRules: NodataRule[];
  private readonly heard = new Map<string, Heard>();
  /** Series waiting out a `for`; `tick` looks only at these. */
  private readonly pending = new Set<ThresholdSeries>();
  private readonly book: AlertBook;

  constructor(options: RuleEngineOptions) {
    this.clock = options.clock;
    this.tagsOf = options.tagsOf ?? (() => undefined);
    this.book = new AlertBook({ keepResolvedMs: options.keepResolvedMs ?? 24 * 3_600_000, maxResolved: options.maxResolved ?? 1000 });
    for (const rule of options.rules) {
      if (rule.type !== 'threshold') continue;
      let entry = this.byMetric.get(rule.match.metric);
      if (!entry) this.byMetric.set(rule.match.metric, (entry = { rules: [], byDevice: new Map() }));
      entry.rules.push(rule);
    }
    this.nodataRules = options.rules.filter((r): r is NodataRule => r.type === 'nodata');
  }

  /** One value: the hot path. Visits only the rules of the point's metric; allocates nothing when nothing changes. */
  onPoint(point: Point): readonly AlertChange[] {
    const entry = this.byMetric.get(point.metric);
    if (entry === undefined && this.nodataRules.length === 0) return NO_CHANGES;
    const now = this.clock.now();
    const tags = point.tags ?? this.tagsOf(point.device);
    let changes = this.nodataRules.length > 0 ? this.observe(point.device, tags, 'data', now, undefined) : undefined;
    if (entry === undefined) return changes ?? NO_CHANGES;

    let series = entry.byDevice.get(point.device);
    if (series === undefined) {
      series = entry.rules.map((rule) => newSeries(rule, point.device, tags));
      entry.byDevice.set(point.device, series);
    }
    for (const s of series) {
      if (s.tags !== tags) changes = this.retagSeries(s, tags, now, changes);
      if (!s.matches) continue;
      s.value = point.value;
      const step = evaluateThreshold(s.rule, s.state, point.value, now);
      if (step !== undefined) changes = this.applyThreshold(s, step, now, changes);
    }
    return changes ?? NO_CHANGES;
  }

  /** A device's status topic: `offline` (its last will, or the broker dropping it) fires at once, `online` resolves. */
  onStatus(device: string, status: DeviceStatus, ts: number): readonly AlertChange[] {
    if (this.nodataRules.length === 0) return NO_CHANGES;
    // Status carries no tags; keep what the points said when the inventory cannot tell.
    const tags = this.tagsOf(device) ?? this.heard.get(device)?.tags;
    return this.observe(device, tags, status, ts, undefined) ?? NO_CHANGES;
  }

  /** Time passing, about once a second: pending `for` waits that ran out, silent devices, old resolved alerts. */
  tick(now: number): readonly AlertChange[] {
    let changes: Changes;
    for (const s of this.pending) {
      const step = elapseThreshold(s.rule, s.state, now);
      if (step !== undefined) changes = this.applyThreshold(s, step, now, changes);
    }
    for (const h of this.heard.values()) {
      if (h.lastSeen === undefined) continue;
      for (const w of h.watches) {
        if (!w.matches) continue;
        const step = elapseNodata(w.rule, w.state, h.lastSeen, now);
        if (step !== undefined) changes = this.applyNodata(h, w, step, now, changes);
      }
    }
    this.book.prune(now);
    return changes ?? NO_CHANGES;
  }

  /** Firing and recently resolved alerts, newest first. */
  alerts(filter?: AlertFilter): Alert[] {
    return this.book.list(filter);
  }

  /** One alert by id, firing or recently resolved. */
  get(id: string): Alert | undefined {
    return this.book.get(id);
  }

  /** A sign of life or death from a device: marks it heard from, and runs its no-data watches. */
  private observe(device: string, tags: DeviceTags | undefined, presence: Presence, now: number, changes: Changes): Changes {
    let h = this.heard.get(device);
    if (h === undefined) {
      h = { device, tags, lastSeen: undefined, watches: this.nodataRules.map((rule) => newWatch(rule, device, tags)) };
      this.heard.set(device, h);
    } else if (h.tags !== tags) {
      h.tags = tags;
      for (const w of h.watches) {
        w.matches = matchesTags(w.rule.match.tags, device, tags);
        // A device moved out of a rule's reach: its offline alert would otherwise never resolve.
        if (!w.matches && w.state?.phase === 'offline') {
          changes = this.applyNodata(h, w, { state: { phase: 'online', since: now, cause: null }, transition: 'resolved' }, now, changes);
        }
      }
    }
    if (presence !== 'offline') h.lastSeen = now;
    for (const w of h.watches) {
      if (!w.matches) continue;
      const step = evaluateNodata(w.state, presence, now);
      if (step !== undefined) changes = this.applyNodata(h, w, step, now, changes);
    }
    return changes;
  }

  private retagSeries(s: ThresholdSeries, tags: DeviceTags | undefined, now: number, changes: Changes): Changes {
    s.tags = tags;
    s.matches = matchesTags(s.rule.match.tags, s.device, tags);
    if (s.matches || s.state === undefined || s.state.phase === 'inactive') return changes;
    // The device moved out of the rule's reach: drop the pending wait, resolve a firing alert.
    const transition = s.state.phase === 'firing' ? ('resolved' as const) : undefined;
    return this.applyThreshold(s, { state: { phase: 'inactive', since: now }, transition }, now, changes);
  }

  private applyThreshold(s: ThresholdSeries, step: Step<ThresholdState>, now: number, changes: Changes): Changes {
    s.state = step.state;
    if (step.state.phase === 'pending') this.pending.add(s);
    else this.pending.delete(s);
    if (step.transition === 'firing') {
      const { rule, value } = s;
      const labels = { ...s.tags, device: s.device, metric: rule.match.metric };
      const { direction, threshold } = crossing(rule, value);
      const summary = renderSummary(rule.summary ?? DEFAULT_SUMMARY.threshold, {
        ...labels, value: formatValue(value), threshold: formatValue(threshold), direction, for: formatDuration(rule.for), rule: rule.id, name: rule.name,
      });
      const { id, name, kind, severity } = rule;
      s.alert = this.book.open({ rule: id, name, kind, severity, labels, summary, value, startsAt: step.state.since }, now);
      (changes ??= []).push(s.alert);
    } else if (step.transition === 'resolved' && s.alert) {
      (changes ??= []).push(this.book.close(s.alert, now));
      s.alert = undefined;
    }
    return changes;
  }

  private applyNodata(h: Heard, w: Watch, step: Step<NodataState>, now: number, changes: Changes): Changes {
    w.state = step.state;
    if (step.transition === 'firing') {
      const { rule } = w;
      const labels = { ...h.tags, device: h.device };
      const after = formatDuration(rule.after);
      const reason = step.state.cause === 'status' ? 'reported offline (last will or dropped connection)' : `no data for ${after}`;
      const summary = renderSummary(rule.summary ?? DEFAULT_SUMMARY.nodata, { ...labels, reason, after, rule: rule.id, name: rule.name });
      const { id, name, kind, severity } = rule;
      w.alert = this.book.open({ rule: id, name, kind, severity, labels, summary, value: null, startsAt: step.state.since }, now);
      (changes ??= []).push(w.alert);
    } else if (step.transition === 'resolved' && w.alert) {
      (changes ??= []).push(this.book.close(w.alert, now));
      w.alert = undefined;
    }
    return changes;
  }
}
