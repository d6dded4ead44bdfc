import type { NodataRule } from './schema.ts';
import type { Step } from './threshold.ts';

/**
 * What a device told us about itself: a value (of any metric), its status topic, or `left`: it ended
 * its connection with DISCONNECT [MQTT-3.14], as a sleeping sensor or a cron script does after each
 * report. Leaving is a sign of life, not of death: the device is due back within its interval.
 */
export type Presence = 'data' | 'online' | 'offline' | 'left';

/** A device's reporting interval (the inventory's `expectedIntervalSeconds`, or its kind's default). */
export interface ExpectedInterval {
  readonly ms: number;
  /** The inventory states it; otherwise it is the kind's default, trusted only for a device that left. */
  readonly stated: boolean;
}

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
