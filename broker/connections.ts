import type { Aedes, Client, ConnectPacket } from 'aedes';
import type { MqttAccount } from './accounts.ts';
import { plainAddress } from './front-door.ts';
import type { PacketGate } from './packet-gate.ts';

/**
 * What the broker knows about each connection, shared by its hooks: the account it logged in as, its
 * CONNECT, whether it was taken over or spoke another protocol, and its packet gate. Weak maps: a
 * closed client is forgotten with it.
 */
export class Connections {
  /** The account each logged-in connection authenticated as. */
  readonly accountOf = new WeakMap<Client, MqttAccount>();
  /** Connections closed because the same client id connected again, here or on another broker of the cluster. */
  readonly takenOver = new WeakSet<Client>();
  readonly connectOf = new WeakMap<Client, ConnectPacket>();
  /** CONNECTs of another protocol version (MQTT 5): aedes answers them CONNACK 0x84 and closes; not malformed, not an attack. */
  readonly otherProtocol = new WeakSet<Client>();
  /** Each socket's packet gate (packet-gate.ts), told when its login is accepted. */
  readonly gateOf = new WeakMap<object, PacketGate>();
  private aedes: Aedes | undefined;

  /** The broker these connections belong to, once aedes is created (the hooks only run after). */
  attach(aedes: Aedes): void {
    this.aedes = aedes;
  }

  /** aedes' clients by client id (connected here; none before `attach`). */
  readonly clientsById = (): Record<string, Client | undefined> =>
    (this.aedes as unknown as { clients?: Record<string, Client | undefined> } | undefined)?.clients ?? {};
}

/** The client's source address, `::ffff:` removed. */
export function sourceOf(client: Client): string {
  return plainAddress((client.conn as { remoteAddress?: string }).remoteAddress);
}
