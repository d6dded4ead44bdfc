import type { Alert, Clock, DeviceEvent, DeviceStatus, DeviceTags, Point, SecurityEvent } from '../core/index.ts';
import { AlertBook, fingerprintOf, formatValue, renderSummary, type AlertChange, type AlertFilter, type Opening } from './alert-book.ts';
import { EventRules } from './event-rules.ts';
import { matchesTags } from './tags.ts';
import { DEFAULT_FLAP, isFlapping, recordBit, type FlapPolicy } from './flapping.ts';
import type { AlertAction } from './lifecycle.ts';
import { elapseNodata, evaluateNodata, silenceAllowed, type ExpectedInterval, type NodataState, type Presence } from './nodata.ts';
import { RateWindow } from './rate.ts';
import { formatDuration, type AggregateRule, type NodataRule, type RateRule, type RuleDef, type StateRule, type ThresholdRule } from './schema.ts';
import { SilenceBook } from './silences.ts';
import { crossing, elapseThreshold, evaluateThreshold, type Condition, type Step, type ThresholdState } from './threshold.ts';

export interface RuleEngineOptions {
  rules: readonly RuleDef[];
  /** The time a point is evaluated at: arrival, not the device's own `ts`, which may be skewed or replayed. */
  clock: Clock;
  /** Tags of a device for status messages and for points that carry none (the Estate's `tagsOf`). */
  tagsOf?: (device: string) => DeviceTags | undefined;
  /** A device's reporting interval (the inventory's `expectedIntervalSeconds` or its kind's), for no-data rules with `intervals`. */
  expectedIntervalOf?: (device: string) => ExpectedInterval | undefined;
  /** A device's ancestors, nearest first (rules/dependencies.ts): their outage suppresses its alerts. */
  ancestorsOf?: (device: string) => readonly string[];
  /** Silences and maintenance windows; a new empty book by default. */
  silences?: SilenceBook;
  /** Alerts kept from before a restart. */
  restore?: Iterable<Alert>;
  flap?: FlapPolicy;
  /** How long resolved alerts stay listed; 24 h by default, so a shift handover sees the night. */
  keepResolvedMs?: number;
  /** At most this many resolved alerts are kept; 1000 by default. */
  maxResolved?: number;
  /**
   * An evaluation that threw (a bug, a bad rule, silence or route): reported here and counted in
   * `evaluationErrors`, never thrown to the caller, whose timer or event handler would let it kill the process.
   */
  onError?: (where: string, err: unknown) => void;
}

const DEFAULT_SUMMARY = {
  threshold: '{{device}} {{metric}} {{value}}, {{direction}} {{threshold}}',
  rate: '{{device}} {{metric}} changed {{value}} in {{window}}',
  state: '{{device}} {{metric}} is {{state}}',
  aggregate: '{{fn}} {{metric}} of {{group}} is {{value}}, {{direction}} {{threshold}}',
  nodata: '{{device}} offline: {{reason}}',
} as const;

/** Returned when nothing changed, so the hot path allocates no array. */
/** Rules whose alert stands on a series of values (per device, or a group's). */
const VALUE_RULES = new Set<RuleDef['type']>(['threshold', 'rate', 'state', 'aggregate']);
/**
 * How long a firing alert from before a restart or reload waits for a value of its series before it
 * is resolved unconfirmed: longer than any poll interval a device is given (SNMP: minutes).
 */
export const ORPHAN_GRACE_MS = 10 * 60_000;
const NO_CHANGES: readonly AlertChange[] = Object.freeze([]);

type SeriesRuleDef = ThresholdRule | RateRule | StateRule;
const STATE_BOUNDS = { when: { above: 0.5 }, clear: { below: 0.5 } };

/** A threshold, rate or state rule as the hot path sees it: one condition on a measure of the value. */
interface SeriesRule {
  readonly def: SeriesRuleDef;
  readonly cond: Condition;
  /** State rules: the values that fire, as a set. */
  readonly firing: ReadonlySet<number> | undefined;
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
  readonly window: RateWindow | undefined;
  /** Flap history: firing (1) or not per evaluation, newest in bit 0; `seen` evaluations so far. */
  bits: number;
  seen: number;
  flapping: boolean;
}

/** One aggregate rule's group (a row, a rack): the members' latest values. */
interface Group {
  readonly rule: AggregateRule;
  readonly cond: Condition;
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

/** The rules of one metric and their per-device state: a point costs one look-up. */
interface MetricRules {
  readonly series: SeriesRule[];
  readonly aggregates: AggregateRule[];
  readonly byDevice: Map<string, { series: Series[]; members: Member[] }>;
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
  /** Its last word was a clean MQTT DISCONNECT (it sleeps between reports), not data. */
  left: boolean;
  readonly watches: Watch[];
}

/** A rule as `GET /api/v1/rules` shows it: its definition and how many alerts fire for it. */
export interface RuleStatus {
  rule: RuleDef;
  firing: number;
}


const conditionOf = (def: SeriesRuleDef): Condition => (def.type === 'state' ? { ...STATE_BOUNDS, for: def.for, keep_firing_for: def.keep_firing_for } : def);

/**
 * Turns points, device status and events into alerts. The evaluation itself is pure functions
 * (threshold.ts, nodata.ts, rate.ts, fields.ts, schedule.ts); this class keeps their state per
 * series, device and group, applies noise control (flapping, dependencies, silences) and keeps the
 * alerts. Single-threaded and synchronous: call it from the ingest path, and `tick` about once a second.
 */
export class RuleEngine {
  readonly book: AlertBook;
  readonly silences: SilenceBook;
  private readonly clock: Clock;
  private readonly tagsOf: (device: string) => DeviceTags | undefined;
  private readonly expectedIntervalOf: (device: string) => ExpectedInterval | undefined;
  private readonly ancestorsOf: (device: string) => readonly string[];
  private readonly flap: FlapPolicy;
  private defs: readonly RuleDef[] = [];
  private byId = new Map<string, RuleDef>();
  private byMetric = new Map<string, MetricRules>();
  private nodataRules: NodataRule[] = [];
  private heard = new Map<string, Heard>();
  /** Series and groups waiting out a `for` or a `keep_firing_for`; `tick` looks only at these. */
  private pending = new Set<Series | Group>();
  /** Aggregate groups by rule id, then by the group's label values. */
  private groups: Record<string, Map<string, Group>> = {};
  private events!: EventRules;
  /** Alerts a live series, watch or group stands behind; the others (from before a restart or reload) are orphans. */
  private owned = new Set<string>();
  /** When the rules were loaded (start or reload): orphans get ORPHAN_GRACE_MS from then to be taken up. */
  private loadedAt = 0;
  /** Devices down now (a no-data alert firing), to the alert's id: their descendants' alerts are suppressed. */
  private readonly down = new Map<string, string>();
  private silenceKey = '';
  /** Changes gathered during one call; created only when there is one. */
  private out: AlertChange[] | undefined;
  private readonly onError: (where: string, err: unknown) => void;
  /** Evaluations that threw and were set aside (see `onError`). */
  evaluationErrors = 0;

  constructor(options: RuleEngineOptions) {
    this.clock = options.clock;
    this.tagsOf = options.tagsOf ?? (() => undefined);
    this.expectedIntervalOf = options.expectedIntervalOf ?? (() => undefined);
    this.ancestorsOf = options.ancestorsOf ?? (() => []);
    this.flap = options.flap ?? DEFAULT_FLAP;
    this.silences = options.silences ?? new SilenceBook();
    this.onError = options.onError ?? (() => undefined);
    this.book = new AlertBook({
      keepResolvedMs: options.keepResolvedMs ?? 24 * 3_600_000, maxResolved: options.maxResolved ?? 1000,
      onListenerError: (err) => this.failed('alert listener', err),
    });
    if (options.restore) this.book.restore(options.restore);
    this.load(options.rules);
    for (const a of [...this.book.firingAlerts()]) if (this.byId.get(a.rule)?.type === 'nodata') this.noteDown(a, this.clock.now());
  }

  /**
   * Replaces the rules without a restart. Alerts stay: a firing alert is taken up again by its
   * rule's series when the condition is evaluated (same fingerprint), or resolved when its rule is gone.
   */
  reload(rules: readonly RuleDef[]): readonly AlertChange[] {
    this.out = undefined;
    this.load(rules);
    this.sweepOrphans(this.clock.now());
    return this.flush();
  }

  /** The rules in force and how many alerts each has firing. */
  rules(): RuleStatus[] {
    const firing = new Map<string, number>();
    for (const a of this.book.firingAlerts()) firing.set(a.rule, (firing.get(a.rule) ?? 0) + 1);
    return this.defs.map((rule) => ({ rule, firing: firing.get(rule.id) ?? 0 }));
  }

  /** One value: the hot path. Visits only the rules of the point's metric; allocates nothing when nothing changes. */
  onPoint(point: Point): readonly AlertChange[] {
    try {
      return this.evaluatePoint(point);
    } catch (err) {
      this.failed(`point ${point.device}/${point.metric}`, err);
      return this.flush();
    }
  }

  private evaluatePoint(point: Point): readonly AlertChange[] {
    const entry = this.byMetric.get(point.metric);
    if (entry === undefined && this.nodataRules.length === 0) return NO_CHANGES;
    this.out = undefined;
    const now = this.clock.now();
    const tags = point.tags ?? this.tagsOf(point.device);
    if (this.nodataRules.length > 0) this.observe(point.device, tags, 'data', now);
    if (entry === undefined) return this.flush();

    let perDevice = entry.byDevice.get(point.device);
    if (perDevice === undefined) {
      perDevice = {
        series: entry.series.map((rule) => this.newSeries(rule, point.device, tags, point.metric)),
        members: entry.aggregates.map((rule) => ({ rule, device: point.device, tags: undefined, group: undefined })),
      };
      entry.byDevice.set(point.device, perDevice);
    }
    for (const s of perDevice.series) {
      if (s.tags !== tags) this.retagSeries(s, tags, now);
      if (!s.matches) continue;
      s.value = point.value;
      let measured = point.value;
      if (s.window !== undefined) {
        measured = s.window.push(point.value, now);
        if (Number.isNaN(measured)) continue;
      } else if (s.rule.firing !== undefined) measured = s.rule.firing.has(point.value) ? 1 : 0;
      s.measured = measured;
      const step = evaluateThreshold(s.rule.cond, s.state, measured, now);
      if (step !== undefined) this.applySeries(s, step, now);
      this.recordFlap(s, now);
    }
    for (const m of perDevice.members) {
      if (m.tags !== tags) this.regroup(m, tags, point.metric);
      if (m.group === undefined) continue;
      m.group.values.set(m.device, point.value);
      this.evaluateGroup(m.group, now);
    }
    return this.flush();
  }

  /**
   * A device's status topic: `offline` (its last will, or the broker dropping it) fires at once, `online`
   * resolves; `left` (a clean MQTT DISCONNECT) is a sign of life that starts its reporting interval.
   */
  onStatus(device: string, status: DeviceStatus | 'left', ts: number): readonly AlertChange[] {
    if (this.nodataRules.length === 0) return NO_CHANGES;
    this.out = undefined;
    try {
      // Status carries no tags; keep what the points said when the inventory cannot tell.
      const tags = this.tagsOf(device) ?? this.heard.get(device)?.tags;
      this.observe(device, tags, status, ts);
    } catch (err) {
      this.failed(`status ${device}`, err);
    }
    return this.flush();
  }

  /** A device event (door_open, a trap) or a security event (bad_credentials): event-match and count rules. */
  onEvent(event: DeviceEvent | SecurityEvent, source: 'device' | 'security' = 'origin' in event ? 'security' : 'device'): readonly AlertChange[] {
    this.out = undefined;
    try {
      this.events.onEvent(event, source, this.clock.now());
    } catch (err) {
      this.failed(`${source} event ${event.type}`, err);
    }
    return this.flush();
  }

  /** Time passing, about once a second: `for` and `keep_firing_for` that ran out, silent devices, events gone quiet, silences starting or ending. */
  tick(now: number): readonly AlertChange[] {
    this.out = undefined;
    // Each step guarded on its own: one that throws must not stop the others (nor, every second, the process).
    for (const s of this.pending) {
      try {
        const step = elapseThreshold('cond' in s ? s.cond : s.rule.cond, s.state, now);
        if (step === undefined) continue;
        if ('cond' in s) this.applyGroup(s, step, now);
        else this.applySeries(s, step, now);
      } catch (err) {
        this.failed(`tick: rule ${'cond' in s ? s.rule.id : s.rule.def.id}`, err);
      }
    }
    for (const h of this.heard.values()) {
      if (h.lastSeen === undefined) continue;
      for (const w of h.watches) {
        if (!w.matches) continue;
        try {
          const step = elapseNodata(w.rule, w.state, h.lastSeen, now, this.expectedIntervalOf(h.device), h.left);
          if (step !== undefined) this.applyNodata(h, w, step, now);
        } catch (err) {
          this.failed(`tick: rule ${w.rule.id} on ${h.device}`, err);
        }
      }
    }
    this.guarded('tick: event rules', () => this.events.tick(now));
    this.guarded('tick: orphans', () => this.sweepOrphans(now));
    this.guarded('tick: silences', () => this.refreshSilences(now));
    this.guarded('tick: prune', () => this.book.prune(now));
    return this.flush();
  }

  private guarded(where: string, fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      this.failed(where, err);
    }
  }

  /** Counts and reports an evaluation that threw; what changed before the throw still goes out. */
  private failed(where: string, err: unknown): void {
    this.evaluationErrors++;
    try {
      this.onError(where, err);
    } catch {
      // The reporter itself must not be the thing that throws.
    }
  }

  /** A person's action on an alert; throws a 409 WatchfloorError when illegal, undefined when unknown. */
  act(id: string, action: AlertAction, who: string): Alert | undefined {
    return this.book.act(id, action, who, this.clock.now());
  }

  /** Looks at every firing alert's silences again (after a silence was added or removed). */
  refreshSilences(now: number): readonly AlertChange[] {
    const key = this.silences.activeKey(now);
    if (key === this.silenceKey) return NO_CHANGES;
    this.silenceKey = key;
    const changes: AlertChange[] = [];
    for (const a of [...this.book.firingAlerts()]) {
      const next = this.book.update(a.id, { silencedBy: this.silences.covering(a, now) }, now, 'silenced');
      if (next) {
        changes.push(next);
        (this.out ??= []).push(next);
      }
    }
    return changes;
  }

  /** Firing and recently resolved alerts, newest first. */
  alerts(filter?: AlertFilter): Alert[] {
    return this.book.list(filter);
  }

  /** One alert by id, firing or recently resolved. */
  get(id: string): Alert | undefined {
    return this.book.get(id);
  }

  // ---- alerts in and out: every kind opens and closes through here, where noise control applies.

  /** Opens (or takes up) the alert for an opening, with its suppression and silences. */
  private raise(o: Opening, now: number): Alert {
    const extra: Partial<Alert> = { silencedBy: this.silences.size > 0 ? this.silences.covering({ labels: o.labels, rule: o.rule, kind: o.kind, severity: o.severity }, now) : [] };
    const device = o.labels.device;
    if (device !== undefined && o.kind !== 'security') {
      for (const p of this.ancestorsOf(device)) {
        const parentAlert = this.down.get(p);
        if (parentAlert !== undefined) {
          extra.suppressedBy = parentAlert;
          break;
        }
      }
    }
    const before = this.book.firingOf(fingerprintOf(o.rule, o.labels));
    const alert = this.book.open(o, now, extra);
    this.owned.add(alert.id);
    if (before === undefined) {
      (this.out ??= []).push(alert);
      this.events.onAlert(alert, now);
    }
    return alert;
  }

  /** Resolves an alert its condition no longer holds for (a no-op when a person already resolved it). */
  private settle(alert: Alert, now: number, reason?: string): void {
    this.owned.delete(alert.id);
    const current = this.book.get(alert.id);
    if (current?.state !== 'firing') return;
    const resolved = this.book.close(current, now, reason);
    (this.out ??= []).push(resolved);
    const device = alert.labels.device;
    if (device !== undefined && this.down.get(device) === alert.id) this.noteUp(device, alert.id, now);
  }

  /** A parent is down: its descendants' firing alerts are marked suppressed by its alert. */
  private noteDown(alert: Alert, now: number): void {
    const device = alert.labels.device;
    if (device === undefined || this.down.has(device)) return;
    this.down.set(device, alert.id);
    for (const a of [...this.book.firingAlerts()]) {
      const d = a.labels.device;
      if (d === undefined || a.kind === 'security' || a.suppressedBy || !this.ancestorsOf(d).includes(device)) continue;
      const next = this.book.update(a.id, { suppressedBy: alert.id }, now, 'suppressed');
      if (next) (this.out ??= []).push(next);
    }
  }

  /** A parent is back: alerts it suppressed lose the mark (they resolve on their own when they recover). */
  private noteUp(device: string, alertId: string, now: number): void {
    this.down.delete(device);
    for (const a of [...this.book.firingAlerts()]) {
      if (a.suppressedBy !== alertId) continue;
      const d = a.labels.device;
      const other = d === undefined ? undefined : this.ancestorsOf(d).map((p) => this.down.get(p)).find((x) => x !== undefined);
      const next = this.book.update(a.id, { suppressedBy: other ?? null }, now, other ? 'suppressed' : 'unsuppressed');
      if (next) (this.out ??= []).push(next);
    }
  }

  /** Firing alerts no live state stands behind: resolved when their rule is gone, or when an event rule's quiet time ran out. */
  private sweepOrphans(now: number): void {
    for (const a of [...this.book.firingAlerts()]) {
      if (this.owned.has(a.id)) continue;
      const rule = this.byId.get(a.rule);
      const quiet = rule?.type === 'event' || rule?.type === 'correlation' ? rule.resolve_after : undefined;
      if (rule === undefined) this.settle(a, now, 'its rule is no longer loaded');
      else if (quiet !== undefined && now - a.updatedAt >= quiet) this.settle(a, now);
      // A value rule's alert from before a restart that no value has taken up since: the condition
      // cannot be confirmed, and a NOC must not see it firing for ever. (A device gone silent has
      // its no-data alert for that, which stays.)
      else if (VALUE_RULES.has(rule.type) && now - this.loadedAt >= ORPHAN_GRACE_MS) this.settle(a, now, 'no value since the restart confirmed it');
    }
  }

  private flush(): readonly AlertChange[] {
    const out = this.out;
    this.out = undefined;
    return out ?? NO_CHANGES;
  }

  private load(rules: readonly RuleDef[]): void {
    this.defs = rules;
    this.loadedAt = this.clock.now();
    this.byId = new Map(rules.map((r) => [r.id, r]));
    this.byMetric = new Map();
    this.heard = new Map();
    this.pending = new Set();
    this.owned = new Set();
    this.groups = {};
    const entryOf = (metric: string): MetricRules => {
      let entry = this.byMetric.get(metric);
      if (!entry) this.byMetric.set(metric, (entry = { series: [], aggregates: [], byDevice: new Map() }));
      return entry;
    };
    for (const rule of rules) {
      if (rule.type === 'threshold' || rule.type === 'rate' || rule.type === 'state') {
        entryOf(rule.match.metric).series.push({ def: rule, cond: conditionOf(rule), firing: rule.type === 'state' ? new Set(rule.firing) : undefined });
      } else if (rule.type === 'aggregate') entryOf(rule.match.metric).aggregates.push(rule);
    }
    this.nodataRules = rules.filter((r): r is NodataRule => r.type === 'nodata');
    this.events = new EventRules(rules, {
      tagsOf: this.tagsOf,
      raise: (o, now) => this.raise(o, now),
      settle: (a, now) => this.settle(a, now),
      live: (a) => a !== undefined && this.book.get(a.id)?.state === 'firing',
      orphan: (rule, labels) => this.adopt(rule, labels),
    });
  }

  /** The firing alert from before a restart or reload with this rule and labels, now owned again. */
  private adopt(rule: string, labels: Record<string, string>): Alert | undefined {
    const orphan = this.book.firingOf(fingerprintOf(rule, labels));
    if (orphan) this.owned.add(orphan.id);
    return orphan;
  }

  // ---- series: threshold, rate, state

  private seriesLabels(s: Pick<Series, 'device' | 'tags' | 'rule'>): Record<string, string> {
    return { ...s.tags, ...s.rule.def.labels, device: s.device, metric: s.rule.def.match.metric };
  }

  private newSeries(rule: SeriesRule, device: string, tags: DeviceTags | undefined, metric: string): Series {
    const s: Series = {
      rule, device, tags, matches: matchesTags(rule.def.match.tags, device, tags), state: undefined, value: Number.NaN, measured: Number.NaN, alert: undefined,
      window: rule.def.type === 'rate' ? new RateWindow(rule.def.window) : undefined, bits: 0, seen: 0, flapping: false,
    };
    void metric;
    if (s.matches) {
      const orphan = this.adopt(rule.def.id, this.seriesLabels(s));
      if (orphan) {
        s.alert = orphan;
        s.state = { phase: 'firing', since: orphan.startsAt };
        s.flapping = orphan.flapping ?? false;
      }
    }
    return s;
  }

  private retagSeries(s: Series, tags: DeviceTags | undefined, now: number): void {
    s.tags = tags;
    s.matches = matchesTags(s.rule.def.match.tags, s.device, tags);
    if (s.matches || s.state === undefined || s.state.phase === 'inactive') return;
    // The device moved out of the rule's reach: drop the pending wait, resolve a firing alert.
    s.flapping = false;
    const transition = s.state.phase === 'firing' ? ('resolved' as const) : undefined;
    this.applySeries(s, { state: { phase: 'inactive', since: now }, transition }, now);
  }

  private applySeries(s: Series, step: Step<ThresholdState>, now: number): void {
    s.state = step.state;
    if (step.state.phase === 'pending' || step.state.clearedAt !== undefined) this.pending.add(s);
    else this.pending.delete(s);
    if (step.transition === 'firing') {
      // A flapping alert is held firing through its flaps: one alert, not one per flap.
      if (s.alert !== undefined && this.book.get(s.alert.id)?.state === 'firing') return;
      s.alert = this.raise(this.seriesOpening(s, step.state.since), now);
      if (s.flapping) {
        // Raised while the series flaps: marked at once, and said, so every view shows it as flapping.
        const next = this.book.update(s.alert.id, { flapping: true }, now, 'flapping');
        if (next) {
          s.alert = next;
          (this.out ??= []).push(next);
        }
      }
    } else if (step.transition === 'resolved' && s.alert && !s.flapping) {
      this.settle(s.alert, now);
      s.alert = undefined;
    }
  }

  /** Appends this evaluation to the flap history; entering or leaving flapping updates the alert once. */
  private recordFlap(s: Series, now: number): void {
    const firing = s.state?.phase === 'firing';
    s.bits = recordBit(s.bits, firing, this.flap.window);
    if (s.seen < this.flap.window) s.seen++;
    const flapping = isFlapping(this.flap, s.flapping, s.bits, s.seen);
    if (flapping === s.flapping) return;
    s.flapping = flapping;
    if (s.alert === undefined) return;
    if (!flapping && !firing) {
      // Leaving flapping with the condition clear: the held alert resolves now.
      this.settle(s.alert, now);
      s.alert = undefined;
      return;
    }
    const next = this.book.update(s.alert.id, { flapping }, now, flapping ? 'flapping' : 'stopped flapping');
    if (next) {
      s.alert = next;
      (this.out ??= []).push(next);
    }
  }

  private seriesOpening(s: Series, startsAt: number): Opening {
    const def = s.rule.def;
    const labels = this.seriesLabels(s);
    const vars: Record<string, string> = { ...labels, rule: def.id, name: def.name, value: formatValue(s.measured), for: formatDuration(def.for) };
    let template: string;
    if (def.type === 'state') {
      vars.value = formatValue(s.value);
      vars.state = def.states?.[String(s.value)] ?? vars.value;
      template = def.summary ?? DEFAULT_SUMMARY.state;
    } else {
      const { direction, threshold } = crossing(def, s.measured);
      vars.direction = direction;
      vars.threshold = formatValue(threshold);
      if (def.type === 'rate') {
        vars.window = formatDuration(def.window);
        vars.current = formatValue(s.value);
      }
      template = def.summary ?? DEFAULT_SUMMARY[def.type];
    }
    return this.opening(def, labels, vars, template, def.type === 'state' ? s.value : s.measured, startsAt);
  }

  private opening(def: RuleDef, labels: Record<string, string>, vars: Record<string, string>, template: string, value: number | null, startsAt: number): Opening {
    return {
      rule: def.id, name: def.name, kind: def.kind, severity: def.severity, labels, value, startsAt,
      summary: renderSummary(template, vars),
      ...(def.description ? { description: renderSummary(def.description, vars) } : {}),
      ...(def.runbook ? { runbook: def.runbook } : {}),
    };
  }

  // ---- aggregates over inventory groups

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
      g = { rule: m.rule, cond: m.rule, labels, values: new Map(), state: undefined, value: Number.NaN, alert: undefined };
      const orphan = this.adopt(m.rule.id, labels);
      if (orphan) {
        g.alert = orphan;
        g.state = { phase: 'firing', since: orphan.startsAt };
      }
      groups.set(key, g);
    }
    m.group = g;
  }

  private evaluateGroup(g: Group, now: number): void {
    const { fn, of } = g.rule;
    let acc = fn === 'max' ? -Infinity : fn === 'min' ? Infinity : 0;
    for (const v of g.values.values()) {
      if (fn === 'mean') acc += v;
      else if (fn === 'max') acc = Math.max(acc, v);
      else if (fn === 'min') acc = Math.min(acc, v);
      else if (v > (of as number)) acc++;
    }
    g.value = fn === 'mean' ? acc / g.values.size : acc;
    const step = evaluateThreshold(g.cond, g.state, g.value, now);
    if (step !== undefined) this.applyGroup(g, step, now);
  }

  private applyGroup(g: Group, step: Step<ThresholdState>, now: number): void {
    g.state = step.state;
    if (step.state.phase === 'pending' || step.state.clearedAt !== undefined) this.pending.add(g);
    else this.pending.delete(g);
    if (step.transition === 'firing') {
      const def = g.rule;
      const { direction, threshold } = crossing(def, g.value);
      const group = def.group_by.map((k) => `${k} ${g.labels[k]}`).join(', ');
      const vars = { ...g.labels, rule: def.id, name: def.name, fn: def.fn === 'count_above' ? `sensors above ${formatValue(def.of ?? 0)}:` : def.fn, group, value: formatValue(g.value), direction, threshold: formatValue(threshold), members: String(g.values.size) };
      g.alert = this.raise(this.opening(def, g.labels, vars, def.summary ?? DEFAULT_SUMMARY.aggregate, g.value, step.state.since), now);
    } else if (step.transition === 'resolved' && g.alert) {
      this.settle(g.alert, now);
      g.alert = undefined;
    }
  }

  // ---- no data

  /** A sign of life or death from a device: marks it heard from, and runs its no-data watches. */
  private observe(device: string, tags: DeviceTags | undefined, presence: Presence, now: number): void {
    let h = this.heard.get(device);
    if (h === undefined) {
      h = { device, tags, lastSeen: undefined, left: false, watches: [] };
      for (const rule of this.nodataRules) {
        const w: Watch = { rule, matches: matchesTags(rule.match.tags, device, tags), state: undefined, alert: undefined };
        const orphan = w.matches ? this.adopt(rule.id, { ...tags, ...rule.labels, device }) : undefined;
        if (orphan) {
          w.alert = orphan;
          w.state = { phase: 'offline', since: orphan.startsAt, cause: 'status' };
        }
        h.watches.push(w);
      }
      this.heard.set(device, h);
    } else if (h.tags !== tags) {
      h.tags = tags;
      for (const w of h.watches) {
        w.matches = matchesTags(w.rule.match.tags, device, tags);
        // A device moved out of a rule's reach: its offline alert would otherwise never resolve.
        if (!w.matches && w.state?.phase === 'offline') {
          this.applyNodata(h, w, { state: { phase: 'online', since: now, cause: null }, transition: 'resolved' }, now);
        }
      }
    }
    if (presence !== 'offline') h.lastSeen = now;
    h.left = presence === 'left';
    for (const w of h.watches) {
      if (!w.matches) continue;
      const step = evaluateNodata(w.state, presence, now);
      if (step !== undefined) this.applyNodata(h, w, step, now);
    }
  }

  private applyNodata(h: Heard, w: Watch, step: Step<NodataState>, now: number): void {
    w.state = step.state;
    if (step.transition === 'firing') {
      const { rule } = w;
      const labels = { ...h.tags, ...rule.labels, device: h.device };
      const after = formatDuration(silenceAllowed(rule, this.expectedIntervalOf(h.device), h.left));
      const reason = step.state.cause === 'status' ? 'reported offline (last will or dropped connection)' : `no data for ${after}`;
      const vars = { ...labels, reason, after, rule: rule.id, name: rule.name };
      w.alert = this.raise(this.opening(rule, labels, vars, rule.summary ?? DEFAULT_SUMMARY.nodata, null, step.state.since), now);
      this.noteDown(w.alert, now);
    } else if (step.transition === 'resolved' && w.alert) {
      this.settle(w.alert, now);
      w.alert = undefined;
    }
  }
}
