import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { pino } from 'pino';
import { FakeClock, silentLogger, systemClock, type LogLine } from '../core/index.ts';
import { startSyslogReceiver, type SyslogOrigin, type SyslogReceiver, type SyslogReceiverOptions } from '../collectors/syslog/index.ts';
import { eventually, run } from './support/net.ts';
import { makeSyslogCertificates } from './fixtures/syslog/certs.ts';

interface Got {
  line: LogLine;
  origin: SyslogOrigin;
}

/** A receiver on ephemeral loopback ports that records what it hands on. */
async function receiver(extra: Partial<SyslogReceiverOptions> = {}): Promise<{ rx: SyslogReceiver; got: Got[] }> {
  const got: Got[] = [];
  const rx = await startSyslogReceiver({ udpPort: 0, tcpPort: 0, host: '127.0.0.1', onLine: (line, origin) => got.push({ line, origin }), logger: silentLogger, clock: systemClock, ...extra });
  return { rx, got };
}

const logger = async (args: string[]): Promise<void> => {
  const r = await run('logger', args, 10_000);
  if (r.code !== 0) throw new Error(`logger ${args.join(' ')}: ${r.stderr}`);
};

const sendUdp = (port: number, payloads: Buffer[]): Promise<void> =>
  new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    let left = payloads.length;
    s.on('error', reject);
    for (const p of payloads) s.send(p, port, '127.0.0.1', (err) => (err ? reject(err) : --left === 0 && (s.close(), resolve())));
  });

const openTcp = (port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });

const sendTcp = async (port: number, data: string | Buffer): Promise<void> => {
  const s = await openTcp(port);
  await new Promise<void>((resolve) => s.end(data, () => resolve()));
};

const closed = (s: Socket): Promise<void> => new Promise((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

describe('syslog receiver with util-linux logger as the sender', () => {
  let rx: SyslogReceiver;
  let got: Got[];
  beforeAll(async () => ({ rx, got } = await receiver()));
  afterAll(() => rx.stop());
  const find = (marker: string) => () => got.find((g) => g.line.message.includes(marker));

  it('UDP, RFC 3164: facility/severity from -p local3.warning, tag, pid from --id', async () => {
    await logger(['--server', '127.0.0.1', '--port', String(rx.ports.udp), '--udp', '--rfc3164', '-p', 'local3.warning', '-t', 'myprog', '--id=4242', 'hello udp 3164']);
    const g = await eventually(find('hello udp 3164'));
    expect(g.line).toMatchObject({ facility: 'local3', severity: 'warning', program: 'myprog', pid: 4242, message: 'hello udp 3164' });
    expect(g.line.host.length).toBeGreaterThan(0);
    expect(Math.abs((g.line.claimedTs ?? 0) - Date.now())).toBeLessThan(120_000);
    expect(g.origin).toMatchObject({ transport: 'udp', address: '127.0.0.1' });
  });

  it('UDP, RFC 5424: structured data from --sd-id/--sd-param kept as fields, msgid', async () => {
    await logger(['--server', '127.0.0.1', '--port', String(rx.ports.udp), '--udp', '--rfc5424', '-p', 'auth.err', '-t', 'sshd', '--id=77', '--msgid', 'LOGIN', '--sd-id', 'zoo@32473', '--sd-param', 'tiger="hungry"', '--sd-param', 'zebra="str\\"ipes"', 'hello udp 5424']);
    const g = await eventually(find('hello udp 5424'));
    expect(g.line).toMatchObject({ facility: 'auth', severity: 'err', program: 'sshd', pid: 77, message: 'hello udp 5424' });
    expect(g.line.fields).toMatchObject({ msgid: 'LOGIN', 'sd.zoo@32473.tiger': 'hungry', 'sd.zoo@32473.zebra': 'str"ipes', 'sd.timeQuality.tzKnown': '1' });
  });

  it('TCP with octet counting (RFC 6587 §3.4.1) and with newline framing, on the same port', async () => {
    await logger(['--server', '127.0.0.1', '--port', String(rx.ports.tcp), '--tcp', '--octet-count', '--rfc5424', '-p', 'daemon.info', '-t', 'octets', 'hello tcp octet-counted']);
    await logger(['--server', '127.0.0.1', '--port', String(rx.ports.tcp), '--tcp', '--rfc3164', '-p', 'local7.notice', '-t', 'lines', '--id=9', 'hello tcp newline']);
    const a = await eventually(find('hello tcp octet-counted'));
    const b = await eventually(find('hello tcp newline'));
    expect(a.line).toMatchObject({ program: 'octets', facility: 'daemon', severity: 'info' });
    expect(a.origin.transport).toBe('tcp');
    expect(b.line).toMatchObject({ program: 'lines', pid: 9, facility: 'local7', severity: 'notice' });
  });

  it('the reference Linux syslog replayed by logger over TCP arrives whole (2,000 lines)', async () => {
    const file = new URL('../../shared/reference/logs/linux-syslog-2k.log', import.meta.url).pathname;
    const before = got.length;
    // logger -f sends each line as the message of one RFC 3164 frame (the reference lines have no PRI).
    await logger(['--server', '127.0.0.1', '--port', String(rx.ports.tcp), '--tcp', '--octet-count', '--rfc3164', '-t', 'replay', '-f', file]);
    await eventually(() => (got.length - before >= 2000 ? true : undefined), 15_000);
    const replayed = got.slice(before).filter((g) => g.line.program === 'replay');
    expect(replayed).toHaveLength(2000);
    expect(replayed.filter((g) => /sshd\(pam_unix\)\[\d+\]: authentication failure.*rhost=/.test(g.line.message)).length).toBeGreaterThan(100);
  });
});

describe('syslog receiver over TLS (RFC 5425)', () => {
  let dir: string;
  let rx: SyslogReceiver;
  let got: Got[];
  const f = (n: string) => join(dir, n);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wf-syslog-tls-'));
    await makeSyslogCertificates(dir);
    ({ rx, got } = await receiver({ udpPort: false, tcpPort: false, tlsPort: 0, tls: { key: readFileSync(f('server.key')), cert: readFileSync(f('server.crt')), ca: readFileSync(f('ca.crt')) } }));
  }, 60_000);
  afterAll(async () => {
    await rx.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const sendTls = (frames: string, withCert: boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: rx.ports.tls!, ca: readFileSync(f('ca.crt')), ...(withCert ? { key: readFileSync(f('client.key')), cert: readFileSync(f('client.crt')) } : {}) }, () => s.end(frames, () => resolve()));
      s.once('error', reject);
    });
  const octets = (msg: string) => `${Buffer.byteLength(msg)} ${msg}`;

  it('takes octet-counted frames with a client certificate (its CN in the origin) and without one', async () => {
    await sendTls(octets('<134>1 2026-12-01T23:00:00Z fw-edge-1 fw - - - tls with cert') + octets('<134>1 2026-12-01T23:00:01Z fw-edge-1 fw - - - tls second'), true);
    await sendTls(octets('<13>Dec  1 23:00:00 app1 app: tls without cert'), false);
    const a = await eventually(() => got.find((g) => g.line.message === 'tls with cert'));
    expect(a.origin).toMatchObject({ transport: 'tls', clientCertificate: 'fw-edge-1' });
    await eventually(() => got.find((g) => g.line.message === 'tls second'));
    const b = await eventually(() => got.find((g) => g.line.message === 'tls without cert'));
    expect(b.origin.clientCertificate).toBeUndefined();
    expect(rx.stats.received.tls).toBe(3);
  });

  it('a plain-text client on the TLS port fails its handshake, counted, nothing crashes', async () => {
    await sendTcp(rx.ports.tls!, '<13>not tls at all\n');
    await eventually(() => (rx.stats.connections.tlsFailed > 0 ? true : undefined));
  });
});

describe('syslog receiver under bad input', () => {
  let rx: SyslogReceiver | undefined;
  afterEach(async () => {
    await rx?.stop();
    rx = undefined;
  });

  it('garbage datagrams are counted and dropped; invalid UTF-8 is replaced and counted; real lines keep flowing', async () => {
    const r = await receiver();
    rx = r.rx;
    const noise = Array.from({ length: 50 }, (_, k) => Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + k * 7 + 3) % 256)));
    const latin1 = Buffer.concat([Buffer.from('<13>Dec  1 23:00:00 h p: caf'), Buffer.from([0xe9, 0xff]), Buffer.from(' au lait')]);
    await sendUdp(rx.ports.udp!, [...noise, latin1, Buffer.from('<13>Dec  1 23:00:00 h p: after the noise')]);
    await eventually(() => r.got.find((g) => g.line.message === 'after the noise'));
    expect(rx.stats.dropped.garbage).toBe(50);
    expect(rx.stats.invalidUtf8).toBe(1);
    expect(r.got.find((g) => g.line.message.startsWith('caf'))?.line.message).toBe('caf\uFFFD\uFFFD au lait');
    expect(r.got).toHaveLength(2);
  });

  it('a 100 KiB line over TCP is cut at 64 KiB and counted; the next line on the connection arrives', async () => {
    const r = await receiver();
    rx = r.rx;
    await sendTcp(rx.ports.tcp!, `<13>Dec  1 23:00:00 h big: ${'A'.repeat(100 * 1024)}\n<13>Dec  1 23:00:01 h p: after big\n`);
    await eventually(() => r.got.find((g) => g.line.message === 'after big'));
    const big = r.got.find((g) => g.line.program === 'big');
    expect(big?.line.message.length).toBe(64 * 1024 - '<13>Dec  1 23:00:00 h big: '.length);
    expect(rx.stats.truncated).toBe(1);
  });

  it('an octet count never filled: that connection is closed after the idle timeout, other sources keep flowing', async () => {
    const r = await receiver({ limits: { partialFrameTimeoutMs: 400 } });
    rx = r.rx;
    const stuck = await openTcp(rx.ports.tcp!);
    stuck.on('error', () => undefined);
    stuck.write('60000 <13>Dec  1 23:00:00 h p: this frame never ends');
    const started = Date.now();
    // Meanwhile another TCP sender and a UDP sender are served.
    await logger(['--server', '127.0.0.1', '--port', String(rx.ports.tcp), '--tcp', '-t', 'other', 'during the stall tcp']);
    await logger(['--server', '127.0.0.1', '--port', String(rx.ports.udp), '--udp', '-t', 'other', 'during the stall udp']);
    await eventually(() => r.got.find((g) => g.line.message === 'during the stall tcp'));
    await eventually(() => r.got.find((g) => g.line.message === 'during the stall udp'));
    await closed(stuck);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(rx.stats.dropped.idle_timeout).toBe(1);
    expect(rx.stats.connections.timedOut).toBe(1);
    await eventually(() => (rx!.stats.connections.open === 0 ? true : undefined));
  });

  it('1,000 concurrent connections against a limit of 200: the rest refused and counted, the receiver still serves', async () => {
    const r = await receiver({ limits: { maxConnections: 200, maxConnectionsPerSource: 1000 } });
    rx = r.rx;
    const sockets = await Promise.all(
      Array.from({ length: 1000 }, () =>
        new Promise<Socket>((resolve) => {
          const s = connect(rx!.ports.tcp!, '127.0.0.1', () => resolve(s));
          s.on('error', () => resolve(s));
        }),
      ),
    );
    await eventually(() => (rx!.stats.connections.accepted + rx!.stats.connections.refused === 1000 ? true : undefined), 15_000);
    expect(rx.stats.connections.accepted).toBe(200);
    expect(rx.stats.connections.refused).toBe(800);
    expect(rx.stats.connections.open).toBe(200);
    // UDP is unaffected; one of the admitted connections still delivers.
    await logger(['--server', '127.0.0.1', '--port', String(rx.ports.udp), '--udp', '-t', 'p', 'udp while full']);
    await eventually(() => r.got.find((g) => g.line.message === 'udp while full'));
    const admitted = sockets.filter((s) => !s.destroyed);
    for (const s of sockets) s.destroy();
    await Promise.all(sockets.map(closed));
    await eventually(() => (rx!.stats.connections.open === 0 ? true : undefined), 10_000);
    expect(admitted.length).toBeGreaterThan(0);
    await sendTcp(rx.ports.tcp!, '<13>Dec  1 23:00:00 h p: after the crowd\n');
    await eventually(() => r.got.find((g) => g.line.message === 'after the crowd'));
  });

  it('connections per source are capped too, so one address cannot take every slot', async () => {
    const r = await receiver({ limits: { maxConnections: 100, maxConnectionsPerSource: 5 } });
    rx = r.rx;
    const sockets = await Promise.all(Array.from({ length: 8 }, () => openTcp(rx!.ports.tcp!)));
    for (const s of sockets) s.on('error', () => undefined);
    await eventually(() => (rx!.stats.connections.accepted + rx!.stats.connections.refused === 8 ? true : undefined));
    expect(rx.stats.connections).toMatchObject({ accepted: 5, refused: 3, open: 5 });
    for (const s of sockets) s.destroy();
    await Promise.all(sockets.map(closed));
    await eventually(() => (rx!.stats.connections.open === 0 ? true : undefined));
    await sendTcp(rx.ports.tcp!, '<13>Dec  1 23:00:00 h p: slot free again\n');
    await eventually(() => r.got.find((g) => g.line.message === 'slot free again'));
  });

  it('per-source token bucket: what exceeds the burst is dropped, counted, logged once for the source', async () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 1, 23));
    const logs: { reason?: string; source?: string }[] = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => logs.push(JSON.parse(s)) });
    const r = await receiver({ clock, logger: log, limits: { ratePerSecond: 10, burst: 20 } });
    rx = r.rx;
    const lines = Array.from({ length: 50 }, (_, i) => Buffer.from(`<13>Dec  1 23:00:00 h p: n${i}`));
    await sendUdp(rx.ports.udp!, lines);
    await eventually(() => (rx!.stats.received.udp === 50 && rx!.stats.queue.length === 0 ? true : undefined));
    expect(r.got).toHaveLength(20);
    expect(rx.stats.dropped.rate_limited).toBe(30);
    expect(logs.filter((l) => l.reason === 'rate_limited' && l.source === '127.0.0.1')).toHaveLength(1);
    // A second later the bucket holds 10 more.
    clock.advance(1000);
    await sendUdp(rx.ports.udp!, lines.slice(0, 15));
    await eventually(() => (rx!.stats.received.udp === 65 && rx!.stats.queue.length === 0 ? true : undefined));
    expect(r.got).toHaveLength(30);
    expect(logs.filter((l) => l.reason === 'rate_limited')).toHaveLength(1);
  });

  it('bounded queue: a slow consumer makes UDP drop (counted as queue_full) and TCP wait (nothing lost)', async () => {
    let delivered = 0;
    const slow = () => {
      const until = Date.now() + 1;
      while (Date.now() < until);
      delivered++;
    };
    rx = await startSyslogReceiver({ udpPort: 0, tcpPort: 0, onLine: slow, logger: silentLogger, clock: systemClock, limits: { maxQueue: 20 } });
    const n = 300;
    await sendUdp(rx.ports.udp!, Array.from({ length: n }, (_, i) => Buffer.from(`<13>Dec  1 23:00:00 h p: u${i}`)));
    // The kernel may drop some datagrams itself while the consumer holds the event loop: count what arrived.
    let seen = -1;
    await eventually(() => {
      const settled = rx!.stats.queue.length === 0 && rx!.stats.received.udp === seen;
      seen = rx!.stats.received.udp;
      return settled ? true : undefined;
    }, 15_000, 200);
    expect(rx.stats.received.udp).toBeGreaterThan(100);
    expect(rx.stats.dropped.queue_full).toBeGreaterThan(0);
    expect(delivered + rx.stats.dropped.queue_full).toBe(rx.stats.received.udp);
    expect(rx.stats.queue.peak).toBeLessThanOrEqual(20);
    const before = delivered;
    await sendTcp(rx.ports.tcp!, Array.from({ length: 2000 }, (_, i) => `<13>Dec  1 23:00:00 h p: t${i}\n`).join(''));
    await eventually(() => (delivered - before === 2000 ? true : undefined), 20_000);
    expect(rx.stats.dropped.queue_full).toBe(rx.stats.received.udp - before);
    expect(rx.stats.received.tcp).toBe(2000);
  });
});
