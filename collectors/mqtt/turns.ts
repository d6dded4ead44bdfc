/*
 * Device messages in turns: what keeps an overload's backlog from standing in front of every other
 * device's next value (issue 19).
 *
 * Without it, every message was handled to its end (store queue, rules, screens) while aedes parsed the
 * socket read it came in, and a turn of the event loop went through a read of every readable
 * connection that way. Under an overload every bulk connection is readable all the time, so the
 * turns grew long (event-loop delay p99 750 ms, max 1.7 s in the bench's overload phase) and a probe's
 * breach waited in its socket for the loop to come round: p99 1.8 s during the overload, and 100-480 ms
 * for the 10 s its backlog took to drain from the publishers' TCP connections afterwards. (Neither the
 * store's flush, written in slices that yield, nor socket.io, which sends alerts at once, was it.)
 *
 * Now ingest spends at most `budgetMs` of each turn on device messages. Past it, a message waits here,
 * in a queue of its device's (a device's messages keep their order), and the queues are served one
 * message per device per round in the next turns, after the other sockets, timers and socket.io writes.
 *
 * Backpressure: aedes counts the messages of a connection that are not done (their callback not
 * called) and reads no more from it while any are, but for one each time the socket has new bytes. A
 * waiting message keeps its callback until it is served, so a connection whose read has to wait stops
 * being read: its backlog stays in the publisher's TCP connection, where it costs the product no memory
 * and is in no one else's way, and what waits here, or in aedes' emitter beyond its 100 messages in
 * flight, is about one socket read per connection. (Calling the callbacks at once instead lets aedes
 * read as fast as the bytes come: the backlog moves into the product, 30,000 messages and more.)
 */

/** One waiting message: its work, and the broker callback it holds (called once the work ran). */
interface Item {
  work: () => void;
  done: (() => void) | undefined;
}

/** One device's waiting messages, in arrival order (from `head` on). */
interface Queue {
  device: string;
  items: Item[];
  head: number;
}

export class DeviceTurns {
  private readonly queues = new Map<string, Queue>();
  /** Devices with waiting work, in the order they are served (a ring over an array). */
  private ring: Queue[] = [];
  private ringHead = 0;
  private waitingCount = 0;
  /** Milliseconds of this turn of the event loop spent on device messages. */
  private spentMs = 0;
  private turnScheduled = false;
  private stopped = false;
  /** Rounds that ended with work still waiting: how often ingest was behind. */
  deferredTurns = 0;

  constructor(
    private readonly budgetMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Messages waiting for their turn now. */
  get waiting(): number {
    return this.waitingCount;
  }

  /**
   * Runs `work` now, then `done`, when nothing waits and this turn's budget is not spent; otherwise
   * queues it behind the same device's earlier messages (a device's messages keep their order), `done`
   * called once the work ran. Without `done`, the work answers for itself (a QoS 1 or 2 publish
   * acknowledged once durable).
   */
  run(device: string, work: () => void, done?: () => void): void {
    if (this.stopped || (this.waitingCount === 0 && this.spentMs < this.budgetMs)) {
      this.timed(work);
      done?.();
      return;
    }
    let q = this.queues.get(device);
    if (!q) {
      q = { device, items: [], head: 0 };
      this.queues.set(device, q);
      this.ring.push(q);
    }
    q.items.push({ work, done });
    this.waitingCount++;
    this.scheduleTurn();
  }

  /** Runs everything waiting now, in turn order (at stop: nothing is left holding a broker callback). */
  drainAll(): void {
    this.stopped = true;
    while (this.waitingCount > 0) this.serveOne();
  }

  private timed(work: () => void): void {
    const started = performance.now();
    try {
      work();
    } catch (err) {
      this.onError(err);
    }
    this.spentMs += performance.now() - started;
    this.scheduleTurn();
  }

  /** The next turn starts a new budget, and serves what waits. */
  private scheduleTurn(): void {
    if (this.turnScheduled || this.stopped) return;
    this.turnScheduled = true;
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.turnScheduled = false;
    this.spentMs = 0;
    const started = performance.now();
    while (this.waitingCount > 0 && performance.now() - started < this.budgetMs) this.serveOne();
    this.spentMs = performance.now() - started;
    if (this.waitingCount > 0) this.deferredTurns++;
    if (this.waitingCount > 0 || this.spentMs > 0) this.scheduleTurn();
  };

  /** The first waiting message of the next device in the ring; the device goes to the back if it has more. */
  private serveOne(): void {
    const q = this.ring[this.ringHead++] as Queue;
    const item = q.items[q.head] as Item;
    q.items[q.head++] = SERVED;
    this.waitingCount--;
    if (q.head < q.items.length) this.ring.push(q);
    else this.queues.delete(q.device);
    // Compact the ring once its served part outweighs the rest.
    if (this.ringHead > 1024 && this.ringHead * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.ringHead);
      this.ringHead = 0;
    }
    if (q.head > 64 && q.head * 2 > q.items.length) {
      q.items = q.items.slice(q.head);
      q.head = 0;
    }
    try {
      item.work();
    } catch (err) {
      this.onError(err);
    }
    try {
      // Its connection may be read again now (what that brings waits for its own turn).
      item.done?.();
    } catch (err) {
      this.onError(err);
    }
  }
}

const SERVED: Item = { work: () => undefined, done: undefined };
