import { z } from 'zod';
import { AlertKind, Severity } from '../../core/index.ts';
import { parseDuration } from '../kinds/index.ts';
import { Matcher } from '../silences.ts';

const Duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration like "30s"' });
    return z.NEVER;
  }
  return ms;
});

/** A receiver: a webhook (JSON, HMAC-SHA256 signed with `secret`) or email over SMTP. */
export const Receiver = z
  .strictObject({
    name: z.string().min(1),
    webhook: z.strictObject({ url: z.url(), secret: z.string().min(16).optional() }).optional(),
    email: z
      .strictObject({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(25),
        /** Implicit TLS (port 465); otherwise STARTTLS when the server offers it. */
        secure: z.boolean().default(false),
        user: z.string().optional(),
        pass: z.string().optional(),
        from: z.string().min(3),
        to: z.array(z.string().min(3)).min(1),
      })
      .optional(),
  })
  .refine((r) => (r.webhook ? 1 : 0) + (r.email ? 1 : 0) === 1, { message: 'give exactly one of "webhook" or "email"', path: ['webhook'] });

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
    /** Delivery retries: the first wait, doubling up to `max`; a notification is never dropped. */
    retry: z.strictObject({ initial: Duration.default(1000), max: Duration.default(60_000) }).default({ initial: 1000, max: 60_000 }),
  })
  .superRefine((c, ctx) => {
    const names = new Set(c.receivers.map((r) => r.name));
    c.routes.forEach((r, i) => names.has(r.receiver) || ctx.addIssue({ code: 'custom', path: ['routes', i, 'receiver'], message: `unknown receiver "${r.receiver}"` }));
    if (c.escalation && !names.has(c.escalation.receiver)) ctx.addIssue({ code: 'custom', path: ['escalation', 'receiver'], message: `unknown receiver "${c.escalation.receiver}"` });
  });
export type NotifyConfig = z.output<typeof NotifyConfig>;
export type Receiver = z.output<typeof Receiver>;
