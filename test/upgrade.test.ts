import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDataDir, DATA_FORMAT, DATA_MARKER_FILE, readDataMarker } from '../cli/data-dir.ts';
import { FakeClock } from '../core/index.ts';
import { loadRules, type RuleInput } from '../rules/index.ts';
import { runCli } from './support/cli.ts';
import { freeUdpPort } from '../collectors/index.ts';
import { api, startProduct, type LoggedIn } from './support/start-product.ts';

/**
 * The upgrade path (issue 18): a data directory made by release 0.1.0 (test/fixtures/datadir-v0.1.0,
 * made by test/fixtures/make-datadir-fixture.ts in that release's tree) opens in this code with its
 * telemetry, its alert and the human actions on it, its session and its API token; a directory of a
 * newer data format is refused, untouched.
 */
const FIXTURE = join(import.meta.dirname, 'fixtures', 'datadir-v0.1.0');
interface Facts {
  version: string;
  madeAt: number;
  device: string;
  metric: string;
  readings: number[];
  rules: RuleInput[];
  alertId: string;
  alertComment: string;
  cookie: string;
  csrfToken: string;
  apiToken: string;
}
const facts = JSON.parse(readFileSync(join(FIXTURE, 'fixture.json'), 'utf8')) as Facts;

/** A copy of the fixture's data directory, so a run never changes the committed one. */
function copyOfFixture(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'wf-upgrade-')), 'data');
  cpSync(join(FIXTURE, 'state'), dir, { recursive: true });
  return dir;
}

// The fixture's clock, a minute on: its session is within the 30-minute idle limit, its points within raw retention.
const clockAfterFixture = (): FakeClock => new FakeClock(facts.madeAt + 60_000);

describe('upgrading a data directory made by 0.1.0', () => {
  it('is stamped with the current data format, and its telemetry, alert state, session and token work', async () => {
    const dataDir = copyOfFixture();
    expect(readDataMarker(dataDir)).toBeUndefined(); // 0.1.0 wrote no marker
    const p = await startProduct({ dataDir, rules: loadRules(facts.rules, 'fixture'), clock: clockAfterFixture() });
    try {
      const marker = readDataMarker(dataDir);
      expect(marker).toMatchObject({ format: DATA_FORMAT, writtenBy: expect.any(String) });
      expect(marker?.migrations.map((m) => [m.from, m.to])).toEqual([[0, 1]]);

      // The session made by 0.1.0: its cookie is still a login, its CSRF token still passes.
      const session: LoggedIn = { cookie: facts.cookie, csrfToken: facts.csrfToken };
      const me = await api(p.base, session, '/api/v1/auth/me');
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ user: { username: 'admin' } });

      // Its telemetry: every reading queryable from the store, the latest value too.
      const from = facts.madeAt - 600_000;
      const range = await api(p.base, session, `/api/v1/metrics/range?device=${facts.device}&metric=${facts.metric}&from=${from}&to=${facts.madeAt}&step=1s&agg=max`);
      expect(range.status).toBe(200);
      const values = (range.body as { points: [number, number | null][] }).points.map((b) => b[1]).filter((v): v is number => v !== null);
      expect(values).toEqual(facts.readings); // one reading a second, in order
      const latest = await api(p.base, session, `/api/v1/metrics/latest?device=${facts.device}&metric=${facts.metric}`);
      expect(JSON.stringify(latest.body)).toContain(String(facts.readings.at(-1)));

      // Its alert: still firing, still acknowledged by admin, the comment in its history.
      const alert = await api(p.base, session, `/api/v1/alerts/${facts.alertId}`);
      expect(alert.status).toBe(200);
      expect(alert.body).toMatchObject({ id: facts.alertId, rule: 'hot', state: 'firing', acknowledged: true, ackedBy: 'admin', comments: 1 });
      const history = await api(p.base, session, `/api/v1/alerts/${facts.alertId}/history`);
      expect(JSON.stringify(history.body)).toContain(facts.alertComment);

      // A state change with the old session and its CSRF token, and the old API token as a Bearer.
      const resolve = await api(p.base, session, `/api/v1/alerts/${facts.alertId}/resolve`, { method: 'POST', body: {} });
      expect(resolve.status).toBe(200);
      const byToken = await fetch(`${p.base}/api/v1/alerts/${facts.alertId}`, { headers: { authorization: `Bearer ${facts.apiToken}` } });
      expect(byToken.status).toBe(200);
      expect(await byToken.json()).toMatchObject({ state: 'resolved' });
    } finally {
      await p.app.stop();
    }

    // The audit log's hash chain, begun by 0.1.0 and continued by this version, verifies.
    const audit = await runCli(dataDir, ['audit', 'verify']);
    expect(audit.stdout + audit.stderr).toMatch(/audit log intact/);
    expect(audit.code).toBe(0);

    // A second start migrates nothing more, and the alert resolved by this version stays resolved.
    const again = await startProduct({ dataDir, rules: loadRules(facts.rules, 'fixture'), clock: clockAfterFixture() });
    try {
      expect(readDataMarker(dataDir)?.migrations).toHaveLength(1);
      expect(again.app.rules.get(facts.alertId)).toMatchObject({ state: 'resolved' });
    } finally {
      await again.app.stop();
    }
  }, 60_000);
});

describe('a data directory this version cannot read', () => {
  it('refuses a newer data format with the version that wrote it, and writes nothing into it', async () => {
    const dataDir = copyOfFixture();
    const marker = { format: DATA_FORMAT + 1, writtenBy: '9.1.0', migrations: [] };
    writeFileSync(join(dataDir, DATA_MARKER_FILE), JSON.stringify(marker));
    const before = readFileSync(join(dataDir, 'users.json'), 'utf8');
    await expect(startProduct({ dataDir })).rejects.toThrow(new RegExp(`holds data format ${DATA_FORMAT + 1}, written by Watchfloor 9\\.1\\.0; this is Watchfloor .* which reads data format ${DATA_FORMAT} and older`));
    expect(JSON.parse(readFileSync(join(dataDir, DATA_MARKER_FILE), 'utf8'))).toEqual(marker);
    expect(readFileSync(join(dataDir, 'users.json'), 'utf8')).toBe(before);

    // `watchfloor start` says the same in one line on stderr, exit 1, no stack trace.
    const trap = await freeUdpPort();
    const env = { WATCHFLOOR_HTTP_PORT: '0', WATCHFLOOR_MQTT_PORT: '0', WATCHFLOOR_SNMP_TRAP_PORT: String(trap), WATCHFLOOR_SYSLOG_PORT: '0', WATCHFLOOR_SYSLOG_TLS_PORT: '0' };
    Object.assign(process.env, env);
    try {
      const start = await runCli(dataDir, ['start']);
      expect(start.code).toBe(1);
      expect(start.stderr).toMatch(/^watchfloor: the data directory .* holds data format 2, written by Watchfloor 9\.1\.0/);
      expect(start.stderr).not.toMatch(/\n\s+at /);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
  }, 60_000);

  it('refuses an unreadable marker rather than taking the directory for 0.1.0', async () => {
    const dataDir = copyOfFixture();
    writeFileSync(join(dataDir, DATA_MARKER_FILE), '{"format": ');
    await expect(startProduct({ dataDir })).rejects.toThrow(/watchfloor-data\.json is unreadable .*restore it from a backup/);
  });

  it('stamps a new data directory with the current format and no migrations, files of offline commands or not', async () => {
    const empty = join(mkdtempSync(join(tmpdir(), 'wf-upgrade-')), 'new');
    const p = await startProduct({ dataDir: empty });
    await p.app.stop();
    expect(readDataMarker(empty)).toMatchObject({ format: DATA_FORMAT, migrations: [] });

    // `watchfloor devices passwd` before the first start writes mqtt-accounts.json: still a new directory, not 0.1.0's.
    const prepared = join(mkdtempSync(join(tmpdir(), 'wf-upgrade-')), 'prepared');
    const passwd = await runCli(prepared, ['devices', 'passwd', 's-a01-ft', '--password-stdin'], 'sensor-secret-1\n');
    expect(passwd.code).toBe(0);
    const q = await startProduct({ dataDir: prepared });
    await q.app.stop();
    expect(readDataMarker(prepared)).toMatchObject({ format: DATA_FORMAT, migrations: [] });
  }, 60_000);
});

/** Every file under `dir` with its size and mtime: what "nothing written" is checked against. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort().map((f) => {
    const st = statSync(join(dir, f));
    return `${f} ${st.size} ${st.mtimeMs}`;
  });
}

describe('the broker role and the offline commands on the data directory', () => {
  it('refuse a newer data format in start\'s words, exit 1, and write nothing', async () => {
    const dataDir = copyOfFixture();
    writeFileSync(join(dataDir, DATA_MARKER_FILE), JSON.stringify({ format: DATA_FORMAT + 1, writtenBy: '9.1.0', migrations: [] }));
    const before = snapshot(dataDir);
    const runs: [string[], string?][] = [
      [['users', 'list']],
      [['users', 'add', 'late', '--role', 'noc', '--password-stdin'], 'late-shift-pass-1\n'],
      [['audit', 'verify']],
      [['devices', 'passwd', 's-a01-ft', '--password-stdin'], 'sensor-secret-1\n'],
      [['inventory', 'export']],
      [['start', '--role', 'broker']],
    ];
    Object.assign(process.env, { WATCHFLOOR_MQTT_PORT: '0' });
    try {
      for (const [args, input] of runs) {
        const r = await runCli(dataDir, args, input);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr, args.join(' ')).toMatch(new RegExp(`^watchfloor: the data directory .* holds data format ${DATA_FORMAT + 1}, written by Watchfloor 9\\.1\\.0; this is Watchfloor .* which reads data format ${DATA_FORMAT} and older`));
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    } finally {
      delete process.env.WATCHFLOOR_MQTT_PORT;
    }
    expect(snapshot(dataDir)).toEqual(before);
  }, 120_000);

  it('leave a 0.1.0 directory unstamped (start migrates it), and work on it', async () => {
    const dataDir = copyOfFixture();
    const list = await runCli(dataDir, ['users', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^admin\tadmin\tlocal\tenabled\t-$/m);
    expect(readDataMarker(dataDir)).toBeUndefined();
  }, 60_000);

  it('refuse an older format whose files a pending migration rewrites, until start has migrated it', () => {
    const dataDir = copyOfFixture(); // format 0: no marker, a store
    const rewrite = { to: 1, what: 'users.json gets a new shape', rewrites: ['users.json'], run: () => undefined };
    expect(() => checkDataDir(dataDir, '9.0.0', [rewrite])).toThrow(/holds data format 0; Watchfloor 9\.0\.0 rewrites its users\.json .*run `watchfloor start` once on it/);
    // A step that leaves the files as they are (the real step to format 1) does not stop them.
    expect(checkDataDir(dataDir, '9.0.0', [{ ...rewrite, rewrites: [] }])).toBeUndefined();
    expect(readDataMarker(dataDir)).toBeUndefined();
  });
});
