import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimulateCommand } from '../simulators/index.ts';
import { startPasswordBroker, type PasswordBroker } from './support/password-broker.ts';

const run = promisify(execFile);

// A real broker on a loopback port that requires a username and password.
const accounts: Record<string, string> = { 'collector-sim': 'sim-secret', ops: 'ops-secret' };
let peer: PasswordBroker;
let brokerUrl: string;
let port: number;

beforeAll(async () => {
  peer = await startPasswordBroker(accounts);
  brokerUrl = peer.url;
  port = peer.port;
});

afterAll(() => peer.close());

/** Runs the command and keeps what it printed. */
async function simulate(args: string[], env: NodeJS.ProcessEnv = {}, signal?: AbortSignal): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSimulateCommand(args, { stdout: (l) => out.push(l), stderr: (l) => err.push(l), env, signal });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('watchfloor simulate', () => {
  it('prints its usage with --help', async () => {
    const r = await simulate(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: watchfloor simulate SCENARIO --broker URL');
    expect(r.out).toMatch(/crac-failure\s+one CRAC stops/);
    expect(r.out).toContain('WATCHFLOOR_MQTT_PASSWORD');
  });

  it.each([
    [[], /name a scenario: normal, crac-failure/],
    [['meltdown', '--broker', 'mqtt://127.0.0.1:1'], /unknown scenario "meltdown"/],
    [['normal'], /--broker URL is required/],
    [['normal', '--broker', 'localhost:1883'], /not an MQTT URL/],
    [['normal', '--broker', 'not a url'], /is not a URL/],
    [['normal', '--broker', 'mqtt://127.0.0.1:1', '--speed', 'fast'], /--speed must be a positive number, not "fast"/],
    [['normal', '--broker', 'mqtt://127.0.0.1:1', '--interval-ms', '2.5'], /--interval-ms must be a positive whole number/],
    [['normal', '--broker', 'mqtt://127.0.0.1:1', '--duration=-1'], /--duration must be a positive number/],
    [['normal', '--broker', 'mqtt://127.0.0.1:1', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['normal', '--broker', 'mqtt://127.0.0.1:1', '--crac', 'crac-1'], /only for the crac-failure scenario/],
    [['crac-failure', '--broker', 'mqtt://127.0.0.1:1', '--crac', 'crac-99'], /"crac-99" is not a CRAC in the inventory; CRACs: crac-1, /],
    [['normal', '--broker', 'mqtt://127.0.0.1:1', '--inventory', '/nonexistent/dc.yaml'], /invalid configuration in \/nonexistent\/dc\.yaml/],
  ])('exits 2 on bad arguments: %j', async (args, message) => {
    const r = await simulate(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('exits 1 naming the broker when nothing listens there', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const url = `mqtt://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((done) => closed.close(() => done()));
    const r = await simulate(['normal', '--broker', url]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot connect to the MQTT broker at ${url}`);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('exits 1 on a wrong password, without echoing it', async () => {
    const r = await simulate(['normal', '--broker', `mqtt://collector-sim:hunter2@127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Bad username or password/i);
    expect(r.err).not.toContain('hunter2');
  });

  it('runs a compressed CRAC failure for --duration with the password from the environment, leaving statuses offline', async () => {
    const watcher = await mqtt.connectAsync(brokerUrl, { username: 'ops', password: 'ops-secret', reconnectPeriod: 0 });
    let hottest = 0;
    watcher.on('message', (_t, payload) => {
      hottest = Math.max(hottest, (JSON.parse(payload.toString()) as { metrics: { temperature: number } }).metrics.temperature);
    });
    await watcher.subscribeAsync('devices/s-a02-ft/telemetry');
    try {
      const r = await simulate(
        ['crac-failure', '--broker', brokerUrl, '--username', 'collector-sim', '--speed', '120', '--interval-ms', '100', '--duration', '3'],
        { WATCHFLOOR_MQTT_PASSWORD: 'sim-secret' },
      );
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toContain('crac-1 has stopped; racks it cools: a01, a02, a03, b01, b02, b03');
      expect(r.out).toMatch(/stopped after \d+ telemetry messages/);
      // Three seconds at 120x are six scenario minutes: past 32 °C.
      expect(hottest).toBeGreaterThan(32);
    } finally {
      await watcher.endAsync(true);
    }
    // Debian's mosquitto_sub, a different MQTT client, reads the retained status the fleet left behind.
    const { stdout } = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-u', 'ops', '-P', 'ops-secret', '-t', 'devices/s-a01-ft/status', '-C', '1', '-W', '5']);
    expect(stdout.trim()).toBe('offline');
  });

  it('stops cleanly when aborted (as on Ctrl-C)', async () => {
    const abort = new AbortController();
    const running = simulate(['normal', '--broker', brokerUrl, '--username', 'collector-sim', '--password', 'sim-secret', '--interval-ms', '100'], {}, abort.signal);
    setTimeout(() => abort.abort(), 500);
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/simulating "normal" for \d+ devices/);
  });
});
