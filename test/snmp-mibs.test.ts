/*
 * SNMP the user extends (issue 17): MIB files read with net-snmp's own parser, profiles dropped in a
 * folder. Debian's net-snmp tools are the oracles: snmptranslate says what the same MIB files name,
 * snmptrap sends the traps by name, snmpd is the agent a dropped-in profile polls.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../cli/config-check.ts';
import { startWatchfloor, type Watchfloor } from '../cli/index.ts';
import { bundledMibs, builtinProfiles, freeUdpPort, loadMibs, loadProfileSet, matchProfile, type MibLookup } from '../collectors/index.ts';
import { ConfigError, loadConfig, type Logger } from '../core/index.ts';
import { ADMIN_PASSWORD, api, login, smallInventory, type LoggedIn } from './support/start-product.ts';
import { eventually, run } from './support/net.ts';
import { startSnmpd, type Snmpd } from './support/snmpd.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/mibs', import.meta.url));
const BROKEN = join(FIXTURES, 'broken');
const PROFILES = fileURLToPath(new URL('./fixtures/snmp-profiles', import.meta.url));
/** Debian's libsnmp-base: NET-SNMP-* and UCD-* MIBs (SNMP-FRAMEWORK-MIB and the other IETF ones are not shipped). */
const DEBIAN = '/usr/share/snmp/mibs';
/** The SMI modules net-snmp's npm package bundles: Debian's tools need them to read the files above. */
const NPM_MIBS = join(dirname(createRequire(import.meta.url).resolve('net-snmp')), 'lib', 'mibs');
const MIB_PATH = [FIXTURES, NPM_MIBS, DEBIAN].join(':');

interface LogLine {
  level: number;
  msg: string;
  file?: string;
  reason?: string;
}

function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { logger: pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as LogLine) }), lines };
}

/** What net-snmp's C library (snmptranslate -m ALL) makes of names or OIDs, from the same MIB files. */
async function snmptranslate(args: string[]): Promise<string[]> {
  const r = await run('snmptranslate', ['-M', MIB_PATH, '-m', 'ALL', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

describe('MIB files read with net-snmp\'s createModuleStore', () => {
  let mibs: MibLookup;
  beforeAll(() => {
    mibs = loadMibs({ dirs: [FIXTURES, DEBIAN] });
  });

  it('names IF-MIB and SNMPv2-MIB with no file given (the modules net-snmp bundles)', () => {
    const b = bundledMibs();
    expect(b.resolve('IF-MIB::ifHCInOctets')).toMatchObject({ oid: '1.3.6.1.2.1.31.1.1.1.6' });
    expect(b.resolve('ifHCInOctets')).toMatchObject({ oid: '1.3.6.1.2.1.31.1.1.1.6' });
    expect(b.resolve('sysUpTime.0')).toMatchObject({ oid: '1.3.6.1.2.1.1.3.0', instance: '0' });
    const status = b.nameOf('1.3.6.1.2.1.2.2.1.8.3');
    expect(status?.text).toBe('IF-MIB::ifOperStatus.3');
    expect(b.label(status?.object, 2)).toBe('down');
    expect(b.label(status?.object, 99)).toBeUndefined();
    expect(b.notification('1.3.6.1.6.3.1.1.5.3')).toMatchObject({ module: 'IF-MIB', name: 'linkDown', objects: ['ifIndex', 'ifAdminStatus', 'ifOperStatus'] });
    expect(b.files).toEqual([]);
    expect(b.problems).toEqual([]);
  });

  it('turns names into the OIDs Debian\'s snmptranslate gives, for a vendor MIB, an SMIv1 MIB and Debian\'s UCD-SNMP-MIB', async () => {
    const names = [
      'WATCHFLOOR-TEST-MIB::wfChillerState', 'WATCHFLOOR-TEST-MIB::wfSensorEntry', 'WATCHFLOOR-TEST-MIB::wfSensorSeverity', 'WATCHFLOOR-TEST-MIB::wfSensorAlarm',
      'WATCHFLOOR-TEST-V1-MIB::wfDoorPosition', 'WATCHFLOOR-TEST-V1-MIB::wfDoorForced',
      'UCD-SNMP-MIB::memTotalReal', 'UCD-SNMP-MIB::prErrorFlag', 'UCD-SNMP-MIB::ucdShutdown', 'UCD-SNMP-MIB::laLoadInt', 'NET-SNMP-TC::linux', 'IF-MIB::ifHCInOctets',
    ];
    const oracle = await snmptranslate(['-On', ...names]);
    expect(oracle).toHaveLength(names.length);
    expect(names.map((n) => `.${(mibs.resolve(n) as { oid: string }).oid}`)).toEqual(oracle);
  });

  it('names OIDs by their longest defined prefix as snmptranslate does, instance kept', async () => {
    const oids = ['1.3.6.1.4.1.99999.42.1.3.1.3.2', '1.3.6.1.4.1.99999.42.1.1.0', '1.3.6.1.4.1.2021.2.1.100.1', '1.3.6.1.4.1.2021.4.5.0', '1.3.6.1.4.1.99999.43.1.0'];
    const oracle = await snmptranslate(oids.map((o) => `.${o}`));
    expect(oids.map((o) => mibs.nameOf(o)?.text)).toEqual(oracle);
    expect(mibs.nameOf('1.3.6.1.4.1.99999.42.1.3.1.3.2')).toMatchObject({ instance: '2', object: { kind: 'column' } });
  });

  it('reads enumerations by name, through TEXTUAL-CONVENTIONs too, as snmptranslate -Td lists them', async () => {
    for (const name of ['WATCHFLOOR-TEST-MIB::wfChillerState', 'WATCHFLOOR-TEST-MIB::wfSensorSeverity', 'UCD-SNMP-MIB::prErrorFlag', 'WATCHFLOOR-TEST-V1-MIB::wfDoorPosition']) {
      const td = (await snmptranslate(['-Td', name])).find((l) => l.startsWith('SYNTAX'));
      const oracle = [...(td ?? '').matchAll(/([A-Za-z][A-Za-z0-9-]*)\((-?\d+)\)/g)].map((m) => [Number(m[2]), m[1]]);
      const ours = (mibs.resolve(name) as { object: { enumeration?: Map<number, string> } }).object.enumeration;
      expect(oracle.length, name).toBeGreaterThan(1);
      expect([...(ours ?? [])], name).toEqual(oracle);
    }
    const severity = mibs.resolve('wfSensorSeverity') as { object: Parameters<MibLookup['label']>[0] };
    expect(mibs.label(severity.object, 4)).toBe('major');
    expect(mibs.valueOf(severity.object, 'critical')).toBe(5);
  });

  it('knows an SMIv1 TRAP-TYPE by enterprise.0.specific and an SMIv2 notification in its v1 form (RFC 3584 §3)', () => {
    expect(mibs.notification('1.3.6.1.4.1.99999.43.0.7')).toMatchObject({ module: 'WATCHFLOOR-TEST-V1-MIB', name: 'wfDoorForced', objects: ['wfDoorPosition'] });
    expect(mibs.notification('1.3.6.1.4.1.2021.251.2')).toMatchObject({ module: 'UCD-SNMP-MIB', name: 'ucdShutdown' });
    expect(mibs.notification('1.3.6.1.4.1.2021.251.0.2')).toMatchObject({ name: 'ucdShutdown' });
    expect(mibs.notification('1.3.6.1.4.1.99999.42.1.1')).toBeUndefined(); // an object, not a notification
  });

  it('an unknown or ambiguous name is an error that says which, never an OID made up', () => {
    expect(mibs.resolve('UCD-SNMP-MIB::memTotalRael')).toEqual({ error: 'unknown MIB name "UCD-SNMP-MIB::memTotalRael": module UCD-SNMP-MIB defines no "memTotalRael"' });
    expect(mibs.resolve('CISCO-ENVMON-MIB::ciscoEnvMonTemperatureStatusValue')).toMatchObject({ error: expect.stringContaining('no loaded MIB is module CISCO-ENVMON-MIB (its file goes in snmp.mibsDir)') });
    expect(mibs.resolve('noSuchThing')).toMatchObject({ error: expect.stringContaining('no loaded MIB defines it') });
    expect(mibs.resolve('1.3.x')).toMatchObject({ error: expect.stringContaining('neither a dotted OID nor a MIB name') });
  });

  it('a broken MIB file is one log line naming it and why; the files after it still load', () => {
    const { logger, lines } = capturingLogger();
    // The broken folder first: a file that failed must not fail every later load (net-snmp recompiles what it holds).
    const m = loadMibs({ dirs: [BROKEN, FIXTURES, DEBIAN], logger });
    const refused = (file: string): LogLine | undefined => lines.find((l) => l.level === 50 && l.file?.endsWith(`/${file}`));
    expect(refused('CUT-SHORT-MIB.txt')?.msg).toBe('MIB file CUT-SHORT-MIB.txt not loaded: no END at the end of the module: the file is cut short or malformed');
    expect(refused('MISSING-IMPORT-MIB.txt')?.reason).toMatch(/^it imports NO-SUCH-VENDOR-SMI, which no loaded MIB file defines/);
    expect(refused('README.txt')?.reason).toContain('no MIB module in it');
    expect(refused('firmware.bin')?.reason).toBe('not a text file');
    // Debian's own NET-SNMP-AGENT-MIB needs SNMP-FRAMEWORK-MIB, which Debian does not ship.
    expect(refused('NET-SNMP-AGENT-MIB.txt')?.reason).toMatch(/^it imports SNMP-FRAMEWORK-MIB, which no loaded MIB file defines/);
    // UCD-SNMP-MIB loads without HCNUM-TC (only a type comes from there), with a warning.
    expect(lines.find((l) => l.level === 40 && l.file?.endsWith('/UCD-SNMP-MIB.txt'))?.reason).toContain('HCNUM-TC');
    expect(m.files.map((f) => f.module)).toEqual(expect.arrayContaining(['WATCHFLOOR-TEST-MIB', 'WATCHFLOOR-TEST-V1-MIB', 'NET-SNMP-MIB', 'NET-SNMP-TC', 'UCD-SNMP-MIB']));
    expect(m.modules).not.toContain('CUT-SHORT-MIB');
    expect(m.modules).not.toContain('MISSING-IMPORT-MIB');
    expect(m.resolve('wfSensorAlarm')).toMatchObject({ oid: '1.3.6.1.4.1.99999.42.0.1' });
    expect(lines.find((l) => l.msg === 'MIB files loaded')).toMatchObject({ refused: m.problems.filter((p) => !p.loaded).length });
  });

  it('a file of a module already loaded (a copy of IF-MIB) is skipped with a line, the bundled one kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-mibs-dup-'));
    copyFileSync(join(NPM_MIBS, 'IF-MIB.mib'), join(dir, 'IF-MIB.txt'));
    const m = loadMibs({ dirs: [dir] });
    expect(m.problems).toEqual([{ file: join(dir, 'IF-MIB.txt'), loaded: false, reason: 'module IF-MIB is already loaded from net-snmp (bundled); this file is skipped' }]);
    expect(m.resolve('IF-MIB::ifHCInOctets')).toMatchObject({ oid: '1.3.6.1.2.1.31.1.1.1.6' });
  });
});

describe('profiles that name what they read', () => {
  const mibs = loadMibs({ dirs: [FIXTURES, DEBIAN] });
  const userDir = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-profiles-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  const failure = (dir: string): ConfigError => {
    try {
      loadProfileSet({ dir, mibs });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('the profiles loaded');
  };

  it('resolves names at load: a scalar gains .0, a table name stands for its entry, columns and enumerations by name', () => {
    const { logger, lines } = capturingLogger();
    const set = loadProfileSet({ dir: PROFILES, mibs, logger });
    const ucd = set.modules['ucd-processes'];
    expect(ucd?.scalars[0]).toMatchObject({ oid: '1.3.6.1.4.1.2021.4.5.0' });
    expect(ucd?.tables[0]).toMatchObject({ entry: '1.3.6.1.4.1.2021.2.1', label: { column: 2 }, metrics: [{ column: 5 }, { column: 100, map: { '0': 1, '1': 0 } }] });
    expect(ucd?.tables[1]).toMatchObject({ entry: '1.3.6.1.4.1.2021.2.1', filter: { column: 100, in: [1] } });
    const profile = matchProfile(set, '1.3.6.1.4.1.8072.3.2.10');
    expect(profile).toMatchObject({ name: 'net-snmp-host', match: ['1.3.6.1.4.1.8072.3.2.10'], modules: ['host-resources', 'ucd-processes'] });
    // The bundled profile of that name is replaced, and a log line says so; the other bundled ones stay.
    expect(set.profiles.filter((p) => p.name === 'net-snmp-host')).toHaveLength(1);
    expect(set.profiles.map((p) => p.name)).toEqual(expect.arrayContaining(builtinProfiles().profiles.map((p) => p.name)));
    expect(lines.map((l) => l.msg)).toContain('SNMP profile "net-snmp-host" from linux-ucd.yaml replaces the bundled one');
    expect(builtinProfiles().profiles.find((p) => p.name === 'net-snmp-host')?.match).toEqual(['1.3.6.1.4.1.8072.3.2']);
  });

  it('an unknown name is a ConfigError naming the file, the field and the name', () => {
    const dir = userDir({ 'typo.yaml': 'modules:\n  m:\n    scalars:\n      - { metric: mem, oid: UCD-SNMP-MIB::memTotalRael }\nprofiles:\n  - { name: p, match: [1.3.6.1.4.1.8072.3.2.10], modules: [m] }\n' });
    const e = failure(dir);
    expect(e.file).toBe(join(dir, 'typo.yaml'));
    expect(e.issues).toEqual(['modules.m.scalars.0.oid: unknown MIB name "UCD-SNMP-MIB::memTotalRael": module UCD-SNMP-MIB defines no "memTotalRael"']);
  });

  it('a column of another table, an enumeration value that is not there and an unknown module are errors at their fields', () => {
    const dir = userDir({
      'bad.yaml': [
        'modules:',
        '  m:',
        '    tables:',
        '      - name: prTable',
        '        entry: UCD-SNMP-MIB::prTable',
        '        metrics:',
        '          - { metric: a, column: ifHCInOctets }',
        '          - { metric: b, column: prErrorFlag, map: { broken: 1 } }',
        '        filter: { column: prErrorFlag, in: [eror] }',
        '    scalars:',
        '      - { metric: c, oid: IF-MIB::ifHCInOctets }',
        'profiles:',
        '  - { name: p, match: [NET-SNMP-TC::linux], modules: [m, nope] }',
        '',
      ].join('\n'),
    });
    const e = failure(dir);
    expect(e.file).toBe(join(dir, 'bad.yaml'));
    expect(e.issues).toEqual([
      'modules.m.scalars.0.oid: IF-MIB::ifHCInOctets is a table column: read it in a table (entry and column) or name one instance (IF-MIB::ifHCInOctets.1)',
      'modules.m.tables.0.filter.in.0: "eror" is no value of UCD-SNMP-MIB::prErrorFlag (noError(0), error(1))',
      'modules.m.tables.0.metrics.0.column: ifHCInOctets (1.3.6.1.2.1.31.1.1.1.6) is not a column of this table\'s entry 1.3.6.1.4.1.2021.2.1',
      'modules.m.tables.0.metrics.1.map.broken: "broken" is no value of UCD-SNMP-MIB::prErrorFlag (noError(0), error(1))',
    ]);
    const unknownModule = failure(userDir({ 'p.yaml': 'profiles:\n  - { name: p, match: [NET-SNMP-TC::linux], modules: [nope] }\n' }));
    expect(unknownModule.issues[0]).toMatch(/^profiles\.0\.modules\.0: unknown module "nope" \(known: host-resources, /);
  });

  it('watchfloor config check lists a bad profile by file and field; a broken MIB is no reason to refuse the config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-check-'));
    mkdirSync(join(dir, 'snmp-profiles'));
    mkdirSync(join(dir, 'mibs'));
    copyFileSync(join(BROKEN, 'CUT-SHORT-MIB.txt'), join(dir, 'mibs', 'CUT-SHORT-MIB.txt'));
    writeFileSync(join(dir, 'snmp-profiles', 'x.yaml'), 'profiles:\n  - { name: x, match: [wfTestMIB], modules: [] }\n');
    writeFileSync(join(dir, 'config.yaml'), `inventory: ${JSON.stringify(smallInventory)}\n`);
    const r = checkConfig(join(dir, 'config.yaml'), {});
    expect(r.problems).toEqual([`${join(dir, 'snmp-profiles', 'x.yaml')}: profiles.0.match.0: unknown MIB name "wfTestMIB": no loaded MIB defines it (its file goes in snmp.mibsDir)`]);
    // With the vendor's MIB beside it, the name resolves; the cut-short file beside it does not matter.
    copyFileSync(join(FIXTURES, 'WATCHFLOOR-TEST-MIB.txt'), join(dir, 'mibs', 'WATCHFLOOR-TEST-MIB.txt'));
    expect(checkConfig(join(dir, 'config.yaml'), {})).toMatchObject({ ok: true, warnings: [`${join(dir, 'mibs', 'CUT-SHORT-MIB.txt')}: MIB file CUT-SHORT-MIB.txt not loaded: no END at the end of the module: the file is cut short or malformed`] });
  });

  it('watchfloor config check lists each broken MIB file with its reason as a warning, exit code 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-check-mibs-'));
    mkdirSync(join(dir, 'mibs'));
    for (const f of ['CUT-SHORT-MIB.txt', 'MISSING-IMPORT-MIB.txt']) copyFileSync(join(BROKEN, f), join(dir, 'mibs', f));
    copyFileSync(join(FIXTURES, 'WATCHFLOOR-TEST-MIB.txt'), join(dir, 'mibs', 'WATCHFLOOR-TEST-MIB.txt'));
    writeFileSync(join(dir, 'config.yaml'), `inventory: ${JSON.stringify(smallInventory)}\n`);
    const r = await run(process.execPath, ['bin/watchfloor.js', 'config', 'check', join(dir, 'config.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: /);
    expect(r.stdout).toContain('warning: ' + join(dir, 'mibs', 'CUT-SHORT-MIB.txt') + ': MIB file CUT-SHORT-MIB.txt not loaded: no END');
    expect(r.stdout).toMatch(/warning: .*MISSING-IMPORT-MIB\.txt: MIB file MISSING-IMPORT-MIB\.txt not loaded: it imports NO-SUCH-VENDOR-SMI/);
    expect(r.stdout).not.toContain('WATCHFLOOR-TEST-MIB.txt');
    expect(r.stdout).toMatch(/2 warnings: start runs with them.*exit code stays 0/);
  });
});

describe('snmp.profilesDir and snmp.mibsDir in the config', () => {
  it('default to snmp-profiles/ and mibs/ beside the config file when they exist, else none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-snmp-dirs-'));
    writeFileSync(join(dir, 'config.yaml'), `inventory: ${JSON.stringify(smallInventory)}\n`);
    const none = loadConfig(join(dir, 'config.yaml'), {}).config.snmp;
    expect([none.profilesDir, none.mibsDir]).toEqual([undefined, undefined]);
    mkdirSync(join(dir, 'snmp-profiles'));
    mkdirSync(join(dir, 'mibs'));
    expect(loadConfig(join(dir, 'config.yaml'), {}).config.snmp).toMatchObject({ profilesDir: join(dir, 'snmp-profiles'), mibsDir: [join(dir, 'mibs')] });
  });

  it('resolve relative to the config file; a folder named but missing is a ConfigError naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-snmp-dirs-'));
    mkdirSync(join(dir, 'vendor-mibs'));
    writeFileSync(join(dir, 'config.yaml'), `snmp: { mibsDir: [vendor-mibs, ${DEBIAN}] }\ninventory: ${JSON.stringify(smallInventory)}\n`);
    expect(loadConfig(join(dir, 'config.yaml'), {}).config.snmp.mibsDir).toEqual([join(dir, 'vendor-mibs'), DEBIAN]);
    writeFileSync(join(dir, 'config.yaml'), `snmp: { profilesDir: ./nowhere }\ninventory: ${JSON.stringify(smallInventory)}\n`);
    expect(() => loadConfig(join(dir, 'config.yaml'), {})).toThrow(ConfigError);
    expect(checkConfig(join(dir, 'config.yaml'), {}).problems).toEqual([`${join(dir, 'config.yaml')}: snmp.profilesDir: no such folder: ${join(dir, 'nowhere')}`]);
  });
});

/**
 * The product, configured from a file: a `snmp-profiles/` folder beside it holding linux-ucd.yaml,
 * `snmp.mibsDir` naming the vendor MIB folder, Debian's MIBs and a folder of broken files. Debian's
 * snmpd is the polled device and the trap sender's address.
 */
describe('the product with a dropped-in profile and MIB files', () => {
  let app: Watchfloor;
  let snmpd: Snmpd;
  let base = '';
  let session: LoggedIn;
  let trapPort = 0;
  const { logger, lines } = capturingLogger();
  const community = 'wf-mibs-comm';

  beforeAll(async () => {
    snmpd = await startSnmpd({ community, lines: ['proc wf-missing-daemon', 'proc snmpd'] });
    trapPort = await freeUdpPort();
    const dir = mkdtempSync(join(tmpdir(), 'wf-snmp-ext-'));
    mkdirSync(join(dir, 'snmp-profiles'));
    copyFileSync(join(PROFILES, 'linux-ucd.yaml'), join(dir, 'snmp-profiles', 'linux-ucd.yaml'));
    const inventory = {
      ...smallInventory,
      devices: [...(smallInventory.devices ?? []), { id: 'linux-1', kind: 'server', location: { rack: 'A01', u: 10 }, snmp: { host: '127.0.0.1', port: snmpd.port, version: '2c', community, intervalSeconds: 1 } }],
    };
    const config = {
      dataDir: join(dir, 'data'), http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, store: { flushIntervalMs: 50 },
      snmp: { trapPort, mibsDir: [FIXTURES, DEBIAN, BROKEN] }, inventory,
    };
    writeFileSync(join(dir, 'watchfloor.yaml'), JSON.stringify(config));
    const loaded = loadConfig(join(dir, 'watchfloor.yaml'), {});
    app = await startWatchfloor({ config: loaded.config, inventory: loaded.inventory, logger, adminPassword: ADMIN_PASSWORD });
    base = `http://127.0.0.1:${app.httpPort}`;
    session = await login(base);
  });
  afterAll(async () => {
    await app?.stop();
    await snmpd?.stop();
  });

  const latest = async (metric: string): Promise<number | undefined> => {
    const r = await api(base, session, `/api/v1/metrics/latest?device=linux-1&metric=${encodeURIComponent(metric)}`);
    const body = r.body as { value?: number }[] | { value?: number };
    return r.status === 200 ? (Array.isArray(body) ? body[0] : body)?.value : undefined;
  };
  const event = async (type: string): Promise<Record<string, unknown>> => {
    const list = async (): Promise<Record<string, unknown>[]> => (await api(base, session, `/api/v1/events?device=linux-1&type=${type}`)).body as Record<string, unknown>[];
    const [e] = await eventually(async () => ((await list()).length > 0 ? list() : undefined), 10_000, 100);
    return e as Record<string, unknown>;
  };
  const snmptrap = async (args: string[]): Promise<void> => {
    const r = await run('snmptrap', ['-M', MIB_PATH, '-m', 'ALL', '-c', community, ...args]);
    expect(r.code, r.stderr).toBe(0);
  };

  it('started though a MIB folder holds broken files, and said which', () => {
    expect(lines.find((l) => l.file?.endsWith('/CUT-SHORT-MIB.txt'))).toMatchObject({ level: 50, msg: expect.stringContaining('CUT-SHORT-MIB.txt not loaded') });
    expect(lines.map((l) => l.msg)).toContain('SNMP profile "net-snmp-host" from linux-ucd.yaml replaces the bundled one');
  });

  it('polls snmpd with the dropped-in profile: values by MIB name, an enumeration mapped by name', async () => {
    const oracle = await run('snmpget', ['-v', '2c', '-c', community, '-On', '-Oqv', `127.0.0.1:${snmpd.port}`, '1.3.6.1.4.1.2021.4.5.0']);
    expect(await eventually(() => latest('mem_total_real_kb'), 20_000, 200)).toBe(Number(oracle.stdout.trim()));
    // prErrorFlag: error(1) for the process that is not running, noError(0) for snmpd, mapped noError -> 1, error -> 0.
    expect(await eventually(() => latest('proc_running.wf_missing_daemon'), 20_000, 200)).toBe(0);
    expect(await eventually(() => latest('proc_running.snmpd'), 20_000, 200)).toBe(1);
    expect(await latest('proc_count.wf_missing_daemon')).toBe(0);
    // The table filtered by `in: [error]` keeps only the failing process's row.
    expect(await eventually(() => latest('proc_failing.wf_missing_daemon'), 20_000, 200)).toBe(0);
    expect(await latest('proc_failing.snmpd')).toBeUndefined();
    // The bundled module the profile also names still reads HOST-RESOURCES-MIB.
    expect(await eventually(() => latest('mem_used_pct'), 20_000, 200)).toBeGreaterThan(0);
  });

  it('a vendor NOTIFICATION-TYPE sent by snmptrap arrives with its name, its objects named and enumerations read by name', async () => {
    await snmptrap(['-v', '2c', `127.0.0.1:${trapPort}`, '', 'WATCHFLOOR-TEST-MIB::wfSensorAlarm',
      'WATCHFLOOR-TEST-MIB::wfSensorName.2', 's', 'condenser inlet', 'WATCHFLOOR-TEST-MIB::wfSensorSeverity.2', 'i', '4', 'WATCHFLOOR-TEST-MIB::wfChillerState.0', 'i', '3']);
    const e = await event('wfSensorAlarm');
    expect(e).toMatchObject({
      device: 'linux-1', type: 'wfSensorAlarm', severity: 'info',
      attributes: {
        trapName: 'WATCHFLOOR-TEST-MIB::wfSensorAlarm', trapOid: '1.3.6.1.4.1.99999.42.0.1', version: '2c',
        wfSensorName: 'condenser inlet', wfSensorSeverity: 'major', wfChillerState: 'failed',
        varbinds: { 'WATCHFLOOR-TEST-MIB::wfSensorName.2': 'condenser inlet', 'WATCHFLOOR-TEST-MIB::wfSensorSeverity.2': 'major', 'WATCHFLOOR-TEST-MIB::wfChillerState.0': 'failed' },
      },
    });
    expect(await api(base, session, '/api/v1/events?device=linux-1&type=snmp_trap').then((r) => r.body)).toEqual([]);
  });

  it('an SNMPv1 TRAP-TYPE (enterprise wfDoor, specific 7) arrives as wfDoorForced', async () => {
    await snmptrap(['-v', '1', `127.0.0.1:${trapPort}`, 'WATCHFLOOR-TEST-V1-MIB::wfDoor', '127.0.0.1', '6', '7', '', 'WATCHFLOOR-TEST-V1-MIB::wfDoorPosition.0', 'i', '3']);
    expect(await event('wfDoorForced')).toMatchObject({ attributes: { trapName: 'WATCHFLOOR-TEST-V1-MIB::wfDoorForced', trapOid: '1.3.6.1.4.1.99999.43.0.7', version: '1', wfDoorPosition: 'forced' } });
  });

  it('Debian\'s UCD-SNMP-MIB names ucdShutdown; a varbind the notification does not declare is named in varbinds only', async () => {
    await snmptrap(['-v', '2c', `127.0.0.1:${trapPort}`, '', 'UCD-SNMP-MIB::ucdShutdown', 'UCD-SNMP-MIB::memSwapError.0', 'i', '1']);
    const e = await event('ucdShutdown');
    expect(e).toMatchObject({ attributes: { trapName: 'UCD-SNMP-MIB::ucdShutdown', varbinds: { 'UCD-SNMP-MIB::memSwapError.0': 'error' } } });
    expect((e.attributes as Record<string, unknown>).memSwapError).toBeUndefined();
  });

  it('a standard trap keeps its KNOWN_TRAPS severity and numeric fields; an unknown one stays snmp_trap with raw OIDs', async () => {
    await snmptrap(['-v', '2c', `127.0.0.1:${trapPort}`, '', 'IF-MIB::linkDown', 'IF-MIB::ifIndex.4', 'i', '4', 'IF-MIB::ifAdminStatus.4', 'i', '1', 'IF-MIB::ifOperStatus.4', 'i', '2']);
    expect(await event('linkDown')).toMatchObject({ severity: 'major', attributes: { trapName: 'IF-MIB::linkDown', ifIndex: 4, ifAdminStatus: 1, ifOperStatus: 2 } });
    await snmptrap(['-v', '2c', `127.0.0.1:${trapPort}`, '', '1.3.6.1.4.1.99999.77.0.1', '1.3.6.1.4.1.99999.77.1.0', 'i', '5']);
    const unknown = await event('snmp_trap');
    expect(unknown).toMatchObject({ severity: 'info', attributes: { trapOid: '1.3.6.1.4.1.99999.77.0.1', varbinds: { '1.3.6.1.4.1.99999.77.1.0': 5 } } });
    expect((unknown.attributes as Record<string, unknown>).trapName).toBeUndefined();
  });
});
