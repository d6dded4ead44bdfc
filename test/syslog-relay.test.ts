import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger, systemClock, type LogLine } from '../core/index.ts';
import { startSyslogReceiver, type SyslogOrigin, type SyslogReceiver } from '../collectors/syslog/index.ts';
import { makeSyslogCertificates } from './fixtures/syslog/certs.ts';
import { eventually } from './support/net.ts';

/*
 * Debian rsyslog (packages `rsyslog`, and `rsyslog-gnutls` for TLS) as a relay, run as a child process
 * (no systemd): imfile reads the reference Linux syslog, omfwd forwards it to the receiver in RFC 5424
 * with octet counting, over TCP and over TLS (gtls, the client presenting a certificate).
 */
const reference = fileURLToPath(new URL('../../shared/reference/logs/linux-syslog-2k.log', import.meta.url));

describe('rsyslog relays a log file to the receiver (imfile + omfwd)', () => {
  let dir: string;
  let rsyslogd: ChildProcess | undefined;
  let rx: SyslogReceiver | undefined;
  const got: { line: LogLine; origin: SyslogOrigin }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wf-rsyslog-'));
    await makeSyslogCertificates(dir, 'rsyslog-relay');
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  afterEach(async () => {
    const child = rsyslogd;
    rsyslogd = undefined;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rx?.stop();
    rx = undefined;
    got.length = 0;
  });

  const relay = async (name: string, action: string, global = ''): Promise<void> => {
    const work = join(dir, name);
    mkdirSync(join(work, 'state'), { recursive: true });
    // imfile takes a last line only once it ends: the reference file has no final newline.
    writeFileSync(join(work, 'input.log'), readFileSync(reference, 'utf8') + '\n');
    const conf = join(work, 'rsyslog.conf');
    writeFileSync(
      conf,
      [
        `global(workDirectory="${join(work, 'state')}" ${global})`,
        'module(load="imfile")',
        `input(type="imfile" File="${join(work, 'input.log')}" Tag="relayed" Facility="local5" Severity="warning")`,
        action,
        '',
      ].join('\n'),
    );
    const child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(work, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    rsyslogd = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await eventually(() => (got.length >= 2000 ? true : undefined), 20_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${got.length} lines relayed; rsyslogd said: ${stderr.slice(0, 2000)}`);
    });
  };

  const expectReference = (transport: string) => {
    expect(got).toHaveLength(2000);
    for (const g of got) {
      expect(g.line).toMatchObject({ program: 'relayed', facility: 'local5', severity: 'warning' });
      expect(g.origin.transport).toBe(transport);
    }
    // The reference file has CRLF line ends; the CR is no part of a message.
    const lines = readFileSync(reference, 'utf8').split(/\r?\n/);
    expect(got.map((g) => g.line.message)).toEqual(lines);
    expect(got.filter((g) => g.line.fields.rhost === '218.188.2.4').length).toBeGreaterThan(10);
  };

  it('over TCP, octet-counted RFC 5424: all 2,000 lines, in order', async () => {
    rx = await startSyslogReceiver({ udpPort: false, tcpPort: 0, onLine: (line, origin) => got.push({ line, origin }), logger: silentLogger, clock: systemClock });
    await relay('tcp', `action(type="omfwd" target="127.0.0.1" port="${rx.ports.tcp}" protocol="tcp" TCP_Framing="octet-counted" Template="RSYSLOG_SyslogProtocol23Format")`);
    expectReference('tcp');
  });

  it('over TLS (gtls, RFC 5425) with a client certificate', async () => {
    const f = (n: string) => join(dir, n);
    rx = await startSyslogReceiver({
      udpPort: false,
      tcpPort: false,
      tlsPort: 0,
      tls: { key: readFileSync(f('server.key')), cert: readFileSync(f('server.crt')), ca: readFileSync(f('ca.crt')) },
      onLine: (line, origin) => got.push({ line, origin }),
      logger: silentLogger,
      clock: systemClock,
    });
    await relay(
      'tls',
      `action(type="omfwd" target="127.0.0.1" port="${rx.ports.tls}" protocol="tcp" StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/certvalid" Template="RSYSLOG_SyslogProtocol23Format")`,
      `DefaultNetstreamDriverCAFile="${f('ca.crt')}" DefaultNetstreamDriverCertFile="${f('client.crt')}" DefaultNetstreamDriverKeyFile="${f('client.key')}"`,
    );
    expectReference('tls');
    expect(got[0]?.origin.clientCertificate).toBe('rsyslog-relay');
  });
});
