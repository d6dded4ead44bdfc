import type { Alert } from '../../../core/index.ts';
import type { ButtonAction } from '../callbacks.ts';
import type { Notification } from '../grouping.ts';
import { wordsOf } from '../messages.ts';
import type { Site } from './site.ts';

/** At most this many alerts of a group get their own buttons (a chat message is not a console). */
const MAX_ALERTS_WITH_BUTTONS = 5;

export interface AlertButtons {
  alert: Alert;
  /** "Acknowledge", or "Acknowledge · Hot" when the message holds several alerts. */
  label: (action: ButtonAction) => string;
  tokens: Partial<Record<ButtonAction, string>>;
}

/** The buttons a message carries: firing, unacknowledged alerts only, each with the tokens the receiver may have. */
export function buttonsFor(n: Notification, site: Site): AlertButtons[] {
  if (!site.button) return [];
  const w = wordsOf(site.locale.language);
  const open = n.alerts.filter((a) => a.state === 'firing' && !a.acknowledged).slice(0, MAX_ALERTS_WITH_BUTTONS);
  const out: AlertButtons[] = [];
  for (const alert of open) {
    const tokens: Partial<Record<ButtonAction, string>> = {};
    for (const action of ['ack', 'silence'] as const) {
      const t = site.button(alert, action);
      if (t) tokens[action] = t;
    }
    if (Object.keys(tokens).length === 0) continue;
    const word = (action: ButtonAction): string => (action === 'ack' ? w.ack : w.silence1h);
    out.push({ alert, tokens, label: (action) => (n.alerts.length > 1 ? `${word(action)} · ${alert.labels.device ?? alert.name}` : word(action)) });
  }
  return out;
}
