import { z } from 'zod';
import { AlertKind, Severity } from '../../core/index.ts';
import { Duration } from '../kinds/index.ts';
import { Matcher } from '../silences.ts';
import { isTimeZone, LANGUAGES } from './messages.ts';
import { OnCallConfig, onCallIssues, ONCALL_RECEIVER } from './oncall/index.ts';

const Language = z.enum(LANGUAGES);
const TimeZone = z.string().refine(isTimeZone, 'expected an IANA time zone like "Asia/Ho_Chi_Minh"');

/**
 * The transports a receiver may name, one each. `apiUrl` is the provider's base URL (the public one
 * by default; tests point it at a local server that speaks the provider's API).
 */
const TRANSPORTS = {
  /** Alertmanager's webhook (version 4), HMAC-SHA256 signed with `secret` when given. */
  webhook: z.strictObject({ url: z.url(), secret: z.string().min(16).optional() }),
  email: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(25),
    /** Implicit TLS (port 465); otherwise STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    user: z.string().optional(),
    pass: z.string().optional(),
    from: z.string().min(3),
    to: z.array(z.string().min(3)).min(1),
  }),
  /** Telegram Bot API `sendMessage`; `secretToken` is the one given to `setWebhook` (buttons need it). */
  telegram: z.strictObject({
    botToken: z.string().regex(/^\d+:[\w-]+$/, 'expected a bot token like "123456:ABC-DEF..."'),
    chatId: z.union([z.string().min(1), z.number().int()]),
    apiUrl: z.url().default('https://api.telegram.org'),
    secretToken: z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, 'expected 16 to 256 of A-Z, a-z, 0-9, _ and -').optional(),
  }),
  /** Zalo Official Account message API v3 (`/v3.0/oa/message/cs`) to one follower's user_id. */
  zalo: z.strictObject({ accessToken: z.string().min(1), userId: z.string().min(1), apiUrl: z.url().default('https://openapi.zalo.me') }),
  /** A Slack incoming webhook; `signingSecret` is the app's, checked on its button clicks (buttons need it). */
  slack: z.strictObject({ url: z.url(), signingSecret: z.string().min(16).optional() }),
  /** A Microsoft Teams incoming webhook (MessageCard). */
  teams: z.strictObject({ url: z.url() }),
} as const;
export type TransportName = keyof typeof TRANSPORTS;
export const TRANSPORT_NAMES = Object.keys(TRANSPORTS) as TransportName[];

/** A receiver: a name, exactly one transport, and how its people read: language, time zone, who the buttons act as. */
export const Receiver = z
  .strictObject({
    name: z.string().min(1),
    /** The recipients' language; `notify.language` when absent. */
    language: Language.optional(),
    /** IANA zone the times are written in; `notify.timeZone` when absent. */
    timeZone: TimeZone.optional(),
    /** The Watchfloor user the Acknowledge / Silence buttons act as (rules/notify/acting-user.ts); no buttons without it. */
    actAs: z.string().min(1).max(128).optional(),
    webhook: TRANSPORTS.webhook.optional(),
    email: TRANSPORTS.email.optional(),
    telegram: TRANSPORTS.telegram.optional(),
    zalo: TRANSPORTS.zalo.optional(),
    slack: TRANSPORTS.slack.optional(),
    teams: TRANSPORTS.teams.optional(),
  })
  .superRefine((r, ctx) => {
    const given = TRANSPORT_NAMES.filter((t) => r[t] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: 'custom', path: [given[1] ?? 'webhook'], message: `give exactly one of ${TRANSPORT_NAMES.map((t) => `"${t}"`).join(', ')}` });
    }
    // A button must be verifiable when clicked: without the provider's secret anyone could post a click.
    if (r.actAs && r.telegram && !r.telegram.secretToken) ctx.addIssue({ code: 'custom', path: ['telegram', 'secretToken'], message: 'buttons (actAs) need the secretToken given to setWebhook' });
    if (r.actAs && r.slack && !r.slack.signingSecret) ctx.addIssue({ code: 'custom', path: ['slack', 'signingSecret'], message: 'buttons (actAs) need the Slack app\'s signing secret' });
  });

/** The one transport a (validated) receiver names. */
export const transportOf = (r: Receiver): TransportName => TRANSPORT_NAMES.find((t) => r[t] !== undefined) as TransportName;

/** Alertmanager's route: which alerts, to whom, grouped how, sent how often. */
export const Route = z.strictObject({
  receiver: z.string().min(1),
  matchers: z.array(Matcher).default([]),
  kinds: z.array(AlertKind).optional(),
  severities: z.array(Severity).optional(),
  group_by: z.array(z.string().min(1)).default(['rule']),
  group_wait: Duration.default(30_000),
  group_interval: Duration.default(5 * 60_000),
  repeat_interval: Duration.default(4 * 3_600_000),
  /** Keep looking at the next routes after this one matched. */
  continue: z.boolean().default(false),
});
export type Route = z.output<typeof Route>;

/** `notify:` in the config file. */
export const NotifyConfig = z
  .strictObject({
    receivers: z.array(Receiver).default([]),
    routes: z.array(Route).default([]),
    /** A critical alert still firing and unacknowledged after `after` goes to `receiver` too. */
    escalation: z.strictObject({ after: Duration, receiver: z.string().min(1) }).optional(),
    /** On-call people, rotations, holiday calendars and escalation policies (rules/notify/oncall/). */
    oncall: OnCallConfig.optional(),
    /** Delivery retries: the first wait, doubling up to `max`; a notification is never dropped. */
    retry: z.strictObject({ initial: Duration.default(1000), max: Duration.default(60_000) }).default({ initial: 1000, max: 60_000 }),
    /** The site's zone: times in messages and e-mails, unless a receiver names its own. */
    timeZone: TimeZone.default('UTC'),
    /** The default language of messages (`vi` or `en`). */
    language: Language.default('en'),
    /** Where people open the UI: the link back to each alert; http.publicUrl (or the server's own address) when absent. */
    externalUrl: z.url().optional(),
    /** How long an Acknowledge / Silence button stays good. */
    buttonsValidFor: Duration.default(24 * 3_600_000),
  })
  .superRefine((c, ctx) => {
    const names = new Set(c.receivers.map((r) => r.name));
    // `oncall:<schedule>` is whoever is on call there (checked by onCallIssues below).
    c.routes.forEach((r, i) => names.has(r.receiver) || ONCALL_RECEIVER.test(r.receiver) || ctx.addIssue({ code: 'custom', path: ['routes', i, 'receiver'], message: `unknown receiver "${r.receiver}"` }));
    if (names.size < c.receivers.length) ctx.addIssue({ code: 'custom', path: ['receivers'], message: 'receiver names must be unique' });
    if (c.escalation && !names.has(c.escalation.receiver)) ctx.addIssue({ code: 'custom', path: ['escalation', 'receiver'], message: `unknown receiver "${c.escalation.receiver}"` });
    for (const issue of onCallIssues(c.oncall, names, c.routes.map((r) => r.receiver))) ctx.addIssue({ code: 'custom', ...issue });
  });
export type NotifyConfig = z.output<typeof NotifyConfig>;
export type Receiver = z.output<typeof Receiver>;
