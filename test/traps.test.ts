import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatchfloor, type Watchfloor } from '../cli/index.ts';
import { freeUdpPort, TrapReceiver, type Accumulator } from '../collectors/index.ts';
import { Config, Inventory, silentLogger, type SecurityEvent } from '../core/index.ts';
import { startAgent, syntheticSwitch, type SimulatedAgent } from '../simulators/snmp/index.ts';
import { ADMIN_PASSWORD, api, login, smallInventory, type LoggedIn } from './support/start-product.ts';
import { eventually, run } from './support/net.ts';

const v3 = { user: 'trapper', authProtocol: 'sha' as const, authKey: 'trap-auth-123', privProtocol: 'aes' as const, privKey: 'trap-priv-123' };

/** The product with two SNMP devices on loopback (told apart by community), one served by a simulated switch. */
describe('SNMP in the product: polled metrics and traps over MQTT, probes as security events', () => {
  let app: Watchfloor;
  let agent: SimulatedAgent;
  let trapPort = 0;
  let base = '';
  let session: LoggedIn;

  beforeAll(async () => {
    agent = await startAgent(syntheticSwitch({ name: 'sw-1', interfaces: 8 }).store, { community: 'sw-comm' });
    trapPort = await freeUdpPort();
    const dataDir = mkdtempSync(join(tmpdir(), 'wf-snmp-product-'));
    const inventory = Inventory.parse({
      ...smallInventory,
      devices: [
        ...(smallInventory.devices ?? []),
        { id: 'sw-1', kind: 'switch', location: { rack: 'A01', u: 40 }, snmp: { host: '127.0.0.1', port: agent.port, version: '2c', community: 'sw-comm', intervalSeconds: 1 } },
        { id: 'ups-1', kind: 'ups', location: { room: 'room-1', x: 1, y: 1 }, snmp: { host: '127.0.0.1', port: 9, version: '3', v3, intervalSeconds: 3600 } },
      ],
    });
    const config = Config.parse({ dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, snmp: { trapPort }, store: { flushIntervalMs: 50 } });
    app = await startWatchfloor({ config, inventory, logger: silentLogger, adminPassword: ADMIN_PASSWORD });
    base = `http://127.0.0.1:${app.httpPort}`;
    session = await login(base);
  });
  afterAll(async () => {
    await app?.stop();
    await agent?.close();
  });

  const events = async (device: string, type: string): Promise<Record<string, unknown>[]> =>
    (await api(base, session, `/api/v1/events?device=${device}&type=${type}`)).body as Record<string, unknown>[];
  const security = async (type: string): Promise<SecurityEvent[]> =>
    ((await api(base, session, '/api/v1/security-events')).body as SecurityEvent[]).filter((e) => e.type === type);
  const latest = async (device: string, metric: string): Promise<number | undefined> => {
    const r = await api(base, session, `/api/v1/metrics/latest?device=${device}&metric=${encodeURIComponent(metric)}`);
    const body = r.body as { value?: number }[] | { value?: number };
    const row = Array.isArray(body) ? body[0] : body;
    return r.status === 200 ? row?.value : undefined;
  };

  it('polls the switch on its interval and publishes snmp_up and bits/s per interface', async () => {
    expect(await eventually(() => latest('sw-1', 'snmp_up'), 15_000, 200)).toBe(1);
    const bps = await eventually(() => latest('sw-1', 'if_in_bps.Gi0_1'), 15_000, 200);
    expect(bps).toBeGreaterThan(1e8);
  });

  it('a v2c linkDown from snmptrap becomes a linkDown event with its interface', async () => {
    const r = await run('snmptrap', ['-v', '2c', '-c', 'sw-comm', `127.0.0.1:${trapPort}`, '', '1.3.6.1.6.3.1.1.5.3',
      '1.3.6.1.2.1.2.2.1.1.3', 'i', '3', '1.3.6.1.2.1.2.2.1.7.3', 'i', '1', '1.3.6.1.2.1.2.2.1.8.3', 'i', '2', '1.3.6.1.2.1.31.1.1.1.1.3', 's', 'Gi0/3']);
    expect(r.code, r.stderr).toBe(0);
    const [e] = await eventually(async () => ((await events('sw-1', 'linkDown')).length > 0 ? events('sw-1', 'linkDown') : undefined), 10_000);
    expect(e).toMatchObject({ device: 'sw-1', type: 'linkDown', severity: 'major', attributes: { ifIndex: 3, ifOperStatus: 2, ifAdminStatus: 1, ifName: 'Gi0/3', version: '2c' } });
  });

  it('an SNMPv1 UPS trap (enterprise upsTraps, specific 1, the ".0" form) is upsTrapOnBattery', async () => {
    const r = await run('snmptrap', ['-v', '1', '-c', 'sw-comm', `127.0.0.1:${trapPort}`, '1.3.6.1.2.1.33.2', '127.0.0.1', '6', '1', '', '1.3.6.1.2.1.33.1.2.3.0', 'i', '12']);
    expect(r.code, r.stderr).toBe(0);
    const [e] = await eventually(async () => ((await events('sw-1', 'upsTrapOnBattery')).length > 0 ? events('sw-1', 'upsTrapOnBattery') : undefined), 10_000);
    expect(e).toMatchObject({ type: 'upsTrapOnBattery', attributes: { trapOid: '1.3.6.1.2.1.33.2.0.1', upsEstimatedMinutesRemaining: 12, version: '1' } });
  });

  it('an SNMPv3 authPriv inform (snmpinform) is acknowledged and becomes a coldStart of the v3 device', async () => {
    const r = await run('snmpinform', ['-v', '3', '-l', 'authPriv', '-u', v3.user, '-a', 'SHA', '-A', v3.authKey, '-x', 'AES', '-X', v3.privKey, '-r', '1', '-t', '3', `127.0.0.1:${trapPort}`, '', '1.3.6.1.6.3.1.1.5.1']);
    expect(r.code, r.stderr).toBe(0); // snmpinform exits 0 only when the inform was acknowledged
    const [e] = await eventually(async () => ((await events('ups-1', 'coldStart')).length > 0 ? events('ups-1', 'coldStart') : undefined), 10_000);
    expect(e).toMatchObject({ type: 'coldStart', attributes: { version: '3', inform: true } });
  });

  it('a wrong community, a failed v3 authentication and garbage are security events', async () => {
    await run('snmptrap', ['-v', '2c', '-c', 'guess-me', `127.0.0.1:${trapPort}`, '', '1.3.6.1.6.3.1.1.5.1']);
    await run('snmptrap', ['-v', '3', '-l', 'authPriv', '-u', v3.user, '-a', 'SHA', '-A', 'wrong-auth-key', '-x', 'AES', '-X', v3.privKey, '-e', '0x8000000001020304', `127.0.0.1:${trapPort}`, '', '1.3.6.1.6.3.1.1.5.1']);
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.send(Buffer.from('30820fff0201deadbeef', 'hex'), trapPort, '127.0.0.1', () => r()));
    s.close();
    const [bad] = await eventually(async () => ((await security('snmp_bad_community')).length > 0 ? security('snmp_bad_community') : undefined), 10_000);
    expect(bad).toMatchObject({ origin: 'snmp', source: '127.0.0.1' });
    expect(JSON.stringify(bad)).not.toContain('guess-me');
    await eventually(async () => ((await security('snmp_v3_auth_failed')).length > 0 ? true : undefined), 10_000);
    await eventually(() => (app.snmp.traps && app.snmp.traps.stats.malformed > 0 ? true : undefined), 10_000);
    const [garbage] = await eventually(async () => ((await security('snmp_malformed')).length > 0 ? security('snmp_malformed') : undefined), 10_000);
    expect(garbage).toMatchObject({ origin: 'snmp', source: '127.0.0.1' });
    expect((await api(base, session, '/api/v1/auth/me')).status).toBe(200); // still alive
  });
});

describe('trap receiver: unknown sources', () => {
  it('a trap from an address that is no inventory device is a security event, not an event', async () => {
    const published: string[] = [];
    const securityEvents: SecurityEvent[] = [];
    const acc: Accumulator = { telemetry: () => undefined, status: () => undefined, event: (d) => published.push(d) };
    const rx = new TrapReceiver({
      port: 0, devices: () => [{ id: 'far', kind: 'switch', location: { site: 'dc1' }, parents: [], labels: {}, snmp: { host: '10.9.9.9', port: 161, version: '2c', community: 'public', intervalSeconds: 60 } }],
      accumulator: acc, onSecurityEvent: (e) => securityEvents.push(e), logger: silentLogger,
    });
    await rx.start();
    try {
      const r = await run('snmptrap', ['-v', '2c', '-c', 'public', `127.0.0.1:${rx.port}`, '', '1.3.6.1.6.3.1.1.5.1']);
      expect(r.code, r.stderr).toBe(0);
      await eventually(() => (securityEvents.length > 0 ? true : undefined), 10_000);
      expect(securityEvents[0]).toMatchObject({ type: 'snmp_unknown_source', origin: 'snmp', source: '127.0.0.1' });
      expect(published).toEqual([]);
    } finally {
      await rx.stop();
    }
  });
});
