import type { Alert } from '../../core/index.ts';
import type { Receiver } from './schema.ts';

/**
 * The Watchfloor user a receiver's Acknowledge / Silence buttons act as, for an alert, at a moment:
 * the receiver's `actAs`; undefined gives no buttons. The one seam for on-call rotations: they answer
 * here from the rotation at `at`. It must be a pure function of its arguments: a button's token binds
 * the user named at `at` (its issue time), and a click is refused when this answers otherwise then.
 */
export function actingUserFor(receiver: Receiver, _alert: Alert, _at: number): string | undefined {
  return receiver.actAs;
}
