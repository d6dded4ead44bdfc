/*
 * The buttons of Telegram and Slack messages coming back: Acknowledge and Silence 1 h, done as the
 * receiver's acting user through the same desk as a click in the UI, audited with `via`. No session
 * here (the provider calls), so nothing passes without the provider's proof and our token:
 *   Telegram: the `X-Telegram-Bot-Api-Secret-Token` header equal to the receiver's secretToken (the
 *     secret_token given to setWebhook), then the signed token in callback_query.data.
 *   Slack: `X-Slack-Signature` = v0=HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp +
 *     ":" + raw body), the timestamp within 5 minutes, then the signed token in actions[0].value.
 * A missing or wrong provider proof is 401; a token that is malformed, tampered, expired or spent is
 * 403; each refusal is audited as denied and reported as a security event.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { WatchfloorError, wfError, type Alert } from '../../core/index.ts';
import { checkTelegramAnswer, postJson, telegramMethodUrl, wordsOf, type Actor, type ButtonAction, type NotifyDoor, type NotifyReceiver } from '../../rules/index.ts';
import type { OpsContext } from '../deps.ts';
import { route } from '../guards.ts';
import type { OpsParts } from '../own-state.ts';

/** Slack: "verify the request timestamp is within five minutes of the local time" (replay window). */
const SLACK_WINDOW_S = 5 * 60;
const SILENCE_MS = 3_600_000;

type Via = 'telegram' | 'slack';

const TelegramUpdate = z.object({
  update_id: z.number(),
  callback_query: z.object({ id: z.string().min(1), data: z.string().max(64).optional(), from: z.object({ id: z.number(), username: z.string().optional() }).optional() }).optional(),
});

const SlackInteraction = z.object({
  type: z.string(),
  user: z.object({ id: z.string(), username: z.string().optional() }).optional(),
  response_url: z.url().optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().max(2000).optional() })).min(1),
});

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Slack's v0 request signature of a raw body. */
export const slackSignature = (secret: string, timestamp: string, body: string): string => `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;

/** Mounted before the session check: `POST /api/v1/notify/{telegram|slack}/{receiver}`. */
export function notifyCallbackRoutes(door: NotifyDoor, ctx: OpsContext, parts: OpsParts): Router {
  const r = Router();
  /** The errors refuse() threw: a token refused, told as such (not the desk's own answer). */
  const refusals = new WeakSet<object>();

  /** A refusal: audited as denied, reported to the SOC, answered with its status and no detail an attacker could use. */
  function refuse(req: Request, via: Via, receiver: string, status: 401 | 403, reason: string): never {
    parts.auditLog.append({ action: `notify.${via}.callback`, target: receiver, outcome: 'denied', actor: '-', source: req.ip, detail: { via, reason } });
    ctx.onSecurityEvent?.({ ts: ctx.clock.now(), type: 'notify_callback_refused', origin: 'http', ...(req.ip ? { source: req.ip } : {}), detail: `${via} receiver ${receiver}: ${reason}` });
    const err = status === 401 ? wfError('UNAUTHORIZED', 'the request is not signed by the provider') : wfError('FORBIDDEN', 'the button is expired, already used or not valid');
    refusals.add(err);
    throw err;
  }

  /** Spends the token and does what the button says, as its user, through the UI's desk; audited like the UI's click. */
  function perform(req: Request, via: Via, receiver: NotifyReceiver, token: string | undefined): { alert: Alert; action: ButtonAction; user: string } {
    const now = ctx.clock.now();
    const spent = door.tokens.redeem(receiver.name, token ?? '', now, (id) => ctx.alert(id));
    if (!spent.ok) refuse(req, via, receiver.name, 403, spent.reason);
    const user = ctx.users.get(spent.user);
    if (!user || user.disabled) refuse(req, via, receiver.name, 403, `acting user "${spent.user}" unknown or disabled`);
    const actor: Actor = { username: user.username, role: user.role };
    const entry = { actor: actor.username, role: actor.role, source: req.ip };
    try {
      if (spent.action === 'ack') {
        const alert = ctx.alertDesk.act(spent.alert.id, { action: 'ack' }, actor);
        parts.auditLog.append({ ...entry, action: 'alert.ack', target: alert.id, detail: { via, receiver: receiver.name } });
        return { alert, action: 'ack', user: actor.username };
      }
      const a = spent.alert;
      // The UI's "silence this alert" (dashboards/web/src/alertpane.ts): its rule and device or rack, for 1 h.
      const matchers = [{ name: 'alertname', value: a.rule }, ...['device', 'rack'].filter((k) => a.labels[k]).map((k) => ({ name: k, value: a.labels[k] as string }))];
      const s = ctx.alertDesk.addSilence({ matchers, endsAt: now + SILENCE_MS, comment: `silenced from ${via} by ${actor.username}` }, actor);
      parts.auditLog.append({ ...entry, action: 'silence.create', target: s.id, detail: { via, receiver: receiver.name, alert: a.id, matchers: s.matchers, kinds: s.kinds ?? 'all', startsAt: s.startsAt, endsAt: s.endsAt } });
      return { alert: a, action: 'silence', user: actor.username };
    } catch (err) {
      const status = err instanceof WatchfloorError ? err.status : 500;
      parts.auditLog.append({ ...entry, action: spent.action === 'ack' ? 'alert.ack' : 'silence.create', target: spent.alert.id, outcome: status === 403 ? 'denied' : 'failed', detail: { via, receiver: receiver.name, status, reason: err instanceof Error ? err.message : String(err) } });
      throw err;
    }
  }

  const doneText = (receiver: NotifyReceiver, done: { action: ButtonAction; user: string }): string => {
    const w = wordsOf(door.localeOf(receiver).language);
    return done.action === 'ack' ? w.ackedBy(done.user) : w.silencedBy(done.user);
  };

  /** Best effort: the chat shows the outcome; the action stands whether or not the provider takes the answer. */
  const tell = (what: string, p: Promise<unknown>): void => {
    p.catch((err: unknown) => ctx.logger.warn({ err: err instanceof Error ? err.message : String(err) }, `notify: ${what} failed`));
  };

  r.post(
    '/api/v1/notify/telegram/:receiver',
    route(async (req: Request, res: Response) => {
      const name = String(req.params.receiver);
      const receiver = door.receiver(name);
      const secret = receiver?.telegram?.secretToken;
      const given = req.get('x-telegram-bot-api-secret-token');
      if (!receiver?.telegram || !secret || !given || !same(given, secret)) refuse(req, 'telegram', name, 401, given ? 'wrong secret token' : 'no secret token');
      const telegram = receiver.telegram;
      const update = TelegramUpdate.safeParse(req.body);
      if (!update.success) throw wfError('BAD_REQUEST', 'not a Telegram Update');
      const query = update.data.callback_query;
      // Other updates (messages to the bot) are taken and ignored, or Telegram would send them again.
      if (!query) return res.json({ ok: true, ignored: true });
      const answer = (text: string): void => tell('answerCallbackQuery', postJson(telegramMethodUrl(telegram, 'answerCallbackQuery'), { callback_query_id: query.id, text }).then(checkTelegramAnswer));
      let done;
      try {
        done = perform(req, 'telegram', receiver, query.data);
      } catch (err) {
        // A token refused says so; the desk's own answer (already acknowledged, not the role's kind) is passed on.
        answer(err instanceof WatchfloorError && !refusals.has(err) ? err.message : wordsOf(door.localeOf(receiver).language).refused);
        throw err;
      }
      answer(doneText(receiver, done));
      res.json({ ok: true, action: done.action, alert: done.alert.id, by: done.user });
    }),
  );

  r.post(
    '/api/v1/notify/slack/:receiver',
    // The signature is over the raw body: read it as bytes, before anything parses it.
    express.raw({ type: () => true, limit: '64kb' }),
    route(async (req: Request, res: Response) => {
      const name = String(req.params.receiver);
      const receiver = door.receiver(name);
      const secret = receiver?.slack?.signingSecret;
      const ts = req.get('x-slack-request-timestamp') ?? '';
      const sig = req.get('x-slack-signature') ?? '';
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      if (!receiver?.slack || !secret || !sig || !/^\d{1,12}$/.test(ts)) refuse(req, 'slack', name, 401, sig ? 'no timestamp' : 'no signature');
      if (Math.abs(ctx.clock.now() / 1000 - Number(ts)) > SLACK_WINDOW_S) refuse(req, 'slack', name, 401, 'timestamp outside the 5-minute window');
      if (!same(sig, slackSignature(secret, ts, raw))) refuse(req, 'slack', name, 401, 'wrong signature');
      let payload: unknown;
      try {
        payload = JSON.parse(new URLSearchParams(raw).get('payload') ?? '');
      } catch {
        throw wfError('BAD_REQUEST', 'payload: not a Slack interaction payload');
      }
      const interaction = SlackInteraction.safeParse(payload);
      if (!interaction.success) throw wfError('BAD_REQUEST', 'payload: not a Slack interaction payload');
      const action = interaction.data.actions[0] as { action_id: string; value?: string };
      // The link button is a click too: Slack posts it, nothing to do.
      if (action.action_id === 'watchfloor_open') return res.json({ ok: true, ignored: true });
      const done = perform(req, 'slack', receiver, action.value);
      const responseUrl = interaction.data.response_url;
      if (responseUrl) tell('Slack response_url', postJson(responseUrl, { replace_original: false, response_type: 'in_channel', text: doneText(receiver, done) }));
      res.json({ ok: true, action: done.action, alert: done.alert.id, by: done.user });
    }),
  );
  return r;
}
