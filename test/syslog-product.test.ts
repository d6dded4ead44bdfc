/*
 * Syslog in the running product (issue 15): Debian util-linux `logger` sends over UDP, TCP (octet
 * counting and newline framing), RFC 3164 and RFC 5424; the lines come back from GET /api/v1/logs
 * mapped to their devices; an sshd brute force becomes a security alert over socket.io with its Sigma
 * facts and evidence ids; an unknown sender raises one security event per window; bad input is
 * counted on /metrics per reason. The whole product on loopback.
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatchfloor, type Watchfloor } from '../cli/index.ts';
import { mayPublish } from '../broker/index.ts';
import { freeUdpPort, startMqttIngest, SyslogCollector, type MessageSource } from '../collectors/index.ts';
import { Config, Estate, Inventory, silentLogger, systemClock, type Alert, type LogLine, type SecurityEvent } from '../core/index.ts';
import { loadRules, RuleEngine, type Detection } from '../rules/index.ts';
import type { StoredLog } from '../store/index.ts';
import { ADMIN_PASSWORD, api, login, smallInventory, type LoggedIn } from './support/start-product.ts';

const run = promisify(execFile);

/** The inventory: the small estate, a server named as this machine (logger's HOSTNAME), a switch known by its address later. */
const inventory = Inventory.parse({
  ...smallInventory,
  devices: [
    ...(smallInventory.devices ?? []),
    { id: 'web-1', name: hostname(), kind: 'server', location: { rack: 'A01', u: 10 } },
  ],
});

let app: Watchfloor;
let base = '';
let dataDir = '';
let admin: LoggedIn;
let ports: { udp?: number; tcp?: number; tls?: number } = {};
let socket: Socket;
const alerts: Alert[] = [];

async function logger(args: string[], message: string): Promise<void> {
  await run('logger', ['-n', '127.0.0.1', ...args, message]);
}
const udp = (extra: string[] = []): string[] => ['--udp', '-P', String(ports.udp), ...extra];
const tcp = (extra: string[] = []): string[] => ['--tcp', '-P', String(ports.tcp), ...extra];

async function logs(query: string): Promise<{ logs: StoredLog[]; total: number }> {
  const r = await api(base, admin, `/api/v1/logs?${query}`);
  expect(r.status).toBe(200);
  return r.body as { logs: StoredLog[]; total: number };
}

/** Polls until `check` passes (the log store writes every 200 ms). */
async function eventually<T>(fn: () => Promise<T>, check: (v: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (check(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function metric(name: string, labels = ''): Promise<number> {
  const r = await api(base, admin, '/metrics');
  const line = String(r.body).split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? Number.NaN : Number(line.split(' ').pop());
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'wf-syslog-product-'));
  const config = Config.parse({
    dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, snmp: { trapPort: await freeUdpPort() },
    store: { flushIntervalMs: 50 }, syslog: { udpPort: 0, tcpPort: 0, tlsPort: 0 },
  });
  app = await startWatchfloor({ config, inventory, logger: silentLogger, adminPassword: ADMIN_PASSWORD });
  base = `http://127.0.0.1:${app.httpPort}`;
  const syslog = app.collectors.find((c): c is SyslogCollector => c instanceof SyslogCollector);
  if (!syslog) throw new Error('no syslog collector');
  ports = syslog.ports;
  admin = await login(base);
  socket = io(base, { extraHeaders: { cookie: admin.cookie }, transports: ['websocket'] });
  socket.on('alert', (a: Alert) => alerts.push(a));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}, 60_000);

afterAll(async () => {
  socket?.close();
  await app?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('syslog into the product', () => {
  it('listens on UDP, TCP and TLS (a certificate made by openssl when none is configured)', () => {
    expect(ports.udp).toBeGreaterThan(0);
    expect(ports.tcp).toBeGreaterThan(0);
    expect(ports.tls).toBeGreaterThan(0);
  });

  it('stores logger lines over UDP and TCP, RFC 3164 and 5424, octet counting and newlines, mapped by hostname', async () => {
    await logger(udp(['--rfc3164', '-t', 'p1app', '-p', 'daemon.warning']), 'udp-3164-marker one');
    await logger(udp(['--rfc5424', '-t', 'p1app', '--msgid', 'M1', '--sd-id', 'origin@32473', '--sd-param', 'software="p1"']), 'udp-5424-marker two');
    await logger(tcp(['--octet-count', '--rfc5424', '-t', 'p1app']), 'tcp-octet-marker three');
    await logger(tcp(['--rfc3164', '-t', 'p1app']), 'tcp-newline-marker four');
    const r = await eventually(() => logs('program=p1app'), (v) => v.total >= 4);
    expect(r.total).toBe(4);
    const by = (m: string): StoredLog => r.logs.find((l) => l.message.includes(m)) as StoredLog;
    for (const m of ['udp-3164-marker', 'udp-5424-marker', 'tcp-octet-marker', 'tcp-newline-marker']) {
      expect(by(m), m).toBeDefined();
      expect(by(m).device, m).toBe('web-1');
      expect(by(m).host.toLowerCase()).toBe(hostname().toLowerCase());
      expect(by(m).fields['watchfloor.sender']).toBe('127.0.0.1');
    }
    expect(by('udp-3164-marker')).toMatchObject({ facility: 'daemon', severity: 'warning' });
    expect(by('udp-5424-marker').fields).toMatchObject({ msgid: 'M1', 'sd.origin@32473.software': 'p1' });
    // q is full text: one word of the message finds its line.
    expect((await logs('q=tcp-octet-marker')).logs.map((l) => l.id)).toEqual([by('tcp-octet-marker').id]);
    expect((await logs('device=web-1&program=p1app')).total).toBe(4);
  });

  it('keeps an unknown sender, marked, and raises exactly one security event for it in the window', async () => {
    const before = await api(base, admin, '/api/v1/security-events');
    const count = (b: unknown): number => (b as { events?: SecurityEvent[] }).events?.filter((e) => e.type === 'syslog_unknown_sender').length ?? (b as SecurityEvent[]).filter?.((e) => e.type === 'syslog_unknown_sender').length ?? 0;
    const n0 = count(before.body);
    // nohost: the line names no HOSTNAME, so the sender is its address, 127.0.0.1, which no device has yet.
    for (let i = 0; i < 3; i++) await logger(udp(['--rfc5424=nohost', '-t', 'p1stranger']), `stranger-marker ${i}`);
    const r = await eventually(() => logs('program=p1stranger'), (v) => v.total >= 3);
    expect(r.total).toBe(3);
    for (const l of r.logs) {
      expect(l.device).toBeUndefined();
      expect(l.fields['watchfloor.unknown_sender']).toBe('true');
    }
    const after = await eventually(() => api(base, admin, '/api/v1/security-events'), (v) => count(v.body) > n0);
    expect(count(after.body) - n0).toBe(1);
    const ev = ((after.body as { events?: SecurityEvent[] }).events ?? (after.body as SecurityEvent[])).find((e) => e.type === 'syslog_unknown_sender');
    expect(ev).toMatchObject({ origin: 'syslog', source: '127.0.0.1' });
    expect(await metric('watchfloor_syslog_unknown_sender_lines_total')).toBeGreaterThanOrEqual(3);
  });

  it('maps a sender by the addresses of a device registered at run time', async () => {
    const reg = await api(base, admin, '/api/v1/devices', { method: 'POST', body: { id: 'sw-9', kind: 'switch', location: { rack: 'A01', u: 40 }, addresses: ['127.0.0.1'] } });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    await logger(tcp(['--octet-count', '--rfc5424=nohost', '-t', 'p1known']), 'known-by-address-marker');
    const r = await eventually(() => logs('program=p1known'), (v) => v.total >= 1);
    expect(r.logs[0]?.device).toBe('sw-9');
    expect(r.logs[0]?.fields['watchfloor.unknown_sender']).toBeUndefined();
  });

  it('raises nothing on ordinary lines: cron, systemd, one failed password', async () => {
    const n = alerts.length;
    await logger(udp(['--rfc3164', '-t', 'CRON', '--id=4242', '-p', 'cron.info']), '(root) CMD (/usr/lib/sysstat/debian-sa1 1 1)');
    await logger(udp(['--rfc3164', '-t', 'systemd', '--id=1', '-p', 'daemon.info']), 'Started session-42.scope - Session 42 of User deploy.');
    await logger(udp(['--rfc3164', '-t', 'sshd', '--id=999', '-p', 'authpriv.info']), 'Failed password for deploy from 10.20.0.5 port 50000 ssh2');
    await eventually(() => logs('q=deploy'), (v) => v.total >= 2);
    await new Promise((r) => setTimeout(r, 500));
    expect(alerts.slice(n).filter((a) => a.rule.startsWith('sigma:'))).toEqual([]);
  });

  it('turns an sshd brute force into a security alert over socket.io with source, user, host, Sigma id, level, ATT&CK and evidence', async () => {
    for (let i = 0; i < 6; i++) {
      await logger(tcp(['--octet-count', '--rfc3164', '-t', 'sshd', `--id=${3000 + i}`, '-p', 'authpriv.info']), `Failed password for root from 203.0.113.77 port ${40000 + i} ssh2`);
    }
    const until = Date.now() + 15_000;
    let alert: Alert | undefined;
    while (!alert && Date.now() < until) {
      alert = alerts.find((a) => a.rule === 'sigma:b5e9633b-1771-4533-a52b-002a235078d9' && a.state === 'firing');
      if (!alert) await new Promise((r) => setTimeout(r, 100));
    }
    expect(alert, JSON.stringify(alerts.map((a) => a.rule))).toBeDefined();
    const a = alert as Alert;
    expect(a.kind).toBe('security');
    expect(a.severity).toBe('major');
    expect(a.name).toBe('SSH Brute Force From One Source');
    expect(a.labels).toMatchObject({ sigma_id: 'b5e9633b-1771-4533-a52b-002a235078d9', sigma_level: 'high', source: '203.0.113.77', device: 'sw-9' });
    expect(a.labels.attack?.split(',')).toEqual(expect.arrayContaining(['T1110', 'T1110.001']));
    expect(a.labels.tags).toContain('attack.t1110');
    expect(a.labels.user).toBe('root');
    expect(a.labels.host).toBeDefined();
    expect(a.evidence?.length).toBeGreaterThanOrEqual(5);
    // The evidence ids are stored lines the logs API shows.
    const r = await eventually(() => logs('q=203.0.113.77'), (v) => v.total >= 6);
    const ids = new Set(r.logs.map((l) => l.id));
    for (const id of a.evidence ?? []) expect(ids.has(id), `evidence ${id}`).toBe(true);
    expect(await metric('watchfloor_sigma_detections_total', 'level="high"')).toBeGreaterThanOrEqual(1);
  });

  it('counts garbage, oversized and invalid UTF-8 input on /metrics per reason, every reason present, and goes on', async () => {
    for (const reason of ['rate_limited', 'queue_full', 'garbage', 'idle_timeout', 'incomplete_frame', 'handler_error']) {
      expect(await metric('watchfloor_syslog_dropped_total', `reason="${reason}"`), reason).toBeGreaterThanOrEqual(0);
    }
    const garbage0 = await metric('watchfloor_syslog_dropped_total', 'reason="garbage"');
    const cut0 = await metric('watchfloor_syslog_truncated_total');
    const utf0 = await metric('watchfloor_syslog_invalid_utf8_total');
    const incomplete0 = await metric('watchfloor_syslog_dropped_total', 'reason="incomplete_frame"');
    const dgram = createSocket('udp4');
    const send = (b: Buffer): Promise<void> => new Promise((r) => dgram.send(b, ports.udp as number, '127.0.0.1', () => r()));
    await send(Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0e, 0x0f]));
    await send(Buffer.concat([Buffer.from('<13>Dec  2 05:00:00 badhost p1utf: bad '), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), Buffer.from(' utf8-marker')]));
    dgram.close();
    // Over 64 KiB in one TCP frame (octet counted), then a frame begun and cut off by the peer.
    const big = `<13>Dec  2 05:00:00 bighost p1big: oversized-marker ${'x'.repeat(70 * 1024)}`;
    await new Promise<void>((resolve, reject) => {
      const s = connect(ports.tcp as number, '127.0.0.1', () => {
        s.write(`${Buffer.byteLength(big)} ${big}`);
        s.end('500 <13>cut', () => resolve());
      });
      s.on('error', reject);
    });
    await eventually(() => metric('watchfloor_syslog_dropped_total', 'reason="incomplete_frame"'), (v) => v > incomplete0);
    expect(await metric('watchfloor_syslog_dropped_total', 'reason="garbage"')).toBe(garbage0 + 1);
    expect(await metric('watchfloor_syslog_truncated_total')).toBe(cut0 + 1);
    expect(await metric('watchfloor_syslog_invalid_utf8_total')).toBe(utf0 + 1);
    expect((await eventually(() => logs('q=utf8-marker'), (v) => v.total >= 1)).logs[0]?.message).toContain('\uFFFD');
    const big1 = (await eventually(() => logs('q=oversized-marker'), (v) => v.total >= 1)).logs[0];
    expect(big1?.message.length).toBeLessThanOrEqual(64 * 1024);
    // Still up: a line after all that is stored.
    await logger(udp(['--rfc3164', '-t', 'p1after']), 'after-marker');
    expect((await eventually(() => logs('program=p1after'), (v) => v.total >= 1)).total).toBe(1);
  });
});

describe('the log path around the receiver', () => {
  it('takes syslog over TLS (RFC 5425, octet counting) with the certificate made at start', async () => {
    const line = '<38>1 2026-12-02T05:00:00Z tls-sender p1tls 77 - - tls-marker over 6514';
    await new Promise<void>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: ports.tls as number, rejectUnauthorized: false }, () => {
        s.end(`${Buffer.byteLength(line)} ${line}`, () => resolve());
      });
      s.on('error', reject);
    });
    const r = await eventually(() => logs('program=p1tls'), (v) => v.total >= 1);
    expect(r.logs[0]).toMatchObject({ host: 'tls-sender', facility: 'auth', severity: 'info', pid: 77 });
    expect(r.logs[0]?.device).toBe('sw-9');
    expect(await metric('watchfloor_syslog_frames_total', 'transport="tls"')).toBeGreaterThanOrEqual(1);
  });

  it('lets only the syslog collector account publish on logs/{its name}', () => {
    const logPublisher = { username: 'syslog-collector', hash: '', role: 'collector' as const, devices: [] as string[], logs: true };
    expect(mayPublish(logPublisher, 'logs/syslog-collector')).toBe(true);
    expect(mayPublish(logPublisher, 'logs/other-collector')).toBe(false);
    expect(mayPublish(logPublisher, 'logs/syslog-collector/x')).toBe(false);
    expect(mayPublish({ username: 'syslog-collector', hash: '', role: 'collector', devices: '*' }, 'logs/syslog-collector')).toBe(false);
    expect(mayPublish({ username: 'syslog-collector', hash: '', role: 'device' }, 'logs/syslog-collector')).toBe(false);
    expect(mayPublish({ username: 'syslog-collector', hash: '', role: 'admin' }, 'logs/syslog-collector')).toBe(false);
  });

  it('counts a malformed logs/ message with its reason and keeps the good lines of a half-bad batch', async () => {
    const handlers = new Map<string, (p: { topic: string; payload: Buffer }, done: () => void) => void>();
    const source: MessageSource = {
      subscribe: (f, deliver, done) => {
        handlers.set(f, deliver as never);
        done();
      },
      unsubscribe: (_f, _d, done) => done(),
    };
    const got: LogLine[][] = [];
    const ingest = await startMqttIngest({
      source, estate: new Estate(inventory), clock: systemClock, logger: silentLogger,
      sink: { write: () => undefined, status: () => undefined, event: () => undefined, logs: (lines) => void got.push(lines) },
    });
    const deliver = handlers.get('logs/+');
    expect(deliver).toBeDefined();
    const good: LogLine = { ts: Date.now(), host: 'h', facility: 'user', severity: 'notice', program: 'p', message: 'm', fields: {} };
    const send = (payload: string): void => deliver?.({ topic: 'logs/syslog-collector', payload: Buffer.from(payload) }, () => undefined);
    send('not json');
    send('{"not":"an array"}');
    send(JSON.stringify([good, { ...good, severity: 'loud' }, { ...good, fields: { a: { nested: true } } }]));
    expect(ingest.stats.dropped.get('invalid_json')).toBe(1);
    expect(ingest.stats.dropped.get('invalid_logs')).toBe(2);
    expect(ingest.stats.logLines).toBe(1);
    expect(ingest.stats.logLinesInvalid).toBe(2);
    expect(got).toEqual([[good]]);
    await ingest.stop();
  });
});

describe('the sigma rule kind (rules/kinds/sigma.ts), with a fake clock', () => {
  const line = (id: number): StoredLog => ({ id, ts: 0, host: 'h', facility: 'auth', severity: 'info', program: 'sshd', message: 'm', fields: {} });
  const detection = (level: Detection['level'], ids: number[], source = '203.0.113.5'): Detection => ({
    ruleId: 'r-1', title: 'Thing', level, tags: ['attack.t1110'], attack: ['T1110'], kind: 'correlation', ts: 0, lines: ids.map(line), groupBy: {}, entities: { source, user: 'root', host: 'h' },
  });
  const setup = () => {
    let now = 1_000_000;
    const engine = new RuleEngine({ rules: loadRules([{ id: 'sigma', type: 'sigma', name: 'Sigma', severity: 'major', min_level: 'medium', resolve_after: '10m' }], 'test'), clock: { now: () => now } });
    return { engine, at: (ms: number) => (now = 1_000_000 + ms) };
  };

  it('maps the level to a severity, skips levels below min_level, one alert per rule and entities', () => {
    const { engine } = setup();
    expect(engine.onDetections([detection('low', [1])])).toEqual([]);
    const [a] = engine.onDetections([detection('critical', [1, 2])]);
    expect(a).toMatchObject({ rule: 'sigma:r-1', kind: 'security', severity: 'critical', name: 'Thing', evidence: [1, 2], summary: 'Thing: from 203.0.113.5, user root, on h' });
    expect(a?.labels).toEqual({ sigma_id: 'r-1', sigma_level: 'critical', attack: 'T1110', tags: 'attack.t1110', source: '203.0.113.5', user: 'root', host: 'h' });
    expect(engine.onDetections([detection('critical', [3], '198.51.100.1')])).toHaveLength(1);
    expect(engine.alerts({ state: 'firing' })).toHaveLength(2);
    expect(SEVERITIES.map((l) => engine.onDetections([{ ...detection(l, [9]), ruleId: `lv-${l}` }])[0]?.severity)).toEqual(['minor', 'major', 'critical']);
  });

  it('adds later evidence at most every 5 s, and resolves after resolve_after without a detection', () => {
    const { engine, at } = setup();
    const [a] = engine.onDetections([detection('high', [1])]);
    at(1_000);
    expect(engine.onDetections([detection('high', [2])])).toEqual([]);
    const [b] = engine.tick(at(6_000));
    expect(b).toMatchObject({ id: a?.id, evidence: [1, 2] });
    expect(engine.tick(at(999 + 10 * 60_000))).toEqual([]);
    const resolved = engine.tick(at(1_000 + 10 * 60_000));
    expect(resolved.map((x) => [x.id, x.state])).toEqual([[a?.id, 'resolved']]);
  });
});
const SEVERITIES = ['medium', 'high', 'critical'] as const;
