import type { AedesOptions, Client } from 'aedes';
import type { MqttConfig } from '../../core/index.ts';
import { maySubscribe, type KindOf } from '../acl.ts';
import { sourceOf, type Connections } from '../connections.ts';
import type { FrontDoor } from '../front-door.ts';
import { refusal, type Refusals } from '../refusals.ts';

type AuthorizeSubscribe = NonNullable<AedesOptions['authorizeSubscribe']>;

export interface SubscribeDeps {
  cfg: MqttConfig;
  kindOf: KindOf;
  door: FrontDoor;
  report: Refusals;
  book: Connections;
}

/** Who may subscribe to what (acl.ts maySubscribe); a denied filter gets SUBACK 0x80, repeated denials a ban. */
export function subscribeHook(d: SubscribeDeps): AuthorizeSubscribe {
  const { cfg, kindOf, door, report, book } = d;
  return function authorizeSubscribe(client: Client, subscription, done): void {
    const account = book.accountOf.get(client);
    if (account && maySubscribe(account, subscription.topic, kindOf)) return done(null, subscription);
    const source = sourceOf(client);
    report.refuse('subscribe_denied', { source, username: account?.username, clientId: client.id, topic: subscription.topic });
    if (account && door.denied(`${account.username}@${source}`).bannedUntil !== undefined) {
      report.securityEvent({ type: 'denial_ban', source, username: account.username, clientId: client.id, detail: `banned after ${cfg.denials.max} denials` });
      return done(refusal('banned for repeated denials'));
    }
    // A null subscription answers SUBACK 0x80 (failure) without closing the connection [MQTT-3.9.3].
    done(null, null);
  };
}
