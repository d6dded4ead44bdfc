import type { Aedes, AedesOptions, Client, PublishPacket } from 'aedes';
import type { MqttConfig } from '../../core/index.ts';
import type { MqttAccount } from '../accounts.ts';
import { mayPublish, type KindOf } from '../acl.ts';
import { sourceOf, statusReceipts, type Connections } from '../connections.ts';
import type { FrontDoor } from '../front-door.ts';
import { refusal, type Refusals, type RefusalReason } from '../refusals.ts';

type AuthorizePublish = NonNullable<AedesOptions['authorizePublish']>;
type AuthorizeForward = NonNullable<AedesOptions['authorizeForward']>;
type Done = Parameters<AuthorizePublish>[2];

/** `devices/{id}/status`, the retained presence topic. */
const STATUS_TOPIC = /^devices\/[^/]+\/status$/;

export interface PublishDeps {
  cfg: MqttConfig;
  kindOf: KindOf;
  door: FrontDoor;
  report: Refusals;
  book: Connections;
  /** A QoS 1 publish that passed every check is held until `ack` (BrokerOptions.holdAck). */
  holdAck?: (packet: PublishPacket, ack: (err?: Error) => void, publisher: string) => void;
}

/** The publish path's hooks, its message counts, and the stop for publishes it acknowledged and dropped. */
export interface PublishPath {
  authorizePublish: AuthorizePublish;
  authorizeForward: AuthorizeForward;
  /** PUBLISH packets accepted from clients (`in`) and delivered to them (`out`) since start. */
  readonly messages: { in: number; out: number };
  /**
   * Wraps `aedes.publish`: an acknowledged-and-dropped publish stops there, before any subscriber or
   * retained store sees it, and a QoS > 0 publish gives its in-flight slot back once it is out.
   */
  attach(aedes: Aedes): void;
}

/** Who may publish what, how much and how fast; a denied publish is acknowledged and dropped, or closes the connection. */
export function publishPath(d: PublishDeps): PublishPath {
  const { cfg, kindOf, door, report, book, holdAck } = d;
  const inflight = new WeakMap<Client, number>();
  const dropped = new WeakSet<PublishPacket>();
  const pending = new WeakMap<PublishPacket, Client>();
  const messages = { in: 0, out: 0 };

  /**
   * A denied PUBLISH. Closing the connection (aedes' default) makes a QoS 1 client reconnect and resend
   * forever, so the broker instead acknowledges and drops it, as [MQTT-3.3.5-2] allows, holds the answer
   * a little longer each time (slow down), and bans the identity after too many (then it does close).
   * QoS 2 still closes: MQTT 3.1.1 has no negative PUBREC.
   */
  function deny(reason: RefusalReason, client: Client, account: MqttAccount, packet: PublishPacket, done: Done): void {
    const source = sourceOf(client);
    report.refuse(reason, { source, username: account.username, clientId: client.id, topic: packet.topic });
    const verdict = door.denied(`${account.username}@${source}`);
    if (verdict.bannedUntil !== undefined) {
      report.securityEvent({ type: 'denial_ban', source, username: account.username, clientId: client.id, detail: `banned until ${new Date(verdict.bannedUntil).toISOString()} after ${cfg.denials.max} denials` });
      return done(refusal('banned for repeated denials'));
    }
    if (packet.qos === 2) return done(refusal(`not allowed to publish to ${packet.topic}`));
    dropped.add(packet);
    setTimeout(() => done(null), verdict.delayMs);
  }

  function authorizePublish(client: Client | null, packet: PublishPacket, done: Done): void {
    // client is null only for a stored last will of a client that is gone; it was authorized at CONNECT.
    if (!client) return done(null);
    const account = book.accountOf.get(client);
    if (!account) return done(refusal('not logged in'));
    // A last will of a connection taken over by the same client id: the device is still there, so its
    // "offline" would be a lie that outlives the takeover as the retained status (aedes drops it on error).
    if (packet === (client as unknown as { will?: unknown }).will && book.takenOver.has(client) && STATUS_TOPIC.test(packet.topic)) {
      return done(refusal('last will of a taken-over connection'));
    }
    // Likewise a last will of a connection that was already closing when the device connected again (so not
    // taken over): the broker's presence says nothing then (the device has a connection), and neither may it.
    if (packet === (client as unknown as { will?: unknown }).will && STATUS_TOPIC.test(packet.topic) && account.role === 'device' && connectedElsewhere(client, account)) {
      return done(refusal('last will of a connection the device has replaced'));
    }
    // [MQTT-1.5.3-1] ill-formed UTF-8 closes the connection; the decoder turned it into U+FFFD, which
    // no device topic holds (device ids are ASCII).
    if (packet.topic.includes('\uFFFD')) return done(new Error('topic is not valid UTF-8'));
    if (!mayPublish(account, packet.topic, kindOf)) return deny('topic_denied', client, account, packet, done);
    const size = (packet.payload as Buffer | string).length;
    if (size > cfg.maxPayloadBytes) return deny('payload_too_large', client, account, packet, done);
    if (packet.qos > 0) {
      const n = (inflight.get(client) ?? 0) + 1;
      if (n > cfg.maxInflightPerClient) {
        report.refuse('inflight_exceeded', { source: sourceOf(client), username: account.username, clientId: client.id, detail: `over ${cfg.maxInflightPerClient} messages in flight` });
        return done(refusal('too many messages in flight'));
      }
      inflight.set(client, n);
      pending.set(packet, client);
    }
    messages.in++;
    // Taken here, in the order the socket was read: before the drop that may follow (connections.ts ReceiptOrder).
    if (STATUS_TOPIC.test(packet.topic)) statusReceipts.take(packet.payload, 'client');
    if (packet.qos === 1 && holdAck) return holdAck(packet, (err) => done(err ?? null), client.id);
    done(null);
  }

  /** Another open connection of the same device account (a will is rare: the scan is once per dropped connection). */
  function connectedElsewhere(client: Client, account: MqttAccount): boolean {
    for (const other of Object.values(book.clientsById())) {
      if (other && other !== client && !other.closed && book.accountOf.get(other)?.username === account.username) return true;
    }
    return false;
  }

  function authorizeForward(_client: Client, packet: Parameters<AuthorizeForward>[1]): ReturnType<AuthorizeForward> {
    messages.out++;
    return packet;
  }

  function attach(aedes: Aedes): void {
    type Publish = (packet: PublishPacket, client: Client | null | ((err?: Error) => void), done?: (err?: Error) => void) => void;
    const publish = aedes.publish.bind(aedes) as unknown as Publish;
    (aedes as unknown as { publish: Publish }).publish = (packet, client, done) => {
      // The broker's own status messages (its presence) are received when it publishes them.
      if ((!client || typeof client === 'function') && STATUS_TOPIC.test(packet.topic)) statusReceipts.take(packet.payload, 'broker');
      if (typeof client === 'function') return publish(packet, null, client);
      if (dropped.has(packet)) return done?.();
      const from = pending.get(packet);
      if (!from) return publish(packet, client, done);
      pending.delete(packet);
      publish(packet, client, (err) => {
        inflight.set(from, Math.max(0, (inflight.get(from) ?? 1) - 1));
        done?.(err);
      });
    };
  }

  return { authorizePublish, authorizeForward, messages, attach };
}
