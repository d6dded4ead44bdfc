// The `snmp` service check (issue 16) against Debian snmpd on loopback (v1, v2c, v3 authPriv) and the
// simulated agent (simulators/snmp): values and expectations, and a down result with the reason for
// a wrong community, a wrong v3 key, an unknown user, an object the agent lacks and a silent agent.
import snmp from 'net-snmp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheck, runCheck, type CheckResult } from '../collectors/checks/index.ts';
import { freeUdpPort } from '../collectors/index.ts';
import { silentLogger, systemClock, WatchfloorError } from '../core/index.ts';
import { RecordStore, startAgent, type SimulatedAgent } from '../simulators/snmp/index.ts';
import { startSnmpd, type Snmpd } from './support/snmpd.ts';

const probe = (input: Record<string, unknown>, timeoutMs = 3000): Promise<CheckResult> =>
  runCheck(parseCheck({ timeoutSeconds: timeoutMs / 1000, ...input }), { signal: AbortSignal.timeout(timeoutMs + 1000), clock: systemClock, logger: silentLogger });

describe('snmp check config', () => {
  it.each([
    [{ type: 'snmp', host: '127.0.0.1', port: 70_000 }, 'port'],
    [{ type: 'snmp', host: '-oops' }, 'host'],
    [{ type: 'snmp', host: '127.0.0.1', oids: ['sysUpTime'] }, 'oids.0'],
    [{ type: 'snmp', host: '127.0.0.1', version: '3' }, 'v3'],
    [{ type: 'snmp', host: '127.0.0.1', version: '3', v3: { user: 'u', authKey: 'short' } }, 'v3.authKey'],
    [{ type: 'snmp', host: '127.0.0.1', expect: [{ oid: '1.3.6.1.2.1.1.3.0' }] }, 'expect.0.equals'],
    [{ type: 'snmp', host: '127.0.0.1', expect: [{ oid: '1.3.6.1.2.1.1.3.0', atLeast: 5, atMost: 1 }] }, 'expect.0.atMost'],
  ])('%j is a 400 naming %s', (input, field) => {
    let caught: unknown;
    try {
      parseCheck(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WatchfloorError);
    expect((caught as WatchfloorError).field).toBe(field);
  });

  it('defaults: port 161, v2c, community public; a leading dot is dropped', () => {
    const c = parseCheck({ type: 'snmp', host: '10.0.0.1', oids: ['.1.3.6.1.2.1.1.5.0'] }) as Record<string, unknown>;
    expect(c).toMatchObject({ port: 161, version: '2c', community: 'public', oids: ['1.3.6.1.2.1.1.5.0'], retries: 1 });
  });
});

describe('snmp check against Debian snmpd', () => {
  let snmpd: Snmpd | undefined;
  let port = 0;
  const v3 = { user: 'wfcheck', authProtocol: 'sha' as const, authKey: 'check-auth-123', privProtocol: 'aes' as const, privKey: 'check-priv-123' };

  beforeAll(async () => {
    snmpd = await startSnmpd({
      community: 'wf-check',
      users: [{ user: v3.user, auth: 'SHA', authKey: v3.authKey, privKey: v3.privKey }],
      lines: ['sysName check-test-agent', 'sysLocation qnm-dc1 server room 1'],
    });
    port = snmpd.port;
  });
  afterAll(() => snmpd?.stop());

  const target = (): Record<string, unknown> => ({ type: 'snmp', host: '127.0.0.1', port, community: 'wf-check' });

  it('v2c: sysUpTime.0 by default, up with the value', async () => {
    const r = await probe(target());
    expect(r.reason).toBeUndefined();
    expect(r.state).toBe('up');
    expect(r.details?.values).toHaveProperty(['1.3.6.1.2.1.1.3.0']);
    expect((r.details?.values as Record<string, number>)['1.3.6.1.2.1.1.3.0']).toBeGreaterThanOrEqual(0);
  });

  it('v1 and v3 authPriv (SHA/AES) read the same agent', async () => {
    const r1 = await probe({ ...target(), version: '1' });
    expect(r1.state, r1.reason).toBe('up');
    const r3 = await probe({ type: 'snmp', host: '127.0.0.1', port, version: '3', v3 });
    expect(r3.state, r3.reason).toBe('up');
  });

  it('expectations: equals (text), atLeast and atMost (numbers)', async () => {
    const sysName = '1.3.6.1.2.1.1.5.0';
    const ok = await probe({ ...target(), expect: [{ oid: sysName, equals: 'check-test-agent' }, { oid: '1.3.6.1.2.1.1.3.0', atLeast: 0 }] });
    expect(ok.state, ok.reason).toBe('up');
    expect(Object.keys(ok.details?.values as object).sort()).toEqual(['1.3.6.1.2.1.1.3.0', sysName]);
    const wrongName = await probe({ ...target(), expect: [{ oid: sysName, equals: 'core-sw-1' }] });
    expect(wrongName.state).toBe('down');
    expect(wrongName.reason).toBe(`${sysName} is "check-test-agent", expected "core-sw-1"`);
    // ifNumber.0 is at least 1 (the loopback): at most 0 fails.
    const tooMany = await probe({ ...target(), expect: [{ oid: '1.3.6.1.2.1.2.1.0', atMost: 0 }] });
    expect(tooMany.reason).toMatch(/^1\.3\.6\.1\.2\.1\.2\.1\.0 is \d+, over the maximum 0$/);
    const notNumber = await probe({ ...target(), expect: [{ oid: sysName, atLeast: 1 }] });
    expect(notNumber.reason).toBe(`${sysName} is "check-test-agent", not a number`);
  });

  it('an object the agent lacks is down: noSuchObject (v2c), noSuchName (v1)', async () => {
    const r = await probe({ ...target(), oids: ['1.3.6.1.4.1.99999.1.0'] });
    expect(r.state).toBe('down');
    expect(r.reason).toBe('agent has no object 1.3.6.1.4.1.99999.1.0 (noSuchObject)');
    const inst = await probe({ ...target(), oids: ['1.3.6.1.2.1.1.5.7'] });
    expect(inst.reason).toBe('agent has no instance 1.3.6.1.2.1.1.5.7 (noSuchInstance)');
    const v1 = await probe({ ...target(), version: '1', oids: ['1.3.6.1.4.1.99999.1.0'] });
    expect(v1.state).toBe('down');
    expect(v1.reason).toBe('agent has no such object (noSuchName): 1.3.6.1.4.1.99999.1.0');
  });

  it('a wrong community is a timeout with the likely causes, not a hang', async () => {
    const t0 = Date.now();
    const r = await probe({ ...target(), community: 'not-it' }, 800);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r.state).toBe('down');
    expect(r.reason).toMatch(/^no SNMP answer from 127\.0\.0\.1:\d+ within \d+ ms \(agent down, filtered, or community not accepted\)$/);
  });

  it('v3: a wrong auth key and an unknown user are authentication failures, said so', async () => {
    const wrongKey = await probe({ type: 'snmp', host: '127.0.0.1', port, version: '3', v3: { ...v3, authKey: 'wrong-key-123' } }, 1500);
    expect(wrongKey.state).toBe('down');
    expect(wrongKey.reason).toMatch(/^SNMPv3 authentication failed for user "wfcheck" at 127\.0\.0\.1:\d+: Wrong Digest/);
    const stranger = await probe({ type: 'snmp', host: '127.0.0.1', port, version: '3', v3: { ...v3, user: 'nobody' } }, 1500);
    expect(stranger.reason).toMatch(/^SNMPv3 authentication failed for user "nobody" at .*: Unknown User Name/);
  });
});

describe('snmp check against the simulated agent', () => {
  let agent: SimulatedAgent;
  let slow: SimulatedAgent;
  const store = new RecordStore();
  store.set('1.3.6.1.2.1.1.3.0', snmp.ObjectType.TimeTicks, 4242);
  store.set('1.3.6.1.2.1.1.5.0', snmp.ObjectType.OctetString, 'vm-mail');
  // UPS-MIB upsBatteryStatus.0 (RFC 1628): 2 = batteryNormal; upsEstimatedChargeRemaining.0 in %.
  store.set('1.3.6.1.2.1.33.1.2.1.0', snmp.ObjectType.Integer, 2);
  store.set('1.3.6.1.2.1.33.1.2.4.0', snmp.ObjectType.Integer, 35);
  const v3 = { user: 'svc-monitor', authProtocol: 'sha256' as const, authKey: 'svc-auth-key-1', privProtocol: 'aes' as const, privKey: 'svc-priv-key-1' };

  beforeAll(async () => {
    agent = await startAgent(store, { community: 'svc-ro', v3 });
    slow = await startAgent(store, { community: 'svc-ro', faults: { delayMs: 2000 } });
  });
  afterAll(async () => {
    await agent?.close();
    await slow?.close();
  });

  it('v2c and v3 (SHA-256/AES) GETs with expectations', async () => {
    const r = await probe({ type: 'snmp', host: '127.0.0.1', port: agent.port, community: 'svc-ro', expect: [{ oid: '1.3.6.1.2.1.33.1.2.1.0', equals: 2 }, { oid: '1.3.6.1.2.1.1.5.0', equals: 'vm-mail' }] });
    expect(r.state, r.reason).toBe('up');
    expect(r.details?.values).toEqual({ '1.3.6.1.2.1.33.1.2.1.0': 2, '1.3.6.1.2.1.1.5.0': 'vm-mail' });
    const r3 = await probe({ type: 'snmp', host: '127.0.0.1', port: agent.port, version: '3', v3, oids: ['1.3.6.1.2.1.1.3.0'] });
    expect(r3.state, r3.reason).toBe('up');
    expect(r3.details?.values).toEqual({ '1.3.6.1.2.1.1.3.0': 4242 });
  });

  it('a battery under the minimum charge is down with the value', async () => {
    const r = await probe({ type: 'snmp', host: '127.0.0.1', port: agent.port, community: 'svc-ro', expect: [{ oid: '1.3.6.1.2.1.33.1.2.4.0', atLeast: 50 }] });
    expect(r.state).toBe('down');
    expect(r.reason).toBe('1.3.6.1.2.1.33.1.2.4.0 is 35, under the minimum 50');
  });

  it('a missing object is noSuchObject', async () => {
    const r = await probe({ type: 'snmp', host: '127.0.0.1', port: agent.port, community: 'svc-ro', oids: ['1.3.6.1.4.1.2021.10.1.3.1'] });
    expect(r.reason).toMatch(/^agent has no (object|instance) 1\.3\.6\.1\.4\.1\.2021\.10\.1\.3\.1 \(noSuch(Object|Instance)\)$/);
  });

  it('an agent slower than the timeout is down within the timeout, and the next probe still works', async () => {
    const t0 = Date.now();
    const r = await probe({ type: 'snmp', host: '127.0.0.1', port: slow.port, community: 'svc-ro' }, 500);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(r.state).toBe('down');
    expect(r.reason).toMatch(/^no SNMP answer from 127\.0\.0\.1:\d+ within \d+ ms/);
    const again = await probe({ type: 'snmp', host: '127.0.0.1', port: agent.port, community: 'svc-ro' });
    expect(again.state).toBe('up');
  });

  it('a port nothing listens on is down, not a hang', async () => {
    const nobody = await freeUdpPort();
    const r = await probe({ type: 'snmp', host: '127.0.0.1', port: nobody, community: 'svc-ro' }, 500);
    expect(r.state).toBe('down');
    expect(r.reason).toMatch(/no SNMP answer|refused|ECONNREFUSED/);
  });
});
