/** What a poll hands back, shared by the device poll and the IF-MIB reader. */
import type { Severity } from '../../core/index.ts';

/** An event the poller saw (reboot, interface status change), published on devices/{id}/events. */
export interface DeviceEventOut {
  type: string;
  severity?: Severity;
  attributes?: Record<string, unknown>;
}

/** What one poll of one device gave: metrics, events, warnings, and how many varbinds it cost. */
export interface PollOutcome {
  metrics: Record<string, number>;
  events: DeviceEventOut[];
  /** Things worth a log line that did not stop the poll (table cut, counter reset, module error). */
  warnings: string[];
  varbinds: number;
  profile: string;
}
