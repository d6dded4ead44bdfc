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

/** Who put a device status message on the broker: a client (its PUBLISH or last will), or the broker itself (its presence). */
export interface StatusReceipt {
  /** Its place in the order of receipts and ticks (ReceiptOrder). */
  readonly order: number;
  readonly from: 'client' | 'broker';
  /** What it said, trimmed (`online`, `offline`): a reader checks it has the message it thinks it has. */
  readonly says: string;
}

/**
 * The order in which the broker took each `devices/{id}/status` message, against the order of anything
 * else ticked on the same count (the product's presence ticks each connection event). A status reaches
 * ingest later than that, after PUBACK, the retained store and ingest's own queue, so a device's
 * `online` published just before its connection dropped is handled after the drop; compared by this
 * order it is older than the drop, and must not undo it (cli/presence.ts).
 *
 * Keyed by the payload Buffer: aedes hands the same Buffer to its in-process subscribers (ingest's
 * holdAck relies on it too). One count for the process, so the product reads it without a handle on
 * the broker; a payload that comes back from Redis (a cluster) is another Buffer and has no receipt.
 */
export class ReceiptOrder {
  private last = 0;
  private readonly receipts = new WeakMap<object, StatusReceipt>();

  /** The next place in the order, for an event compared with receipts. */
  tick(): number {
    return ++this.last;
  }

  /** Takes a status message's receipt now, unless it has one (a client's, taken at authorizePublish). */
  take(payload: Buffer | string, from: StatusReceipt['from']): void {
    if (typeof payload === 'string' || this.receipts.has(payload)) return;
    this.receipts.set(payload, { order: this.tick(), from, says: payload.toString('latin1', 0, 16).trim() });
  }

  of(payload: unknown): StatusReceipt | undefined {
    return typeof payload === 'object' && payload !== null ? this.receipts.get(payload) : undefined;
  }
}

export const statusReceipts = new ReceiptOrder();

/** The client's source address, `::ffff:` removed. */
export function sourceOf(client: Client): string {
  return plainAddress((client.conn as { remoteAddress?: string }).remoteAddress);
}
