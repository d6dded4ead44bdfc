import { statusReceipts, type ClientEvent, type StatusReceipt } from '../broker/index.ts';
import type { MessageSource } from '../collectors/index.ts';
import type { Clock, DeviceStatus, Estate } from '../core/index.ts';
import type { DevicePresence } from '../ops-server/index.ts';
import type { RuleEngine } from '../rules/index.ts';
import type { Fanout } from './fanout.ts';

export interface PresenceOptions {
  estate: Estate;
  rules: RuleEngine;
  fanout: Fanout;
  clock: Clock;
  /** True for an `offline` the demo fleet takes back at once (cli/demo-fleet.ts `takesBack`). */
  takesBack(device: string): boolean;
  /** True once stop() began: from then on the goodbyes of the fleet and of devices are the product leaving, not outages. */
  stopping(): boolean;
}

type Deliver = Parameters<MessageSource['subscribe']>[1];

/** A device's status message handed to ingest, until ingest calls back (it has handled it). */
interface InIngest {
  readonly receipt: StatusReceipt | undefined;
}

/** The last connection event of a device's own account that said online or offline, in the receipt order. */
interface Connection {
  readonly status: DeviceStatus;
  readonly order: number;
}

/**
 * Each device's online/offline state and since when: from its status topic, its connection, and its data.
 *
 * The broker's connection events come at once; a status message comes through ingest, later (after the
 * PUBACK, the retained store and ingest's queue of device messages). So a status is judged by when the
 * broker took it (broker/connections.ts ReceiptOrder), not by when ingest hands it over: one taken
 * before the device's last connect or drop is stale and is left out. Without that, the `online` a
 * device published just before its connection dropped resolved the alert the drop opened, and the
 * `offline` behind it opened another: a false page, and an alert history that lies.
 */
export class PresenceBook {
  private readonly presence = new Map<string, DevicePresence>();
  /** Devices whose own MQTT connection came or went on this broker. */
  private readonly connections = new Map<string, Connection>();
  /** Per device, the status messages ingest has been handed and not finished, oldest first. */
  private readonly inIngest = new Map<string, InIngest[]>();

  constructor(private readonly o: PresenceOptions) {}

  get(device: string): DevicePresence | undefined {
    return this.presence.get(device);
  }

  /** A device's status message from ingest: applied, unless a later connection event of the device already spoke. */
  readonly set = (device: string, status: DeviceStatus, ts: number): void => {
    if (!this.stale(device, status)) this.apply(device, status, ts);
  };

  /**
   * Whether the status message ingest is handling now for `device` is older than the device's last
   * connection event: taken by the broker before it, or the broker's own presence message of an earlier
   * connection (it restates a connection event, so it must agree with the last one). A message
   * without a receipt (an external broker, a cluster peer's, a device never connected here) is
   * not stale: nothing here knows better.
   */
  private stale(device: string, status: DeviceStatus): boolean {
    const connection = this.connections.get(device);
    const receipt = this.inIngest.get(device)?.[0]?.receipt;
    if (!connection || !receipt || receipt.says !== status) return false;
    if (receipt.order < connection.order) return true;
    return receipt.from === 'broker' && status !== connection.status;
  }

  /** A status change to the screens and the rules; a repeat of the current status is nothing. */
  private apply(device: string, status: DeviceStatus, ts: number): void {
    if (this.o.stopping()) return;
    const current = this.presence.get(device);
    if (current?.status === status) return;
    if (status === 'offline' && this.o.takesBack(device)) return;
    this.presence.set(device, { status, since: ts });
    this.o.fanout.deviceStatus(device, status, ts);
    const changes = this.o.rules.onStatus(device, status, ts);
    if (changes.length > 0) this.o.fanout.alerts(changes);
  }

  /** The device sent data: online, if it was not already. */
  readonly online = (device: string): void => {
    if (this.presence.get(device)?.status !== 'online') this.apply(device, 'online', this.o.clock.now());
  };

  /** The broker's connect/disconnect of an inventory device's own account. */
  readonly onClient = (event: ClientEvent): void => {
    if (event.role !== 'device' || !this.o.estate.devices.has(event.username)) return;
    // A clean DISCONNECT is the device choosing to leave (it sleeps, or was a one-shot publish): not
    // offline until its reporting interval passes without data. A dropped connection is offline at once.
    // The leave says nothing against a status the device sent before it, so it is not a connection event to compare with.
    if (event.status === 'offline' && event.left) this.o.fanout.alerts(this.o.rules.onStatus(event.username, 'left', this.o.clock.now()));
    else {
      this.connections.set(event.username, { status: event.status, order: statusReceipts.tick() });
      this.apply(event.username, event.status, this.o.clock.now());
    }
  };

  /**
   * Ingest's message source, watched: each `devices/+/status` message is noted with its receipt when
   * the broker hands it to ingest, and forgotten when ingest calls back. Ingest handles a device's
   * messages in order and calls back once one is handled (collectors/mqtt/turns.ts), so while it
   * handles a status the oldest noted one of that device is that message (`set` checks it says the
   * same). Other topics pass through untouched.
   */
  readonly watch = (source: MessageSource): MessageSource => {
    // By filter, then by deliver: ingest subscribes one deliver to several filters.
    const watched = new Map<string, Map<Deliver, Deliver>>();
    const isStatus = (filter: string): boolean => filter.endsWith('devices/+/status');
    return {
      subscribe: (filter, deliver, done) => {
        if (!isStatus(filter)) return source.subscribe(filter, deliver, done);
        const noting: Deliver = (packet, handled) => {
          const device = packet.topic.split('/')[1] ?? '';
          const entry: InIngest = { receipt: statusReceipts.of(packet.payload) };
          const queue = this.inIngest.get(device) ?? [];
          queue.push(entry);
          this.inIngest.set(device, queue);
          deliver(packet, () => {
            const at = queue.indexOf(entry);
            if (at >= 0) queue.splice(at, 1);
            if (queue.length === 0 && this.inIngest.get(device) === queue) this.inIngest.delete(device);
            handled();
          });
        };
        const ofFilter = watched.get(filter) ?? new Map<Deliver, Deliver>();
        ofFilter.set(deliver, noting);
        watched.set(filter, ofFilter);
        source.subscribe(filter, noting, done);
      },
      unsubscribe: (filter, deliver, done) => {
        const noting = isStatus(filter) ? watched.get(filter)?.get(deliver) : undefined;
        watched.get(filter)?.delete(deliver);
        source.unsubscribe(filter, noting ?? deliver, done);
      },
    };
  };
}
