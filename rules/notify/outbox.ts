import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Clock, Logger } from '../../core/index.ts';
import type { Notification } from './grouping.ts';
import type { Transport } from './transports/index.ts';

interface Item {
  n: Notification;
  attempts: number;
  nextAt: number;
}

/**
 * Notifications waiting for their receiver, retried with doubling waits (capped) until delivered:
 * a receiver that is down delays a notification, never loses it. Kept in a file, so a restart
 * does not lose them either. One delivery at a time per receiver keeps their order.
 */
export class Outbox {
  private items: Item[] = [];
  private readonly busy = new Set<string>();
  delivered = 0;

  constructor(
    private readonly file: string,
    private readonly transports: Map<string, Transport>,
    private readonly retry: { initial: number; max: number },
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    if (existsSync(file)) {
      try {
        const saved = JSON.parse(readFileSync(file, 'utf8')) as unknown;
        // Only items of the expected shape come back: a malformed one would throw in pump() on every timer tick.
        const ok = (i: unknown): i is Item => {
          const x = i as Partial<Item> | null;
          return typeof x === 'object' && x !== null && typeof x.n?.receiver === 'string' && typeof x.attempts === 'number' && typeof x.nextAt === 'number';
        };
        const all = Array.isArray(saved) ? (saved as unknown[]) : [];
        this.items = all.filter(ok);
        if (!Array.isArray(saved) || this.items.length < all.length) {
          // Kept as read in `<file>.rejected` for a person to look at, not lost.
          writeFileSync(`${file}.rejected`, JSON.stringify(Array.isArray(saved) ? all.filter((i) => !ok(i)) : saved));
          this.logger.error({ file, keptIn: `${file}.rejected`, setAside: Array.isArray(saved) ? all.length - this.items.length : 'all' }, 'notify: malformed outbox items set aside');
        }
      } catch {
        this.logger.warn({ file }, 'notify: outbox unreadable; starting empty');
      }
    }
  }

  add(n: Notification): void {
    this.items.push({ n, attempts: 0, nextAt: this.clock.now() });
    this.save();
  }

  get pending(): number {
    return this.items.length;
  }

  /** Starts the deliveries that are due; each settles on its own. Runs on a timer: never throws. */
  pump(): void {
    try {
      this.startDue();
    } catch (err) {
      this.logger.error({ err: err instanceof Error ? err.stack ?? err.message : String(err) }, 'notify: outbox pump failed; will try again');
    }
  }

  private startDue(): void {
    const now = this.clock.now();
    for (const item of this.items) {
      const receiver = item.n.receiver;
      if (item.nextAt > now || this.busy.has(receiver)) continue;
      const send = this.transports.get(receiver);
      if (!send) continue;
      this.busy.add(receiver);
      // A transport that throws instead of rejecting is a failed delivery like any other.
      Promise.resolve().then(() => send(item.n)).then(
        () => {
          this.items = this.items.filter((i) => i !== item);
          this.delivered++;
          this.save();
        },
        (err: unknown) => {
          item.attempts++;
          const wait = Math.min(this.retry.initial * 2 ** (item.attempts - 1), this.retry.max);
          item.nextAt = this.clock.now() + wait;
          this.logger.warn({ receiver, attempts: item.attempts, retryInMs: wait, err: (err as Error).message }, 'notify: delivery failed; will retry');
          this.save();
        },
      ).finally(() => this.busy.delete(receiver));
    }
  }

  private save(): void {
    try {
      writeFileSync(`${this.file}.tmp`, JSON.stringify(this.items));
      renameSync(`${this.file}.tmp`, this.file);
    } catch (err) {
      this.logger.error({ file: this.file, err: (err as Error).message }, 'notify: could not save the outbox');
    }
  }
}
