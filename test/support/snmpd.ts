/*
 * Debian's snmpd as a real agent for tests: on loopback and a free port, with a generated config
 * (one v2c community, any v3 authPriv users, extra lines), ready once it answers a GET of sysUpTime.0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort, SnmpClient } from '../../collectors/index.ts';
import { eventually } from './net.ts';

export interface SnmpdUser {
  user: string;
  /** snmpd's createUser names: SHA, SHA-256. */
  auth: 'SHA' | 'SHA-256';
  authKey: string;
  privKey: string;
}

export interface Snmpd {
  port: number;
  stop(): Promise<void>;
}

export async function startSnmpd(o: { community: string; users?: SnmpdUser[]; lines?: string[] }): Promise<Snmpd> {
  const dir = mkdtempSync(join(tmpdir(), 'wf-snmpd-'));
  const port = await freeUdpPort();
  const conf = join(dir, 'snmpd.conf');
  writeFileSync(conf, [
    `agentAddress udp:127.0.0.1:${port}`,
    `rocommunity ${o.community} 127.0.0.1`,
    ...(o.users ?? []).flatMap((u) => [`createUser ${u.user} ${u.auth} "${u.authKey}" AES "${u.privKey}"`, `rouser ${u.user} priv`]),
    `persistentDir ${dir}`,
    ...(o.lines ?? []),
    '',
  ].join('\n'));
  let output = '';
  const snmpd = spawn('snmpd', ['-f', '-Lo', '-C', '-c', conf, '-p', join(dir, 'snmpd.pid'), '-M', '/usr/share/snmp/mibs'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '' } });
  snmpd.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  snmpd.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  const stop = async (): Promise<void> => {
    // snmpd writes its persistent state as it exits: remove the directory after that.
    if (snmpd.exitCode === null) {
      const exited = new Promise((r) => snmpd.once('exit', r));
      snmpd.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  await eventually(async () => {
    const c = new SnmpClient({ host: '127.0.0.1', port, version: '2c', community: o.community }, { timeoutMs: 300, retries: 0 });
    try {
      return (await c.get(['1.3.6.1.2.1.1.3.0'])).size > 0 ? true : undefined;
    } catch {
      return undefined;
    } finally {
      c.close();
    }
  }, 15_000, 200).catch(async (e: Error) => {
    await stop();
    throw new Error(`snmpd did not start: ${e.message}\n${output}`);
  });
  return { port, stop };
}
