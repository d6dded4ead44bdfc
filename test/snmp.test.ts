import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttAccounts, startBroker } from '../broker/index.ts';
import {
  builtinProfiles, counterRate, DevicePoll, freeUdpPort, SnmpClient, SnmpPoller, startSnmpCollectors, type Accumulator, type PollOutcome,
} from '../collectors/index.ts';
import { Estate, Inventory, silentLogger, type DeviceStatus } from '../core/index.ts';
import { parseSnmprec, readSnmprec, RecordStore, startAgent, syntheticHost, syntheticSwitch, type SimulatedAgent } from '../simulators/snmp/index.ts';
import { eventually } from './support/net.ts';
import { smallInventory } from './support/start-product.ts';

const REF = '/work/shared/reference/snmp';
const fast = { timeoutMs: 800, retries: 0 };

/** An accumulator that remembers what it was handed, in order. */
function recorder(): Accumulator & { log: { device: string; kind: string; body: unknown }[] } {
  const log: { device: string; kind: string; body: unknown }[] = [];
  return {
    log,
    telemetry: (device, _ts, metrics) => log.push({ device, kind: 'telemetry', body: metrics }),
    event: (device, e) => log.push({ device, kind: 'event', body: e }),
    status: (device, s: DeviceStatus) => log.push({ device, kind: 'status', body: s }),
  };
}

async function pollRecording(file: string): Promise<PollOutcome> {
  const rec = readSnmprec(`${REF}/${file}`);
  const agent = await startAgent(new RecordStore(rec.records));
  const client = new SnmpClient({ host: '127.0.0.1', port: agent.port, version: '2c', community: 'public' }, fast);
  try {
    return await new DevicePoll(builtinProfiles()).poll(client, Date.now());
  } finally {
    client.close();
    await agent.close();
  }
}

describe('counter arithmetic (RFC 2863 §3.1.5)', () => {
  const s = (value: bigint, ts: number, bits: 32 | 64 = 64, epoch?: number) => ({ value, ts, bits, epoch });
  it.each([
    ['first sample has no rate', undefined, s(100n, 1000), undefined, { ok: false, reason: 'first' }],
    ['steady 64-bit growth', s(1000n, 0), s(126_000n, 1000), undefined, { ok: true, perSecond: 125_000, wrapped: false }],
    ['32-bit wrap near the top', s(4_294_967_000n, 0, 32), s(704n, 1000, 32), undefined, { ok: true, perSecond: 1000, wrapped: true }],
    ['32-bit wrap judged by link speed', s(1_000n, 0, 32), s(500n, 1000, 32), 12_500_000, { ok: false, reason: 'reset' }],
    ['32-bit low value going down is a reset', s(1_000_000n, 0, 32), s(10n, 1000, 32), undefined, { ok: false, reason: 'reset' }],
    ['64-bit going down is a reset', s(5_000_000n, 0), s(10n, 1000), undefined, { ok: false, reason: 'reset' }],
    ['discontinuity time changed', s(100n, 0, 64, 5), s(200n, 1000, 64, 9), undefined, { ok: false, reason: 'discontinuity' }],
    ['faster than the link is no traffic', s(0n, 0), s(10_000_000_000n, 1000), 125_000_000, { ok: false, reason: 'implausible' }],
    ['same timestamp', s(0n, 1000), s(10n, 1000), undefined, { ok: false, reason: 'no_time' }],
  ] as const)('%s', (_name, prev, cur, max, want) => {
    expect(counterRate(prev, cur, max)).toEqual(want);
  });
});

describe('snmprec recordings', () => {
  it('parses hex, Counter64, Opaque and refuses broken lines and unknown variation modules by line number', () => {
    const r = parseSnmprec([
      '# comment',
      '1.3.6.1.2.1.1.5.0|4x|7377697463682d31',
      '1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615',
      '1.3.6.1.4.1.2021.10.1.6.1|68x|9f78040000003f',
      'this is not a record',
      '1.3.6.1.2.1.1.7.0|2|seventy',
      '1.3.6.1.2.1.1.8.0|2:delay|wait=5',
      '1.3.6.1.4.1.21239.5.1.2.1.5.1|2:numeric|scale=5,wrap=1,min=100,max=300,initial=154',
    ].join('\n'));
    expect(r.records.map((x) => x.oid)).toEqual(['1.3.6.1.2.1.1.5.0', '1.3.6.1.2.1.31.1.1.1.6.1', '1.3.6.1.4.1.2021.10.1.6.1', '1.3.6.1.4.1.21239.5.1.2.1.5.1']);
    expect((r.records[0]?.value as Buffer).toString()).toBe('switch-1');
    expect((r.records[1]?.value as Buffer).toString('hex')).toBe('00ffffffffffffffff');
    expect(r.problems).toEqual([
      'line 5: expected OID|TAG|VALUE',
      'line 6: "seventy" is not an Integer32',
      'line 7: variation module "delay" is not simulated; record refused (simulated: numeric, writecache)',
    ]);
    const v = (r.records[3]?.value as () => number)();
    expect(v).toBeGreaterThanOrEqual(100);
    expect(v).toBeLessThanOrEqual(300);
  });

  it('reads every real recording without a refused line', () => {
    for (const f of ['cisco-catalyst-3560', 'cisco-nexus-5000', 'apc-ap8641', 'eaton-9PX-partial-walk', 'geist-watchdog15p', 'linux-full-walk']) {
      const r = readSnmprec(`${REF}/${f}.snmprec`);
      expect(r.problems, f).toEqual([]);
      expect(r.records.length, f).toBeGreaterThan(40);
    }
  });
});

describe('profiles against the real recordings, served by the simulator', () => {
  it('Cisco Catalyst 3560: CISCO-ENVMON temperature and 57 interfaces', async () => {
    const o = await pollRecording('cisco-catalyst-3560.snmprec');
    expect(o.profile).toBe('cisco-ios');
    expect(o.metrics['temperature_c.SW_1_Sensor_1_YELLOW']).toBe(61);
    expect(o.metrics['temperature_state.SW_1_Sensor_1_YELLOW']).toBe(2);
    expect(o.metrics.if_count).toBeGreaterThanOrEqual(57);
    expect(o.metrics['if_oper_status.Gi0_1']).toBeDefined();
    expect(o.metrics.sys_uptime_s).toBeCloseTo(4924464.81, 1);
  });
  it('Cisco Nexus 5000: CISCO-ENTITY-SENSOR celsius sensors with their SI scale', async () => {
    const o = await pollRecording('cisco-nexus-5000.snmprec');
    expect(o.profile).toBe('cisco-nxos');
    expect(o.metrics['temperature_c.Module_1_Outlet']).toBe(40);
    expect(o.metrics['temperature_c.25821']).toBeCloseTo(52.394, 3); // milli(8) scale
  });
  it('APC AP8641: rPDU2 device and phase load', async () => {
    const o = await pollRecording('apc-ap8641.snmprec');
    expect(o.profile).toBe('apc-pdu');
    expect(o.metrics.pdu_power_kw).toBe(1.21);
    expect(o.metrics['pdu_phase_current_a.phase1']).toBe(6.5);
    expect(o.metrics['pdu_phase_voltage_v.phase1']).toBe(201);
    // Its own verdict on its one phase, what the pdu-phase-* rules read: normal(2).
    expect(o.metrics.pdu_phase_load_state_max).toBe(2);
  });
  it('Eaton 9PX: UPS load, runtime and source from XUPS-MIB', async () => {
    const o = await pollRecording('eaton-9PX-partial-walk.snmprec');
    expect(o.profile).toBe('eaton-ups');
    expect(o.metrics.ups_load_pct).toBe(9);
    expect(o.metrics.ups_on_battery).toBe(0);
    expect(o.metrics.ups_output_source).toBe(3); // normal
    expect(o.metrics.ups_minutes_remaining).toBeCloseTo(17218 / 60, 3);
    expect(o.metrics.ups_battery_charge_pct).toBe(100);
  });
  it('Geist Watchdog 15P: temperatures simulated from numeric variation records, in range', async () => {
    const o = await pollRecording('geist-watchdog15p.snmprec');
    expect(o.profile).toBe('geist-environment');
    const t = o.metrics['temperature_c.Watchdog_Rack_01'] as number;
    expect(t).toBeGreaterThanOrEqual(10);
    expect(t).toBeLessThanOrEqual(30);
    expect(o.metrics['temperature_c.Above_Rack_02']).toBeDefined();
  });
  it('Linux host: HOST-RESOURCES memory and disks', async () => {
    const o = await pollRecording('linux-full-walk.snmprec');
    expect(o.profile).toBe('net-snmp-host');
    expect(o.metrics.mem_used_pct).toBeCloseTo((100 * 958176) / 1021976, 3);
    expect(o.metrics['storage_used_pct.usr_local']).toBeCloseTo((100 * 13299705) / 16822765, 3);
    // The fullest fixed disk (of /, /usr/local and /export), one figure a rule can watch.
    expect(o.metrics.storage_used_max_pct).toBeCloseTo((100 * 90601816) / 96144541, 3);
  });
});

describe('a synthetic switch: rates, oper-status events, reboots', () => {
  it('turns advancing 64-bit counters into bits/s and reports status changes and restarts', async () => {
    let now = 1_000_000;
    const sw = syntheticSwitch({ name: 'sw-1', interfaces: 24, now: () => now });
    const agent = await startAgent(sw.store);
    const client = new SnmpClient({ host: '127.0.0.1', port: agent.port, version: '2c', community: 'public' }, fast);
    const dp = new DevicePoll(builtinProfiles());
    try {
      await dp.poll(client, now);
      now += 60_000;
      sw.setOper(3, 2);
      const second = await dp.poll(client, now);
      // Port 1 carries (0.05 + 37 % 41 / 100) = 42 % of 1 Gb/s in.
      expect(second.metrics['if_in_bps.Gi0_1']).toBeCloseTo(0.42e9, -6);
      expect(second.metrics['if_out_bps.Gi0_1']).toBeCloseTo(0.42e9 * 0.7, -6);
      expect(second.events).toContainEqual(expect.objectContaining({ type: 'interface_oper_status', attributes: expect.objectContaining({ ifIndex: 3, ifName: 'Gi0/3', from: 'up', to: 'down' }) }));
      now += 60_000;
      sw.reboot();
      now += 10_000;
      const third = await dp.poll(client, now);
      expect(third.events.map((e) => e.type)).toContain('reboot');
      expect(third.metrics['if_in_bps.Gi0_1']).toBeUndefined(); // counters restarted: no bogus rate
    } finally {
      client.close();
      await agent.close();
    }
  });
});

describe('a synthetic Net-SNMP host, read by the net-snmp-host profile', () => {
  it('averages its CPUs and turns RAM and disks into percentages, a 368 TB pool counted in larger allocation units', async () => {
    const TB = 2 ** 40;
    let now = 1_000_000;
    const host = syntheticHost({
      name: 'san-x',
      descr: 'Linux san-x',
      now: () => now,
      resources: (t) => ({
        cpus: [10, 30, t > 1_000_000 ? 80 : 50, 40],
        memory: { totalBytes: 128 * 2 ** 30, usedBytes: 96 * 2 ** 30 },
        disks: [{ label: '/', totalBytes: 0.5 * TB, usedBytes: 0.1 * TB }, { label: 'pool-nl-backup', totalBytes: 368 * TB, usedBytes: 0.8 * 368 * TB }],
      }),
    });
    const agent = await startAgent(host.store);
    const client = new SnmpClient({ host: '127.0.0.1', port: agent.port, version: '2c', community: 'public' }, fast);
    try {
      const dp = new DevicePoll(builtinProfiles());
      const first = await dp.poll(client, now);
      expect(first.profile).toBe('net-snmp-host');
      expect(first.warnings).toEqual([]);
      expect(first.metrics.cpu_load_pct).toBe(32.5);
      expect(first.metrics.mem_used_pct).toBe(75);
      // `/`, the root filesystem, is `root` once made safe for a metric name.
      expect(first.metrics['storage_used_pct.root']).toBeCloseTo(20, 6);
      expect(first.metrics['storage_used_pct.pool_nl_backup']).toBeCloseTo(80, 6);
      expect(first.metrics.storage_used_max_pct).toBeCloseTo(80, 6);
      // hrStorageSize is an Integer32 (RFC 2790): 368 TB in 4096-byte units would not fit.
      const units = host.store.get('1.3.6.1.2.1.25.2.3.1.4.32')?.value as number;
      expect(units).toBeGreaterThan(4096);
      expect(host.store.get('1.3.6.1.2.1.25.2.3.1.5.32')?.value).toBeLessThanOrEqual(2 ** 31 - 1);
      now += 30_000;
      expect((await dp.poll(client, now)).metrics.cpu_load_pct).toBe(40);
    } finally {
      client.close();
      await agent.close();
    }
  });
});

describe('the poller: availability and bad agents', () => {
  const agents: SimulatedAgent[] = [];
  const sockets: ReturnType<typeof createSocket>[] = [];
  let deadPort = 0;
  let garbagePort = 0;
  beforeAll(async () => {
    agents.push(await startAgent(syntheticSwitch({ name: 'ok', interfaces: 4 }).store));
    agents.push(await startAgent(syntheticSwitch({ name: 'slow', interfaces: 4 }).store, { faults: { delayMs: 3000 } }));
    agents.push(await startAgent(syntheticSwitch({ name: 'eom', interfaces: 8 }).store, { faults: { endOfMibViewFrom: '1.3.6.1.2.1.2.2.1.8.5' } }));
    agents.push(await startAgent(syntheticSwitch({ name: 'huge', interfaces: 3000 }).store));
    const bind = async (onMsg?: (s: ReturnType<typeof createSocket>, msg: Buffer, r: { address: string; port: number }) => void): Promise<number> => {
      const s = createSocket('udp4');
      sockets.push(s);
      if (onMsg) s.on('message', (m, r) => onMsg(s, m, r));
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      return s.address().port;
    };
    deadPort = await bind();
    garbagePort = await bind((s, _m, r) => s.send(Buffer.from('30 0a 02 01 01 04 03 7a 7a'.replace(/ /g, '') + 'ffff', 'hex'), r.port, r.address));
  });
  afterAll(async () => {
    for (const a of agents) await a.close();
    for (const s of sockets) s.close();
  });

  it('publishes snmp_up = 0 then offline once for a dead device, while the live one is polled at once', async () => {
    const acc = recorder();
    const target = (device: string, port: number) => ({ device, snmp: { host: '127.0.0.1', port, version: '2c' as const, community: 'public', intervalSeconds: 60 } });
    const poller = new SnmpPoller({ targets: [target('dead', deadPort), target('ok', (agents[0] as SimulatedAgent).port)], accumulator: acc, logger: silentLogger, timeoutMs: 1500, retries: 0, concurrency: 4 });
    try {
      const okStarted = Date.now();
      const dead = poller.pollNow('dead');
      const ok = await poller.pollNow('ok');
      expect(Date.now() - okStarted).toBeLessThan(1400); // not held behind the dead device's timeout
      expect(ok).not.toBeInstanceOf(Error);
      expect(await dead).toBeInstanceOf(Error);
      await poller.pollNow('dead');
      const deadLog = acc.log.filter((l) => l.device === 'dead');
      expect(deadLog).toEqual([{ device: 'dead', kind: 'telemetry', body: { snmp_up: 0 } }, { device: 'dead', kind: 'status', body: 'offline' }]);
      const okLog = acc.log.filter((l) => l.device === 'ok');
      expect(okLog[0]).toEqual({ device: 'ok', kind: 'status', body: 'online' });
      expect(okLog[1]?.body).toMatchObject({ snmp_up: 1, if_count: 4 });
    } finally {
      await poller.stop();
    }
  });

  it('survives garbage answers, slow agents, endOfMibView mid-table and enormous tables', async () => {
    const acc = recorder();
    const t = (device: string, port: number) => ({ device, snmp: { host: '127.0.0.1', port, version: '2c' as const, community: 'public', intervalSeconds: 60 } });
    const poller = new SnmpPoller({
      targets: [t('garbage', garbagePort), t('slow', (agents[1] as SimulatedAgent).port), t('eom', (agents[2] as SimulatedAgent).port), t('huge', (agents[3] as SimulatedAgent).port)],
      accumulator: acc, logger: silentLogger, timeoutMs: 1000, retries: 0, maxRows: 500,
    });
    try {
      const [garbage, slow, eom, huge] = await poller.pollAll();
      expect(garbage).toBeInstanceOf(Error);
      expect(slow).toBeInstanceOf(Error);
      expect((slow as Error).name).toBe('RequestTimedOutError');
      const e = eom as PollOutcome;
      // The agent ends its view inside ifOperStatus: rows 1-4 keep their status, named by ifDescr (ifXTable lies beyond).
      expect(e.metrics['if_oper_status.GigabitEthernet0_4']).toBe(1);
      expect(e.metrics['if_oper_status.GigabitEthernet0_5']).toBeUndefined();
      const h = huge as PollOutcome;
      expect(h.metrics.if_count).toBe(500);
      expect(h.warnings.some((w) => /more than 500 rows; table cut/.test(w))).toBe(true);
      expect(acc.log.filter((l) => l.kind === 'status' && l.body === 'offline').map((l) => l.device).sort()).toEqual(['garbage', 'slow']);
    } finally {
      await poller.stop();
    }
  });

  it('runs on its own schedule after start()', async () => {
    const acc = recorder();
    const poller = new SnmpPoller({ targets: [{ device: 'ok', snmp: { host: '127.0.0.1', port: (agents[0] as SimulatedAgent).port, version: '2c', community: 'public', intervalSeconds: 1 } }], accumulator: acc, logger: silentLogger, ...fast });
    await poller.start();
    try {
      await eventually(() => (acc.log.filter((l) => l.kind === 'telemetry').length >= 2 ? true : undefined), 10_000);
    } finally {
      await poller.stop();
    }
  });
});

describe('the SNMP collectors of a scale-out (mqtt.ingestPartition)', () => {
  it('poll each device on exactly one of the full nodes sharing the estate, and every device is polled', async () => {
    const agents = await Promise.all(Array.from({ length: 8 }, (_, i) => startAgent(syntheticSwitch({ name: `sw-${i}`, interfaces: 1 }).store)));
    const switches = agents.map((a, i) => ({ id: `sw-${i}`, kind: 'switch' as const, location: { site: 'dc1', area: 'network' }, snmp: { host: '127.0.0.1', port: a.port, version: '2c' as const, community: 'public', intervalSeconds: 1 } }));
    const estate = new Estate(Inventory.parse({ ...smallInventory, devices: [...(smallInventory.devices ?? []), ...switches] }));
    // Two full nodes, each with its own broker and accounts; what each node's collectors polled, by device.
    const polledBy = new Map<string, Set<number>>();
    const brokers = [];
    const nodes = [];
    try {
      for (const index of [0, 1]) {
        const accounts = new MqttAccounts();
        const broker = await startBroker({ mqtt: { host: '127.0.0.1', port: 0, persistence: 'memory' }, accounts, logger: silentLogger });
        brokers.push(broker);
        await new Promise<void>((ok) =>
          broker.aedes.subscribe('devices/+/telemetry', (packet, done) => {
            const device = packet.topic.split('/')[1] ?? '';
            if (JSON.parse(packet.payload.toString()).metrics?.snmp_up === 1) polledBy.set(device, new Set([...(polledBy.get(device) ?? []), index]));
            done();
          }, ok),
        );
        nodes.push(await startSnmpCollectors({ estate, publishTo: { embedded: { accounts, port: broker.port } }, partition: { index, count: 2 }, trapPort: await freeUdpPort(), trapHost: '127.0.0.1', logger: silentLogger, onSecurityEvent: () => undefined }));
      }
      const [a = [], b = []] = nodes.map((n) => n.poller.devices);
      expect(a.length).toBeGreaterThan(0);
      expect(b.length).toBeGreaterThan(0);
      expect([...a, ...b].sort()).toEqual(switches.map((s) => s.id).sort());
      await eventually(() => (polledBy.size === switches.length ? true : undefined), 10_000, 100);
      // Three more seconds of polls at 1 s: still each device by one node only.
      await new Promise((r) => setTimeout(r, 3000));
      expect([...polledBy.values()].map((by) => by.size)).toEqual(switches.map(() => 1));
    } finally {
      for (const n of nodes) await n.stop();
      for (const agent of agents) await agent.close();
      for (const broker of brokers) await broker.close();
    }
  });
});
