import type { Receiver } from '../schema.ts';
import { transportOf } from '../schema.ts';
import { emailTransport } from './email.ts';
import { slackTransport } from './slack.ts';
import type { Site, Transport } from './site.ts';
import { teamsTransport } from './teams.ts';
import { telegramTransport } from './telegram.ts';
import { webhookTransport } from './webhook.ts';
import { zaloTransport } from './zalo.ts';

export { signature, webhookBody } from './webhook.ts';
export { telegramMethodUrl, checkTelegramAnswer } from './telegram.ts';
export { SLACK_ACTION_IDS } from './slack.ts';
export { alertUrl, postJson, type Site, type Transport } from './site.ts';

/** The transport of a (validated) receiver: the one it names. */
export function transportFor(r: Receiver, site: Site): Transport {
  switch (transportOf(r)) {
    case 'webhook':
      return webhookTransport(r.webhook as NonNullable<Receiver['webhook']>, site);
    case 'email':
      return emailTransport(r.email as NonNullable<Receiver['email']>, site);
    case 'telegram':
      return telegramTransport(r.telegram as NonNullable<Receiver['telegram']>, site);
    case 'zalo':
      return zaloTransport(r.zalo as NonNullable<Receiver['zalo']>, site);
    case 'slack':
      return slackTransport(r.slack as NonNullable<Receiver['slack']>, site);
    case 'teams':
      return teamsTransport(r.teams as NonNullable<Receiver['teams']>, site);
  }
}
