/** One lane's waiting items, first in first out (from `head` on), with the key each came with. */
interface Lane<T> {
  name: string;
  items: T[];
  keys: string[];
  head: number;
}

/** Where a key's waiting items are, and how many there are. */
interface KeyWaiting<T> {
  lane: Lane<T>;
  count: number;
}

/**
 * Waiting work in lanes, served round-robin: one item of each lane with work per round, each lane first
 * in first out. What a publisher of a few messages needs when another floods: it waits behind one item
 * of each busy lane, not behind their backlogs (issue 19, turns.ts).
 *
 * Keys keep their order across lanes: an item whose key (a device) has items waiting joins their lane,
 * whatever lane it came for, so the items of one key come out in the order they went in.
 */
export class Lanes<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  private readonly keys = new Map<string, KeyWaiting<T>>();
  /** Lanes with waiting items, in the order they are served (a ring over an array). */
  private ring: Lane<T>[] = [];
  private ringHead = 0;
  private count = 0;

  /** Items waiting. */
  get length(): number {
    return this.count;
  }

  push(lane: string, key: string, item: T): void {
    const held = this.keys.get(key);
    let l = held?.lane;
    if (!l) {
      l = this.lanes.get(lane);
      if (!l) {
        l = { name: lane, items: [], keys: [], head: 0 };
        this.lanes.set(lane, l);
        this.ring.push(l);
      }
    }
    if (held) held.count++;
    else this.keys.set(key, { lane: l, count: 1 });
    l.items.push(item);
    l.keys.push(key);
    this.count++;
  }

  /** The first waiting item of the next lane in the ring (the lane goes to the back if it has more). */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const l = this.ring[this.ringHead] as Lane<T>;
    const item = l.items[l.head] as T;
    const key = l.keys[l.head] as string;
    l.items[l.head] = undefined as T;
    l.head++;
    this.count--;
    this.ringHead++;
    if (l.head < l.items.length) this.ring.push(l);
    else this.lanes.delete(l.name);
    const held = this.keys.get(key) as KeyWaiting<T>;
    if (--held.count === 0) this.keys.delete(key);
    // Compact the ring, and the lane, once their served part outweighs the rest.
    if (this.ringHead > 1024 && this.ringHead * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.ringHead);
      this.ringHead = 0;
    }
    if (l.head > 64 && l.head * 2 > l.items.length) {
      l.items = l.items.slice(l.head);
      l.keys = l.keys.slice(l.head);
      l.head = 0;
    }
    return item;
  }
}
