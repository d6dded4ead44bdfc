import type { NodataRule } from './schema.ts';
import type { Step } from './threshold.ts';

/** What a device told us about itself: a value (of any metric), or its status topic. */
export type Presence = 'data' | 'online' | 'offline';

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
 * `offline` status (last will, dropped connection) is evidence, not absence of it, so it fires at once.
 */
export function evaluateNodata(previous: NodataState | undefined, presence: Presence, now: number): Step<NodataState> | undefined {
  const offline = previous?.phase === 'offline';
  if (presence === 'offline') return offline ? undefined : { state: { phase: 'offline', since: now, cause: 'status' }, transition: 'firing' };
  return offline ? { state: { phase: 'online', since: now, cause: null }, transition: 'resolved' } : undefined;
}

/**
 * Time passing: a device last heard from at `lastSeen` is offline once `after` has gone by. The
 * caller only asks about devices it has heard from since start, so a restart does not page for
 * every device that has not reported yet.
 */
export function elapseNodata(rule: NodataRule, previous: NodataState | undefined, lastSeen: number, now: number): Step<NodataState> | undefined {
  if (previous?.phase === 'offline') return undefined;
  const deadline = lastSeen + rule.after;
  return now >= deadline ? { state: { phase: 'offline', since: deadline, cause: 'silent' }, transition: 'firing' } : undefined;
}
