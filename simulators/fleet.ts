/**
 * The sensor fleet: one MQTT connection (a collector account that may publish for every device)
 * that publishes the model's readings on the product's topics at a fixed interval.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { silentLogger, systemClock, wfError, type Clock, type Inventory, type Logger, type WatchfloorError } from '../core/index.ts';
import { DataCenterModel, type Metrics } from './model.ts';
import { resolveScenario, simulatorOptionError, type ScenarioName, type ScenarioState } from './scenarios.ts';

export interface FleetOptions {
  /** mqtt://host:port (or mqtts://, ws://, wss://). */
  brokerUrl: string;
  username?: string;
  password?: string;
  inventory: Inventory;
  scenario?: ScenarioName;
  /** The CRAC that fails in crac-failure; the inventory's first CRAC by default. */
  crac?: string;
  /** Between two rounds of telemetry; 5000 by default. */
  intervalMs?: number;
  /** Scenario time compression; 1 by default. */
  speed?: number;
  /** Seeds the drift and noise; the same seed gives the same values at the same instants. */
  seed?: number;
  logger?: Logger;
  clock?: Clock;
  /** The MQTT client id (default: a random `watchfloor-sim-…`). */
  clientId?: string;
  /** How long to wait for the broker's CONNACK (and the status PUBACKs); 10 s by default. */
  connectTimeoutMs?: number;
}

export interface Fleet {
  readonly model: DataCenterModel;
  readonly scenario: ScenarioState;
  /** The devices the fleet publishes for. */
  readonly deviceIds: readonly string[];
  /** The fleet's MQTT client id, so a broker can tell it from other publishers. */
  readonly clientId: string;
  /** Telemetry messages handed to the client so far. */
  readonly published: number;
  /** The device's values now, by the fleet's clock. */
  read(deviceId: string): Metrics | undefined;
  /** Stops publishing, marks every device `offline` (retained) and disconnects; safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_INTERVAL_MS = 5000;
const MIN_INTERVAL_MS = 50;

const statusTopic = (id: string): string => `devices/${id}/status`;
const COMMAND_TOPIC = /^devices\/([^/]+)\/commands\/([^/]+)$/;

/**
 * What a simulated device does with a command (`devices/{id}/commands/{commandId}`, see
 * ops-server/commands.ts): the new setting shows in its telemetry from the next round, and the
 * answer is `{ok, message?, state?}`.
 */
function carryOut(kind: string | undefined, command: Record<string, unknown>, settings: Metrics): { ok: boolean; message?: string; state?: Metrics } {
  const n = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  if (kind === 'crac' && command.command === 'set_setpoint' && n(command.setpointC) !== undefined) settings.setpoint = n(command.setpointC) as number;
  else if (kind === 'crac' && command.command === 'set_fan_speed' && n(command.percent) !== undefined) settings.fan_speed_pct = n(command.percent) as number;
  else if (kind === 'crac' && command.command === 'power' && (command.state === 'on' || command.state === 'off')) {
    if (command.state === 'off') settings.fan_speed_pct = 0;
    else delete settings.fan_speed_pct;
  } else if (kind === 'pdu' && command.command === 'outlet' && n(command.outlet) !== undefined) {
    settings[`outlet_${n(command.outlet)}_on`] = command.state === 'off' ? 0 : 1;
  } else if (kind === 'ups' && command.command === 'self_test') settings.self_test_ok = 1;
  else return { ok: false, message: `a simulated ${kind ?? 'device'} does not do "${String(command.command)}"` };
  return { ok: true, state: { ...settings } };
}

const telemetryTopic = (id: string): string => `devices/${id}/telemetry`;

/** The broker URL with any password in it masked, for messages and logs. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Rejects after `ms` with `message`, so a broker that never answers cannot hang the caller. */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const connectError = (url: string, reason: string): WatchfloorError =>
  wfError('MQTT_CONNECT', displayUrl(url), reason);

/** Connects to the broker, marks every simulated device online and starts publishing; rejects if the broker refuses. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  if (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS) {
    throw simulatorOptionError('intervalMs', `the interval must be a whole number of milliseconds >= ${MIN_INTERVAL_MS}, not ${intervalMs}`);
  }
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw simulatorOptionError('seed', `the seed must be an integer, not ${seed}`);
  const scenario = resolveScenario(options.inventory, { ...options, startedAt: clock.now() });
  const model = new DataCenterModel(options.inventory, scenario, seed);
  const deviceIds = model.deviceIds;
  const timeoutMs = options.connectTimeoutMs ?? 10_000;

  const clientId = options.clientId ?? `watchfloor-sim-${Math.random().toString(16).slice(2, 10)}`;
  let client: MqttClient;
  try {
    client = await mqtt.connectAsync(
      options.brokerUrl,
      {
        username: options.username,
        password: options.password,
        clientId,
        connectTimeout: timeoutMs,
        // No retries while connecting: a wrong password or a closed port must fail now, not loop.
        reconnectPeriod: 0,
        // Telemetry is a stream of latest values: drop it while offline instead of queueing stale readings.
        queueQoSZero: false,
      },
      false,
    );
  } catch (err) {
    throw connectError(options.brokerUrl, (err as Error).message);
  }
  // An 'error' event without a listener would throw out of the client's socket handler.
  client.on('error', (err) => logger.warn({ broker: displayUrl(options.brokerUrl), err: err.message }, 'MQTT client error'));

  const markAll = (status: 'online' | 'offline'): Promise<unknown> =>
    within(
      // QoS 1 so the retained status is known to have reached the broker [MQTT-3.3.1-5].
      Promise.all(deviceIds.map((id) => client.publishAsync(statusTopic(id), status, { qos: 1, retain: true }))),
      timeoutMs,
      `the broker did not acknowledge the ${status} statuses within ${timeoutMs} ms`,
    );
  try {
    await markAll('online');
  } catch (err) {
    await client.endAsync(true).catch(() => undefined);
    throw connectError(options.brokerUrl, (err as Error).message);
  }
  // Up and accepted: from now on ride out broker restarts.
  client.options.reconnectPeriod = 2000;

  // Commands for the simulated devices: carry them out and answer on `.../result`.
  const kinds = new Map(options.inventory.devices.map((d) => [d.id, d.kind]));
  const settings = new Map<string, Metrics>();
  client.on('message', (topic, payload) => {
    const m = COMMAND_TOPIC.exec(topic);
    const device = m?.[1];
    if (!m || device === undefined || !deviceIds.includes(device)) return;
    let command: Record<string, unknown>;
    try {
      command = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      command = {};
    }
    const mine = settings.get(device) ?? {};
    settings.set(device, mine);
    const answer = carryOut(kinds.get(device), command, mine);
    client.publish(`${topic}/result`, JSON.stringify(answer), { qos: 1 }, (err) => {
      if (err) logger.warn({ device, err: err.message }, 'command result publish failed');
    });
  });
  try {
    await client.subscribeAsync('devices/+/commands/+', { qos: 1 });
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'cannot subscribe to device commands; the fleet will not answer them');
  }

  let published = 0;
  const publishRound = (): void => {
    if (!client.connected) return;
    const now = clock.now();
    for (const { device, metrics } of model.readAll(now)) {
      const commanded = settings.get(device);
      client.publish(telemetryTopic(device), JSON.stringify({ ts: now, metrics: commanded ? { ...metrics, ...commanded } : metrics }), { qos: 0 }, (err) => {
        if (err) logger.warn({ device, err: err.message }, 'telemetry publish failed');
      });
      published++;
    }
  };

  client.on('offline', () => logger.warn({ broker: displayUrl(options.brokerUrl) }, 'broker connection lost; reconnecting'));
  client.on('connect', () => {
    // A reconnect: the broker may have lost its retained messages, so say we are here again.
    logger.info({ broker: displayUrl(options.brokerUrl) }, 'reconnected to the broker');
    markAll('online').catch((err: Error) => logger.warn({ err: err.message }, 'could not re-announce statuses'));
  });

  logger.info({ broker: displayUrl(options.brokerUrl), devices: deviceIds.length, scenario: scenario.name, crac: scenario.crac, intervalMs, speed: scenario.speed }, 'sensor fleet started');
  publishRound();
  const timer = setInterval(publishRound, intervalMs);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(timer);
      client.removeAllListeners('connect');
      client.options.reconnectPeriod = 0;
      try {
        if (client.connected) await markAll('offline');
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'could not mark the devices offline');
      } finally {
        await client.endAsync(!client.connected).catch(() => undefined);
      }
      logger.info({ published }, 'sensor fleet stopped');
    })();
    return stopping;
  };

  return {
    model,
    scenario,
    deviceIds,
    clientId,
    get published() {
      return published;
    },
    read: (id) => model.read(id, clock.now()),
    stop,
  };
}
