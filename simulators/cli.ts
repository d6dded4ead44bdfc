/** `watchfloor simulate SCENARIO --broker URL ...`: runs the sensor fleet against any MQTT broker. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, Inventory, bundledConfigDir, isWfError, createLogger, readDataFile } from '../core/index.ts';
import { displayUrl, startFleet, type Fleet } from './fleet.ts';
import { isScenarioName, scenarios } from './scenarios.ts';

const USAGE = `Usage: watchfloor simulate SCENARIO --broker URL [options]

Publishes simulated telemetry for every sensor, CRAC, UPS and PDU of an inventory, over one
MQTT connection, on devices/{id}/telemetry and devices/{id}/status.

Scenarios:
${scenarios.map((s) => `  ${s.name.padEnd(14)}${s.description}`).join('\n')}

Options:
  --broker URL        MQTT broker, e.g. mqtt://127.0.0.1:1883 (required)
  --username U        MQTT username of a collector account (default: simulator)
  --password P        its password (default: $WATCHFLOOR_MQTT_PASSWORD, else the
                      simulator.secret that "watchfloor start" keeps in $WATCHFLOOR_DATA_DIR or ./data)
  --inventory FILE    inventory YAML/JSON (default: the bundled sample data center)
  --interval-ms N     milliseconds between telemetry rounds (default: 5000)
  --speed N           scenario time compression, 30 = thirty times faster (default: 1)
  --crac ID           the CRAC that fails in crac-failure (default: the first one)
  --seed N            seed for drift and noise (default: 1)
  --duration S        stop after S seconds (default: run until Ctrl-C)
  -h, --help          show this help
`;

/** Where the command writes; tests pass their own. */
export interface SimulateIo {
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Aborting stops the fleet as Ctrl-C would. */
  signal?: AbortSignal;
}

class UsageError extends Error {}

/** The password `watchfloor start` generated for its `simulator` account, when run from the same folder. */
function savedSimulatorPassword(username: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (username !== undefined && username !== 'simulator') return undefined;
  const file = resolve(env.WATCHFLOOR_DATA_DIR ?? './data', 'simulator.secret');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

const positive = (name: string, raw: string | undefined, integer: boolean): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'whole ' : ''}number, not "${raw}"`);
  }
  return n;
};

/** Runs the simulate command; resolves to the exit code: 0 done, 1 broker unreachable or refused, 2 bad arguments. */
export async function runSimulateCommand(args: string[], io: SimulateIo = {}): Promise<number> {
  const out = io.stdout ?? ((l: string) => console.log(l));
  const err = io.stderr ?? ((l: string) => console.error(l));
  const env = io.env ?? process.env;

  let fleet: Fleet;
  let durationS: number | undefined;
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        broker: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        inventory: { type: 'string' },
        'interval-ms': { type: 'string' },
        speed: { type: 'string' },
        crac: { type: 'string' },
        seed: { type: 'string' },
        duration: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    const [scenario, ...extra] = positionals;
    if (scenario === undefined) throw new UsageError(`name a scenario: ${scenarios.map((s) => s.name).join(', ')}`);
    if (!isScenarioName(scenario)) throw new UsageError(`unknown scenario "${scenario}"; scenarios: ${scenarios.map((s) => s.name).join(', ')}`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (values.broker === undefined) throw new UsageError('--broker URL is required, e.g. --broker mqtt://127.0.0.1:1883');
    let protocol: string;
    try {
      protocol = new URL(values.broker).protocol;
    } catch {
      throw new UsageError(`--broker "${values.broker}" is not a URL; use e.g. mqtt://127.0.0.1:1883`);
    }
    if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:'].includes(protocol)) {
      throw new UsageError(`--broker "${displayUrl(values.broker)}" is not an MQTT URL (mqtt://, mqtts://, ws:// or wss://)`);
    }
    const seed = values.seed === undefined ? undefined : Number(values.seed);
    if (seed !== undefined && !Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, not "${values.seed}"`);
    const intervalMs = positive('interval-ms', values['interval-ms'], true);
    const speed = positive('speed', values.speed, false);
    durationS = positive('duration', values.duration, false);
    const inventoryFile = resolve(values.inventory ?? resolve(bundledConfigDir, 'sample-datacenter.yaml'));
    const inventory = readDataFile(inventoryFile, Inventory);
    const logger = createLogger('watchfloor-simulate', env.WATCHFLOOR_LOG_LEVEL ?? 'warn');

    fleet = await startFleet({
      brokerUrl: values.broker,
      username: values.username ?? 'simulator',
      password: values.password ?? env.WATCHFLOOR_MQTT_PASSWORD ?? savedSimulatorPassword(values.username, env),
      inventory,
      scenario,
      crac: values.crac,
      intervalMs,
      speed,
      seed,
      logger,
    });
    const s = fleet.scenario;
    out(
      `simulating "${s.name}" for ${fleet.deviceIds.length} devices of ${inventoryFile} on ${displayUrl(values.broker)}` +
        `, every ${intervalMs ?? 5000} ms${s.speed !== 1 ? `, ${s.speed}x speed` : ''}`,
    );
    if (s.crac) out(`${s.crac} has stopped; racks it cools: ${fleet.model.affectedRacks.join(', ') || '(none)'}`);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError) {
      err(`watchfloor simulate: ${e.message}`);
      if (e instanceof UsageError) err('run "watchfloor simulate --help" for the options');
      return 2;
    }
    if (isWfError(e, 'SIMULATOR_OPTIONS')) {
      err(`watchfloor simulate: ${e.message}`);
      return 2;
    }
    if (isWfError(e, 'MQTT_CONNECT')) {
      err(`watchfloor simulate: ${e.message}`);
      return 1;
    }
    // parseArgs' own errors (unknown option, missing value) carry a code and a readable message.
    if (e instanceof Error && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS')) {
      err(`watchfloor simulate: ${e.message}`);
      err('run "watchfloor simulate --help" for the options');
      return 2;
    }
    err(`watchfloor simulate: ${(e as Error).message}`);
    return 1;
  }

  await waitForEnd(durationS, io.signal, () => progress(fleet, out));
  await fleet.stop();
  out(`stopped after ${fleet.published} telemetry messages; every device marked offline`);
  return 0;
}

/** One line every 10 s: the warmest cold-aisle inlet, the figure an operator watches in a CRAC failure. */
function progress(fleet: Fleet, out: (line: string) => void): void {
  let warmest: { id: string; t: number } | undefined;
  for (const id of fleet.model.rackSensorIds) {
    if (id.endsWith('-r')) continue;
    const t = fleet.read(id)?.temperature;
    if (t !== undefined && (!warmest || t > warmest.t)) warmest = { id, t };
  }
  if (warmest) out(`${fleet.published} messages published; warmest rack inlet ${warmest.id} ${warmest.t.toFixed(1)} °C`);
}

/** Resolves after the duration, on SIGINT/SIGTERM or on abort, whichever comes first. */
function waitForEnd(durationS: number | undefined, signal: AbortSignal | undefined, tick: () => void): Promise<void> {
  return new Promise((done) => {
    const ticker = setInterval(tick, 10_000);
    const deadline = durationS === undefined ? undefined : setTimeout(() => finish(), durationS * 1000);
    function finish(): void {
      clearInterval(ticker);
      clearTimeout(deadline);
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      signal?.removeEventListener('abort', finish);
      done();
    }
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    if (signal?.aborted) finish();
    else signal?.addEventListener('abort', finish, { once: true });
  });
}
