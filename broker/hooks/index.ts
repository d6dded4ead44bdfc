/*
 * The broker's aedes hooks, one file each, in the order aedes calls them for a client. aedes'
 * own defaults (its `defaultOptions`) let everyone in and everything through; every one of them is
 * replaced here, and the safe default of each is to deny: a hook lets a client or a packet through
 * only once every check has passed, and refuses when it cannot decide.
 *
 * | hook               | file                   | when a check fails or cannot be made (deny)                            |
 * |--------------------|------------------------|------------------------------------------------------------------------|
 * | preConnect         | authenticate.ts        | passes on; aedes refuses any protocol level but 3 and 4 (CONNACK 0x84)  |
 * | authenticate       | authenticate.ts        | CONNACK 0x05 not authorized (0x02 client id, 0x04 bad password); the   |
 * |                    |                        | credential store failing: 0x03 server unavailable, never a login       |
 * | authorizePublish   | authorize-publish.ts   | no account: refused; a topic no ACL grants or too large: acknowledged  |
 * |                    |                        | and dropped [MQTT-3.3.5-2], QoS 2 and bans close the connection        |
 * | authorizeSubscribe | authorize-subscribe.ts | SUBACK 0x80 [MQTT-3.9.3]; bans close the connection                     |
 * | authorizeForward   | authorize-publish.ts   | forwards: both ends were authorized (publish and subscribe); counts     |
 *
 * aedes' events that count refusals are in client-errors.ts; presence (clientReady, clientDisconnect)
 * is ../presence.ts. A new hook: a file here, one line in `brokerHooks`, one row above.
 */
import type { AedesOptions, PublishPacket } from 'aedes';
import { connectHooks, type ConnectDeps } from './authenticate.ts';
import { publishPath, type PublishPath } from './authorize-publish.ts';
import { subscribeHook } from './authorize-subscribe.ts';

export { closeSessionsOnCredentialChange, MAX_CLIENT_ID_BYTES } from './authenticate.ts';
export { reportClientErrors } from './client-errors.ts';

/** What the connect hooks need, and the publish path's QoS 1 hold. */
export interface HookDeps extends ConnectDeps {
  holdAck?: (packet: PublishPacket, ack: (err?: Error) => void, publisher: string) => void;
}

export type BrokerHooks = Required<Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>;

/** Every hook aedes is given, and the publish path they share (message counts, the dropped-publish stop). */
export function brokerHooks(d: HookDeps): { hooks: BrokerHooks; publish: PublishPath } {
  const { preConnect, authenticate } = connectHooks(d);
  const publish = publishPath(d);
  return {
    hooks: {
      preConnect,
      authenticate,
      authorizePublish: publish.authorizePublish,
      authorizeSubscribe: subscribeHook(d),
      authorizeForward: publish.authorizeForward,
    },
    publish,
  };
}
