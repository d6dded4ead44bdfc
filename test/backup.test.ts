import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeUdpPort } from '../collectors/index.ts';
import { loadRules, type RuleInput } from '../rules/index.ts';
import { runCli } from './support/cli.ts';
import { connectMqtt, eventually, run } from './support/net.ts';
import { ADMIN_PASSWORD, api, login, smallInventory, startProduct } from './support/start-product.ts';

/**
 * Backups as docs/production.md ("Backups") says to take and restore them, with GNU tar: the whole
 * data directory, either with the product stopped or from a snapshot taken at one instant while it
 * runs (here: the process frozen with SIGSTOP while tar reads, as an LVM/ZFS/btrfs snapshot freezes
 * the filesystem). Restored into a new directory, the product starts with its telemetry, alerts,
 * users and audit chain.
 */
const RULES: RuleInput[] = [{ id: 'hot', type: 'threshold', name: 'Hot', kind: 'environment', severity: 'critical', match: { metric: 'temperature' }, when: { above: 30 } }];
const DEVICE = 's-a01-ft';

/** `tar --create` of DIR/data as the doc writes it, then `tar --extract` into a new parent; returns the restored data dir. */
async function backupAndRestore(parent: string): Promise<string> {
  const archive = join(mkdtempSync(join(tmpdir(), 'wf-backup-')), 'watchfloor-backup.tgz');
  const c = await run('tar', ['--create', '--gzip', '--file', archive, '--directory', parent, 'data']);
  expect([c.code, c.stderr]).toEqual([0, '']);
  const restoredParent = mkdtempSync(join(tmpdir(), 'wf-restored-'));
  const x = await run('tar', ['--extract', '--gzip', '--file', archive, '--directory', restoredParent, '--preserve-permissions']);
  expect([x.code, x.stderr]).toEqual([0, '']);
  return join(restoredParent, 'data');
}

/** Opens a restored directory and checks what a person would: the readings, the alert, the users, the audit chain. */
async function expectRestored(dataDir: string, readings: number[], since: number): Promise<void> {
  const p = await startProduct({ dataDir, rules: loadRules(RULES, 'test') });
  try {
    const admin = await login(p.base, 'admin', ADMIN_PASSWORD);
    const r = await api(p.base, admin, `/api/v1/metrics/range?device=${DEVICE}&metric=temperature&from=${since}&to=${Date.now()}&step=1s&agg=max`);
    const values = (r.body as { points: [number, number | null][] }).points.map((b) => b[1]).filter((v): v is number => v !== null);
    expect(values).toEqual(readings);
    const alerts = (await api(p.base, admin, '/api/v1/alerts?state=firing')).body as { rule: string; acknowledged: boolean }[];
    expect(alerts.filter((a) => a.rule === 'hot')).toMatchObject([{ acknowledged: true }]);
    await login(p.base, 'nina', 'nina-password-1'); // a user made before the backup
  } finally {
    await p.app.stop();
  }
  const audit = await runCli(dataDir, ['audit', 'verify']);
  expect(audit.stdout).toMatch(/audit log intact/);
}

describe('backup and restore of the data directory (docs/production.md)', () => {
  it('a copy taken with the product stopped restores into a new directory', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'wf-live-'));
    const dataDir = join(parent, 'data');
    const since = Date.now() - 60_000;
    const readings = [21.5, 23.75, 34.5];
    const p = await startProduct({ dataDir, rules: loadRules(RULES, 'test') });
    try {
      const admin = await login(p.base);
      expect((await api(p.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'nina', role: 'noc', password: 'nina-password-1' } })).status).toBe(201);
      await p.app.accounts.setDevicePassword(DEVICE, 'sensor-secret-1');
      const sensor = await connectMqtt(p.app.mqttPort, { username: DEVICE, password: 'sensor-secret-1' });
      const t0 = Date.now() - readings.length * 1000;
      for (const [i, temperature] of readings.entries()) await sensor.publishAsync(`devices/${DEVICE}/telemetry`, JSON.stringify({ ts: t0 + i * 1000, metrics: { temperature } }), { qos: 1 });
      await sensor.endAsync();
      const alert = await eventually(async () => ((await api(p.base, admin, '/api/v1/alerts?state=firing')).body as { id: string; rule: string }[]).find((a) => a.rule === 'hot'));
      expect((await api(p.base, admin, `/api/v1/alerts/${alert.id}/ack`, { method: 'POST', body: {} })).status).toBe(200);
    } finally {
      await p.app.stop(); // "systemctl stop watchfloor"
    }
    await expectRestored(await backupAndRestore(parent), readings, since);
  }, 60_000);

  it('a snapshot taken while it runs (every QoS 1 reading it acknowledged) restores, as after a power cut', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'wf-live-'));
    const dataDir = join(parent, 'data');
    mkdirSync(dataDir);
    const etc = mkdtempSync(join(tmpdir(), 'wf-etc-'));
    writeFileSync(join(etc, 'inventory.json'), JSON.stringify(smallInventory));
    const trapPort = await freeUdpPort();
    const config = join(etc, 'watchfloor.yaml');
    writeFileSync(config, [
      `dataDir: ${dataDir}`, 'http: { host: 127.0.0.1, port: 0 }', 'mqtt: { host: 127.0.0.1, port: 0 }', `snmp: { trapPort: ${trapPort} }`,
      'syslog: { udpPort: 0, tcpPort: 0, tlsPort: false }', 'inventory: inventory.json', `rules: ${JSON.stringify(RULES)}`, '',
    ].join('\n'));
    const passwd = await runCli(dataDir, ['devices', 'passwd', DEVICE, '--password-stdin', '--config', config], 'sensor-secret-1\n');
    expect(passwd.code).toBe(0);
    const child = spawn(process.execPath, ['bin/watchfloor.js', 'start', '--config', config], { env: { ...process.env, WATCHFLOOR_ADMIN_PASSWORD: ADMIN_PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const since = Date.now() - 60_000;
    const readings = [22.25, 24.5, 35.25];
    try {
      const [, base, mqttPort] = await eventually(() => {
        if (child.exitCode !== null) throw new Error(`watchfloor start exited: ${out}`);
        return /running: (http:\/\/[\d.]+:\d+)\/\n\s+MQTT broker: mqtt:\/\/[\d.]+:(\d+)/.exec(out) ?? undefined;
      }, 30_000, 100);
      const admin = await login(base as string);
      expect((await api(base as string, admin, '/api/v1/users', { method: 'POST', body: { username: 'nina', role: 'noc', password: 'nina-password-1' } })).status).toBe(201);
      const sensor = await connectMqtt(Number(mqttPort), { username: DEVICE, password: 'sensor-secret-1' });
      const t0 = Date.now() - readings.length * 1000;
      // Each publish resolves on the broker's PUBACK, which the product sends once the reading is in its fsynced ingest log.
      for (const [i, temperature] of readings.entries()) await sensor.publishAsync(`devices/${DEVICE}/telemetry`, JSON.stringify({ ts: t0 + i * 1000, metrics: { temperature } }), { qos: 1 });
      await sensor.endAsync();
      const alert = await eventually(async () => ((await api(base as string, admin, '/api/v1/alerts?state=firing')).body as { id: string; rule: string }[]).find((a) => a.rule === 'hot'));
      expect((await api(base as string, admin, `/api/v1/alerts/${alert.id}/ack`, { method: 'POST', body: {} })).status).toBe(200);

      // The alert state file is rewritten within 100 ms of a change (rules/journal.ts): a snapshot
      // within that window holds the state before it, as a power cut would (docs/production.md says so).
      const stateFile = join(dataDir, 'alerts', 'state.json');
      await eventually(() => (existsSync(stateFile) && readFileSync(stateFile, 'utf8').includes('"acknowledged":true') ? true : undefined), 5000);

      // The snapshot: the process frozen, so no write lands while tar reads (a filesystem snapshot's one instant).
      child.kill('SIGSTOP');
      let restored: string;
      try {
        restored = await backupAndRestore(parent);
      } finally {
        child.kill('SIGCONT');
      }
      await expectRestored(restored, readings, since);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    }
  }, 90_000);
});
