import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../collectors/index.ts';
import { Inventory, bundledConfigDir, readDataFile, type Alert } from '../core/index.ts';
import { interfacesOf } from '../simulators/snmp/index.ts';
import { eventually } from './support/net.ts';
import { api, login, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';

type Latest = { device: string; metric: string; value: number }[];

/** The bundled sample with every SNMP agent on a free port and short poll intervals, so parallel runs never meet. */
async function sampleOnFreePorts(): Promise<Inventory> {
  const inv = readDataFile(join(bundledConfigDir, 'sample-datacenter.yaml'), Inventory);
  for (const d of inv.devices) if (d.snmp) d.snmp = { ...d.snmp, port: await freeUdpPort(), intervalSeconds: 2 };
  return inv;
}

describe('the sample data center played by simulated SNMP agents (npm start --simulate)', () => {
  let product: StartedProduct;
  let session: LoggedIn;
  let squatter: UdpSocket;
  let takenPort = 0;
  const latest = async (device: string): Promise<Map<string, number>> => {
    const r = await api(product.base, session, `/api/v1/metrics/latest?device=${device}`);
    return new Map((r.body as Latest).map((v) => [v.metric, v.value]));
  };

  beforeAll(async () => {
    const inventory = await sampleOnFreePorts();
    // Someone else holds one PDU's port: the product carries on and the poller follows the agent.
    const pdu = inventory.devices.find((d) => d.id === 'pdu-b01-a');
    squatter = createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(0, '127.0.0.1', r));
    takenPort = squatter.address().port;
    if (pdu?.snmp) pdu.snmp = { ...pdu.snmp, port: takenPort };
    product = await startProduct({ inventory });
    await product.app.startSimulation({ intervalMs: 2000 });
    session = await login(product.base);
  }, 30_000);
  afterAll(async () => {
    await product?.app.stop();
    squatter?.close();
  });

  it('starts an agent for the router, firewalls, switches, UPSes, CRACs, PDUs, the SAN, hosts and VMs, with the switches\' ports from the links', () => {
    const estate = product.app.snmpEstate;
    expect(estate).toBeDefined();
    const kinds = new Map<string, number>();
    for (const d of estate!.devices.values()) kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
    expect(Object.fromEntries(kinds)).toEqual({ router: 1, firewall: 2, switch: 8, ups: 2, crac: 6, pdu: 68, storage: 1, host: 4, vm: 8 });
    expect(estate!.devices.size).toBe(100);
    expect(estate!.skipped).toEqual([]);
    // Free ports are picked before the agents bind, so a parallel test may take one more now and then.
    expect(estate!.moved.map((m) => m.device)).toContain('pdu-b01-a');
    expect(estate!.moved.find((m) => m.device === 'pdu-b01-a')).toEqual({ device: 'pdu-b01-a', from: takenPort, to: expect.any(Number) });

    const inv = product.app.estate.inventory;
    const ports = (id: string): string[] => interfacesOf(inv.devices.find((d) => d.id === id)!, inv).map((p) => p.name);
    expect(ports('core-sw-1')).toHaveLength(49);
    expect(ports('core-sw-1')).toEqual(expect.arrayContaining(['Te1/0/1', 'Te1/0/24', 'Hu1/0/49']));
    expect(ports('acc-sw-a')).toEqual(expect.arrayContaining(['Gi1/0/1', 'Gi1/0/48', 'Te1/1/1', 'Te1/1/2']));
  });

  it('serves snmp_up, interface bits/s, UPS load and PDU power at /api/v1/metrics/latest', async () => {
    const sw = await eventually(async () => {
      const m = await latest('acc-sw-a');
      // bits/s need two polls: the second one 2 s after the first.
      return m.get('snmp_up') === 1 && (m.get('if_in_bps.Gi1_0_1') ?? 0) > 0 ? m : undefined;
    }, 25_000, 250);
    // Port 1 carries 5-45 % of 1 Gbit/s; the uplink is a 10 Gbit/s port.
    expect(sw.get('if_in_bps.Gi1_0_1')).toBeGreaterThan(50e6);
    expect(sw.get('if_in_bps.Gi1_0_1')).toBeLessThan(1e9);
    expect(sw.get('if_oper_status.Te1_1_1')).toBe(1);
    expect(sw.get('if_speed_bps.Te1_1_1')).toBe(10e9);

    // The firewalls answer SNMPv3 authPriv only.
    const fw = await eventually(async () => ((await latest('fw-1')).get('snmp_up') === 1 ? true : undefined), 15_000, 250);
    expect(fw).toBe(true);

    const ups = await eventually(async () => {
      const m = await latest('ups-a');
      return m.get('snmp_up') === 1 && m.has('ups_load_pct') && m.has('load_pct') ? m : undefined;
    }, 15_000, 250);
    // On mains, carrying what its PDUs draw: the same load the sensor fleet reports for it.
    expect(ups.get('ups_output_source')).toBe(3);
    expect(ups.get('ups_on_battery')).toBe(0);
    expect(ups.get('ups_load_pct')).toBeGreaterThan(20);
    expect(ups.get('ups_load_pct')).toBeLessThan(80);
    expect(Math.abs(ups.get('ups_load_pct')! - ups.get('load_pct')!)).toBeLessThan(5);
    expect(ups.get('ups_minutes_remaining')).toBeGreaterThan(15);

    const pdu = await eventually(async () => {
      const m = await latest('pdu-a01-a');
      return m.get('snmp_up') === 1 && m.has('pdu_power_kw') ? m : undefined;
    }, 15_000, 250);
    // Half of a 2.5-6 kW rack on each feed.
    expect(pdu.get('pdu_power_kw')).toBeGreaterThan(1);
    expect(pdu.get('pdu_power_kw')).toBeLessThan(3.5);

    const crac = await eventually(async () => {
      const m = await latest('crac-1');
      return m.get('snmp_up') === 1 && m.has('temperature_c.supply_air') ? m : undefined;
    }, 15_000, 250);
    expect(crac.get('temperature_c.supply_air')).toBeGreaterThan(16);
    expect(crac.get('temperature_c.supply_air')).toBeLessThan(20);
    expect(crac.get('temperature_c.return_air')).toBeGreaterThan(25);

    // The PDU whose port was taken is polled where its agent went instead.
    const moved = await eventually(async () => ((await latest('pdu-b01-a')).get('snmp_up') === 1 ? true : undefined), 15_000, 250);
    expect(moved).toBe(true);
  }, 60_000);

  it('serves CPU, memory and disk use of a hypervisor host, its VMs and the SAN, the host carrying its VMs', async () => {
    const vms = product.app.estate.inventory.devices.filter((d) => d.kind === 'vm' && d.parents.includes('cloud-host-1')).map((d) => d.id);
    expect(vms.length).toBeGreaterThanOrEqual(2);
    const read = (id: string): Promise<Map<string, number>> =>
      eventually(async () => {
        const m = await latest(id);
        return m.get('snmp_up') === 1 && m.has('cpu_load_pct') && m.has('mem_used_pct') && m.has('storage_used_max_pct') ? m : undefined;
      }, 25_000, 250);
    const disks = (m: Map<string, number>): number[] => [...m].filter(([metric]) => metric.startsWith('storage_used_pct.')).map(([, v]) => v);
    const [host, san, ...guests] = await Promise.all(['cloud-host-1', 'san-1', ...vms].map(read));
    for (const [id, m] of [['cloud-host-1', host!], ['san-1', san!], [vms[0]!, guests[0]!]] as const) {
      expect(m.get('cpu_load_pct'), id).toBeGreaterThan(0);
      expect(m.get('cpu_load_pct'), id).toBeLessThan(90);
      expect(m.get('mem_used_pct'), id).toBeGreaterThan(5);
      expect(m.get('mem_used_pct'), id).toBeLessThan(95);
      expect(disks(m).length, id).toBeGreaterThanOrEqual(2);
      for (const used of disks(m)) {
        expect(used, id).toBeGreaterThan(0);
        expect(used, id).toBeLessThan(85);
      }
      expect(m.get('storage_used_max_pct'), id).toBeCloseTo(Math.max(...disks(m)), 6);
    }
    expect(san!.get('storage_used_pct.pool_ssd_tier1')).toBeGreaterThan(0);
    expect(guests[0]!.get('storage_used_pct.data')).toBeGreaterThan(0);
    // Its VMs' vCPUs outnumber its CPUs and the hypervisor adds its own share: the host is busier than their mean.
    const meanOfVms = guests.reduce((sum, m) => sum + m.get('cpu_load_pct')!, 0) / guests.length;
    expect(host!.get('cpu_load_pct')).toBeGreaterThan(meanOfVms);
    // The SAN's two controller ports, as the inventory links them to the core switches, measured from its side too.
    const ports = await eventually(async () => {
      const m = await latest('san-1');
      return (m.get('if_in_bps.ctrl_a') ?? 0) > 0 && (m.get('if_out_bps.ctrl_b') ?? 0) > 0 ? m : undefined;
    }, 15_000, 250);
    expect(ports.get('if_oper_status.ctrl_a')).toBe(1);
    expect(ports.get('if_speed_bps.ctrl_b')).toBe(10e9);
    expect(ports.get('if_in_bps.ctrl_a')).toBeLessThan(10e9);
    expect((await latest(vms[0]!)).get('if_oper_status.eth0')).toBe(1);
  }, 40_000);

  it('raises "UPS on battery" when a simulated UPS loses mains, and "Interface went down" when a switch port goes down', async () => {
    const ups = product.app.snmpEstate!.devices.get('ups-b')!.ups!;
    ups.setOnBattery(true);
    const alert = await eventually(async () => {
      const r = await api(product.base, session, '/api/v1/alerts?state=firing');
      return (r.body as Alert[]).find((a) => a.rule === 'ups-on-battery' && a.labels.device === 'ups-b');
    }, 15_000, 250);
    expect(alert.severity).toBe('major');

    product.app.snmpEstate!.devices.get('acc-sw-c')!.switch!.setOper(5, 2);
    const down = await eventually(async () => {
      const r = await api(product.base, session, '/api/v1/events?device=acc-sw-c&type=interface_oper_status');
      return (r.body as { attributes?: Record<string, unknown> }[]).find((e) => e.attributes?.to === 'down');
    }, 15_000, 250);
    expect(down.attributes?.ifName).toBe('Gi1/0/5');
    const linkAlert = await eventually(async () => {
      const r = await api(product.base, session, '/api/v1/alerts?state=firing');
      return (r.body as Alert[]).find((a) => a.rule === 'link-down-polled' && a.labels.device === 'acc-sw-c');
    }, 5000, 250);
    expect(linkAlert.summary).toContain('Gi1/0/5');
  }, 40_000);

  it('raises "PDU phase near overload" then "overloaded" from what a simulated rack PDU says of its phase, and clears them', async () => {
    const pdu = product.app.snmpEstate!.devices.get('pdu-a01-a')!.pdu!;
    const firing = async (rule: string): Promise<Alert | undefined> => {
      const r = await api(product.base, session, '/api/v1/alerts?state=firing');
      return (r.body as Alert[]).find((a) => a.rule === rule && a.labels.device === 'pdu-a01-a');
    };
    // 27 A of its 32 A rating (84 %, the wobble keeps it within 80-89 %): the PDU says nearOverload.
    pdu.setLoad(27);
    const near = await eventually(() => firing('pdu-phase-near-overload'), 25_000, 250);
    expect(near.severity).toBe('major');
    expect(near.summary).toContain('near overload');
    expect((await latest('pdu-a01-a')).get('pdu_phase_current_a.phase1')).toBeGreaterThan(25);
    // Past the rating: overloaded, critical at once, and no longer "near".
    pdu.setLoad(34);
    const over = await eventually(() => firing('pdu-phase-overload'), 15_000, 250);
    expect(over.severity).toBe('critical');
    await eventually(async () => ((await firing('pdu-phase-near-overload')) ? undefined : true), 10_000, 250);
    // Its own load again (6 A): both resolved.
    pdu.setLoad(undefined);
    await eventually(async () => ((await firing('pdu-phase-overload')) ? undefined : true), 15_000, 250);
    expect(await firing('pdu-phase-near-overload')).toBeUndefined();
  }, 70_000);
});
