import type { Alert } from '../../../core/index.ts';
import { summaryIn, titleOf, whenLine, wordsOf } from '../messages.ts';
import type { Receiver } from '../schema.ts';
import { buttonsFor } from './buttons.ts';
import { alertUrl, MAX_ALERTS_SHOWN, postJson, shortText, type Site, type Transport } from './site.ts';

/** Slack's mrkdwn control characters (Slack: "Escaping text"). */
const mrkdwn = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The action_id of each button: what routes/notify-callbacks.ts reads back with the token in `value`. */
export const SLACK_ACTION_IDS = { ack: 'watchfloor_ack', silence: 'watchfloor_silence_1h' } as const;

function alertSection(a: Alert, site: Site): object {
  const w = wordsOf(site.locale.language);
  const url = alertUrl(site, a);
  const name = url ? `<${url}|${mrkdwn(a.name)}>` : mrkdwn(a.name);
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: `*${a.state === 'firing' ? w.firing : w.resolved}* ${mrkdwn(w.severity[a.severity])} ${name}\n${mrkdwn(shortText(summaryIn(a, site.locale.language)))}\n_${mrkdwn(whenLine(a, site.locale))}_` },
  };
}

/**
 * A Slack incoming webhook message in Block Kit: a header, a section per alert (linked to it), and
 * an `actions` block per firing alert with Acknowledge / Silence 1 h buttons whose `value` is the
 * signed token (their clicks come to routes/notify-callbacks.ts, signed by Slack) and a link button.
 */
export function slackTransport(s: NonNullable<Receiver['slack']>, site: Site): Transport {
  return async (n) => {
    const w = wordsOf(site.locale.language);
    const title = titleOf(n, site.locale.language);
    const blocks: object[] = [{ type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } }, ...n.alerts.slice(0, MAX_ALERTS_SHOWN).map((a) => alertSection(a, site)), ...(n.alerts.length > MAX_ALERTS_SHOWN ? [{ type: 'context', elements: [{ type: 'plain_text', text: w.andMore(n.alerts.length - MAX_ALERTS_SHOWN) }] }] : [])];
    const buttons = buttonsFor(n, site);
    for (const b of buttons) {
      const url = alertUrl(site, b.alert);
      blocks.push({
        type: 'actions',
        block_id: `watchfloor_${b.alert.id}`.slice(0, 255),
        elements: [
          ...(['ack', 'silence'] as const).flatMap((action) =>
            b.tokens[action] ? [{ type: 'button', action_id: SLACK_ACTION_IDS[action], text: { type: 'plain_text', text: b.label(action) }, value: b.tokens[action], ...(action === 'ack' ? { style: 'primary' } : {}) }] : []),
          ...(url ? [{ type: 'button', action_id: 'watchfloor_open', text: { type: 'plain_text', text: w.open }, url }] : []),
        ],
      });
    }
    const first = n.alerts[0];
    const url = first && alertUrl(site, first);
    if (buttons.length === 0 && url) blocks.push({ type: 'actions', elements: [{ type: 'button', action_id: 'watchfloor_open', text: { type: 'plain_text', text: w.open }, url }] });
    // `text` is the fallback Slack shows in notifications and to clients without blocks.
    await postJson(s.url, { text: title, blocks });
  };
}
