// The latest value of every series the page knows, and whether a sensor's reading is still current.
import type { DevicePresence, TelemetryUpdate } from '../../../ops-server/index.ts';

/** One latest value as the page keeps it. */
export interface Reading {
  value: number;
  ts: number;
}

/** What a temperature sensor shows now (Readings.sensor). */
export interface SensorReading {
  state: 'current' | 'stale' | 'nodata';
  temperature: number | undefined;
  humidity: number | undefined;
  ts: number | undefined;
  age: number | undefined;
  presence: DevicePresence | undefined;
}

/** Sensors report every 5 s; three missed reports and a bit make a reading stale. */
export const STALE_AFTER_MS = 30_000;

/** Latest values by device and metric, plus each device's presence (online/offline). */
export class Readings {
  #values = new Map<string, Map<string, Reading>>();
  #presence = new Map<string, DevicePresence>();

  /** Takes values from `/metrics/latest` or a `telemetry` batch; an older value never replaces a newer one. Returns the devices that changed. */
  apply(points: readonly TelemetryUpdate[]): Set<string> {
    const changed = new Set<string>();
    for (const p of points) {
      if (!p || typeof p.device !== 'string' || typeof p.value !== 'number' || typeof p.ts !== 'number') continue;
      let metrics = this.#values.get(p.device);
      if (!metrics) this.#values.set(p.device, (metrics = new Map()));
      const prev = metrics.get(p.metric);
      if (prev && prev.ts > p.ts) continue;
      metrics.set(p.metric, { value: p.value, ts: p.ts });
      changed.add(p.device);
    }
    return changed;
  }

  /** Records `online`/`offline` from `/devices` or a `device-status` event; returns whether it changed. */
  setPresence(device: string, status: DevicePresence['status'], since: number): boolean {
    const prev = this.#presence.get(device);
    if (prev && prev.since > since) return false;
    this.#presence.set(device, { status, since });
    return !prev || prev.status !== status;
  }

  get(device: string, metric: string): Reading | undefined {
    return this.#values.get(device)?.get(metric);
  }

  /** Every latest value of a device as [metric, {value, ts}], sorted by metric. */
  all(device: string): [string, Reading][] {
    return [...(this.#values.get(device) ?? new Map<string, Reading>()).entries()].sort(([a], [b]) => a.localeCompare(b));
  }

  presence(device: string): DevicePresence | undefined {
    return this.#presence.get(device);
  }

  /**
   * What a temperature sensor shows now: `state` is `current`, `stale` (older than STALE_AFTER_MS,
   * or its device went offline after it) or `nodata`; a stale value is kept for the tooltip only.
   */
  sensor(device: string, now: number): SensorReading {
    const t = this.get(device, 'temperature');
    const h = this.get(device, 'humidity');
    const presence = this.presence(device);
    if (!t) return { state: 'nodata', temperature: undefined, humidity: h?.value, ts: undefined, age: undefined, presence };
    const age = now - t.ts;
    const offline = presence?.status === 'offline' && presence.since >= t.ts;
    const state = offline || age > STALE_AFTER_MS ? 'stale' : 'current';
    return { state, temperature: t.value, humidity: h?.value, ts: t.ts, age, presence };
  }

  /** The newest timestamp of any metric of the device, or undefined. */
  lastSeen(device: string): number | undefined {
    let last: number | undefined;
    for (const v of (this.#values.get(device) ?? new Map<string, Reading>()).values()) if (last === undefined || v.ts > last) last = v.ts;
    return last;
  }
}
