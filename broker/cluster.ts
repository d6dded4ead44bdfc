import type { Client } from 'aedes';
import { SecurityEventSchema, type Logger, type SecurityEvent } from '../core/index.ts';

/** Where forwarded security events travel between cluster nodes: `$SYS`, so no device can publish or (without `$SYS` rights) read them. */
const FORWARDED = (brokerId: string): string => `$SYS/${brokerId}/watchfloor/security-events`;

export interface ClusterOptions {
  /** The cluster's emitter (mqemitter-redis), shared by every broker on the same Redis. */
  mq: unknown;
  brokerId: string;
  clientsById: () => Record<string, Client | undefined>;
  /** Connections closed because their client id logged in on another node: marked so that neither presence nor last will speaks. */
  takenOver: WeakSet<Client>;
  /** Also hand this node's security events to the cluster (a `--role broker` node has no rules of its own). */
  forwardSecurityEvents?: boolean;
  /** The security events other nodes forwarded. */
  onForwardedSecurityEvent?: (event: SecurityEvent) => void;
  logger: Logger;
}

/**
 * One broker's part in a Redis cluster. aedes closes a local client when another broker announces the
 * same client id on `$SYS/{brokerId}/new/clients`; it is marked here first (the emitter's listeners run
 * in the order they were added). Answers how to forward this node's security events, when it does.
 */
export function joinCluster(o: ClusterOptions): { forward?: (event: SecurityEvent) => void } {
  type Emitter = {
    on(topic: string, fn: (packet: { topic: string; payload: Buffer }, cb: () => void) => void): void;
    emit(packet: { topic: string; payload: Buffer }): void;
  };
  const mq = o.mq as Emitter;
  mq.on('$SYS/+/new/clients', (packet, cb) => {
    const holder = o.clientsById()[packet.payload.toString()];
    if (packet.topic.split('/')[1] !== o.brokerId && holder && !holder.closed) o.takenOver.add(holder);
    cb();
  });
  const hear = o.onForwardedSecurityEvent;
  if (hear) {
    mq.on(FORWARDED('+'), (packet, cb) => {
      cb();
      if (packet.topic.split('/')[1] === o.brokerId) return; // this node's own, reported already
      let parsed: ReturnType<typeof SecurityEventSchema.safeParse> | undefined;
      try {
        parsed = SecurityEventSchema.safeParse(JSON.parse(packet.payload.toString()));
      } catch {
        parsed = undefined;
      }
      if (parsed?.success) hear(parsed.data);
      else o.logger.warn({ topic: packet.topic, bytes: packet.payload.length }, 'mqtt: a forwarded security event was not one; dropped');
    });
  }
  if (!o.forwardSecurityEvents) return {};
  return { forward: (e) => mq.emit({ topic: FORWARDED(o.brokerId), payload: Buffer.from(JSON.stringify(e)) }) };
}
