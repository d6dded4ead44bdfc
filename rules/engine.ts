import type { Alert, Clock, DeviceEvent, DeviceStatus, DeviceTags, Point, SecurityEvent } from '../core/index.ts';
import { AlertBook, fingerprintOf, type AlertChange, type AlertFilter, type Opening } from './alert-book.ts';
import { DEFAULT_FLAP, type FlapPolicy } from './flapping.ts';
import { KINDS, kindOf, type AlertPort, type ExpectedInterval, type RuleDef, type Track, type Tracker, type Waiting } from './kinds/index.ts';
import type { AlertAction } from './lifecycle.ts';
import type { Detection } from './sigma/index.ts';
import { SilenceBook } from './silences.ts';

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

/**
 * How long a firing alert from before a restart or reload waits for a value of its series before it
 * is resolved unconfirmed: longer than any poll interval a device is given (SNMP: minutes).
 */
export const ORPHAN_GRACE_MS = 10 * 60_000;
/** Returned when nothing changed, so the hot path allocates no array. */
const NO_CHANGES: readonly AlertChange[] = Object.freeze([]);

/** A rule as `GET /api/v1/rules` shows it: its definition and how many alerts fire for it. */
export interface RuleStatus {
  rule: RuleDef;
  firing: number;
}

/** The tracking functions in the order of the table of kinds: the order trackers see input and time in. */
const TRACK_ORDER: readonly Track[] = [...new Set(Object.values(KINDS).map((k) => k.track as Track))];
const sortedByTable = <V>(byTrack: Map<Track, V>): [Track, V][] =>
  [...byTrack].sort(([a], [b]) => TRACK_ORDER.indexOf(a) - TRACK_ORDER.indexOf(b));

type Hook<K extends keyof Tracker> = Tracker & Required<Pick<Tracker, K>>;

/** The trackers of the rules loaded, by the input each takes (rules/kinds/base.ts `Tracker`). */
interface Trackers {
  point: Hook<'onPoint'>[];
  presence: Hook<'onPresence'>[];
  event: Hook<'onEvent'>[];
  alert: Hook<'onAlert'>[];
  detection: Hook<'onDetection'>[];
  tick: { where: string; tracker: Hook<'tick'> }[];
}

/**
 * Turns points, device status and events into alerts. Each rule kind (rules/kinds/) has a pure
 * evaluation and a tracker that keeps its state per series, device or group; this class makes the
 * trackers from the table of kinds, hands each the input it takes, waits out `for` times, applies
 * noise control (flapping, dependencies, silences) and keeps the alerts. Single-threaded and
 * synchronous: call it from the ingest path, and `tick` about once a second.
 */
export class RuleEngine {
  readonly book: AlertBook;
  readonly silences: SilenceBook;
  private readonly clock: Clock;
  private readonly tagsOf: (device: string) => DeviceTags | undefined;
  private readonly ancestorsOf: (device: string) => readonly string[];
  private readonly port: AlertPort;
  private defs: readonly RuleDef[] = [];
  private byId = new Map<string, RuleDef>();
  private trackers: Trackers = { point: [], presence: [], event: [], alert: [], detection: [], tick: [] };
  /** Series and groups waiting out a `for` or a `keep_firing_for`; `tick` looks only at these. */
  private waiting = new Map<unknown, Waiting<never>>();
  /** Alerts a live series, watch or group stands behind; the others (from before a restart or reload) are orphans. */
  private owned = new Set<string>();
  /** When the rules were loaded (start or reload): orphans get ORPHAN_GRACE_MS from then to be taken up. */
  private loadedAt = 0;
  /** Devices down now (a no-data alert firing), to the alert's id: their descendants' alerts are suppressed. */
  private readonly down = new Map<string, string>();
  private silenceKey = '';
  /** Rule id prefixes of alerts kept by a part outside the rule files (`reconcile`): never orphans. */
  private readonly external = new Set<string>();
  /** Changes gathered during one call; created only when there is one. */
  private out: AlertChange[] | undefined;
  private readonly onError: (where: string, err: unknown) => void;
  /** Evaluations that threw and were set aside (see `onError`). */
  evaluationErrors = 0;

  constructor(options: RuleEngineOptions) {
    this.clock = options.clock;
    this.tagsOf = options.tagsOf ?? (() => undefined);
    this.ancestorsOf = options.ancestorsOf ?? (() => []);
    this.silences = options.silences ?? new SilenceBook();
    this.onError = options.onError ?? (() => undefined);
    this.book = new AlertBook({
      keepResolvedMs: options.keepResolvedMs ?? 24 * 3_600_000, maxResolved: options.maxResolved ?? 1000,
      onListenerError: (err) => this.failed('alert listener', err),
    });
    const expectedIntervalOf = options.expectedIntervalOf ?? (() => undefined);
    this.port = {
      flap: options.flap ?? DEFAULT_FLAP,
      tagsOf: this.tagsOf,
      expectedIntervalOf,
      raise: (o, now) => this.raise(o, now),
      settle: (a, now) => this.settle(a, now),
      update: (id, patch, now, why) => this.update(id, patch, now, why),
      live: (a) => a !== undefined && this.book.get(a.id)?.state === 'firing',
      adopt: (rule, labels) => this.adopt(rule, labels),
      wait: (item, by) => void this.waiting.set(item, by as Waiting<never>),
      done: (item) => void this.waiting.delete(item),
      failed: (where, err) => this.failed(where, err),
    };
    if (options.restore) this.book.restore(options.restore);
    this.load(options.rules);
    for (const a of [...this.book.firingAlerts()]) if (this.isOutage(a)) this.noteDown(a, this.clock.now());
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

  /** One value: the hot path. Each tracker visits only the rules of the point's metric; allocates nothing when nothing changes. */
  onPoint(point: Point): readonly AlertChange[] {
    try {
      return this.evaluatePoint(point);
    } catch (err) {
      this.failed(`point ${point.device}/${point.metric}`, err);
      return this.flush();
    }
  }

  private evaluatePoint(point: Point): readonly AlertChange[] {
    const { point: onPoint, presence } = this.trackers;
    if (onPoint.length === 0 && presence.length === 0) return NO_CHANGES;
    this.out = undefined;
    const now = this.clock.now();
    const tags = point.tags ?? this.tagsOf(point.device);
    // A value is a sign of life first (no-data watches), then a value of its metric.
    for (const t of presence) t.onPresence(point.device, tags, 'data', now);
    for (const t of onPoint) t.onPoint(point, tags, now);
    return this.flush();
  }

  /**
   * A device's status topic: `offline` (its last will, or the broker dropping it) fires at once, `online`
   * resolves; `left` (a clean MQTT DISCONNECT) is a sign of life that starts its reporting interval.
   */
  onStatus(device: string, status: DeviceStatus | 'left', ts: number): readonly AlertChange[] {
    const { presence } = this.trackers;
    if (presence.length === 0) return NO_CHANGES;
    this.out = undefined;
    try {
      const tags = this.tagsOf(device);
      for (const t of presence) t.onPresence(device, tags, status, ts);
    } catch (err) {
      this.failed(`status ${device}`, err);
    }
    return this.flush();
  }

  /** A device event (door_open, a trap) or a security event (bad_credentials): event-match and count rules. */
  onEvent(event: DeviceEvent | SecurityEvent, source: 'device' | 'security' = 'origin' in event ? 'security' : 'device'): readonly AlertChange[] {
    this.out = undefined;
    try {
      const now = this.clock.now();
      for (const t of this.trackers.event) t.onEvent(event, source, now);
    } catch (err) {
      this.failed(`${source} event ${event.type}`, err);
    }
    return this.flush();
  }

  /** Sigma detections on log lines (rules/sigma): the `sigma` rules make them security alerts. */
  onDetections(detections: readonly Detection[]): readonly AlertChange[] {
    const { detection } = this.trackers;
    if (detection.length === 0 || detections.length === 0) return NO_CHANGES;
    this.out = undefined;
    const now = this.clock.now();
    for (const d of detections) {
      try {
        for (const t of detection) t.onDetection(d, now);
      } catch (err) {
        this.failed(`sigma detection ${d.ruleId}`, err);
      }
    }
    return this.flush();
  }

  /** Time passing, about once a second: `for` and `keep_firing_for` that ran out, silent devices, events gone quiet, silences starting or ending. */
  tick(now: number): readonly AlertChange[] {
    this.out = undefined;
    // Each step guarded on its own: one that throws must not stop the others (nor, every second, the process).
    for (const [item, by] of this.waiting) {
      try {
        by.elapse(item as never, now);
      } catch (err) {
        this.failed(`tick: rule ${by.ruleOf(item as never)}`, err);
      }
    }
    for (const { where, tracker } of this.trackers.tick) this.guarded(where, () => tracker.tick(now));
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
      const next = this.update(a.id, { silencedBy: this.silences.covering(a, now) }, now, 'silenced');
      if (next) changes.push(next);
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

  /**
   * Alerts kept by a part outside the rule files (the services' availability alerts, rules/services):
   * opens each of `wanted` (taking up the one already firing, its summary and links brought up to date)
   * and resolves the firing alerts whose rule starts with `prefix` and whose labels include `scope`
   * that are no longer wanted. Rules of that prefix are never swept as orphans.
   */
  reconcile(prefix: string, scope: Record<string, string>, wanted: readonly Opening[], now: number): readonly AlertChange[] {
    this.out = undefined;
    this.keepsOwnAlerts(prefix);
    try {
      const keep = new Set<string>();
      for (const o of wanted) {
        const a = this.raise(o, now);
        keep.add(a.id);
        const related = o.related ?? [];
        if (a.summary !== o.summary || (a.related ?? []).join() !== related.join()) this.update(a.id, { summary: o.summary, related }, now, 'updated');
      }
      for (const a of [...this.book.firingAlerts()]) {
        if (!a.rule.startsWith(prefix) || keep.has(a.id) || !Object.entries(scope).every(([k, v]) => a.labels[k] === v)) continue;
        this.settle(a, now);
      }
    } catch (err) {
      this.failed(`reconcile ${prefix}`, err);
    }
    return this.flush();
  }

  /** Alerts of rules starting with `prefix` are kept by `reconcile`, not by the rule files: never orphans (call before the first tick after a restart). */
  keepsOwnAlerts(prefix: string): void {
    this.external.add(prefix);
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
      for (const t of this.trackers.alert) t.onAlert(alert, now);
    }
    if (this.isOutage(alert)) this.noteDown(alert, now);
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

  /** A machine change to a live alert, sent out with this call's changes; undefined when nothing differs. */
  private update(id: string, patch: Partial<Alert>, now: number, why: string): Alert | undefined {
    const next = this.book.update(id, patch, now, why);
    if (next) (this.out ??= []).push(next);
    return next;
  }

  /** True when the alert's rule is of a kind whose alerts mean its device is down (no data). */
  private isOutage(alert: Alert): boolean {
    const rule = this.ruleOf(alert);
    return rule !== undefined && kindOf(rule).outage === true;
  }

  /** A parent is down: its descendants' firing alerts are marked suppressed by its alert. */
  private noteDown(alert: Alert, now: number): void {
    const device = alert.labels.device;
    if (device === undefined || this.down.has(device)) return;
    this.down.set(device, alert.id);
    for (const a of [...this.book.firingAlerts()]) {
      const d = a.labels.device;
      if (d === undefined || a.kind === 'security' || a.suppressedBy || !this.ancestorsOf(d).includes(device)) continue;
      this.update(a.id, { suppressedBy: alert.id }, now, 'suppressed');
    }
  }

  /** A parent is back: alerts it suppressed lose the mark (they resolve on their own when they recover). */
  private noteUp(device: string, alertId: string, now: number): void {
    this.down.delete(device);
    for (const a of [...this.book.firingAlerts()]) {
      if (a.suppressedBy !== alertId) continue;
      const d = a.labels.device;
      const other = d === undefined ? undefined : this.ancestorsOf(d).map((p) => this.down.get(p)).find((x) => x !== undefined);
      this.update(a.id, { suppressedBy: other ?? null }, now, other ? 'suppressed' : 'unsuppressed');
    }
  }

  /** Firing alerts no live state stands behind: resolved when their rule is gone, or as their kind says (rules/kinds/base.ts `Orphans`). */
  private sweepOrphans(now: number): void {
    const external = [...this.external];
    for (const a of [...this.book.firingAlerts()]) {
      if (this.owned.has(a.id) || external.some((p) => a.rule.startsWith(p))) continue;
      const rule = this.ruleOf(a);
      if (rule === undefined) {
        this.settle(a, now, 'its rule is no longer loaded');
        continue;
      }
      const orphans = kindOf(rule).orphans;
      if (typeof orphans === 'object') {
        if (now - a.updatedAt >= orphans.quiet(rule)) this.settle(a, now);
      } else if (orphans === 'confirm' && now - this.loadedAt >= ORPHAN_GRACE_MS) {
        // A value rule's alert from before a restart that no value has taken up since: the condition
        // cannot be confirmed, and a NOC must not see it firing for ever. (A device gone silent has
        // its no-data alert for that, which stays.)
        this.settle(a, now, 'no value since the restart confirmed it');
      }
    }
  }

  /** The rule an alert belongs to: its `rule`, or for a rule raising alerts per sub-rule (`sigma:<Sigma id>`), the part before the first `:`. */
  private ruleOf(alert: Alert): RuleDef | undefined {
    const own = this.byId.get(alert.rule);
    if (own !== undefined) return own;
    const colon = alert.rule.indexOf(':');
    return colon > 0 ? this.byId.get(alert.rule.slice(0, colon)) : undefined;
  }

  private flush(): readonly AlertChange[] {
    const out = this.out;
    this.out = undefined;
    return out ?? NO_CHANGES;
  }

  /** Makes one tracker per tracking function of the kinds in use, in the table's order, with its rules in file order. */
  private load(rules: readonly RuleDef[]): void {
    this.defs = rules;
    this.loadedAt = this.clock.now();
    this.byId = new Map(rules.map((r) => [r.id, r]));
    this.waiting = new Map();
    this.owned = new Set();
    const byTrack = new Map<Track, { types: Set<string>; rules: RuleDef[] }>();
    for (const rule of rules) {
      const track = kindOf(rule).track;
      let group = byTrack.get(track);
      if (!group) byTrack.set(track, (group = { types: new Set(), rules: [] }));
      group.types.add(rule.type);
      group.rules.push(rule);
    }
    const trackers: Trackers = { point: [], presence: [], event: [], alert: [], detection: [], tick: [] };
    for (const [track, { types, rules: own }] of sortedByTable(byTrack)) {
      const t = track(own, this.port, kindOf);
      if (t.onPoint) trackers.point.push(t as Hook<'onPoint'>);
      if (t.onPresence) trackers.presence.push(t as Hook<'onPresence'>);
      if (t.onEvent) trackers.event.push(t as Hook<'onEvent'>);
      if (t.onAlert) trackers.alert.push(t as Hook<'onAlert'>);
      if (t.onDetection) trackers.detection.push(t as Hook<'onDetection'>);
      if (t.tick) trackers.tick.push({ where: `tick: ${[...types].join('/')} rules`, tracker: t as Hook<'tick'> });
    }
    this.trackers = trackers;
  }

  /** The firing alert from before a restart or reload with this rule and labels, now owned again. */
  private adopt(rule: string, labels: Record<string, string>): Alert | undefined {
    const orphan = this.book.firingOf(fingerprintOf(rule, labels));
    if (orphan) this.owned.add(orphan.id);
    return orphan;
  }
}
