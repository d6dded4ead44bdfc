import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectExternalBroker, type ExternalBroker } from '../broker/index.ts';
import { startWatchfloor, type Watchfloor } from '../cli/index.ts';
import { freeUdpPort, startMqttIngest, type MqttIngest } from '../collectors/index.ts';
import { Config, Estate, Inventory, silentLogger, systemClock, type Point } from '../core/index.ts';
import { startAgent, syntheticSwitch, type SimulatedAgent } from '../simulators/snmp/index.ts';
import { connectMqtt, eventually, freePort, run } from './support/net.ts';
import { ADMIN_PASSWORD, api, login, smallInventory } from './support/start-product.ts';


const USERS = { ingest: 'ingest-pass-1', sensor: 'sensor-pass-1', collector: 'collector-pass-1' };

/**
 * Mosquitto's topic ACL as a site would write it: the ingest account reads devices' topics and sends
 * commands and alerts; only the sensor and the collector account write device topics.
 */
const ACL = `user ingest
topic read devices/#
topic write devices/+/commands/#
topic readwrite alerts/#
user sensor
topic write devices/#
user collector
topic write devices/#
topic read devices/+/commands/#
`;

/** Debian's Mosquitto 2 on a loopback port, with a password file made by mosquitto_passwd. */
async function startMosquitto(dir: string): Promise<{ child: ChildProcess; port: number; log: () => string }> {
  const passwd = join(dir, 'passwd');
  let first = true;
  for (const [user, password] of Object.entries(USERS)) {
    const r = await run('mosquitto_passwd', [...(first ? ['-c'] : []), '-b', passwd, user, password]);
    if (r.code !== 0) throw new Error(`mosquitto_passwd: ${r.stderr}`);
    first = false;
  }
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  // Run as the current user; as root, Mosquitto would otherwise switch to a "mosquitto" user that cannot read the temp dir.
  const user = process.getuid?.() === 0 ? 'user root\n' : '';
  const acl = join(dir, 'acl');
  writeFileSync(acl, ACL);
  writeFileSync(conf, `${user}listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${passwd}\nacl_file ${acl}\npersistence false\nlog_dest stderr\n`);
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await eventually(
    () =>
      new Promise<true | undefined>((resolve) => {
        if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log}`);
        const sock = connect(port, '127.0.0.1', () => {
          sock.end();
          resolve(true);
        });
        sock.once('error', () => resolve(undefined));
      }),
    10_000,
  );
  return { child, port, log: () => log };
}

describe('an external Mosquitto in place of the embedded broker', () => {
  let mosquitto: { child: ChildProcess; port: number; log: () => string } | undefined;
  let url: string;

  beforeAll(async () => {
    mosquitto = await startMosquitto(mkdtempSync(join(tmpdir(), 'wf-mosquitto-')));
    url = `mqtt://127.0.0.1:${mosquitto.port}`;
  }, 30_000);
  afterAll(() => {
    mosquitto?.child.kill('SIGTERM');
  });

  it('refuses to start ingest with a wrong password for the external broker', async () => {
    await expect(connectExternalBroker({ url, username: 'ingest', password: 'wrong' }, silentLogger, 5000)).rejects.toThrow(/127\.0\.0\.1.*(Not authorized|Bad username)/i);
  });

  it('two ingest workers on $share/watchfloor split a stream without duplicates or loss', async () => {
    const estate = new Estate(Inventory.parse(smallInventory));
    const devices = [...estate.devices.keys()];
    const links: ExternalBroker[] = [];
    const workers: MqttIngest[] = [];
    const seen: string[][] = [[], []];
    for (let w = 0; w < 2; w++) {
      const link = await connectExternalBroker({ url, username: 'ingest', password: USERS.ingest, shareGroup: 'watchfloor', clientId: `ingest-${w}` }, silentLogger);
      links.push(link);
      const sink = { write: (points: Point[]) => seen[w]?.push(...points.map((p) => `${p.device}#${p.value}`)), status: () => undefined, event: () => undefined };
      workers.push(await startMqttIngest({ source: link, shareGroup: 'watchfloor', estate, sink, clock: systemClock, logger: silentLogger }));
    }
    const sent = 200;
    const publisher = await connectMqtt(mosquitto?.port ?? 0, { username: 'sensor', password: USERS.sensor });
    for (let i = 0; i < sent; i++) await publisher.publishAsync(`devices/${devices[i % devices.length]}/telemetry`, JSON.stringify({ seq: i }), { qos: 1 });
    const [a, b] = seen as [string[], string[]];
    await eventually(() => (a.length + b.length >= sent ? true : undefined), 10_000);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(a.length + b.length).toBe(sent);
    expect(new Set([...a, ...b]).size).toBe(sent);
    expect(workers[0]?.stats.messages).toBe(a.length);
    await publisher.endAsync();
    for (const w of workers) await w.stop();
    for (const l of links) await l.close();
  });

  describe('watchfloor started with mqtt.external', () => {
    let app: Watchfloor | undefined;
    let agent: SimulatedAgent | undefined;
    let base: string;

    beforeAll(async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'wf-external-'));
      const config = Config.parse({
        dataDir,
        http: { host: '127.0.0.1', port: 0 },
        mqtt: { external: { url, username: 'ingest', password: USERS.ingest, shareGroup: 'watchfloor', collector: { username: 'collector', password: USERS.collector } } },
        snmp: { trapPort: await freeUdpPort() },
        store: { flushIntervalMs: 50 },
      });
      // A switch answering SNMP on loopback, polled each second by the product.
      agent = await startAgent(syntheticSwitch({ name: 'sw-ext', interfaces: 4 }).store, { community: 'ext-ro' });
      const inventory = Inventory.parse({
        ...smallInventory,
        devices: [...(smallInventory.devices ?? []), { id: 'sw-ext', kind: 'switch', location: { site: 'dc1', area: 'network' }, snmp: { host: '127.0.0.1', port: agent.port, version: '2c', community: 'ext-ro', intervalSeconds: 1 } }],
      });
      app = await startWatchfloor({ config, inventory, logger: silentLogger, adminPassword: ADMIN_PASSWORD });
      base = `http://127.0.0.1:${app.httpPort}`;
    }, 60_000);
    afterAll(async () => {
      await app?.stop();
      await agent?.close();
    });

    it('serves a value published to Mosquitto at /api/v1/metrics/latest', async () => {
      expect(app?.broker).toBeUndefined();
      const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mosquitto?.port), '-u', 'sensor', '-P', USERS.sensor, '-q', '1', '-t', 'devices/s-a01-ft/telemetry', '-m', '{"temperature": 24.5}']);
      expect(r.code).toBe(0);
      const session = await login(base);
      const latest = await eventually(async () => {
        const res = await api(base, session, '/api/v1/metrics/latest?device=s-a01-ft&metric=temperature');
        return (res.body as { value: number }[])[0];
      }, 10_000);
      expect(latest.value).toBe(24.5);
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
    });

    it('polls SNMP and runs the simulated fleet onto Mosquitto as the collector account, and stores what they publish', async () => {
      const session = await login(base);
      const latest = async (device: string): Promise<Map<string, number>> => {
        const r = await api(base, session, `/api/v1/metrics/latest?device=${device}`);
        return new Map((r.body as { metric: string; value: number }[]).map((v) => [v.metric, v.value]));
      };
      // The ingest account may not write device topics (the ACL above): these values came through the collector's.
      const sw = await eventually(async () => {
        const m = await latest('sw-ext');
        return m.get('snmp_up') === 1 && (m.get('if_in_bps.Gi0_1') ?? 0) > 0 ? m : undefined;
      }, 15_000, 250);
      expect(sw.get('if_oper_status.Gi0_4')).toBe(1);
      await app!.startSimulation({ snmp: false, intervalMs: 500 });
      const crac = await eventually(async () => {
        const m = await latest('crac-1');
        return m.has('supply_temp') ? m : undefined;
      }, 15_000, 250);
      expect(crac.get('supply_temp')).toBeGreaterThan(10);
      expect(mosquitto?.log()).not.toMatch(/Denied PUBLISH from snmp-collector/);
    }, 40_000);
  });
});
