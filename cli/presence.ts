import type { ClientEvent } from '../broker/index.ts';
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

/** Each device's online/offline state and since when: from its status topic, its connection, and its data. */
export class PresenceBook {
  private readonly presence = new Map<string, DevicePresence>();

  constructor(private readonly o: PresenceOptions) {}

  get(device: string): DevicePresence | undefined {
    return this.presence.get(device);
  }

  /** A status change to the screens and the rules; a repeat of the current status is nothing. */
  readonly set = (device: string, status: DeviceStatus, ts: number): void => {
    if (this.o.stopping()) return;
    const current = this.presence.get(device);
    if (current?.status === status) return;
    if (status === 'offline' && this.o.takesBack(device)) return;
    this.presence.set(device, { status, since: ts });
    this.o.fanout.deviceStatus(device, status, ts);
    const changes = this.o.rules.onStatus(device, status, ts);
    if (changes.length > 0) this.o.fanout.alerts(changes);
  };

  /** The device sent data: online, if it was not already. */
  readonly online = (device: string): void => {
    if (this.presence.get(device)?.status !== 'online') this.set(device, 'online', this.o.clock.now());
  };

  /** The broker's connect/disconnect of an inventory device's own account. */
  readonly onClient = (event: ClientEvent): void => {
    if (event.role !== 'device' || !this.o.estate.devices.has(event.username)) return;
    // A clean DISCONNECT is the device choosing to leave (it sleeps, or was a one-shot publish): not
    // offline until its reporting interval passes without data. A dropped connection is offline at once.
    if (event.status === 'offline' && event.left) this.o.fanout.alerts(this.o.rules.onStatus(event.username, 'left', this.o.clock.now()));
    else this.set(event.username, event.status, this.o.clock.now());
  };
}
