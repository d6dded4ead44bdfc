// The page's shared state, as main.ts builds it and every view reads it; the estate, alert and
// reading shapes are the server's own types (type-only imports: nothing of the server is bundled).
import type { Socket } from 'socket.io-client';
import type { z } from 'zod';
import type { Alert, Device as EstateDevice, Inventory, Link, PlanLocation, Rack, RackLocation, Room, SiteLocation } from '../../../core/index.ts';
import type { DevicePresence, PublicUser, TelemetryUpdate } from '../../../ops-server/index.ts';
import type { RuleDef } from '../../../rules/index.ts';
import type { LatestValue } from '../../../store/index.ts';
import type { AlertBoard } from './alerts.ts';
import type { Readings } from './readings.ts';
import type { Store } from './ui.ts';

export type { Alert, DevicePresence, LatestValue, Link, Rack, Room, RuleDef, TelemetryUpdate };

/** Every field of a device's location variants (rack and U or position, plan x/y, site), each optional: read without narrowing first. */
export type DeviceLocation = Partial<z.infer<typeof RackLocation> & z.infer<typeof PlanLocation> & z.infer<typeof SiteLocation>>;

/** A device of the inventory (core Device), its location read as DeviceLocation. */
export type Device = Omit<EstateDevice, 'location'> & { location: DeviceLocation };

/** Who `/auth/me` says is logged in. */
export type PageUser = Pick<PublicUser, 'username' | 'role'>;

/** A device as `/devices` lists it: with its presence (null before the broker saw it). */
export type ListedDevice = Device & { tags?: Record<string, string>; presence: DevicePresence | null };

/** What `/inventory` answers: the estate, devices without their secrets. */
export interface InventoryAnswer {
  sites?: Inventory['sites'];
  rooms?: Room[];
  racks?: Rack[];
  devices?: Device[];
  links?: Link[];
}

/** The page state every view gets as its `page` prop. */
export interface Page {
  user: PageUser | null;
  rooms: Room[];
  roomNamesMap: Map<string, string>;
  readonly roomNames: Map<string, string>;
  racksById: Map<string, Rack>;
  devicesById: Map<string, Device>;
  /** rack id -> its temperature sensors, and how many other devices it holds */
  rackSensors: Map<string, Device[]>;
  rackEquipment: Map<string, number>;
  roomId: string | null;
  clockOffsetMs: number;
  readings: Readings;
  alerts: AlertBoard;
  socket: Socket | null;
  ticker: ReturnType<typeof setInterval> | null;
  resyncing: Promise<void> | null;
  // For the Preact parts (alert pane, rack panel, views): see ui.ts Store.
  store: Store;
  links: Link[];
  rules: Map<string, RuleDef>;
  /** Alert actions the server answered 404/405 to: hidden from then on. */
  unsupported: Set<string>;
  openRack: string | null;
  view: string;
  criticalSeen: Set<string>;
  beeps: number;
  /** The server's clock as the page best knows it. */
  now: () => number;
  notify: (message: string) => void;
  openRackPanel: (id: string | null) => void;
  locate: (room: string, id: string) => void;
}

/** The props of a view beside the floor plan. */
export interface ViewProps {
  page: Page;
}
