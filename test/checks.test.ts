// Service checks (issue 16) against real parts on loopback: Node's http/https servers, openssl
// s_server, python3 -m http.server, dnsmasq, fping; and targets that misbehave on purpose.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, silentLogger, WatchfloorError, type Clock } from '../core/index.ts';
import { checkTypeNames, judgeFping, parseCheck, parseFpingSummary, runCheck, runFping, type CheckResult, type IcmpCheckConfig } from '../collectors/checks/index.ts';
import { endlessTarget, resetDuringTlsTarget, silentTarget, type BadTarget } from './fixtures/checks/bad-targets.ts';
import { makeCheckCertificates, type CheckCertificates } from './fixtures/checks/certs.ts';
import { expectAlive } from './support/crash-guard.ts';
import { eventually, freePort } from './support/net.ts';

const fixtures = new URL('./fixtures/checks/', import.meta.url).pathname;

/** Parses and runs one probe, with the timeout a scheduler would give it. */
async function probe(input: Record<string, unknown>, opts: { timeoutMs?: number; clock?: Clock } = {}): Promise<CheckResult> {
  const config = parseCheck(input);
  return runCheck(config, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000), clock: opts.clock ?? { now: () => Date.now() }, logger: silentLogger });
}

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof WatchfloorError) return `${err.status} ${err.field}`;
    throw err;
  }
  return undefined;
}

const listen = (server: Server | NetServer): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
const close = (server: Server | NetServer): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
const canConnect = (port: number): Promise<true | undefined> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(undefined));
  });

let dir: string;
let certs: CheckCertificates;
const children: ChildProcess[] = [];
function child(cmd: string, args: string[], what: string): { proc: ChildProcess; output: () => string } {
  let out = '';
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  children.push(expectAlive(proc, what, () => out));
  return { proc, output: () => out };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wf-checks-'));
  certs = await makeCheckCertificates(dir);
});
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('check configs are validated, naming the field at fault', () => {
  it('registers the six check types', () => {
    expect(checkTypeNames().sort()).toEqual(['dns', 'http', 'icmp', 'snmp', 'tcp', 'tls']);
  });

  it.each([
    [{ type: 'http', url: 'nope' }, '400 url'],
    [{ type: 'http', url: 'ftp://portal.example/' }, '400 url'],
    [{ type: 'http', url: 'https://portal.example/', expect: { bodyRegex: '(unclosed' } }, '400 expect.bodyRegex'],
    [{ type: 'http', url: 'https://portal.example/', expect: { status: 99 } }, '400 expect.status'],
    [{ type: 'http', url: 'https://portal.example/', expect: { json: { path: '$..[?(@.x)]', equals: 1 } } }, '400 expect.json.path'],
    [{ type: 'http', url: 'https://portal.example/', intervalSeconds: 0 }, '400 intervalSeconds'],
    [{ type: 'tcp', host: '127.0.0.1', port: 70_000 }, '400 port'],
    [{ type: 'tcp', host: '127.0.0.1', port: 25, expect: { bannerRegex: '[z-a]' } }, '400 expect.bannerRegex'],
    [{ type: 'tls', host: 'portal.example', expiry: { warningDays: 5, criticalDays: 10 } }, '400 expiry.criticalDays'],
    [{ type: 'icmp', host: '-f' }, '400 host'],
    [{ type: 'dns', name: 'portal.example', server: 'ns1; rm -rf /' }, '400 server'],
    [{ type: 'gopher', url: 'x' }, '400 type'],
    [{ url: 'https://portal.example/' }, '400 type'],
  ])('%j -> %s', (input, want) => {
    expect(fieldOf(() => parseCheck(input))).toBe(want);
  });

  it('fills the defaults stated once: interval 60 s, timeout 10 s, one retry, statuses 200–299, TLS verified', () => {
    const c = parseCheck({ type: 'http', url: 'https://dichvucong.example/', expect: { status: ['2xx', 301], body: 'Đăng nhập' } }) as Record<string, unknown>;
    expect(c).toMatchObject({ intervalSeconds: 60, timeoutSeconds: 10, retries: 1, method: 'GET', followRedirects: true, maxBodyBytes: 1_048_576, tls: { verify: true } });
    expect((c.expect as Record<string, unknown>).status).toEqual([[200, 299], [301, 301]]);
    expect(parseCheck({ type: 'tls', host: 'dichvucong.example' })).toMatchObject({ port: 443, expiry: { warningDays: 21, criticalDays: 7 }, minVersion: 'TLSv1.2' });
  });

  it('names the field inside a larger document', () => {
    expect(fieldOf(() => parseCheck({ type: 'tcp', host: 'mail', port: 0 }, 'checks.2'))).toBe('400 checks.2.port');
  });
});

describe('http check against Node http/https servers', () => {
  let server: Server;
  let tlsServer: Server;
  let port = 0;
  let tlsPort = 0;
  beforeAll(async () => {
    const handler: Parameters<typeof createHttpServer>[1] = (req, res) => {
      const url = req.url ?? '/';
      if (url === '/') return res.end('<html><title>Cổng dịch vụ công tỉnh</title><a>Đăng nhập</a></html>');
      if (url === '/fail') return void res.writeHead(500).end('internal error');
      if (url === '/health') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', db: { up: false }, nodes: [{ name: 'app-1' }] }));
      if (url === '/old') return void res.writeHead(302, { location: '/' }).end();
      if (url === '/loop') return void res.writeHead(301, { location: '/loop' }).end();
      if (url === '/slow') return void setTimeout(() => res.end('late'), 300);
      if (url === '/echo') return void res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization ?? null }));
      res.writeHead(404).end();
    };
    server = createHttpServer(handler);
    tlsServer = createHttpsServer({ key: certs.good.key, cert: certs.good.cert }, handler);
    port = await listen(server);
    tlsPort = await listen(tlsServer);
  });
  afterAll(async () => {
    server.closeAllConnections();
    tlsServer.closeAllConnections();
    await close(server);
    await close(tlsServer);
  });

  it('passes on the expected status and body text, and splits the latency into phases', async () => {
    const r = await probe({ type: 'http', url: `http://127.0.0.1:${port}/`, expect: { status: 200, body: 'Đăng nhập' } });
    expect(r).toMatchObject({ ok: true, state: 'up', details: { status: 200, redirects: 0, truncated: false } });
    expect(r.reason).toBeUndefined();
    expect(r.phases?.connectMs).toBeGreaterThan(0);
    expect(r.phases?.firstByteMs).toBeGreaterThan(0);
    expect(r.phases?.tlsMs).toBe(0);
    expect(r.latencyMs).toBeGreaterThanOrEqual((r.phases?.connectMs ?? 0) + (r.phases?.firstByteMs ?? 0));
  });

  it('records the DNS phase when the URL names a host', async () => {
    const r = await probe({ type: 'http', url: `http://localhost:${port}/` });
    if (!r.ok && /refused/.test(r.reason ?? '')) return void expect(r.reason).toMatch(/::1|localhost/); // localhost may resolve to ::1 first
    expect(r.ok).toBe(true);
    expect(r.phases?.dnsMs).toBeGreaterThan(0);
  });

  it.each([
    [{ url: '/fail', expect: { status: 200 } }, 'expected status 200, got 500'],
    [{ url: '/fail' }, 'expected status 200–299, got 500'],
    [{ url: '/', expect: { body: 'Sign in' } }, 'body does not contain "Sign in"'],
    [{ url: '/', expect: { bodyRegex: '<title>Portal' } }, 'body does not match /<title>Portal/'],
    [{ url: '/health', expect: { json: { path: '$.db.up', equals: true } } }, 'JSON $.db.up is false, expected true'],
    [{ url: '/health', expect: { json: { path: '$.cache', equals: 'ok' } } }, 'JSON $.cache is missing'],
    [{ url: '/', expect: { json: { path: 'status', equals: 'ok' } } }, 'body is not JSON'],
    [{ url: '/old', followRedirects: false, expect: { status: 200 } }, 'expected status 200, got 302'],
    [{ url: '/loop' }, 'more than 10 redirects (last to /loop)'],
    [{ url: '/missing', expect: { status: ['2xx', 301] } }, 'expected status 200–299 or 301, got 404'],
  ])('%j fails: %s', async (over, reason) => {
    const r = await probe({ type: 'http', ...over, url: `http://127.0.0.1:${port}${over.url}` });
    expect(r).toMatchObject({ ok: false, state: 'down', reason });
  });

  it.each([
    [{ url: '/health', expect: { json: { path: '$.status', equals: 'ok' } } }],
    [{ url: '/health', expect: { json: { path: '$.nodes[0].name', equals: 'app-1' } } }],
    [{ url: '/', expect: { bodyRegex: 'Cổng dịch vụ công (tỉnh|thành phố)' } }],
    [{ url: '/old', expect: { status: 200, body: 'Đăng nhập' } }],
    [{ url: '/echo', method: 'POST', headers: { authorization: 'Bearer t0k' }, body: '{}', expect: { json: { path: '$.auth', equals: 'Bearer t0k' } } }],
  ])('%j passes', async (over) => {
    const r = await probe({ type: 'http', ...over, url: `http://127.0.0.1:${port}${over.url}` });
    expect(r.reason).toBeUndefined();
    expect(r.ok).toBe(true);
  });

  it('follows a redirect and says how many it followed', async () => {
    const r = await probe({ type: 'http', url: `http://127.0.0.1:${port}/old` });
    expect(r.details).toMatchObject({ redirects: 1, url: `http://127.0.0.1:${port}/`, status: 200 });
  });

  it('reads no more than maxBodyBytes and says the body was cut', async () => {
    const r = await probe({ type: 'http', url: `http://127.0.0.1:${port}/`, maxBodyBytes: 16, expect: { body: 'Đăng nhập' } });
    expect(r.reason).toBe('body does not contain "Đăng nhập" (first 16 bytes read)');
    expect(r.details).toMatchObject({ bytes: 16, truncated: true });
    // A body exactly as long as the cap (60 bytes, by its Content-Length) is whole, not cut.
    const exact = await probe({ type: 'http', url: `http://127.0.0.1:${port}/health`, maxBodyBytes: 60, expect: { json: { path: '$.status', equals: 'ok' } } });
    expect(exact).toMatchObject({ ok: true, details: { bytes: 60, truncated: false } });
  });

  it('fails a slow answer over maxLatencyMs', async () => {
    const r = await probe({ type: 'http', url: `http://127.0.0.1:${port}/slow`, expect: { maxLatencyMs: 100 } });
    expect(r.reason).toMatch(/^answered in \d+ ms, over the limit of 100 ms$/);
    expect(r.latencyMs).toBeGreaterThanOrEqual(290);
  });

  it('https: verifies the chain against the given CA and measures the TLS phase', async () => {
    const r = await probe({ type: 'http', url: `https://127.0.0.1:${tlsPort}/`, tls: { ca: certs.ca }, expect: { body: 'Đăng nhập' } });
    expect(r.reason).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.phases?.tlsMs).toBeGreaterThan(0);
    expect(r.details).toMatchObject({ tlsProtocol: 'TLSv1.3' });
  });

  it('https: verification is on by default, so an unknown CA and a wrong host name fail with the reason', async () => {
    const unknownCa = await probe({ type: 'http', url: `https://127.0.0.1:${tlsPort}/` });
    expect(unknownCa.reason).toMatch(/^TLS certificate not accepted: .*(unable to verify|not trusted|self-signed).*\(/);
    const wrongName = await probe({ type: 'http', url: `https://localhost:${tlsPort}/`, tls: { ca: certs.ca } });
    if (!/refused/.test(wrongName.reason ?? '')) expect(wrongName.reason).toBe('TLS certificate not accepted: certificate does not match the host name (ERR_TLS_CERT_ALTNAME_INVALID)');
    const off = await probe({ type: 'http', url: `https://127.0.0.1:${tlsPort}/`, tls: { verify: false } });
    expect(off.ok).toBe(true);
  });

  it('connection refused is a failure with the reason', async () => {
    const free = await freePort();
    const r = await probe({ type: 'http', url: `http://127.0.0.1:${free}/` });
    expect(r.reason).toBe(`connection refused by 127.0.0.1:${free}`);
  });
});

describe('http check against python3 -m http.server (a foreign server)', () => {
  let port = 0;
  beforeAll(async () => {
    const site = join(dir, 'site');
    rmSync(site, { recursive: true, force: true });
    await import('node:fs').then((fs) => fs.mkdirSync(site));
    writeFileSync(join(site, 'index.html'), '<h1>Cổng thông tin điện tử tỉnh</h1>');
    port = await freePort();
    child('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', site], 'python3 -m http.server');
    await eventually(() => canConnect(port), 15_000);
  });

  it('passes on its page and fails on a missing one with the status', async () => {
    const r = await probe({ type: 'http', url: `http://127.0.0.1:${port}/`, expect: { status: 200, body: 'Cổng thông tin điện tử' } });
    expect(r.reason).toBeUndefined();
    expect(r.ok).toBe(true);
    const missing = await probe({ type: 'http', url: `http://127.0.0.1:${port}/no-such-page.html`, expect: { status: 200 } });
    expect(missing.reason).toBe('expected status 200, got 404');
  });
});

describe('targets that misbehave: a failed check with the reason, no leak, no stall', () => {
  const targets: BadTarget[] = [];
  afterAll(async () => {
    for (const t of targets) await t.close();
  });

  it('accepts and never answers: times out at the deadline, waiting for the response', async () => {
    const t = await silentTarget();
    targets.push(t);
    const started = Date.now();
    const r = await probe({ type: 'http', url: `http://127.0.0.1:${t.port}/` }, { timeoutMs: 400 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(r.reason).toMatch(/^timed out after \d+ ms waiting for the response \(connected, no answer\)$/);
    expect(Number(/after (\d+) ms/.exec(r.reason ?? '')?.[1])).toBeGreaterThanOrEqual(390);
    await eventually(() => (t.open() === 0 ? true : undefined), 2_000); // the probe closed its socket
  });

  it('streams a "10 GB" body: reads the first 1 MiB, then closes; the server sees the close', async () => {
    const t = await endlessTarget();
    targets.push(t);
    const r = await probe({ type: 'http', url: `http://127.0.0.1:${t.port}/` });
    expect(r.ok).toBe(true);
    expect(r.details).toMatchObject({ bytes: 1_048_576, truncated: true });
    const miss = await probe({ type: 'http', url: `http://127.0.0.1:${t.port}/`, expect: { body: 'never there' } });
    expect(miss.reason).toBe('body does not contain "never there" (first 1048576 bytes read)');
    await eventually(() => (t.open() === 0 ? true : undefined), 2_000);
    const written = t.written();
    expect(written).toBeLessThan(64 * 1024 * 1024); // kernel buffers, not gigabytes
    await new Promise((r) => setTimeout(r, 200));
    expect(t.written()).toBe(written); // nothing is still reading
  });

  it('resets mid-TLS: the http and tls checks say so', async () => {
    const t = await resetDuringTlsTarget();
    targets.push(t);
    const viaHttp = await probe({ type: 'http', url: `https://127.0.0.1:${t.port}/` });
    expect(viaHttp.reason).toBe('connection reset during TLS handshake');
    const viaTls = await probe({ type: 'tls', host: '127.0.0.1', port: t.port });
    expect(viaTls.reason).toBe('connection reset during TLS handshake');
    expect(viaTls.phases?.connectMs).toBeGreaterThan(0);
  });
});

describe('tls check against openssl s_server', () => {
  async function sServer(cert: { certFile: string; keyFile: string }, ...extra: string[]): Promise<number> {
    const port = await freePort();
    const s = child('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', cert.certFile, '-key', cert.keyFile, '-www', ...extra], 'openssl s_server');
    await eventually(() => (/ACCEPT/.test(s.output()) ? true : undefined), 10_000);
    return port;
  }
  let goodPort = 0;
  let soonPort = 0;
  let tls12Port = 0;
  beforeAll(async () => {
    [goodPort, soonPort, tls12Port] = await Promise.all([sServer(certs.good), sServer(certs.soon), sServer(certs.good, '-tls1_2')]);
  });

  it('passes a valid certificate with days left, protocol and chain in the details', async () => {
    const r = await probe({ type: 'tls', host: '127.0.0.1', port: goodPort, ca: certs.ca });
    expect(r.reason).toBeUndefined();
    expect(r).toMatchObject({ ok: true, details: { protocol: 'TLSv1.3', subject: '127.0.0.1', issuer: 'Watchfloor checks test CA', authorized: true } });
    expect(r.warning).toBeUndefined();
    expect((r.details as { daysLeft: number }).daysLeft).toBeGreaterThan(29);
    expect(r.phases?.tlsMs).toBeGreaterThan(0);
  });

  it('a certificate made with -days 3 is critical (under 7 days) and a warning when critical is lowered', async () => {
    const r = await probe({ type: 'tls', host: '127.0.0.1', port: soonPort, ca: certs.ca });
    expect(r.state).toBe('down');
    expect(r.reason).toMatch(/^certificate expires in [23]\.\d days \(\d{4}-\d\d-\d\dT[\d:.]+Z\), under the critical 7 days$/);
    const lowered = await probe({ type: 'tls', host: '127.0.0.1', port: soonPort, ca: certs.ca, expiry: { warningDays: 21, criticalDays: 2 } });
    expect(lowered.ok).toBe(true);
    expect(lowered.warning).toMatch(/^certificate expires in [23]\.\d days .*, under the warning 21 days$/);
  });

  it('uses the clock it is given: a month later the certificate has expired', async () => {
    const clock = new FakeClock(Date.now() + 31 * 86_400_000);
    const r = await probe({ type: 'tls', host: '127.0.0.1', port: goodPort, ca: certs.ca }, { clock });
    expect(r.reason).toMatch(/^certificate expired [01]\.\d days ago/);
  });

  it('fails an untrusted chain, a wrong host name and an old protocol, each in words', async () => {
    const untrusted = await probe({ type: 'tls', host: '127.0.0.1', port: goodPort });
    expect(untrusted.reason).toMatch(/^certificate chain not valid: .*\((UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\)$/);
    const wrongName = await probe({ type: 'tls', host: '127.0.0.1', port: goodPort, ca: certs.ca, servername: 'dichvucong.example' });
    expect(wrongName.reason).toMatch(/^certificate does not match dichvucong\.example/);
    const old = await probe({ type: 'tls', host: '127.0.0.1', port: tls12Port, ca: certs.ca, minVersion: 'TLSv1.3' });
    expect(old.reason).toBe('protocol TLSv1.2 is older than the minimum TLSv1.3');
    const fine12 = await probe({ type: 'tls', host: '127.0.0.1', port: tls12Port, ca: certs.ca });
    expect(fine12).toMatchObject({ ok: true, details: { protocol: 'TLSv1.2' } });
  });
});

describe('tcp check', () => {
  let smtp: NetServer;
  let mute: NetServer;
  let smtpPort = 0;
  let mutePort = 0;
  beforeAll(async () => {
    smtp = createNetServer((s) => {
      s.on('error', () => undefined);
      s.write('220 mail.portal.example ESMTP Postfix\r\n');
      s.on('data', (d) => /QUIT/.test(d.toString()) && s.end('221 2.0.0 Bye\r\n'));
    });
    mute = createNetServer((s) => s.on('error', () => undefined));
    smtpPort = await listen(smtp);
    mutePort = await listen(mute);
  });
  afterAll(async () => {
    await close(smtp);
    await close(mute);
  });

  it('connects, and reads the banner it expects', async () => {
    expect((await probe({ type: 'tcp', host: '127.0.0.1', port: mutePort })).ok).toBe(true);
    const r = await probe({ type: 'tcp', host: '127.0.0.1', port: smtpPort, expect: { bannerRegex: '^220 .*ESMTP' } });
    expect(r).toMatchObject({ ok: true, details: { banner: '220 mail.portal.example ESMTP Postfix\r\n' } });
    expect(r.phases?.firstByteMs).toBeGreaterThan(0);
    const reply = await probe({ type: 'tcp', host: '127.0.0.1', port: smtpPort, send: 'QUIT\r\n', expect: { banner: '221 2.0.0' } });
    expect(reply.ok).toBe(true);
  });

  it('fails a wrong banner, a silent service and a closed port with the reason', async () => {
    const wrong = await probe({ type: 'tcp', host: '127.0.0.1', port: smtpPort, expect: { banner: 'SSH-2.0-' } }, { timeoutMs: 500 });
    expect(wrong.reason).toBe('banner does not match "SSH-2.0-": got "220 mail.portal.example ESMTP Postfix\\r\\n"');
    const silent = await probe({ type: 'tcp', host: '127.0.0.1', port: mutePort, expect: { banner: '220' } }, { timeoutMs: 300 });
    expect(silent.reason).toMatch(/^timed out after \d+ ms waiting for the banner/);
    const free = await freePort();
    expect((await probe({ type: 'tcp', host: '127.0.0.1', port: free })).reason).toBe(`connection refused by 127.0.0.1:${free}`);
  });
});

describe('dns check against dnsmasq on loopback', () => {
  let server = '';
  let mute: UdpSocket;
  let muteServer = '';
  beforeAll(async () => {
    const port = await freePort();
    server = `127.0.0.1:${port}`;
    child(
      'dnsmasq',
      ['--no-daemon', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--conf-file=/dev/null', '--user=root',
        '--address=/portal.example/127.0.0.5', '--local=/example/', '--txt-record=portal.example,v=spf1 -all', '--mx-host=portal.example,mail.portal.example,10'],
      'dnsmasq',
    );
    const resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([server]);
    await eventually(() => resolver.resolve4('portal.example').then(() => true, () => undefined), 15_000, 100);
    mute = createSocket('udp4');
    await new Promise<void>((r) => mute.bind(0, '127.0.0.1', r));
    muteServer = `127.0.0.1:${mute.address().port}`;
  });
  afterAll(() => mute.close());

  it('answers the expected address from the named resolver', async () => {
    const r = await probe({ type: 'dns', name: 'portal.example', recordType: 'A', server, expect: { answers: ['127.0.0.5'], exact: true } });
    expect(r.reason).toBeUndefined();
    expect(r).toMatchObject({ ok: true, details: { answers: ['127.0.0.5'], server } });
    const mx = await probe({ type: 'dns', name: 'portal.example', recordType: 'MX', server, expect: { answers: ['10 mail.portal.example'] } });
    expect(mx.reason).toBeUndefined();
    const txt = await probe({ type: 'dns', name: 'portal.example', recordType: 'TXT', server, expect: { answers: ['v=spf1 -all'] } });
    expect(txt.reason).toBeUndefined();
  });

  it('fails the wrong address, a name that does not exist and a silent resolver, in words', async () => {
    const wrong = await probe({ type: 'dns', name: 'portal.example', server, expect: { answers: ['10.10.0.20'] } });
    expect(wrong.reason).toBe(`A portal.example from ${server} answered 127.0.0.5, expected 10.10.0.20`);
    const nx = await probe({ type: 'dns', name: 'nosuch.example', server });
    expect(nx.reason).toBe(`DNS A nosuch.example from ${server}: name does not exist (NXDOMAIN) (ENOTFOUND)`);
    const silent = await probe({ type: 'dns', name: 'portal.example', server: muteServer, timeoutSeconds: 0.4 }, { timeoutMs: 2_000 });
    expect(silent.reason).toMatch(new RegExp(`^DNS A portal\\.example from ${muteServer}: (no answer from the resolver \\(ETIMEOUT\\)|timed out after \\d+ ms)$`));
  });
});

describe('icmp check with fping', () => {
  const cfg = (over: Record<string, unknown> = {}): IcmpCheckConfig => parseCheck({ type: 'icmp', host: '127.0.0.1', ...over }) as IcmpCheckConfig;
  const ctx = () => ({ signal: AbortSignal.timeout(5_000), clock: { now: () => Date.now() }, logger: silentLogger });

  it('measures round trip and loss to 127.0.0.1 over N probes', async () => {
    const r = await probe({ type: 'icmp', host: '127.0.0.1', count: 4, periodMs: 20, probeTimeoutMs: 500 });
    expect(r.reason).toBeUndefined();
    expect(r).toMatchObject({ ok: true, details: { sent: 4, received: 4, lossPercent: 0 } });
    expect((r.details as { rtts: number[] }).rtts).toHaveLength(4);
    expect(r.latencyMs).toBeGreaterThan(0);
  });

  it('parses fping output recorded for an unreachable host and for partial loss', () => {
    const unreachable = parseFpingSummary(readFileSync(join(fixtures, 'fping-unreachable.txt'), 'utf8'));
    expect(unreachable).toEqual([{ host: '10.99.0.1', rtts: [undefined, undefined, undefined], sent: 3, received: 0, lossPercent: 100 }]);
    expect(judgeFping(cfg({ host: '10.99.0.1' }), unreachable[0]!).reason).toBe('10.99.0.1 unreachable: no reply to 3 echo requests');
    const partial = parseFpingSummary(readFileSync(join(fixtures, 'fping-partial-loss.txt'), 'utf8'));
    expect(partial[0]).toMatchObject({ host: '10.10.0.20', sent: 3, received: 2, lossPercent: 33.33, minMs: 0.39, maxMs: 0.41, avgMs: 0.4 });
    expect(judgeFping(cfg({ host: '10.10.0.20' }), partial[0]!).ok).toBe(true); // some loss, not an outage by default
    expect(judgeFping(cfg({ host: '10.10.0.20', expect: { maxLossPercent: 20 } }), partial[0]!).reason).toBe('33.33% packet loss to 10.10.0.20 (2/3 replies), over the limit of 20%');
    expect(judgeFping(cfg({ host: '10.10.0.20', expect: { maxRttMs: 0.2 } }), partial[0]!).reason).toBe('round trip to 10.10.0.20 0.4 ms, over the limit of 0.2 ms');
  });

  it('says so when fping is missing', async () => {
    expect((await runFping(cfg(), ctx(), 'fping-not-installed-here')).reason).toBe('fping-not-installed-here is not installed (Debian: apt-get install fping)');
  });
});
