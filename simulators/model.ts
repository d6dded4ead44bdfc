/**
 * The data center as numbers: every simulated device's metrics as a pure function of
 * (device, time, scenario, seed). No clock, no I/O; the fleet asks it what to publish, the
 * simulated SNMP agents what their hosts, VMs and storage report (cloud.ts).
 */
import { Estate, type Device, type Inventory, type Rack, type SensorPosition } from '../core/index.ts';
import { CloudModel, type HostResources } from './cloud.ts';
import { drift, jitter, signed, hash01 } from './noise.ts';
import {
  compensatingCracResponse,
  failedCracRiseC,
  inletWarmingC,
  neighbourWarmingC,
  scenarioElapsedMs,
  type ScenarioState,
} from './scenarios.ts';

export type Metrics = Record<string, number>;
export interface Reading {
  device: string;
  metrics: Metrics;
}

type InletPosition = Exclude<SensorPosition, 'rear'>;

/**
 * Normal inlet temperatures up the rack front: the floor tiles deliver the coldest air at the
 * bottom, and some exhaust curls over the top (ASHRAE's recommended inlet band is 18-27 °C).
 */
const INLET_BASE_C: Record<InletPosition, number> = { 'front-bottom': 20, 'front-middle': 21.8, 'front-top': 23 };
/** The volts a single-phase rack PDU runs on here (Vietnam's grid: 230/400 V). */
const PDU_VOLTS = 230;
/** A 32 A single-phase rack PDU (IEC 60309 inlet) on 230 V; its load is the current against this rating. */
const PDU_RATED_A = 32;
/** Facility power over IT power for a provincial data center of this size. */
const PUE = 1.45;
const CRAC_SUPPLY_SETPOINT_C = 18;

/** A rack's fixed character (from the seed) and its exposure to the scenario. */
interface RackState {
  rack: Rack;
  /** °C this rack's inlets run above or below the room: blanking panels, row ends. */
  inletOffset: number;
  humidityOffset: number;
  itKw: number;
  /** Inlet-to-exhaust rise, 10.5-14.5 °C, higher for a more loaded rack. */
  exhaustRiseC: number;
  pdus: number;
  /** 0..1: how much of its cold air the failed CRAC supplied. */
  failedShare: number;
  /** 0..1: for racks of the same room not cooled by the failed CRAC, how near they are to it. */
  neighbourProximity: number;
}

type Profile =
  | { kind: 'rack-air'; rack: RackState; position: SensorPosition }
  | { kind: 'ambient'; temperatureC: number; humidityPct: number }
  | { kind: 'contact' }
  | { kind: 'crac'; role: 'normal' | 'failed' | 'compensating' }
  | { kind: 'ups'; capacityKw: number; pdus: string[] }
  | { kind: 'pdu'; rack: RackState }
  | { kind: 'power-meter' };

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** Where a device sits on its room's plan, if it has a place there. */
function planPoint(estate: Estate, d: Device): { room: string; x: number; y: number } | undefined {
  const loc = d.location;
  if ('room' in loc) return loc;
  if ('rack' in loc) {
    const rack = estate.racks.get(loc.rack);
    if (rack) return { room: rack.room, x: rack.x + rack.width / 2, y: rack.y + rack.depth / 2 };
  }
  return undefined;
}

/** Every simulated device's readings at any instant, for one inventory, scenario and seed. */
export class DataCenterModel {
  readonly estate: Estate;
  private readonly profiles = new Map<string, Profile>();
  private readonly rackStates = new Map<string, RackState>();
  private readonly cloud: CloudModel;

  constructor(
    inventory: Inventory,
    readonly scenario: ScenarioState,
    readonly seed = 1,
  ) {
    this.estate = new Estate(inventory);
    this.buildRacks();
    this.buildProfiles();
    this.cloud = new CloudModel(this.estate, seed);
  }

  /** The ids of the devices this model simulates over MQTT (the fleet's), in inventory order. */
  get deviceIds(): string[] {
    return [...this.profiles.keys()];
  }

  /** The storage arrays, hypervisor hosts and VMs: their figures are served over SNMP (`hostResources`), not by the fleet. */
  get cloudIds(): string[] {
    return this.cloud.deviceIds;
  }

  /** A storage array's, host's or VM's CPUs, memory and disks at `now` (epoch ms); undefined for other devices. */
  hostResources(deviceId: string, now: number): HostResources | undefined {
    return this.cloud.resources(deviceId, now);
  }

  /** The temperature-humidity sensors on racks: the fleet's main load and the floor plan's heat map. */
  get rackSensorIds(): string[] {
    return [...this.profiles].filter(([, p]) => p.kind === 'rack-air').map(([id]) => id);
  }

  /** The racks the failed CRAC cools (empty unless the scenario is crac-failure). */
  get affectedRacks(): string[] {
    return [...this.rackStates.values()].filter((r) => r.failedShare > 0).map((r) => r.rack.id);
  }

  /** The device's metrics at `now` (epoch ms), or undefined if the model does not simulate it. */
  read(deviceId: string, now: number): Metrics | undefined {
    const p = this.profiles.get(deviceId);
    if (!p) return undefined;
    switch (p.kind) {
      case 'rack-air':
        return this.rackAir(deviceId, p.rack, p.position, now);
      case 'ambient':
        return {
          temperature: round(p.temperatureC + 1.5 * drift(this.seed, deviceId, now) + 0.15 * jitter(this.seed, deviceId, now), 1),
          humidity: round(p.humidityPct + 5 * drift(this.seed, `rh:${deviceId}`, now) + 0.4 * jitter(this.seed, `rh:${deviceId}`, now), 1),
        };
      case 'contact':
        // Closed doors, no smoke, dry floor: the scenarios here are thermal.
        return { state: 0 };
      case 'crac':
        return this.crac(deviceId, p.role, now);
      case 'ups': {
        const loadKw = p.pdus.reduce((sum, id) => sum + (this.read(id, now)?.power_kw ?? 0), 0);
        const loadPct = (100 * loadKw) / p.capacityKw;
        return {
          load_pct: round(loadPct, 1),
          battery_charge_pct: round(99.8 + 0.2 * drift(this.seed, `battery:${deviceId}`, now), 1),
          // Peukert-like: the runtime grows faster than linearly as the load falls; 10 min at full load.
          runtime_min: round(Math.min(240, 10 * (100 / Math.max(loadPct, 5)) ** 1.2), 0),
          on_battery: 0,
        };
      }
      case 'pdu': {
        const kw = this.rackKw(p.rack, now) / p.rack.pdus + 0.02 * jitter(this.seed, deviceId, now);
        const amps = (kw * 1000) / PDU_VOLTS;
        return { power_kw: round(kw, 2), current_a: round(amps, 1), pdu_load_pct: round((100 * amps) / PDU_RATED_A, 1) };
      }
      case 'power-meter': {
        const itKw = [...this.rackStates.values()].reduce((sum, r) => sum + this.rackKw(r, now), 0);
        return {
          power_kw: round(itKw * PUE + 0.5 * jitter(this.seed, deviceId, now), 1),
          voltage_v: round(400 + 3 * drift(this.seed, `v:${deviceId}`, now) + 0.5 * jitter(this.seed, `v:${deviceId}`, now), 1),
        };
      }
    }
  }

  /** Every simulated device's metrics at `now`. */
  readAll(now: number): Reading[] {
    const out: Reading[] = [];
    for (const id of this.profiles.keys()) {
      const metrics = this.read(id, now);
      if (metrics) out.push({ device: id, metrics });
    }
    return out;
  }

  private rackAir(deviceId: string, r: RackState, position: SensorPosition, now: number): Metrics {
    const rackId = r.rack.id;
    const elapsed = this.scenario.name === 'crac-failure' && now >= this.scenario.startedAt ? scenarioElapsedMs(this.scenario, now) : -1;
    // The rack's sensors drift together (it is one column of air), each with its own noise.
    const common = r.inletOffset + 0.8 * drift(this.seed, `rack:${rackId}`, now);
    const inlet = (pos: InletPosition): { normal: number; rise: number } => {
      const normal = INLET_BASE_C[pos] + common;
      let rise = 0;
      if (elapsed >= 0) rise = inletWarmingC(pos, normal, r.failedShare, elapsed) + neighbourWarmingC(r.neighbourProximity, elapsed);
      return { normal, rise };
    };
    let temperature: number;
    let rise: number;
    let humidity = 51 + r.humidityOffset + 2.5 * drift(this.seed, `rh:${rackId}`, now);
    if (position === 'rear') {
      const mid = inlet('front-middle');
      rise = mid.rise;
      temperature = mid.normal + mid.rise + r.exhaustRiseC + 0.5 * drift(this.seed, deviceId, now) + 0.2 * jitter(this.seed, deviceId, now);
      // Warmer air, same water: relative humidity is lower behind the rack.
      humidity -= 4;
    } else {
      const i = inlet(position);
      rise = i.rise;
      temperature = i.normal + i.rise + 0.15 * jitter(this.seed, deviceId, now);
    }
    // Relative humidity falls about 6 % (relative) per °C of warming at constant absolute humidity.
    humidity = humidity * 0.94 ** rise + 0.4 * jitter(this.seed, `rh:${deviceId}`, now);
    return { temperature: round(temperature, 1), humidity: round(clamp(humidity, 5, 95), 1) };
  }

  private crac(deviceId: string, role: 'normal' | 'failed' | 'compensating', now: number): Metrics {
    let supply = CRAC_SUPPLY_SETPOINT_C + 0.3 * drift(this.seed, `supply:${deviceId}`, now) + 0.1 * jitter(this.seed, `supply:${deviceId}`, now);
    let ret = 29 + 0.8 * drift(this.seed, `return:${deviceId}`, now) + 0.2 * jitter(this.seed, `return:${deviceId}`, now);
    let fan = 65 + 5 * drift(this.seed, `fan:${deviceId}`, now) + 0.5 * jitter(this.seed, `fan:${deviceId}`, now);
    const elapsed = now >= this.scenario.startedAt ? scenarioElapsedMs(this.scenario, now) : -1;
    if (role === 'failed' && elapsed >= 0) {
      const [supplyRise, returnRise] = failedCracRiseC(elapsed);
      supply += supplyRise;
      ret += returnRise;
      fan = 0;
    } else if (role === 'compensating' && elapsed >= 0) {
      const [fanUp, returnRise] = compensatingCracResponse(elapsed);
      fan = Math.min(100, fan + fanUp);
      ret += returnRise;
    }
    // crac_running follows the fan: a CRAC that moves no air cools nothing, whatever its controller says.
    return { supply_temp: round(supply, 1), return_temp: round(ret, 1), fan_speed_pct: round(fan, 1), setpoint: CRAC_SUPPLY_SETPOINT_C, crac_running: fan > 0 ? 1 : 0 };
  }

  /** The rack's IT power now: its fixed load with a slow ±6 % swing (batch jobs, backups). */
  private rackKw(r: RackState, now: number): number {
    return r.itKw * (1 + 0.06 * drift(this.seed, `it:${r.rack.id}`, now));
  }

  private buildRacks(): void {
    const failed = this.scenario.name === 'crac-failure' ? this.scenario.crac : undefined;
    const failedDevice = failed ? this.estate.devices.get(failed) : undefined;
    const failedAt = failedDevice ? planPoint(this.estate, failedDevice) : undefined;
    const distance = (rack: Rack): number =>
      failedAt ? Math.hypot(rack.x + rack.width / 2 - failedAt.x, rack.y + rack.depth / 2 - failedAt.y) : 0;

    const racks = this.estate.inventory.racks;
    const cooled = racks.filter((r) => failed !== undefined && r.cooledBy.includes(failed));
    const near = Math.min(...cooled.map(distance));
    const far = Math.max(...cooled.map(distance));
    const pdusPerRack = new Map<string, number>();
    for (const d of this.estate.devices.values()) {
      if (d.kind === 'pdu' && 'rack' in d.location) pdusPerRack.set(d.location.rack, (pdusPerRack.get(d.location.rack) ?? 0) + 1);
    }
    const rowEnds = new Map<string, [number, number]>();
    for (const r of racks) {
      const key = `${r.room}/${r.row}`;
      const [lo, hi] = rowEnds.get(key) ?? [r.position, r.position];
      rowEnds.set(key, [Math.min(lo, r.position), Math.max(hi, r.position)]);
    }

    for (const rack of racks) {
      const load = hash01(this.seed, `load:${rack.id}`);
      const ends = rowEnds.get(`${rack.room}/${rack.row}`);
      const atRowEnd = ends !== undefined && (rack.position === ends[0] || rack.position === ends[1]);
      let failedShare = 0;
      let neighbourProximity = 0;
      if (failed !== undefined && rack.cooledBy.includes(failed)) {
        // The farthest rack of the group still gets a little air from the other units: 8 % less.
        const spread = far > near ? (distance(rack) - near) / (far - near) : 0;
        failedShare = (1 - 0.08 * spread) / rack.cooledBy.length;
      } else if (failedAt && rack.room === failedAt.room) {
        neighbourProximity = clamp(1 - distance(rack) / 12, 0, 1);
      }
      this.rackStates.set(rack.id, {
        rack,
        // Row ends mix in room air around the row's side, so they run warmer.
        inletOffset: 0.7 * signed(this.seed, `offset:${rack.id}`) + (atRowEnd ? 0.4 : 0),
        humidityOffset: 2.5 * signed(this.seed, `rh-offset:${rack.id}`),
        itKw: 2.5 + 3.5 * load,
        exhaustRiseC: 10.5 + 4 * load,
        pdus: pdusPerRack.get(rack.id) ?? 1,
        failedShare,
        neighbourProximity,
      });
    }
  }

  private buildProfiles(): void {
    const failed = this.scenario.name === 'crac-failure' ? this.scenario.crac : undefined;
    const failedDevice = failed ? this.estate.devices.get(failed) : undefined;
    const failedRoom = failedDevice ? planPoint(this.estate, failedDevice)?.room : undefined;
    for (const d of this.estate.devices.values()) {
      const profile = this.profileOf(d, failed, failedRoom);
      if (profile) this.profiles.set(d.id, profile);
    }
  }

  private profileOf(d: Device, failed: string | undefined, failedRoom: string | undefined): Profile | undefined {
    const loc = d.location;
    switch (d.kind) {
      case 'crac': {
        if (d.id === failed) return { kind: 'crac', role: 'failed' };
        const room = planPoint(this.estate, d)?.room;
        return { kind: 'crac', role: failedRoom !== undefined && room === failedRoom ? 'compensating' : 'normal' };
      }
      case 'ups': {
        const pdus = [...this.estate.devices.values()].filter((p) => p.kind === 'pdu' && p.parents.includes(d.id)).map((p) => p.id);
        return { kind: 'ups', capacityKw: Number(d.labels.capacityKw) || 200, pdus };
      }
      case 'pdu': {
        const rack = 'rack' in loc ? this.rackStates.get(loc.rack) : undefined;
        return rack ? { kind: 'pdu', rack } : undefined;
      }
      case 'sensor':
      case 'iot':
        break;
      default:
        // Switches, routers and servers are SNMP's alone; hosts, VMs and storage answer SNMP from `hostResources`.
        return undefined;
    }
    switch (d.sensorType) {
      case 'temperature-humidity': {
        if ('rack' in loc) {
          const rack = this.rackStates.get(loc.rack);
          return rack ? { kind: 'rack-air', rack, position: loc.position ?? 'front-middle' } : undefined;
        }
        if (d.labels.environment === 'outdoor') return { kind: 'ambient', temperatureC: 30, humidityPct: 75 };
        // A plant room is air-conditioned to keep the batteries cool; offices to what people like.
        return 'room' in loc ? { kind: 'ambient', temperatureC: 24, humidityPct: 50 } : { kind: 'ambient', temperatureC: 25, humidityPct: 55 };
      }
      case 'door':
      case 'smoke':
      case 'water-leak':
        return { kind: 'contact' };
      case 'power':
        return { kind: 'power-meter' };
      default:
        return undefined;
    }
  }
}
