import { z } from 'zod';
import { AlertKind, type Alert, type DeviceTags } from '../../core/index.ts';
import { formatDuration, matchesTags, openingOf, PositiveDuration, ruleSchema, TagMatch, type AlertPort, type ExpectedInterval, type Presence, type RuleKind, type Step, type Tracker } from './base.ts';

/**
 * A matching device that sent nothing for `after` is offline; an `offline` status (its MQTT last
 * will, or the broker seeing the connection drop) makes it offline at once. A clean MQTT DISCONNECT
 * does not: with `intervals`, a device that left (or states `expectedIntervalSeconds`) is offline
 * once that many of its reporting intervals pass without data.
 */
export const NodataRule = ruleSchema('nodata', AlertKind.default('availability'), {
  match: z.strictObject({ tags: TagMatch.optional() }).default({}),
  /** Milliseconds once loaded. */
  after: PositiveDuration,
  /** Missed reporting intervals (the device's `expectedIntervalSeconds`, or its kind's default) that make a sleeping device offline, e.g. 2. */
  intervals: z.number().positive().max(1000).optional(),
});
export type NodataRule = z.output<typeof NodataRule>;

/**
 * Whether one device is offline for one no-data rule. `since` is when it went offline: the status
 * time, or last seen + `after` for silence. `cause` says which, for the summary.
 */
export interface NodataState {
  readonly phase: 'online' | 'offline';
  readonly since: number;
  readonly cause: 'silent' | 'status' | null;
}

/**
 * A sign of life or death from the device at `now`. Pure; undefined when nothing changed. An
 * `offline` status (last will, dropped connection) is evidence, not absence of it, so it fires at once;
 * a clean leave does not.
 */
export function evaluateNodata(previous: NodataState | undefined, presence: Presence, now: number): Step<NodataState> | undefined {
  const offline = previous?.phase === 'offline';
  if (presence === 'offline') return offline ? undefined : { state: { phase: 'offline', since: now, cause: 'status' }, transition: 'firing' };
  return offline ? { state: { phase: 'online', since: now, cause: null }, transition: 'resolved' } : undefined;
}

/**
 * How long a device may be silent for `rule`. With `intervals`, a device whose interval is known waits
 * that many of its intervals: a stated one always, its kind's default once it has left cleanly (it
 * sleeps between reports). Otherwise, and without `intervals`, the rule's `after`.
 */
export function silenceAllowed(rule: NodataRule, interval: ExpectedInterval | undefined, left: boolean): number {
  if (rule.intervals !== undefined && interval !== undefined && (interval.stated || left)) return rule.intervals * interval.ms;
  return rule.after;
}

/**
 * Time passing: a device last heard from at `lastSeen` is offline once the silence it is allowed
 * (`silenceAllowed`) has gone by. The caller only asks about devices it has heard from since start,
 * so a restart does not page for every device that has not reported yet.
 */
export function elapseNodata(
  rule: NodataRule, previous: NodataState | undefined, lastSeen: number, now: number,
  interval?: ExpectedInterval, left = false,
): Step<NodataState> | undefined {
  if (previous?.phase === 'offline') return undefined;
  const deadline = lastSeen + silenceAllowed(rule, interval, left);
  return now >= deadline ? { state: { phase: 'offline', since: deadline, cause: 'silent' }, transition: 'firing' } : undefined;
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

/** The devices heard from since start and their no-data watches. */
class PresenceTracker implements Tracker {
  private readonly heard = new Map<string, Heard>();

  constructor(private readonly rules: readonly NodataRule[], private readonly port: AlertPort) {}

  /** A sign of life or death from a device: marks it heard from, and runs its no-data watches. */
  onPresence(device: string, tags: DeviceTags | undefined, presence: Presence, now: number): void {
    let h = this.heard.get(device);
    // A status carries no tags; keep what the points said when the inventory cannot tell.
    if (presence !== 'data') tags ??= h?.tags;
    if (h === undefined) {
      h = { device, tags, lastSeen: undefined, left: false, watches: [] };
      for (const rule of this.rules) {
        const w: Watch = { rule, matches: matchesTags(rule.match.tags, device, tags), state: undefined, alert: undefined };
        const orphan = w.matches ? this.port.adopt(rule.id, { ...tags, ...rule.labels, device }) : undefined;
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
          this.apply(h, w, { state: { phase: 'online', since: now, cause: null }, transition: 'resolved' }, now);
        }
      }
    }
    if (presence !== 'offline') h.lastSeen = now;
    h.left = presence === 'left';
    for (const w of h.watches) {
      if (!w.matches) continue;
      const step = evaluateNodata(w.state, presence, now);
      if (step !== undefined) this.apply(h, w, step, now);
    }
  }

  /** Silent devices: each watch on its own, so one that throws does not stop the others. */
  tick(now: number): void {
    for (const h of this.heard.values()) {
      if (h.lastSeen === undefined) continue;
      for (const w of h.watches) {
        if (!w.matches) continue;
        try {
          const step = elapseNodata(w.rule, w.state, h.lastSeen, now, this.port.expectedIntervalOf(h.device), h.left);
          if (step !== undefined) this.apply(h, w, step, now);
        } catch (err) {
          this.port.failed(`tick: rule ${w.rule.id} on ${h.device}`, err);
        }
      }
    }
  }

  private apply(h: Heard, w: Watch, step: Step<NodataState>, now: number): void {
    w.state = step.state;
    if (step.transition === 'firing') {
      const { rule } = w;
      const labels = { ...h.tags, ...rule.labels, device: h.device };
      const after = formatDuration(silenceAllowed(rule, this.port.expectedIntervalOf(h.device), h.left));
      const reason = step.state.cause === 'status' ? 'reported offline (last will or dropped connection)' : `no data for ${after}`;
      const vars = { ...labels, reason, after, rule: rule.id, name: rule.name };
      w.alert = this.port.raise(openingOf(rule, labels, vars, rule.summary ?? '{{device}} offline: {{reason}}', null, step.state.since), now);
    } else if (step.transition === 'resolved' && w.alert) {
      this.port.settle(w.alert, now);
      w.alert = undefined;
    }
  }
}

export const nodata = {
  schema: NodataRule,
  evaluate: evaluateNodata,
  track: (rules, port) => new PresenceTracker(rules, port),
  orphans: 'keep',
  outage: true,
} satisfies RuleKind<NodataRule>;
