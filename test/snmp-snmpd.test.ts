import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinProfiles, DevicePoll, SnmpClient, type PollOutcome } from '../collectors/index.ts';
import type { DeviceSnmp } from '../core/index.ts';
import { startSnmpd, type Snmpd } from './support/snmpd.ts';

/** Debian's snmpd as a real agent, on loopback and a free port, with a generated config (v2c and v3 authPriv). */
describe('polling Debian snmpd', () => {
  let snmpd: Snmpd | undefined;
  let port = 0;
  const v3 = { user: 'wfops', authProtocol: 'sha' as const, authKey: 'auth-pass-123', privProtocol: 'aes' as const, privKey: 'priv-pass-123' };
  const v3sha256 = { user: 'wfops256', authProtocol: 'sha256' as const, authKey: 'auth-pass-256', privProtocol: 'aes' as const, privKey: 'priv-pass-256' };

  beforeAll(async () => {
    snmpd = await startSnmpd({
      community: 'wf-community',
      users: [
        { user: v3.user, auth: 'SHA', authKey: v3.authKey, privKey: v3.privKey },
        { user: v3sha256.user, auth: 'SHA-256', authKey: v3sha256.authKey, privKey: v3sha256.privKey },
      ],
      lines: ['sysName watchfloor-test-agent'],
    });
    port = snmpd.port;
  });
  afterAll(() => snmpd?.stop());

  const poll = async (target: Partial<DeviceSnmp>): Promise<PollOutcome> => {
    const client = new SnmpClient({ host: '127.0.0.1', port, version: '2c', ...target }, { timeoutMs: 2000, retries: 1 });
    try {
      return await new DevicePoll(builtinProfiles()).poll(client, Date.now());
    } finally {
      client.close();
    }
  };

  it('v2c: system group, interfaces (the loopback at least) and HOST-RESOURCES', async () => {
    const o = await poll({ version: '2c', community: 'wf-community' });
    expect(o.profile).toBe('net-snmp-host');
    expect(o.metrics.sys_uptime_s).toBeGreaterThanOrEqual(0);
    expect(o.metrics['if_oper_status.lo']).toBe(1);
    expect(o.metrics.mem_used_pct).toBeGreaterThan(0);
  });

  it('v3 authPriv with SHA/AES and SHA-256/AES', async () => {
    for (const user of [v3, v3sha256]) {
      const o = await poll({ version: '3', v3: user });
      expect(o.metrics['if_oper_status.lo'], user.user).toBe(1);
    }
  });

  it('a wrong community or a wrong v3 key is a failed poll, not a hang or a crash', async () => {
    await expect(poll({ version: '2c', community: 'not-it' })).rejects.toThrow(/timed out/i);
    await expect(poll({ version: '3', v3: { ...v3, authKey: 'wrong-key-123' } })).rejects.toThrow();
  });
});
