/**
 * Recent events (device events, security events), newest last, bounded so a chatty source cannot
 * grow memory without end. Kept in memory for now; events reach the store with a later issue.
 */
export class EventLog<E extends { ts: number }> {
  private readonly events: E[] = [];

  constructor(private readonly capacity = 10_000) {}

  add(event: E): void {
    this.events.push(event);
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
  }

  /** Events that pass `keep` and are not older than `since`, newest first. */
  query(keep: (e: E) => boolean, since?: number, limit = 1000): E[] {
    const out: E[] = [];
    for (let i = this.events.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.events[i] as E;
      if (since !== undefined && e.ts < since) continue;
      if (keep(e)) out.push(e);
    }
    return out;
  }
}
