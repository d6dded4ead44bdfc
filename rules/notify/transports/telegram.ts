import type { Alert } from '../../../core/index.ts';
import { summaryIn, titleOf, whenLine, wordsOf } from '../messages.ts';
import type { Receiver } from '../schema.ts';
import { buttonsFor } from './buttons.ts';
import { alertUrl, MAX_ALERTS_SHOWN, postJson, shortText, type Site, type Transport } from './site.ts';

/** The three characters Telegram's HTML parse mode needs escaped (Bot API, "HTML style"). */
const html = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The Bot API's base for a bot: `<apiUrl>/bot<token>/<method>`. */
export const telegramMethodUrl = (t: NonNullable<Receiver['telegram']>, method: string): string => `${t.apiUrl.replace(/\/+$/, '')}/bot${t.botToken}/${method}`;

/** A Bot API answer: `{ok: true, result}` or `{ok: false, error_code, description}`. */
export function checkTelegramAnswer(answer: unknown): void {
  const a = answer as { ok?: boolean; description?: string } | undefined;
  if (a?.ok !== true) throw new Error(`telegram refused: ${a?.description ?? 'no answer'}`);
}

function alertHtml(a: Alert, site: Site): string {
  const w = wordsOf(site.locale.language);
  const url = alertUrl(site, a);
  const name = url ? `<a href="${html(url)}">${html(a.name)}</a>` : html(a.name);
  return [`<b>${a.state === 'firing' ? w.firing : w.resolved}</b> ${html(w.severity[a.severity])} ${name}`, html(shortText(summaryIn(a, site.locale.language))), `<i>${html(whenLine(a, site.locale))}</i>`].join('\n');
}

/**
 * `sendMessage` to the chat, HTML parse mode, with an inline keyboard: Acknowledge and Silence 1 h
 * (callback_data: a signed token of at most 64 bytes, rules/notify/callbacks.ts) for each firing
 * alert, and a URL button to the alert. A click comes back as a `callback_query` update to the
 * webhook (ops-server/routes/notify-callbacks.ts).
 */
export function telegramTransport(t: NonNullable<Receiver['telegram']>, site: Site): Transport {
  return async (n) => {
    const w = wordsOf(site.locale.language);
    const hidden = n.alerts.length - MAX_ALERTS_SHOWN;
    // Whole alerts are left out rather than the text cut: a cut tag would make Telegram refuse the message for good.
    const text = [`<b>${html(titleOf(n, site.locale.language))}</b>`, ...n.alerts.slice(0, MAX_ALERTS_SHOWN).map((a) => alertHtml(a, site)), ...(hidden > 0 ? [html(w.andMore(hidden))] : [])].join('\n\n');
    const rows: { text: string; callback_data?: string; url?: string }[][] = [];
    for (const b of buttonsFor(n, site)) {
      rows.push((['ack', 'silence'] as const).flatMap((action) => (b.tokens[action] ? [{ text: b.label(action), callback_data: b.tokens[action] }] : [])));
    }
    const first = n.alerts[0];
    const url = first && alertUrl(site, first);
    // Telegram refuses URL buttons to loopback addresses; a link in the text works everywhere.
    if (url && !/^https?:\/\/(localhost|127\.|\[::1\])/.test(url)) rows.push([{ text: w.open, url }]);
    const body = {
      chat_id: t.chatId,
      text,
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      ...(rows.length > 0 ? { reply_markup: { inline_keyboard: rows } } : {}),
    };
    checkTelegramAnswer(await postJson(telegramMethodUrl(t, 'sendMessage'), body));
  };
}
