import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeClock, Inventory, bundledConfigDir, decodeTelemetry, readDataFile, type SensorPosition } from '../core/index.ts';
import { DataCenterModel, resolveScenario, startFleet, type Fleet, type Metrics } from '../simulators/index.ts';
import { startPasswordBroker, type PasswordBroker } from './support/password-broker.ts';

const inventory = readDataFile(resolve(bundledConfigDir, 'sample-datacenter.yaml'), Inventory);
const T0 = Date.UTC(2025, 5, 1, 2, 0, 0);
const MINUTE = 60_000;
const modelFor = (scenario: 'normal' | 'crac-failure', crac?: string, speed = 1, seed = 1): DataCenterModel =>
  new DataCenterModel(inventory, resolveScenario(inventory, { scenario, crac, speed, startedAt: T0 }), seed);
const cracs = inventory.devices.filter((d) => d.kind === 'crac').map((d) => d.id);
const rackOfSensor = (id: string): string => id.split('-')[1]!;
const positionOf = (id: string): SensorPosition => {
  const d = inventory.devices.find((x) => x.id === id)!;
  return 'position' in d.location ? d.location.position! : 'front-middle';
};
const coldAisle = (m: DataCenterModel): string[] => m.rackSensorIds.filter((id) => positionOf(id) !== 'rear');

/** The first scenario minute at which each sensor reads above `threshold`, sampled every 5 s like the fleet. */
function crossings(m: DataCenterModel, sensors: string[], threshold: number, untilMin: number): Map<string, number> {
  const first = new Map<string, number>();
  for (let t = 0; t <= untilMin * MINUTE; t += 5000) {
    for (const id of sensors) if (!first.has(id) && m.read(id, T0 + t)!.temperature! > threshold) first.set(id, t / MINUTE);
  }
  return first;
}

describe('the data center model (fake time)', () => {
  it('is a pure function of device, time and seed', () => {
    const clock = new FakeClock(T0);
    const a = modelFor('normal');
    const b = modelFor('normal');
    for (let i = 0; i < 5; i++) {
      expect(a.readAll(clock.now())).toEqual(b.readAll(clock.now()));
      clock.advance(37_000);
    }
    expect(modelFor('normal', undefined, 1, 2).read('s-a01-ft', T0)).not.toEqual(a.read('s-a01-ft', T0));
  });

  it('simulates every rack sensor, CRAC, UPS, PDU, contact and IoT climate sensor, and no network gear', () => {
    const m = modelFor('normal');
    const ids = new Set(m.deviceIds);
    for (const d of inventory.devices) {
      const expected = ['crac', 'ups', 'pdu'].includes(d.kind) || ['temperature-humidity', 'door', 'smoke', 'water-leak', 'power'].includes(d.sensorType ?? '');
      expect(ids.has(d.id), d.id).toBe(expected);
    }
    expect(m.rackSensorIds).toHaveLength(inventory.racks.length * 4);
  });

  it('keeps normal values in range over two simulated days', () => {
    const m = modelFor('normal');
    const clock = new FakeClock(T0);
    // Each figure's lowest and highest value over the two days, checked once at the end.
    const range = new Map<string, [number, number]>();
    const see = (key: string, v: number): void => {
      const [lo, hi] = range.get(key) ?? [Infinity, -Infinity];
      range.set(key, [Math.min(lo, v), Math.max(hi, v)]);
    };
    const sums = new Map<string, number>();
    for (let step = 0; step <= 48 * 12; step++, clock.advance(5 * MINUTE)) {
      const now = clock.now();
      const readings = new Map(m.readAll(now).map((r) => [r.device, r.metrics]));
      for (const [device, metrics] of readings) {
        const d = m.estate.devices.get(device)!;
        const pos = 'position' in d.location ? d.location.position : undefined;
        if (pos === 'rear') {
          see('rear minus inlet', metrics.temperature! - readings.get(`s-${rackOfSensor(device)}-fm`)!.temperature!);
        } else if (pos) {
          see('inlet', metrics.temperature!);
          sums.set(device, (sums.get(device) ?? 0) + metrics.temperature!);
        }
        if (pos) see('rack humidity', metrics.humidity!);
        const type = d.sensorType ?? d.kind;
        for (const [metric, v] of Object.entries(metrics)) see(`${type} ${metric}`, v);
      }
    }
    const within = (key: string, lo: number, hi: number): void => {
      const [min, max] = range.get(key)!;
      expect(min, `${key} min`).toBeGreaterThanOrEqual(lo);
      expect(max, `${key} max`).toBeLessThanOrEqual(hi);
    };
    within('inlet', 18, 27);
    // The hot aisle runs 10-15 °C above the same rack's inlet (give or take the two sensors' noise).
    within('rear minus inlet', 9.5, 15.5);
    within('rack humidity', 40, 60);
    within('crac supply_temp', 17, 19);
    within('crac fan_speed_pct', 50, 80);
    within('crac setpoint', 18, 18);
    within('ups load_pct', 20, 60);
    within('ups runtime_min', 15, 240);
    within('ups battery_charge_pct', 99, 100);
    within('ups on_battery', 0, 0);
    within('pdu power_kw', 1, 3.5);
    for (const type of ['door', 'smoke', 'water-leak']) within(`${type} state`, 0, 0);
    // Averaged over the days, each rack's inlet is coolest at the bottom and warmest at the top.
    for (const rack of inventory.racks) {
      const [top, mid, bottom] = ['ft', 'fm', 'fb'].map((p) => sums.get(`s-${rack.id}-${p}`)!);
      expect(bottom, rack.id).toBeLessThan(mid!);
      expect(mid, rack.id).toBeLessThan(top!);
    }
  });

  it('drifts smoothly: one sensor moves by tenths between 5 s samples, not by degrees', () => {
    const m = modelFor('normal');
    let previous = m.read('s-b02-fm', T0)!.temperature!;
    for (let t = 5000; t <= 6 * 3600_000; t += 5000) {
      const v = m.read('s-b02-fm', T0 + t)!.temperature!;
      expect(Math.abs(v - previous)).toBeLessThan(0.5);
      previous = v;
    }
  });

  describe.each(cracs)('crac-failure of %s', (crac) => {
    const m = modelFor('crac-failure', crac);
    const cooled = new Set(inventory.racks.filter((r) => r.cooledBy.includes(crac)).map((r) => r.id));
    const sensors = coldAisle(m);
    const hit = sensors.filter((id) => cooled.has(rackOfSensor(id)));
    const spared = sensors.filter((id) => !cooled.has(rackOfSensor(id)));

    it('stops the CRAC and ramps up the others in its room', () => {
      expect(m.affectedRacks.sort()).toEqual([...cooled].sort());
      const at10: Metrics = m.read(crac, T0 + 10 * MINUTE)!;
      expect(at10.fan_speed_pct).toBe(0);
      expect(at10.supply_temp).toBeGreaterThan(m.read(crac, T0)!.supply_temp! + 8);
      const room = inventory.devices.find((d) => d.id === crac)!.location;
      const peer = inventory.devices.find((d) => d.kind === 'crac' && d.id !== crac && 'room' in d.location && 'room' in room && d.location.room === room.room)!;
      expect(m.read(peer.id, T0 + 5 * MINUTE)!.fan_speed_pct).toBeGreaterThan(85);
    });

    it('warms the cooled racks past 27 °C within 2-3.5 minutes and past 32 °C within 4-6.5, top inlets first', () => {
      const past27 = crossings(m, hit, 27, 10);
      const past32 = crossings(m, hit, 32, 10);
      for (const id of hit) {
        expect(past27.get(id), `${id} past 27`).toBeGreaterThanOrEqual(1.5);
        expect(past27.get(id), `${id} past 27`).toBeLessThanOrEqual(3.5);
        expect(past32.get(id), `${id} past 32`).toBeGreaterThanOrEqual(4);
        expect(past32.get(id), `${id} past 32`).toBeLessThanOrEqual(6.5);
      }
      for (const rack of cooled) {
        expect(past27.get(`s-${rack}-ft`)!, rack).toBeLessThanOrEqual(past27.get(`s-${rack}-fb`)!);
        expect(past32.get(`s-${rack}-ft`)!, rack).toBeLessThanOrEqual(past32.get(`s-${rack}-fb`)!);
      }
    });

    it('warms racks cooled by other CRACs only slightly (below 27 °C for half an hour), and nearer ones more', () => {
      expect(crossings(m, spared, 27, 30).size).toBe(0);
      // The warming itself: the same instant with and without the failure (same seed, same noise).
      const normal = modelFor('normal');
      const rise = (id: string, t: number): number => m.read(id, T0 + t)!.temperature! - normal.read(id, T0 + t)!.temperature!;
      const sameRoom = spared.filter((id) => inventory.racks.find((r) => r.id === rackOfSensor(id))!.room === inventory.racks.find((r) => cooled.has(r.id))!.room);
      const neighbourRise = sameRoom.map((id) => rise(id, 30 * MINUTE));
      expect(Math.max(...neighbourRise)).toBeGreaterThan(0.5);
      expect(Math.max(...neighbourRise)).toBeLessThan(1.7);
      for (const id of spared.filter((x) => !sameRoom.includes(x))) expect(rise(id, 30 * MINUTE), id).toBe(0);
      // Within the cooled group, the rack farthest from the CRAC warms least.
      const byRise = [...cooled].map((r) => ({ r, rise: rise(`s-${r}-fm`, 4 * MINUTE) })).sort((a, b) => a.rise - b.rise);
      expect(byRise[0]!.rise).toBeLessThan(byRise.at(-1)!.rise - 0.3);
    });
  });

  it('runs scenario time faster by the speed factor', () => {
    const slow = crossings(modelFor('crac-failure', 'crac-1'), ['s-a01-ft'], 32, 10).get('s-a01-ft')!;
    const fast = modelFor('crac-failure', 'crac-1', 30);
    let t = 0;
    while (fast.read('s-a01-ft', T0 + t)!.temperature! <= 32) t += 100;
    // Not exactly slow / 30: the drift still follows the wall clock, and the samples are 5 s apart.
    expect(t / MINUTE / (slow / 30)).toBeGreaterThan(0.9);
    expect(t / MINUTE / (slow / 30)).toBeLessThan(1.1);
  });

  it('rejects a CRAC that is not in the inventory, and a CRAC for the normal scenario', () => {
    expect(() => resolveScenario(inventory, { scenario: 'crac-failure', crac: 's-a01-ft', startedAt: T0 })).toThrow(/not a CRAC.*crac-1/);
    expect(() => resolveScenario(inventory, { scenario: 'normal', crac: 'crac-1', startedAt: T0 })).toThrow(/only for the crac-failure/);
    expect(() => resolveScenario(inventory, { scenario: 'meltdown', startedAt: T0 })).toThrow(/unknown scenario "meltdown"/);
  });
});

describe('the private cloud in the model (fake time): what its Net-SNMP agents report', () => {
  const DAY = 24 * 60 * MINUTE;
  const m = modelFor('normal');
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const cpu = (id: string, t: number): number => mean(m.hostResources(id, t)!.cpus);
  const used = (id: string, t: number): number => m.hostResources(id, t)!.memory.usedBytes;
  const hosts = inventory.devices.filter((d) => d.kind === 'host').map((d) => d.id);
  const vmsOf = (host: string): string[] => inventory.devices.filter((d) => d.kind === 'vm' && d.parents.includes(host)).map((d) => d.id);
  /** A wall-clock hour in Vietnam (UTC+7, no daylight saving) on Monday 2 June 2025. */
  const vnMonday = (hour: number): number => Date.UTC(2025, 5, 2, hour - 7);

  it('has figures for the SAN, every host and every VM (their CPUs as the labels say), none of them published by the fleet', () => {
    const cloud = inventory.devices.filter((d) => ['storage', 'host', 'vm'].includes(d.kind)).map((d) => d.id);
    expect(new Set(m.cloudIds)).toEqual(new Set(cloud));
    for (const id of cloud) expect(m.deviceIds, id).not.toContain(id);
    expect(m.hostResources('s-a01-ft', T0)).toBeUndefined();
    expect(m.hostResources('cloud-host-1', T0)!.cpus).toHaveLength(32);
    expect(m.hostResources('vm-egov-portal-1', T0)!.cpus).toHaveLength(16);
    expect(m.hostResources('san-1', T0)!.disks.map((d) => d.label)).toEqual(['pool-ssd-tier1', 'pool-sas-tier2', 'pool-nl-backup']);
    for (const id of cloud) {
      for (const c of m.hostResources(id, T0)!.cpus) expect(c, id).toBeGreaterThanOrEqual(0);
      for (const c of m.hostResources(id, T0)!.cpus) expect(c, id).toBeLessThanOrEqual(100);
    }
  });

  it('is a pure function of device, time and seed', () => {
    expect(modelFor('normal').hostResources('cloud-host-2', T0 + 12_345)).toEqual(m.hostResources('cloud-host-2', T0 + 12_345));
    expect(modelFor('normal', undefined, 1, 2).hostResources('cloud-host-2', T0)).not.toEqual(m.hostResources('cloud-host-2', T0));
  });

  it('keeps the portals busier in Vietnamese office hours than at night, and on a weekday than on a Saturday', () => {
    for (const vm of ['vm-egov-portal-1', 'vm-egov-portal-2', 'vm-public-services']) {
      expect(cpu(vm, vnMonday(10)), vm).toBeGreaterThan(cpu(vm, vnMonday(3)) + 20);
      expect(cpu(vm, vnMonday(10)), vm).toBeGreaterThan(cpu(vm, vnMonday(10) - 2 * DAY) + 15);
    }
  });

  it('over two days: each host above the mean of its VMs and never above 90 %, its memory above theirs; VM memory steady; the SAN pools filling slowly', () => {
    const peak = new Map<string, number>();
    const memRange = new Map<string, [number, number]>();
    for (let t = T0; t <= T0 + 2 * DAY; t += 5 * MINUTE) {
      for (const host of hosts) {
        const vms = vmsOf(host);
        const at = new Date(t).toISOString();
        expect(cpu(host, t), `${host} at ${at}`).toBeGreaterThan(mean(vms.map((vm) => cpu(vm, t))));
        expect(used(host, t), `${host} at ${at}`).toBeGreaterThan(vms.reduce((sum, vm) => sum + used(vm, t), 0));
        peak.set(host, Math.max(peak.get(host) ?? 0, cpu(host, t)));
        for (const vm of vms) {
          const r = m.hostResources(vm, t)!.memory;
          const pct = (100 * r.usedBytes) / r.totalBytes;
          const [lo, hi] = memRange.get(vm) ?? [Infinity, -Infinity];
          memRange.set(vm, [Math.min(lo, pct), Math.max(hi, pct)]);
        }
      }
    }
    for (const [host, p] of peak) {
      expect(p, host).toBeLessThan(90);
      expect(p, host).toBeGreaterThan(30);
    }
    for (const [vm, [lo, hi]] of memRange) expect(hi - lo, vm).toBeLessThan(15);
    const pools = (t: number): number[] => m.hostResources('san-1', t)!.disks.map((d) => (100 * d.usedBytes) / d.totalBytes);
    pools(T0 + 2 * DAY).forEach((end, i) => {
      const start = pools(T0)[i]!;
      expect(end, `pool ${i}`).toBeGreaterThan(start);
      expect(end - start, `pool ${i}`).toBeLessThan(1);
      expect(end, `pool ${i}`).toBeLessThan(85);
    });
  });
});

// A real broker on a loopback port that requires a username and password.
const accounts: Record<string, string> = { 'collector-sim': 'sim-secret', ops: 'ops-secret' };
let peer: PasswordBroker;
let brokerUrl: string;

beforeAll(async () => {
  peer = await startPasswordBroker(accounts);
  brokerUrl = peer.url;
});

afterAll(() => peer.close());

describe('the sensor fleet over a real MQTT broker', () => {
  const opened: { fleets: Fleet[]; clients: MqttClient[] } = { fleets: [], clients: [] };
  afterEach(async () => {
    await Promise.all(opened.fleets.splice(0).map((f) => f.stop()));
    await Promise.all(opened.clients.splice(0).map((c) => c.endAsync(true)));
  });

  const observer = async (topic: string): Promise<Map<string, string[]>> => {
    const client = await mqtt.connectAsync(brokerUrl, { username: 'ops', password: 'ops-secret', reconnectPeriod: 0 });
    opened.clients.push(client);
    const seen = new Map<string, string[]>();
    client.on('message', (t, payload) => {
      const device = t.split('/')[1]!;
      seen.set(device, [...(seen.get(device) ?? []), payload.toString()]);
    });
    await client.subscribeAsync(topic, { qos: 1 });
    return seen;
  };
  const fleet = async (options: Partial<Parameters<typeof startFleet>[0]> = {}): Promise<Fleet> => {
    const f = await startFleet({ brokerUrl, username: 'collector-sim', password: 'sim-secret', inventory, intervalMs: 200, ...options });
    opened.fleets.push(f);
    return f;
  };

  it('publishes valid telemetry for every device, with every temperature sensor in range', async () => {
    const telemetry = await observer('devices/+/telemetry');
    const f = await fleet();
    await vi.waitFor(() => expect(telemetry.size).toBe(f.deviceIds.length), { timeout: 10_000, interval: 50 });
    for (const id of f.deviceIds) {
      const decoded = decodeTelemetry(JSON.parse(telemetry.get(id)![0]!), Date.now());
      expect(decoded.ok, id).toBe(true);
      if (!decoded.ok) continue;
      expect(Math.abs(decoded.value.ts - Date.now())).toBeLessThan(10_000);
      const kind = inventory.devices.find((d) => d.id === id)!.kind;
      const keys = Object.keys(decoded.value.metrics).sort();
      if (kind === 'crac') expect(keys).toEqual(['crac_running', 'fan_speed_pct', 'return_temp', 'setpoint', 'supply_temp']);
      if (kind === 'ups') expect(keys).toEqual(['battery_charge_pct', 'load_pct', 'on_battery', 'runtime_min']);
      if (kind === 'pdu') expect(keys).toEqual(['current_a', 'pdu_load_pct', 'power_kw']);
    }
    for (const id of f.model.rackSensorIds) {
      const { metrics } = JSON.parse(telemetry.get(id)![0]!) as { metrics: Metrics };
      expect(Object.keys(metrics).sort(), id).toEqual(['humidity', 'temperature']);
      expect(metrics.temperature, id).toBeGreaterThanOrEqual(id.endsWith('-r') ? 28 : 18);
      expect(metrics.temperature, id).toBeLessThanOrEqual(id.endsWith('-r') ? 42 : 27);
    }
  });

  it('marks every device online (retained) while running and offline after stop', async () => {
    const f = await fleet();
    const online = await observer('devices/+/status');
    await vi.waitFor(() => expect(online.size).toBe(f.deviceIds.length), { timeout: 10_000, interval: 50 });
    expect([...online.values()].every((v) => v.at(-1) === 'online')).toBe(true);
    await f.stop();
    await f.stop(); // idempotent
    const after = await observer('devices/+/status');
    await vi.waitFor(() => expect(after.size).toBe(f.deviceIds.length), { timeout: 10_000, interval: 50 });
    expect([...after.values()].every((v) => v.at(-1) === 'offline')).toBe(true);
  });

  it('plays a CRAC failure at 120x: a cooled rack passes 32 °C within seconds while a rack of another CRAC stays cool', async () => {
    const telemetry = await observer('devices/+/telemetry');
    const started = Date.now();
    const f = await fleet({ scenario: 'crac-failure', crac: 'crac-1', speed: 120, intervalMs: 100 });
    expect(f.model.affectedRacks).toContain('a01');
    const latest = (id: string): number => (JSON.parse(telemetry.get(id)?.at(-1) ?? '{"metrics":{"temperature":0}}') as { metrics: Metrics }).metrics.temperature!;
    await vi.waitFor(() => expect(latest('s-a01-ft')).toBeGreaterThan(32), { timeout: 10_000, interval: 50 });
    // 4-6 scenario minutes are 2-3 s at 120x.
    expect(Date.now() - started).toBeLessThan(6000);
    expect(latest('s-c04-ft')).toBeLessThan(27);
    const crac = JSON.parse(telemetry.get('crac-1')!.at(-1)!) as { metrics: Metrics };
    expect(crac.metrics.fan_speed_pct).toBe(0);
  });

  it('rejects a wrong password at once, naming the broker', async () => {
    const started = Date.now();
    await expect(startFleet({ brokerUrl, username: 'collector-sim', password: 'wrong', inventory })).rejects.toThrow(
      new RegExp(`${brokerUrl}.*bad username or password`, 'i'),
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('rejects an unreachable broker, naming it', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const url = `mqtt://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((done) => closed.close(() => done()));
    await expect(startFleet({ brokerUrl: url, username: 'collector-sim', password: 'sim-secret', inventory })).rejects.toThrow(
      new RegExp(`cannot connect to the MQTT broker at ${url}.*ECONNREFUSED`),
    );
  });
});
