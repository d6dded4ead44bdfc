import type { InventoryInput, DeviceInput } from '../core/index.ts';

export const BENCH_COLLECTOR = { username: 'bench', password: 'bench-collector-pass' };
/**
 * Latency probes: each is tripped and cleared once or twice only, so the rules engine's flap
 * detection (state changes over the last 20 evaluations of one series) never holds a probe's alert.
 */
export const PROBE_DEVICES = Array.from({ length: 1000 }, (_, i) => `probe-${i}`);

const POSITIONS = ['front-top', 'front-middle', 'front-bottom', 'rear'] as const;
const rackId = (i: number): string => `R${String(i).padStart(4, '0')}`;

/** The rack sensors' device ids, in the order the publishers spread them. */
export function benchDeviceIds(racks: number): string[] {
  return Array.from({ length: racks }, (_, i) => POSITIONS.map((p) => `${rackId(i)}-${p}`)).flat();
}

/** A room of `racks` racks, each with the four sensor positions: rack sensors carry the tags the cold-aisle rules match. */
export function benchInventory(racks: number): InventoryInput {
  const perRow = 25;
  const rows = Math.ceil(racks / perRow);
  const devices: DeviceInput[] = PROBE_DEVICES.map((id) => ({ id, kind: 'sensor', location: { site: 'bench' } }));
  const rackList = [];
  for (let i = 0; i < racks; i++) {
    const row = Math.floor(i / perRow);
    const id = rackId(i);
    rackList.push({ id, room: 'hall', row: `R${row}`, position: (i % perRow) + 1, x: 1 + (i % perRow) * 0.6, y: 1 + row * 3, facing: row % 2 === 0 ? 'south' : 'north' });
    for (const position of POSITIONS) {
      devices.push({ id: `${id}-${position}`, kind: 'sensor', sensorType: 'temperature-humidity', location: { rack: id, position } });
    }
  }
  return {
    sites: [{ id: 'bench', name: 'Benchmark site' }],
    rooms: [{ id: 'hall', site: 'bench', name: 'Hall', width: 2 + perRow * 0.6, depth: 2 + rows * 3 }],
    racks: rackList as InventoryInput['racks'],
    devices,
  };
}

/** The rule the latency probe trips and clears; no `for`, so the alert follows the value at once. */
export const probeRule = {
  id: 'bench-probe',
  type: 'threshold',
  name: 'Benchmark probe',
  kind: 'performance',
  severity: 'info',
  match: { metric: 'probe' },
  when: { above: 50 },
  clear: { below: 50 },
};
