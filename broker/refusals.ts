import type { Clock, Logger, SecurityEvent } from '../core/index.ts';

/** Why the broker refused a connection, a login, a publish or a subscribe: every `reason` label on /metrics. */
export const REFUSAL_REASONS = [
  'anonymous',
  'bad_credentials',
  'locked_out',
  'banned',
  'topic_denied',
  'subscribe_denied',
  'payload_too_large',
  'packet_too_large',
  'source_not_allowed',
  'too_many_connections',
  'connection_rate',
  'keepalive_refused',
  'inflight_exceeded',
  'client_id_in_use',
  'client_id_too_long',
  'client_id_rejected',
  'unknown_certificate',
  'certificate_mismatch',
  'invalid_topic',
  'malformed_packet',
  'unsupported_protocol',
  'keepalive_timeout',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** A security event as a hook raises it: the time and the origin (`mqtt`) are filled in here. */
export type RaisedEvent = Omit<SecurityEvent, 'ts' | 'origin'>;
/** What a refusal reports besides its reason. */
export type RefusalFields = Omit<SecurityEvent, 'ts' | 'origin' | 'type'>;

/** Connection-level refusals (floods) report one security event per kind and source per this long. */
const FLOOD_EVENT_INTERVAL_MS = 10_000;

/** An error the broker raised on purpose; aedes echoes it as clientError, which must not count twice. */
const ours = new WeakSet<Error>();

/** An error a hook hands aedes to refuse something it has already counted and reported. */
export function refusal(message: string): Error {
  const err = new Error(message);
  ours.add(err);
  return err;
}

/** Did the broker raise this error itself (`refusal`)? */
export function isRefusal(err: Error): boolean {
  return ours.has(err);
}

export interface RefusalsDeps {
  clock: Clock;
  logger: Logger;
  /** A refusal or an anomaly worth a SOC's attention. */
  onSecurityEvent?: (event: SecurityEvent) => void;
}

/**
 * The broker's tally of refusals by reason (the `/metrics` counters) and its one way out for security
 * events: the product's handler, and the cluster once this node forwards (`forwardTo`).
 */
export class Refusals {
  /** Refusals counted by reason since start. */
  readonly counts = new Map<RefusalReason, number>();
  private readonly lastFloodEvent = new Map<string, number>();
  private forward: ((event: SecurityEvent) => void) | undefined;

  constructor(private readonly d: RefusalsDeps) {}

  /** Also hand every security event to the cluster (set once the cluster's emitter is open). */
  forwardTo(forward: ((event: SecurityEvent) => void) | undefined): void {
    this.forward = forward;
  }

  /** Reports an event stamped now, from `mqtt`. */
  readonly securityEvent = (event: RaisedEvent): void => {
    const e: SecurityEvent = { ts: this.d.clock.now(), origin: 'mqtt', ...event };
    this.d.onSecurityEvent?.(e);
    this.forward?.(e);
  };

  /** Counts a refusal, logs it with its reason, and reports it (floods: once per interval and source). */
  readonly refuse = (type: RefusalReason, event: RefusalFields, flood = false): void => {
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    if (flood) {
      const { clock } = this.d;
      const key = `${type}:${event.source ?? ''}`;
      const last = this.lastFloodEvent.get(key);
      if (last !== undefined && clock.now() - last < FLOOD_EVENT_INTERVAL_MS) return;
      this.lastFloodEvent.set(key, clock.now());
      if (this.lastFloodEvent.size > 10_000) this.lastFloodEvent.clear();
    }
    this.d.logger.warn({ ...event, reason: type }, `mqtt: refused (${type})`);
    this.securityEvent({ type, ...event });
  };

  /** Counts and logs a refusal that is no security event (a well-formed CONNECT of a protocol this broker does not speak). */
  readonly tally = (type: RefusalReason, fields: Record<string, unknown>): void => {
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    this.d.logger.info({ ...fields, reason: type }, `mqtt: refused (${type})`);
  };
}
