import type { DeviceEvent } from '../core/index.ts';

/**
 * Recent device events, newest last, bounded so a chatty device cannot grow memory without end.
 * Kept in memory for now: events reach the time-series store with the SNMP traps issue.
 */
export class EventLog {
  private readonly events: DeviceEvent[] = [];

  constructor(private readonly capacity = 10_000) {}

  add(event: DeviceEvent): void {
    this.events.push(event);
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
  }

  /** Matching events, newest first. */
  query(filter: { device?: string; type?: string; since?: number }, limit = 1000): DeviceEvent[] {
    const out: DeviceEvent[] = [];
    for (let i = this.events.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.events[i] as DeviceEvent;
      if (filter.device && e.device !== filter.device) continue;
      if (filter.type && e.type !== filter.type) continue;
      if (filter.since !== undefined && e.ts < filter.since) continue;
      out.push(e);
    }
    return out;
  }
}
