import type { MqttBus } from '../broker/index.ts';
import type { Alert, DeviceStatus, Point, SecurityEvent } from '../core/index.ts';
import type { OpsServer } from '../ops-server/index.ts';

/**
 * Where alert changes, readings, statuses and security events go out: the ops server's screens
 * (socket.io) and the `alerts/{id}` topic for integrations. The rules publish from the start, before the
 * broker and the ops server exist: until each is attached, what would go to it is not sent (there is
 * no one to see it yet).
 */
export class Fanout {
  private screens: OpsServer['realtime'] | undefined;
  private bus: MqttBus | undefined;

  /** The broker link (embedded aedes or the external broker's client), for `alerts/{id}`. */
  attachBus(bus: MqttBus): void {
    this.bus = bus;
  }

  /** The ops server's socket.io feed. */
  attachScreens(screens: OpsServer['realtime']): void {
    this.screens = screens;
  }

  /** Each alert change to the screens and to `alerts/{id}` (QoS 0, not retained). */
  readonly alerts = (changes: readonly Alert[]): void => {
    for (const alert of changes) {
      this.screens?.alert(alert);
      this.bus?.publish(
        { cmd: 'publish', topic: `alerts/${alert.id}`, payload: Buffer.from(JSON.stringify(alert)), qos: 0, retain: false, dup: false },
        () => undefined,
      );
    }
  };

  readonly telemetry = (points: Point[]): void => {
    this.screens?.telemetry(points);
  };

  deviceStatus(device: string, status: DeviceStatus, ts: number): void {
    this.screens?.deviceStatus(device, status, ts);
  }

  securityEvent(e: SecurityEvent): void {
    this.screens?.securityEvent(e);
  }

  /** Connected socket.io clients, for /metrics. */
  get clients(): number {
    return this.screens?.clients ?? 0;
  }
}
