import { wfFieldError, type Inventory, type SensorPosition, type WatchfloorError } from '../core/index.ts';

/** The scripted scenarios a fleet can run. */
export const scenarios = [
  { name: 'normal', description: 'every simulated device reports plausible values with slow drift and noise' },
  {
    name: 'crac-failure',
    description: 'one CRAC stops; the racks it cools pass 27 °C at the inlet in 2-3 minutes and 32 °C in 5-6 minutes',
  },
] as const;
export type ScenarioName = (typeof scenarios)[number]['name'];

export const isScenarioName = (name: string): name is ScenarioName => scenarios.some((s) => s.name === name);

/** What the model needs to know about the scenario: which one, when it began, how fast its time runs. */
export interface ScenarioState {
  name: ScenarioName;
  /** Epoch ms at which the scenario's event (the CRAC stopping) happens. */
  startedAt: number;
  /** Time compression: 30 plays thirty minutes of the scenario in one minute. */
  speed: number;
  /** The CRAC that fails, for crac-failure. */
  crac?: string;
}

/** The error for options that cannot work, with the offending field; the CLI turns it into exit code 2. */
export const simulatorOptionError = (field: string, message: string): WatchfloorError =>
  wfFieldError('SIMULATOR_OPTIONS', field, message);

/** Checks the options against the inventory and fills the defaults (the first CRAC fails). */
export function resolveScenario(
  inventory: Inventory,
  options: { scenario?: string; crac?: string; speed?: number; startedAt: number },
): ScenarioState {
  const name = options.scenario ?? 'normal';
  if (!isScenarioName(name)) {
    throw simulatorOptionError('scenario', `unknown scenario "${name}"; scenarios: ${scenarios.map((s) => s.name).join(', ')}`);
  }
  const speed = options.speed ?? 1;
  if (!Number.isFinite(speed) || speed <= 0) throw simulatorOptionError('speed', `speed must be a positive number, not ${speed}`);
  if (name !== 'crac-failure') {
    if (options.crac !== undefined) throw simulatorOptionError('crac', 'a CRAC is chosen only for the crac-failure scenario');
    return { name, startedAt: options.startedAt, speed };
  }
  const cracs = inventory.devices.filter((d) => d.kind === 'crac').map((d) => d.id);
  const crac = options.crac ?? cracs[0];
  if (crac === undefined) throw simulatorOptionError('crac', 'the inventory has no CRAC to fail');
  if (!cracs.includes(crac)) {
    throw simulatorOptionError('crac', `"${crac}" is not a CRAC in the inventory; CRACs: ${cracs.join(', ') || '(none)'}`);
  }
  return { name, startedAt: options.startedAt, speed, crac };
}

/** Scenario time elapsed at `now`, compressed by the speed; 0 before the scenario starts. */
export const scenarioElapsedMs = (s: ScenarioState, now: number): number => Math.max(0, now - s.startedAt) * s.speed;

const MINUTE = 60_000;

// crac-failure thermals. Without the CRAC's cold air the racks draw in their own exhaust, and
// every inlet converges on one hot equilibrium. The cold air left in the floor plenum buys the
// first 45 s; after that the top of the rack, nearest the recirculating hot air under the
// ceiling, warms fastest. The constants put a rack's top inlet past 27 °C after about 2 min
// and past 32 °C after about 4.5 min, its bottom inlet after about 3 and 5.5 min.
const RECIRCULATION_EQUILIBRIUM_C = 46;
const PLENUM_DELAY_MS = 45_000;
const WARMING_TAU_MS: Record<Exclude<SensorPosition, 'rear'>, number> = {
  'front-top': 7.5 * MINUTE,
  'front-middle': 7.5 * MINUTE,
  'front-bottom': 7 * MINUTE,
};

/**
 * How much warmer a cold-aisle inlet is than normal, `elapsedMs` after its CRAC stopped.
 * `baselineC` is the inlet's normal temperature; `exposure` (0..1) how much of its cold air came
 * from the failed unit, less for racks farther from it.
 */
export function inletWarmingC(position: Exclude<SensorPosition, 'rear'>, baselineC: number, exposure: number, elapsedMs: number): number {
  if (elapsedMs <= PLENUM_DELAY_MS || exposure <= 0) return 0;
  const approach = 1 - Math.exp(-(elapsedMs - PLENUM_DELAY_MS) / WARMING_TAU_MS[position]);
  return (RECIRCULATION_EQUILIBRIUM_C - baselineC) * exposure * approach;
}

/** Racks cooled by other units of the same room warm slightly as those units take the extra heat. */
export const NEIGHBOUR_WARMING_MAX_C = 1.5;
export function neighbourWarmingC(proximity: number, elapsedMs: number): number {
  return NEIGHBOUR_WARMING_MAX_C * proximity * (1 - Math.exp(-elapsedMs / (10 * MINUTE)));
}

/** The failed unit: fan stopped, the coil warming to room air; returns [supply rise, return rise] in °C. */
export function failedCracRiseC(elapsedMs: number): [number, number] {
  return [12 * (1 - Math.exp(-elapsedMs / (3 * MINUTE))), 6 * (1 - Math.exp(-elapsedMs / (8 * MINUTE)))];
}

/** The units left in the room ramp their fans up within a minute: [fan % added, return rise in °C]. */
export function compensatingCracResponse(elapsedMs: number): [number, number] {
  return [25 * (1 - Math.exp(-elapsedMs / MINUTE)), 1.5 * (1 - Math.exp(-elapsedMs / (10 * MINUTE)))];
}
