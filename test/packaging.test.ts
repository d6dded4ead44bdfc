import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { checkConfig } from '../cli/config-check.ts';
import { freeUdpPort } from '../collectors/index.ts';
import { connectMqtt, eventually, freePort, tcpReady } from './support/net.ts';

/**
 * Installed as a service (issue 18): `npm pack` ships a product that installs and runs on its own, the
 * systemd unit passes `systemd-analyze verify`, and the compose file's services, with the config the
 * watchfloor service gets, hold together. No container engine here: the compose file is read as data.
 */
const ROOT = join(import.meta.dirname, '..');
const PACKAGING = join(ROOT, 'packaging');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; files: string[]; scripts: Record<string, string> };

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end in `cwd`; killed after `timeoutMs` so a hang fails the test. */
function sh(cmd: string, args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A small estate for the installed product (its config names it beside itself). */
const INVENTORY = `sites: [{ id: dc1, name: Test DC }]
rooms: [{ id: room-1, site: dc1, name: Server room 1, width: 10, depth: 8 }]
racks: [{ id: A01, room: room-1, row: A, position: 1, x: 2, y: 2, facing: south }]
devices:
  - { id: s-a01-ft, kind: sensor, sensorType: temperature-humidity, location: { rack: A01, position: front-top } }
`;

describe('npm pack: the tarball installs into an empty project and runs', () => {
  let work: string;
  let project: string;
  let tarball: string;
  let listing: string[];
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'wf-pack-'));
    // Packed from a copy of the tree: prepack's UI build then writes the copy's dashboards/public, never
    // the one the other suites' browsers are reading. The copy has no built UI, so prepack must make it.
    const src = join(work, 'src');
    mkdirSync(src);
    const sources = new Set(['package.json', 'README.md', 'LICENSE', 'dashboards/web', ...pkg.files.filter((f) => !f.startsWith('!') && f !== 'dashboards/public/')]);
    for (const entry of sources) {
      const from = join(ROOT, entry.replace(/\/\*\.ts$/, '').replace(/\/$/, ''));
      if (entry.endsWith('/*.ts')) {
        for (const f of readdirSync(from).filter((n) => n.endsWith('.ts'))) cpSync(join(from, f), join(src, entry.replace('*.ts', f)));
      } else cpSync(from, join(src, entry.replace(/\/$/, '')), { recursive: true });
    }
    expect(existsSync(join(src, 'dashboards', 'public'))).toBe(false);
    symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
    const pack = await sh('npm', ['pack', '--pack-destination', work], { cwd: src, timeoutMs: 120_000 });
    timings.pack = pack.ms;
    if (pack.code !== 0) throw new Error(`npm pack: ${pack.stderr}`);
    tarball = join(work, `watchfloor-${pkg.version}.tgz`);
    listing = (await sh('tar', ['-tzf', tarball], { cwd: work })).stdout.split('\n').filter(Boolean);

    // A user's project: the registry's metadata with the local cache's tarballs (--prefer-offline).
    project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'wf-install-check', private: true }));
    const install = await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project, timeoutMs: 150_000 });
    timings.install = install.ms;
    if (install.code !== 0) throw new Error(`npm install: ${install.stderr}`);
    writeFileSync(join(project, 'inventory.yaml'), INVENTORY);
    process.stdout.write(`packaging: npm pack ${timings.pack} ms, npm install --prefer-offline ${timings.install} ms\n`);
  }, 280_000);

  it('ships the built UI, the sources, the config and the licence, and no tests, benchmarks or data', () => {
    expect(listing).toContain('package/dashboards/public/index.html');
    expect(listing.some((f) => /^package\/dashboards\/public\/assets\/index-.*\.js$/.test(f))).toBe(true);
    for (const f of ['package/LICENSE', 'package/bin/watchfloor.js', 'package/cli/main.ts', 'package/config/sample-datacenter.yaml', 'package/config/rules.yaml', 'package/rules/sigma/mapping.yaml']) expect(listing).toContain(f);
    expect(listing.filter((f) => /^package\/(test|bench|data|docs|packaging|node_modules)\//.test(f) || f.startsWith('package/dashboards/web/') || f.endsWith('.map'))).toEqual([]);
  });

  it('`npx watchfloor --version` prints the package version', async () => {
    const r = await sh('npx', ['--no', '--', 'watchfloor', '--version'], { cwd: project });
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout]).toEqual([0, `${pkg.version}\n`]);
  }, 60_000);

  // The installed command itself (npx runs the same link, at a second or more of npm's start-up per call).
  const bin = (): string => join(project, 'node_modules', '.bin', 'watchfloor');

  it('`watchfloor config check` answers ok for a good file and names each bad field of a bad one', async () => {
    writeFileSync(join(project, 'good.yaml'), 'dataDir: ./data\ninventory: inventory.yaml\n');
    const good = await sh(bin(), ['config', 'check', 'good.yaml'], { cwd: project });
    expect(good.stdout).toMatch(/^ok: good\.yaml: 1 devices, \d+ rules/);
    expect(good.code).toBe(0);

    writeFileSync(join(project, 'bad.yaml'), [
      'inventory: inventory.yaml',
      'http: { port: 70000 }',
      'notify: { receivers: [{ name: pager }] }',
      'discovery: { allowedCidrs: [10.0.0.0/33] }',
      '',
    ].join('\n'));
    const bad = await sh(bin(), ['config', 'check', 'bad.yaml'], { cwd: project });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    // The file's own schema stops the check first (the sections below depend on it).
    expect(bad.stderr).toMatch(/bad\.yaml: http\.port: Too big/);
    writeFileSync(join(project, 'bad.yaml'), readFileSync(join(project, 'bad.yaml'), 'utf8').replace('http: { port: 70000 }\n', ''));
    const sections = await sh(bin(), ['config', 'check', 'bad.yaml'], { cwd: project });
    expect(sections.code).toBe(1);
    expect(sections.stderr).toMatch(/bad\.yaml: notify\.receivers\.0\.webhook: give exactly one of "webhook"/);
    expect(sections.stderr).toMatch(/bad\.yaml: discovery\.allowedCidrs\.0: "10\.0\.0\.0\/33"/);
    expect(sections.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);

  it('`npx watchfloor start` serves /healthz and the UI from the installed package, and stops on SIGTERM', async () => {
    const trapPort = await freeUdpPort();
    writeFileSync(join(project, 'watchfloor.yaml'), [
      'dataDir: ./data',
      'http: { host: 127.0.0.1, port: 0 }',
      'mqtt: { host: 127.0.0.1, port: 0 }',
      `snmp: { trapPort: ${trapPort} }`,
      'syslog: { udpPort: 0, tcpPort: 0, tlsPort: false }',
      'inventory: inventory.yaml',
      '',
    ].join('\n'));
    // Its own process group: npx and the node it starts get the SIGTERM together, as systemd sends it.
    const child: ChildProcess = spawn('npx', ['--no', '--', 'watchfloor', 'start', '--config', 'watchfloor.yaml'], {
      cwd: project, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WATCHFLOOR_ADMIN_PASSWORD: 'packaged-admin-pass-1' },
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const base = await eventually(() => {
        if (child.exitCode !== null) throw new Error(`watchfloor start exited ${child.exitCode}: ${err}`);
        return /Watchfloor is running: (http:\/\/[\d.]+:\d+)\//.exec(out)?.[1];
      }, 60_000, 100);
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      const index = await fetch(`${base}/`);
      const html = await index.text();
      expect(index.status).toBe(200);
      expect(html).toMatch(/<title>Watchfloor/);
      const script = /src="(\/assets\/index-[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      expect((await fetch(`${base}${script}`)).status).toBe(200);
      const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'packaged-admin-pass-1' }) });
      expect(login.status).toBe(200);
    } finally {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    }
    await exited;
    // The product logs JSON lines to stdout (pino): the stop was heard, and nothing failed on the way down.
    expect(out).toMatch(/"msg":"stopping"/);
    expect(out).not.toMatch(/"level":(50|60)/);
    expect(err).toBe('');
    expect(existsSync(join(project, 'data', 'watchfloor-data.json'))).toBe(true);
  }, 90_000);
});

describe('the licence', () => {
  // Licences that let an Apache-2.0 product ship the package as it is: the permissive ones, and MPL-2.0,
  // whose copyleft covers only its own files (lightningcss, which vite builds the UI's CSS with).
  const COMPATIBLE = new Set(['MIT', 'MIT-0', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', 'Apache-2.0', '0BSD', 'BlueOak-1.0.0', 'MPL-2.0', 'CC0-1.0', 'Unlicense']);
  /** An SPDX expression with OR and AND (no parentheses nested deeper than one level in practice). */
  const fits = (expr: string): boolean => expr.replace(/[()]/g, '').split(/\s+OR\s+/).some((alt) => alt.split(/\s+AND\s+/).every((id) => COMPATIBLE.has(id.trim())));

  it('LICENSE is the Apache License 2.0 that package.json names, and every production dependency\'s licence fits it', () => {
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^\s+Apache License\n\s+Version 2\.0, January 2004/);
    expect((pkg as unknown as { license: string }).license).toBe('Apache-2.0');
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
    const misfits: string[] = [];
    let count = 0;
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '' || entry.dev) continue;
      const file = join(ROOT, path, 'package.json');
      if (!existsSync(file)) {
        if (!entry.optional) misfits.push(`${path}: not installed`);
        continue; // an optional package of another platform
      }
      const p = JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string; license?: string | { type: string }; licenses?: { type: string }[] };
      const licence = typeof p.license === 'string' ? p.license : p.license?.type ?? p.licenses?.map((l) => l.type).join(' OR ') ?? 'none';
      count++;
      if (!fits(licence)) misfits.push(`${p.name}@${p.version}: ${licence}`);
    }
    expect(misfits).toEqual([]);
    expect(count).toBeGreaterThan(100);
  });
});

describe('the systemd unit', () => {
  /** A root for `systemd-analyze --root`: the system's own units, the unit under test and an ExecStart binary. */
  function unitRoot(unitText: string): { root: string; unit: string } {
    const root = mkdtempSync(join(tmpdir(), 'wf-unit-'));
    mkdirSync(join(root, 'usr', 'lib', 'systemd'), { recursive: true });
    cpSync('/usr/lib/systemd/system', join(root, 'usr', 'lib', 'systemd', 'system'), { recursive: true });
    const exec = /^ExecStart=(\S+)/m.exec(unitText)?.[1] as string;
    mkdirSync(join(root, exec, '..'), { recursive: true });
    writeFileSync(join(root, exec), '#!/bin/sh\n', { mode: 0o755 });
    mkdirSync(join(root, 'etc', 'systemd', 'system'), { recursive: true });
    const unit = join(root, 'etc', 'systemd', 'system', 'watchfloor.service');
    writeFileSync(unit, unitText);
    return { root, unit };
  }
  const unitText = readFileSync(join(PACKAGING, 'watchfloor.service'), 'utf8');

  it('passes systemd-analyze verify without a warning, and verify does catch a bad directive', async () => {
    const { root, unit } = unitRoot(unitText);
    const r = await sh('systemd-analyze', ['verify', `--root=${root}`, unit], { cwd: root });
    expect([r.code, r.stderr]).toEqual([0, '']);
    // The oracle says so when a value is wrong (it exits 0 for a mere warning: hence stderr above).
    const broken = unitRoot(unitText.replace('ProtectSystem=strict', 'ProtectSystem=stricter'));
    const b = await sh('systemd-analyze', ['verify', `--root=${broken.root}`, broken.unit], { cwd: broken.root });
    expect(b.stderr).toMatch(/Failed to parse protect system value/);
  });

  it('runs as the watchfloor user with one capability, a read-only system and W+X memory allowed for V8', async () => {
    const directives = new Map<string, string[]>();
    for (const line of unitText.split('\n')) {
      const m = /^(\w+)=(.*)$/.exec(line);
      if (m) directives.set(m[1] as string, [...(directives.get(m[1] as string) ?? []), m[2] as string]);
    }
    const one = (k: string): string | undefined => directives.get(k)?.at(-1);
    expect(one('User')).toBe('watchfloor');
    expect(readFileSync(join(PACKAGING, 'watchfloor.sysusers.conf'), 'utf8')).toMatch(/^u watchfloor - ".*" \/var\/lib\/watchfloor /m);
    expect(one('StateDirectory')).toBe('watchfloor');
    expect(directives.get('Environment')).toContain('WATCHFLOOR_DATA_DIR=/var/lib/watchfloor');
    expect([one('ProtectSystem'), one('ProtectHome'), one('PrivateTmp'), one('NoNewPrivileges'), one('Restart')]).toEqual(['strict', 'yes', 'yes', 'yes', 'on-failure']);
    expect([one('AmbientCapabilities'), one('CapabilityBoundingSet')]).toEqual(['CAP_NET_BIND_SERVICE', 'CAP_NET_BIND_SERVICE']);
    expect(one('SystemCallFilter')).toBe('@system-service');
    expect(one('RestrictAddressFamilies')).toBeDefined();
    expect(directives.has('MemoryDenyWriteExecute')).toBe(false);

    // systemd's own score of the sandbox (0 = locked down, 10 = none): "OK" is below 4.
    const { root, unit } = unitRoot(unitText);
    const s = await sh('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, unit], { cwd: root });
    const level = Number(/Overall exposure level for watchfloor\.service: ([\d.]+)/.exec(s.stdout)?.[1]);
    expect(level).toBeLessThan(3);
  });

  it('the sample config it names validates, with the ports below 1024 it has the capability for', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-etc-'));
    cpSync(join(PACKAGING, 'watchfloor.yaml'), join(dir, 'watchfloor.yaml'));
    cpSync(join(ROOT, 'config', 'sample-datacenter.yaml'), join(dir, 'inventory.yaml'));
    const r = checkConfig(join(dir, 'watchfloor.yaml'), {});
    expect(r.problems).toEqual([]);
    const cfg = parseYaml(readFileSync(join(PACKAGING, 'watchfloor.yaml'), 'utf8')) as { snmp: { trapPort: number }; syslog: { udpPort: number } };
    expect([cfg.snmp.trapPort, cfg.syslog.udpPort]).toEqual([162, 514]);
  });
});

describe('the container image and the compose file of the scaled mode', () => {
  interface Service {
    image?: string;
    build?: { context: string; dockerfile: string };
    depends_on?: Record<string, { condition: string }>;
    environment?: Record<string, string>;
    volumes?: string[];
    ports?: string[];
    healthcheck?: { test: string[] };
    command?: string[] | string;
  }
  const compose = parseYaml(readFileSync(join(PACKAGING, 'compose.yaml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  const dockerfile = readFileSync(join(PACKAGING, 'Dockerfile'), 'utf8');
  const { watchfloor, influxdb, mosquitto } = compose.services as Record<'watchfloor' | 'influxdb' | 'mosquitto', Service>;

  it('has the three services, pinned images, named volumes, health checks, and starts watchfloor after the others are healthy', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['influxdb', 'mosquitto', 'watchfloor']);
    expect(watchfloor.build).toEqual({ context: '..', dockerfile: 'packaging/Dockerfile' });
    expect(existsSync(join(PACKAGING, '..', watchfloor.build?.dockerfile ?? ''))).toBe(true);
    expect(influxdb.image).toMatch(/^influxdb:2\.\d+$/);
    expect(mosquitto.image).toMatch(/^eclipse-mosquitto:2/);
    expect(watchfloor.depends_on).toEqual({ influxdb: { condition: 'service_healthy' }, mosquitto: { condition: 'service_healthy' } });
    for (const s of [watchfloor, influxdb, mosquitto]) expect(s.healthcheck?.test[0]).toBe('CMD');
    const named = (s: Service): string[] => (s.volumes ?? []).map((v) => v.split(':')[0] as string).filter((v) => !v.startsWith('.'));
    expect(named(watchfloor)).toEqual(['watchfloor-data']);
    expect(named(influxdb)).toContain('influxdb-data');
    expect(named(mosquitto)).toEqual(['mosquitto-data']);
    for (const v of [...named(watchfloor), ...named(influxdb), ...named(mosquitto)]) expect(compose.volumes).toHaveProperty(v);
    // Every file mounted from packaging/ exists.
    for (const s of [watchfloor, influxdb, mosquitto]) {
      for (const v of (s.volumes ?? []).filter((x) => x.startsWith('./'))) expect(existsSync(join(PACKAGING, v.split(':')[0] as string)), v).toBe(true);
    }
    // The data volume is where the image keeps its data directory.
    expect(watchfloor.volumes).toContain('watchfloor-data:/var/lib/watchfloor');
    expect(dockerfile).toMatch(/^VOLUME \["\/var\/lib\/watchfloor"\]$/m);
  });

  it('builds from node:20-bookworm-slim, runs as a non-root user, exposes what compose publishes, checks its health', () => {
    expect(dockerfile.match(/^FROM (\S+)/gm)).toEqual(['FROM node:20-bookworm-slim', 'FROM node:20-bookworm-slim']);
    const user = /^USER (\S+)$/m.exec(dockerfile)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)$/);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n\s+CMD .*\/healthz/m);
    const exposed = new Set((/^EXPOSE (.*)$/m.exec(dockerfile)?.[1] ?? '').split(/\s+/));
    for (const p of watchfloor.ports ?? []) {
      const [, container, proto] = /:(\d+)\/(tcp|udp)$/.exec(p) ?? [];
      expect(exposed, p).toContain(`${container}/${proto}`);
    }
  });

  it('gives watchfloor a config that validates, whose broker and InfluxDB accounts are the ones the other services create', () => {
    const mounted = (watchfloor.volumes ?? []).find((v) => v.endsWith(':/etc/watchfloor/watchfloor.yaml:ro'))?.split(':')[0] as string;
    expect(mounted).toBe('./watchfloor-scaled.yaml');
    // The container's /etc/watchfloor: the mounted file and the bundled sample the image copies beside it.
    const etc = mkdtempSync(join(tmpdir(), 'wf-compose-'));
    cpSync(join(PACKAGING, mounted), join(etc, 'watchfloor.yaml'));
    cpSync(join(ROOT, 'config', 'sample-datacenter.yaml'), join(etc, 'inventory.yaml'));
    // Its environment: the image's ENV, then the service's, with compose's ${VAR:?}/${VAR:-default} given values.
    const imageEnv: Record<string, string> = {};
    for (const m of dockerfile.matchAll(/^\s+(WATCHFLOOR_\w+|NODE_ENV)=(\S+)/gm)) imageEnv[m[1] as string] = m[2] as string;
    const serviceEnv = Object.fromEntries(Object.entries(watchfloor.environment ?? {}).map(([k, v]) => [k, v.replace(/\$\{(\w+):[?-]([^}]*)\}/g, (_all, name: string, rest: string) => (name === 'WATCHFLOOR_ADMIN_PASSWORD' ? 'compose-admin-pass' : rest))]));
    const r = checkConfig(join(etc, 'watchfloor.yaml'), { ...imageEnv, ...serviceEnv });
    expect(r.problems).toEqual([]);
    expect(r.summary).toMatch(/store influxdb http:\/\/influxdb:8086/);
    expect(r.summary).toMatch(/external broker mqtt:\/\/mosquitto:1883/);

    const cfg = parseYaml(readFileSync(join(PACKAGING, mounted), 'utf8')) as { mqtt: { external: { username: string; password: string; collector: { username: string; password: string } } }; store: { influxdb: { token: string; org: string; bucket: string } } };
    const influxEnv = influxdb.environment ?? {};
    expect([cfg.store.influxdb.token, cfg.store.influxdb.org, cfg.store.influxdb.bucket]).toEqual([influxEnv.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN, influxEnv.DOCKER_INFLUXDB_INIT_ORG, influxEnv.DOCKER_INFLUXDB_INIT_BUCKET]);
    const mqttEnv = mosquitto.environment ?? {};
    const command = Array.isArray(mosquitto.command) ? mosquitto.command.join(' ') : String(mosquitto.command);
    expect(command).toContain(`passwd ${cfg.mqtt.external.username} "$$MQTT_WATCHFLOOR_PASSWORD"`);
    expect(command).toContain(`passwd ${cfg.mqtt.external.collector.username} "$$MQTT_COLLECTOR_PASSWORD"`);
    expect([mqttEnv.MQTT_WATCHFLOOR_PASSWORD, mqttEnv.MQTT_COLLECTOR_PASSWORD]).toEqual([cfg.mqtt.external.password, cfg.mqtt.external.collector.password]);
    const acl = readFileSync(join(PACKAGING, 'mosquitto.acl'), 'utf8');
    expect(acl).toMatch(new RegExp(`^user ${cfg.mqtt.external.username}\\ntopic read devices/#`, 'm'));
  });

  it('runs Debian Mosquitto 2 with its conf, ACL and password step: watchfloor reads every device through $share, a device only writes its own topics', async () => {
    // The mosquitto service as compose would run it, on this host: its mounts become temp paths, its
    // listeners free loopback ports, its command (with compose's $$ unescaped) the same shell steps.
    const dir = mkdtempSync(join(tmpdir(), 'wf-mosquitto-'));
    mkdirSync(join(dir, 'data'));
    const [port, healthPort] = [await freePort(), await freePort()];
    const paths = new Map<string, string>([['/mosquitto/data', join(dir, 'data')]]);
    for (const v of mosquitto.volumes ?? []) {
      const [from, to] = v.split(':') as [string, string];
      if (from.startsWith('./')) paths.set(to, join(PACKAGING, from));
    }
    const local = (text: string): string => [...paths].sort((a, b) => b[0].length - a[0].length).reduce((t, [to, from]) => t.replaceAll(to, from), text);
    let conf = local(readFileSync(join(PACKAGING, 'mosquitto.conf'), 'utf8')).replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`).replace(/^listener 1880 127\.0\.0\.1$/m, `listener ${healthPort} 127.0.0.1`);
    // As root, Mosquitto would switch to its own user, which cannot read the temp dir.
    if (process.getuid?.() === 0) conf = `user root\n${conf}`;
    writeFileSync(join(dir, 'mosquitto.conf'), conf);
    paths.set('/mosquitto/config/mosquitto.conf', join(dir, 'mosquitto.conf'));
    const command = local((Array.isArray(mosquitto.command) ? mosquitto.command.join(' ') : String(mosquitto.command)).replaceAll('$$', '$'));
    // A device's account, as docs/production.md says to add one (into data/devices; the command merges it).
    const added = await sh('mosquitto_passwd', ['-c', '-b', join(dir, 'data', 'devices'), 's-a01-fm', 'device-pass-1'], { cwd: dir });
    expect(added.code).toBe(0);
    const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, ...mosquitto.environment }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const clients: { endAsync(): Promise<void> }[] = [];
    try {
      await tcpReady(port);
      // The compose health check's own command, on the health listener.
      const health = (mosquitto.healthcheck?.test ?? []).slice(1).map((a) => (a === '1880' ? String(healthPort) : a.replaceAll('$$', '$')));
      const h = await sh(health[0] as string, health.slice(1), { cwd: dir, timeoutMs: 10_000 });
      expect([h.code, h.stderr]).toEqual([0, '']);
      expect(h.stdout).toMatch(/seconds/);

      const cfg = parseYaml(readFileSync(join(PACKAGING, 'watchfloor-scaled.yaml'), 'utf8')) as { mqtt: { external: { username: string; password: string; shareGroup: string; collector: { username: string; password: string } } } };
      const ext = cfg.mqtt.external;
      const ingest = await connectMqtt(port, { username: ext.username, password: ext.password, protocolVersion: 5 });
      clients.push(ingest);
      const got: string[] = [];
      ingest.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
      await ingest.subscribeAsync(`$share/${ext.shareGroup}/devices/+/telemetry`, { qos: 1 });
      await ingest.subscribeAsync('$share/x/devices/+/events', { qos: 1 });

      // The collector account publishes for any device; a device only under its own id.
      const collector = await connectMqtt(port, { username: ext.collector.username, password: ext.collector.password });
      clients.push(collector);
      await collector.publishAsync('devices/s-a01-ft/telemetry', '{"temperature": 24.5}', { qos: 1 });
      const device = await connectMqtt(port, { username: 's-a01-fm', password: 'device-pass-1' });
      clients.push(device);
      await device.publishAsync('devices/s-a01-ft/telemetry', '{"spoofed": 1}', { qos: 1 });
      await device.publishAsync('devices/s-a01-fm/telemetry', '{"temperature": 23}', { qos: 1 });
      await eventually(() => (got.includes('devices/s-a01-ft/telemetry {"temperature": 24.5}') && got.includes('devices/s-a01-fm/telemetry {"temperature": 23}') ? true : undefined), 5000);
      expect(got.filter((g) => g.includes('spoofed'))).toEqual([]);

      // Refusals: no anonymous client on the device listener, a wrong password, a health-listener client reading devices.
      await expect(connectMqtt(port, {})).rejects.toThrow(/Not authorized|Bad username/i);
      await expect(connectMqtt(port, { username: ext.username, password: 'wrong' })).rejects.toThrow(/Not authorized|Bad username/i);
      const peeker = await connectMqtt(healthPort, {});
      clients.push(peeker);
      const peeked: string[] = [];
      peeker.on('message', (topic) => peeked.push(topic));
      await peeker.subscribeAsync('devices/#', { qos: 1 });
      await collector.publishAsync('devices/s-a01-ft/telemetry', '{"temperature": 25}', { qos: 1 });
      await eventually(() => (got.some((g) => g.endsWith('{"temperature": 25}')) ? true : undefined), 5000);
      // Mosquitto routes one message at a time and keeps each connection's order: once the peeker has the
      // retained $SYS answer to a later SUBSCRIBE, a devices/ message routed to it earlier would have come first.
      await peeker.subscribeAsync('$SYS/broker/uptime', { qos: 0 });
      await eventually(() => (peeked.includes('$SYS/broker/uptime') ? true : undefined), 5000);
      expect(peeked.filter((t) => t.startsWith('devices/'))).toEqual([]);
    } finally {
      for (const c of clients) await c.endAsync().catch(() => undefined);
      child.kill('SIGTERM');
    }
    expect(log).not.toMatch(/Error:/);
  }, 30_000);
});
