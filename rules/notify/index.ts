import { join } from 'node:path';
import { ConfigError, issueLines, type Alert, type Clock, type Logger } from '../../core/index.ts';
import type { AlertBook } from '../alert-book.ts';
import { actingUserFor } from './acting-user.ts';
import { CallbackTokens } from './callbacks.ts';
import { Grouper } from './grouping.ts';
import { buttonsVerifiable, Escalations, legacyPolicy, OnCallRoster } from './oncall/index.ts';
import type { Locale } from './messages.ts';
import { Outbox } from './outbox.ts';
import { NotifyConfig, type Receiver } from './schema.ts';
import { transportFor, type Site, type Transport } from './transports/index.ts';

export { NotifyConfig, TRANSPORT_NAMES, transportOf, type Receiver, type TransportName } from './schema.ts';
export { Grouper, routeMatches, type Notification } from './grouping.ts';
export { signature, webhookBody, telegramMethodUrl, checkTelegramAnswer, postJson, SLACK_ACTION_IDS, type Site, type Transport } from './transports/index.ts';
export { actingUserFor } from './acting-user.ts';
export { OnCallRoster, onCallAt, nextHandover, nextInRotation, isHoliday, holidayOn, escalationStep, type OnCallStatus } from './oncall/index.ts';
export { CallbackTokens, CALLBACK_DATA_MAX, type ButtonAction, type Redeemed, type Refusal } from './callbacks.ts';
export { formatTime, isTimeZone, wordsOf, LANGUAGES, type Language, type Locale } from './messages.ts';

/** The history actions that notify: a change in what is wrong, not a person's acknowledgement. */
const NOTIFYING = new Set(['fired', 'resolved', 'flapping', 'stopped flapping']);

/** What the ops server's callback routes (ops-server/routes/notify-callbacks.ts) need of the notifier. */
export interface NotifyDoor {
  readonly config: NotifyConfig;
  readonly tokens: CallbackTokens;
  receiver(name: string): Receiver | undefined;
  localeOf(r: Receiver): Locale;
  /** Who is on call (`notify.oncall`; GET /api/v1/oncall); absent without it. */
  readonly oncall?: OnCallRoster;
}

export interface Notifier extends NotifyDoor {
  readonly outbox: Outbox;
  stop(): void;
}

/** Validates `notify:` from the config, or throws a ConfigError naming the field. */
export function parseNotifyConfig(raw: unknown): NotifyConfig {
  const r = NotifyConfig.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError('config: notify', issueLines(r.error));
  return r.data;
}

/**
 * `notify:` with the site's defaults filled in from the rest of the config: the link back to the UI
 * is http.publicUrl, else the server's own address (unless its port is chosen at start, 0); the time
 * zone is the inventory's first site's (`sites[].timezone`). What `notify:` states itself wins.
 */
export function withSiteDefaults(notify: unknown, http: { host: string; port: number; publicUrl?: string; tls?: unknown }, sites: readonly { timezone?: string }[] = []): unknown {
  if (notify === null || typeof notify !== 'object' || Array.isArray(notify)) return notify;
  const own = http.port > 0 ? `${http.tls ? 'https' : 'http'}://${http.host === '0.0.0.0' || http.host === '::' ? '127.0.0.1' : http.host}:${http.port}` : undefined;
  const externalUrl = http.publicUrl ?? own;
  const timeZone = sites[0]?.timezone;
  return {
    ...(externalUrl ? { externalUrl } : {}),
    ...(timeZone ? { timeZone } : {}),
    ...notify,
  };
}

/** Routes alert changes to receivers with grouping, retries and escalation; runs on a 200 ms timer. */
export function startNotifier(o: { config: NotifyConfig; book: AlertBook; clock: Clock; logger: Logger; dir: string; transports?: Map<string, Transport> }): Notifier {
  const receivers = new Map(o.config.receivers.map((r) => [r.name, r]));
  const roster = o.config.oncall ? new OnCallRoster(o.config.oncall) : undefined;
  const tokens = new CallbackTokens({
    keyFile: join(o.dir, 'notify-callback.key'),
    usedFile: join(o.dir, 'notify-callbacks-used.json'),
    validForMs: o.config.buttonsValidFor,
    actingUser: (name, alert, at) => {
      const r = receivers.get(name);
      // The receiver's `actAs` when it names one, else the person whose contact it is (for a receiver several share, the one on call at `at`).
      return r ? (actingUserFor(r, alert, at) ?? roster?.actingUserFor(r.name, at)) : undefined;
    },
  });
  // A person's contact speaks the person's language unless the receiver names its own.
  const localeOf = (r: Receiver): Locale => ({ language: r.language ?? roster?.languageOf(r.name) ?? o.config.language, timeZone: r.timeZone ?? o.config.timeZone });
  const siteOf = (r: Receiver): Site => ({
    ...(o.config.externalUrl ? { externalUrl: o.config.externalUrl } : {}),
    locale: localeOf(r),
    ...(r.actAs || (roster?.owns(r.name) && buttonsVerifiable(r)) ? { button: (alert: Alert, action: 'ack' | 'silence') => tokens.issue(r.name, alert, action, o.clock.now()) } : {}),
  });
  const transports = o.transports ?? new Map(o.config.receivers.map((r) => [r.name, transportFor(r, siteOf(r))]));
  const outbox = new Outbox(join(o.dir, 'outbox.json'), transports, o.config.retry, o.clock, o.logger);
  const grouper = new Grouper(o.config.routes);
  // The single `escalation` of old is a policy of one level, beside those of `oncall.policies`.
  const policies = [...(o.config.escalation ? [legacyPolicy(o.config.escalation)] : []), ...(o.config.oncall?.policies ?? [])];
  const escalations = policies.length > 0 ? new Escalations({ policies, roster, file: join(o.dir, 'escalations.json'), logger: o.logger }) : undefined;
  o.book.listen((alert, entry) => {
    if (NOTIFYING.has(entry.action)) grouper.onChange(alert, entry.ts);
    escalations?.onEntry(alert, entry);
  });
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
  return { outbox, ...(roster ? { oncall: roster } : {}), config: o.config, tokens, receiver: (name) => receivers.get(name), localeOf, stop: () => clearInterval(timer) };

  function deliver(): void {
    const now = o.clock.now();
    for (const n of grouper.due(now)) {
      // A route to `oncall:<schedule>` goes to the contacts of whoever is on call now.
      const paged = roster?.resolveReceiver(n.receiver, now);
      if (paged) for (const receiver of paged.receivers) outbox.add({ ...n, receiver });
      else outbox.add(n);
    }
    if (escalations) for (const n of escalations.due(now, o.book.firingAlerts())) outbox.add(n);
    outbox.pump();
  }
}
