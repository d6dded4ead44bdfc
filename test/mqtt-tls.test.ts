import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, MqttAccounts, type Broker } from '../broker/index.ts';
import { loadConfig, silentLogger, type SecurityEvent } from '../core/index.ts';
import { eventually, run } from './support/net.ts';
import { smallInventory } from './support/start-product.ts';

/** openssl: a CA, a server certificate for 127.0.0.1, client certificates named by CN or by SAN, and a stranger CA. */
async function makeCertificates(dir: string): Promise<void> {
  const ssl = async (...args: string[]): Promise<void> => {
    const r = await run('openssl', args, 30_000);
    if (r.code !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
  };
  const f = (name: string): string => join(dir, name);
  for (const ca of ['ca', 'stranger-ca']) {
    await ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=Watchfloor test ${ca}`, '-keyout', f(`${ca}.key`), '-out', f(`${ca}.crt`));
  }
  const leaf = async (name: string, subject: string, ext: string, ca = 'ca'): Promise<void> => {
    writeFileSync(f(`${name}.ext`), ext);
    await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    await ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.crt`), '-CAkey', f(`${ca}.key`), '-CAcreateserial', '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
  };
  await leaf('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await leaf('s-a01-ft', '/CN=s-a01-ft', 'extendedKeyUsage=clientAuth\n');
  await leaf('by-san', '/CN=some-label', 'subjectAltName=DNS:s-a01-r\nextendedKeyUsage=clientAuth\n');
  await leaf('stranger', '/CN=s-a01-ft', 'extendedKeyUsage=clientAuth\n', 'stranger-ca');
}

describe('mqtts: TLS with passwords and client certificates', () => {
  let broker: Broker;
  let dir: string;
  const received: string[] = [];
  const events: SecurityEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wf-tls-'));
    await makeCertificates(dir);
    const accounts = new MqttAccounts();
    await accounts.setDevicePassword('s-a01-fm', 'sensor-pass-2');
    const known = new Set(['s-a01-ft', 's-a01-r', 's-a01-fm']);
    broker = await startBroker({
      accounts,
      logger: silentLogger,
      kindOf: (id) => (known.has(id) ? 'sensor' : undefined),
      onSecurityEvent: (e) => events.push(e),
      mqtt: { host: '127.0.0.1', port: 0, tls: { port: 0, cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: join(dir, 'ca.crt'), requireClientCert: false } },
    });
    await new Promise<void>((resolve) => broker.aedes.subscribe('devices/#', (p, done) => { received.push(`${p.topic} ${p.payload.toString()}`); done(); }, resolve));
  }, 120_000);
  afterAll(() => broker.close());

  const pub = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
    run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.tlsPort), '--cafile', join(dir, 'ca.crt'), '-q', '1', ...args]);

  it.each(['mqttv31', 'mqttv311'])('mosquitto_pub -V %s over TLS with a password', async (version) => {
    const r = await pub(['-V', version, '-i', `s-a01-fm-${version}`, '-u', 's-a01-fm', '-P', 'sensor-pass-2', '-t', 'devices/s-a01-fm/telemetry', '-m', `{"v": "${version}"}`]);
    expect(r.code).toBe(0);
    await eventually(() => received.find((m) => m === `devices/s-a01-fm/telemetry {"v": "${version}"}`));
    const bad = await pub(['-V', version, '-u', 's-a01-fm', '-P', 'wrong', '-t', 'devices/s-a01-fm/telemetry', '-m', 'x']);
    expect(bad.code).not.toBe(0);
  });

  it('logs a device in by its certificate CN, no password, and holds it to its own topics', async () => {
    const cert = ['--cert', join(dir, 's-a01-ft.crt'), '--key', join(dir, 's-a01-ft.key')];
    expect((await pub([...cert, '-t', 'devices/s-a01-ft/telemetry', '-m', '{"by": "cn"}'])).code).toBe(0);
    await eventually(() => received.find((m) => m === 'devices/s-a01-ft/telemetry {"by": "cn"}'));
    await pub([...cert, '-t', 'devices/s-a01-r/telemetry', '-m', '{"forged": 1}']);
    expect(events.find((e) => e.type === 'topic_denied')).toMatchObject({ username: 's-a01-ft', topic: 'devices/s-a01-r/telemetry' });
    // A username that is not the certificate's name is refused.
    const mismatch = await pub([...cert, '-u', 's-a01-fm', '-t', 'devices/s-a01-fm/telemetry', '-m', 'x']);
    expect(mismatch.code).not.toBe(0);
    expect(broker.refusals.get('certificate_mismatch')).toBe(1);
  });

  it('names the device by a DNS SAN when the CN names nothing known', async () => {
    const r = await pub(['--cert', join(dir, 'by-san.crt'), '--key', join(dir, 'by-san.key'), '-t', 'devices/s-a01-r/telemetry', '-m', '{"by": "san"}']);
    expect(r.code).toBe(0);
    await eventually(() => received.find((m) => m === 'devices/s-a01-r/telemetry {"by": "san"}'));
  });

  it('does not take a certificate from another CA as an identity, and refuses a client that does not trust the server', async () => {
    const r = await pub(['--cert', join(dir, 'stranger.crt'), '--key', join(dir, 'stranger.key'), '-t', 'devices/s-a01-ft/telemetry', '-m', '{"stranger": 1}']);
    expect(r.code).not.toBe(0);
    const untrusting = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.tlsPort), '--cafile', join(dir, 'stranger-ca.crt'), '-u', 's-a01-fm', '-P', 'sensor-pass-2', '-t', 'devices/s-a01-fm/telemetry', '-m', '{"untrusting": 1}']);
    expect(untrusting.code).not.toBe(0);
    expect(received.some((m) => m.includes('stranger') || m.includes('untrusting'))).toBe(false);
  });

  it('reads cert, key and CA named relative to the config file and serves mqtts with them', async () => {
    mkdirSync(join(dir, 'etc'), { recursive: true });
    const file = join(dir, 'etc', 'watchfloor.json');
    const tls = { port: 0, cert: '../server.crt', key: '../server.key', ca: '../ca.crt' };
    writeFileSync(file, JSON.stringify({ dataDir: 'data', mqtt: { host: '127.0.0.1', port: 0, persistence: 'memory', tls }, inventory: smallInventory }));
    const { config } = loadConfig(file, {});
    expect(config.mqtt.tls).toMatchObject({ cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: join(dir, 'ca.crt') });
    const fromFile = await startBroker({ mqtt: config.mqtt, accounts: new MqttAccounts(), kindOf: (id) => (id === 's-a01-ft' ? 'sensor' : undefined), logger: silentLogger });
    try {
      const seen = new Promise<string>((resolve) => fromFile.aedes.subscribe('devices/+/telemetry', (p, done) => { resolve(p.payload.toString()); done(); }, () => undefined));
      const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(fromFile.tlsPort), '--cafile', join(dir, 'ca.crt'), '--cert', join(dir, 's-a01-ft.crt'), '--key', join(dir, 's-a01-ft.key'), '-q', '1', '-t', 'devices/s-a01-ft/telemetry', '-m', '{"from": "config"}']);
      expect(r.code).toBe(0);
      expect(await seen).toBe('{"from": "config"}');
    } finally {
      await fromFile.close();
    }
  });
});
