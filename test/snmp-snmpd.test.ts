import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinProfiles, DevicePoll, freeUdpPort, SnmpClient, type PollOutcome } from '../collectors/index.ts';
import type { DeviceSnmp } from '../core/index.ts';
import { eventually } from './support/net.ts';

/** Debian's snmpd as a real agent, on loopback and a free port, with a generated config (v2c and v3 authPriv). */
describe('polling Debian snmpd', () => {
  let snmpd: ChildProcess;
  let port = 0;
  let stderr = '';
  const v3 = { user: 'wfops', authProtocol: 'sha' as const, authKey: 'auth-pass-123', privProtocol: 'aes' as const, privKey: 'priv-pass-123' };
  const v3sha256 = { user: 'wfops256', authProtocol: 'sha256' as const, authKey: 'auth-pass-256', privProtocol: 'aes' as const, privKey: 'priv-pass-256' };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-snmpd-'));
    port = await freeUdpPort();
    const conf = join(dir, 'snmpd.conf');
    writeFileSync(conf, [
      `agentAddress udp:127.0.0.1:${port}`,
      'rocommunity wf-community 127.0.0.1',
      `createUser ${v3.user} SHA "${v3.authKey}" AES "${v3.privKey}"`,
      `createUser ${v3sha256.user} SHA-256 "${v3sha256.authKey}" AES "${v3sha256.privKey}"`,
      `rouser ${v3.user} priv`,
      `rouser ${v3sha256.user} priv`,
      `persistentDir ${dir}`,
      'sysName watchfloor-test-agent',
      '',
    ].join('\n'));
    snmpd = spawn('snmpd', ['-f', '-Lo', '-C', '-c', conf, '-p', join(dir, 'snmpd.pid'), '-M', '/usr/share/snmp/mibs'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '' } });
    snmpd.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    snmpd.stdout?.on('data', (d: Buffer) => (stderr += d.toString()));
    // Ready when it answers a GET.
    await eventually(async () => {
      const c = new SnmpClient({ host: '127.0.0.1', port, version: '2c', community: 'wf-community' }, { timeoutMs: 300, retries: 0 });
      try {
        return (await c.get(['1.3.6.1.2.1.1.3.0'])).size > 0 ? true : undefined;
      } catch {
        return undefined;
      } finally {
        c.close();
      }
    }, 15_000, 200).catch((e: Error) => {
      throw new Error(`snmpd did not start: ${e.message}\n${stderr}`);
    });
  });
  afterAll(() => {
    snmpd?.kill('SIGTERM');
  });

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
