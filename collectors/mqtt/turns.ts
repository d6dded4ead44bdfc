import { Lanes } from './lanes.ts';

/*
 * Messages in turns, one publisher after another: what keeps an overload's backlog from standing in
 * front of every other publisher's next value (issue 19).
 *
 * Without it, every message was handled to its end (store queue, rules, screens) while aedes parsed the
 * socket read it came in, and a turn of the event loop went through a read of every readable
 * connection that way. Under an overload every bulk connection is readable all the time, so the
 * turns grew long (event-loop delay p99 750 ms, max 1.7 s in the bench's overload phase) and a probe's
 * breach waited in its socket for the loop to come round. (Neither the store's flush, written in
 * slices that yield, nor socket.io, which sends alerts at once, was it.)
 *
 * Now ingest spends at most `budgetMs` of each turn on messages. Past it, a message waits here in its
 * publisher's lane (the MQTT connection it came in on), and the lanes are served one message each per
 * round in the next turns, after the other sockets, timers and socket.io writes. A connection with one
 * message (a device's breach, a probe) waits behind one message of each busy connection, not behind
 * their backlogs: the bulk connections share what is left of the product between them. The price, at
 * saturation only: 10-23 % of the stored rate against handling one socket read after another (every step
 * costs more per message when connections interleave; the A/B in BENCHMARKS.md), for alert p99 of
 * 25-45 ms instead of 200-300 ms through an overload.
 *
 * Order: a device's messages are handled in the order they came. While one of a device's messages
 * waits, its next ones join the same lane even when they come over another connection (a device that
 * reconnects, the broker's presence for it), so the presence watch (cli/presence.ts) and the rules see
 * a device's messages as they were sent.
 *
 * Backpressure: aedes counts the messages of a connection that are not done (their callback not
 * called) and reads no more from it while any are, but for one each time the socket has new bytes. A
 * waiting message keeps its callback until it is served, so a connection whose read has to wait stops
 * being read: its backlog stays in the publisher's TCP connection, where it costs the product no memory
 * and is in no one else's way, and what waits here is about one socket read per connection. (Calling
 * the callbacks at once instead lets aedes read as fast as the bytes come: the backlog moves into the
 * product, 30,000 messages and more.) The broker's emitter hands every message to here at once
 * (broker/broker.ts, `concurrency`): its default first-in-first-out line past 100 in flight put a probe
 * behind every connection's read again.
 */

/** One waiting message: its work, and the broker callback it holds (called once the work ran). */
interface Item {
  work: () => void;
  done: (() => void) | undefined;
}

export class IngestTurns {
  /** Waiting messages by publisher, each device's in order (lanes.ts). */
  private readonly lanes = new Lanes<Item>();
  /** Milliseconds of this turn of the event loop spent on messages. */
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
    return this.lanes.length;
  }

  /**
   * Runs `work` now, then `done`, when nothing waits and this turn's budget is not spent; otherwise
   * queues it in the lane of `publisher` (the connection it came over; the device itself when that is
   * not known), or in the lane where the same device's earlier messages wait, `done` called once the
   * work ran. Without `done`, the work answers for itself (a QoS 1 or 2 publish acknowledged once
   * durable).
   */
  run(device: string, publisher: string | undefined, work: () => void, done?: () => void): void {
    if (this.stopped || (this.lanes.length === 0 && this.spentMs < this.budgetMs)) {
      this.timed(work);
      done?.();
      return;
    }
    this.lanes.push(publisher ?? `device:${device}`, device, { work, done });
    this.scheduleTurn();
  }

  /** Runs everything waiting now, in turn order (at stop: nothing is left holding a broker callback). */
  drainAll(): void {
    this.stopped = true;
    while (this.lanes.length > 0) this.serveOne();
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
    while (this.lanes.length > 0 && performance.now() - started < this.budgetMs) this.serveOne();
    this.spentMs = performance.now() - started;
    if (this.lanes.length > 0) this.deferredTurns++;
    if (this.lanes.length > 0 || this.spentMs > 0) this.scheduleTurn();
  };

  /** The next lane's first waiting message (lanes.ts). */
  private serveOne(): void {
    const item = this.lanes.shift() as Item;
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
