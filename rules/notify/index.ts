import { join } from 'node:path';
import { ConfigError, issueLines, type Alert, type Clock, type Logger } from '../../core/index.ts';
import type { AlertBook } from '../alert-book.ts';
import { Grouper, type Notification } from './grouping.ts';
import { Outbox } from './outbox.ts';
import { NotifyConfig } from './schema.ts';
import { transportFor, type Transport } from './transports.ts';

export { NotifyConfig } from './schema.ts';
export { Grouper, routeMatches, type Notification } from './grouping.ts';
export { signature, webhookBody } from './transports.ts';

/** The history actions that notify: a change in what is wrong, not a person's acknowledgement. */
const NOTIFYING = new Set(['fired', 'resolved', 'flapping', 'stopped flapping']);

export interface Notifier {
  readonly outbox: Outbox;
  stop(): void;
}

/** Validates `notify:` from the config, or throws a ConfigError naming the field. */
export function parseNotifyConfig(raw: unknown): NotifyConfig {
  const r = NotifyConfig.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError('config: notify', issueLines(r.error));
  return r.data;
}

/** Routes alert changes to receivers with grouping, retries and escalation; runs on a 200 ms timer. */
export function startNotifier(o: { config: NotifyConfig; book: AlertBook; clock: Clock; logger: Logger; dir: string; transports?: Map<string, Transport> }): Notifier {
  const transports = o.transports ?? new Map(o.config.receivers.map((r) => [r.name, transportFor(r)]));
  const outbox = new Outbox(join(o.dir, 'outbox.json'), transports, o.config.retry, o.clock, o.logger);
  const grouper = new Grouper(o.config.routes);
  const escalated = new Set<string>();
  o.book.listen((alert, entry) => {
    if (NOTIFYING.has(entry.action)) grouper.onChange(alert, entry.ts);
  });
  const escalation = o.config.escalation;
  const timer = setInterval(() => {
    // A timer callback that throws escapes as an uncaught exception and ends the process: a
    // notification fault is logged and the next 200 ms tick tries again.
    try {
      deliver();
    } catch (err) {
      o.logger.error({ err: (err as Error).message }, 'notify: delivery tick failed; retried on the next tick');
    }
  }, 200);
  timer.unref();
  return { outbox, stop: () => clearInterval(timer) };

  function deliver(): void {
    const now = o.clock.now();
    for (const n of grouper.due(now)) outbox.add(n);
    if (escalation) {
      const late: Alert[] = [];
      for (const a of o.book.firingAlerts()) {
        if (a.severity !== 'critical' || a.acknowledged || escalated.has(a.id) || now - a.startsAt < escalation.after) continue;
        if ((a.silencedBy?.length ?? 0) > 0 || a.suppressedBy) continue;
        escalated.add(a.id);
        late.push(a);
      }
      if (late.length > 0) {
        const n: Notification = { receiver: escalation.receiver, groupKey: 'escalation', groupLabels: {}, status: 'escalated', alerts: late };
        outbox.add(n);
      }
    }
    outbox.pump();
  }
}
