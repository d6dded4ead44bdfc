// The simulated e-government services (issue 16, "the sample comes alive"): every service's checks
// pass against the healthy estate with the real check types; each fault fails (or warns) the check
// it is meant to, with the reason; openssl s_client and Node's tls see the certificates the private
// CA signed; stop() frees every port.
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTcp, createServer } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { connect as connectTls } from 'node:tls';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheck, runCheck, type CheckResult } from '../collectors/checks/index.ts';
import { freeUdpPort } from '../collectors/index.ts';
import { Inventory, ServiceSpec, silentLogger, systemClock, WatchfloorError } from '../core/index.ts';
import { buildSampleInventory, startSnmpEstate, type SnmpEstate } from '../simulators/index.ts';
import { startServiceEstate, type ServiceEstate, type SimulatedService } from '../simulators/services/index.ts';
import { freePort } from './support/net.ts';

const probe = (config: Record<string, unknown>): Promise<CheckResult> =>
  runCheck(parseCheck(config), { signal: AbortSignal.timeout(8000), clock: systemClock, logger: silentLogger });

/** Every check of every service, by "service/check". */
async function probeAll(estate: ServiceEstate): Promise<Map<string, CheckResult>> {
  const out = new Map<string, CheckResult>();
  await Promise.all(estate.services.flatMap((s) => s.checks.map(async (c) => out.set(`${s.id}/${String(c.id)}`, await probe(c)))));
  return out;
}

/** The results that are not plainly up (down, or up with a warning), as "key: reason". */
const unhealthy = (results: Map<string, CheckResult>): Record<string, string> =>
  Object.fromEntries([...results].filter(([, r]) => r.state !== 'up' || r.warning).map(([k, r]) => [k, r.reason ?? r.warning ?? '']));

const service = (estate: ServiceEstate, id: string): SimulatedService => estate.services.find((s) => s.id === id) as SimulatedService;
const check = (estate: ServiceEstate, id: string, key: string): Record<string, unknown> => service(estate, id).checks.find((c) => c.id === key) as Record<string, unknown>;

/** openssl s_client's view of a handshake: its verify result and the leaf it was shown. */
function sClient(port: number, servername: string, caFile: string): Promise<{ verify: string; leaf: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername, '-CAfile', caFile, '-verify_hostname', servername], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end('Q\n');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('error', reject);
    child.once('close', () => {
      clearTimeout(timer);
      const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)?.[0];
      const verify = /Verify return code: (.+)/.exec(out)?.[1]?.trim();
      if (!pem || !verify) return reject(new Error(`s_client said:\n${out}`));
      try {
        resolve({ verify, leaf: new X509Certificate(pem) });
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

/** Binds TCP and UDP on the port; true when both were free. */
async function portFree(port: number, udp: boolean): Promise<boolean> {
  if (udp) {
    const s = createSocket('udp4');
    return new Promise((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  }
  const srv = createServer();
  return new Promise((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

describe('the simulated e-government services', () => {
  let estate: ServiceEstate;
  let portalPort = 0;
  let caFile = '';
  let caDir = '';

  beforeAll(async () => {
    portalPort = await freePort();
    estate = await startServiceEstate({ logger: silentLogger, ports: { portal: portalPort } });
    caDir = mkdtempSync(join(tmpdir(), 'wf-estate-ca-'));
    caFile = join(caDir, 'ca.pem');
    writeFileSync(caFile, estate.ca);
  });
  afterAll(async () => {
    await estate?.stop();
    if (caDir) rmSync(caDir, { recursive: true, force: true });
  });

  it("issue 16's services, each a valid inventory service depending on the sample's VMs, hosts and links", () => {
    expect(estate.services.map((s) => s.id)).toEqual(['portal', 'document-mgmt', 'lgsp', 'email', 'web-portal', 'dns']);
    const sample = Inventory.parse(buildSampleInventory());
    const ids = new Set([...sample.devices.map((d) => d.id), ...sample.links.map((l) => l.id)]);
    for (const s of estate.services) {
      expect(() => ServiceSpec.parse(s), s.id).not.toThrow();
      s.checks.forEach((c, i) => expect(() => parseCheck(c, `${s.id}.checks.${i}`)).not.toThrow());
      expect(s.dependsOn.filter((d) => !ids.has(d)), s.id).toEqual([]);
    }
    // The sample inventory with these services in it still validates (dependsOn must name devices or links).
    expect(() => Inventory.parse({ ...buildSampleInventory(), services: estate.services })).not.toThrow();
    expect(service(estate, 'portal').dependsOn).toEqual(['vm-public-services', 'cloud-host-1', 'inet-vnpt']);
    expect(service(estate, 'document-mgmt').dependsOn).toContain('cloud-host-3');
    expect(service(estate, 'email').dependsOn).toContain('cloud-host-3');
    expect(estate.endpoints.find((e) => e.id === 'portal')?.port).toBe(portalPort);
  });

  it('every check of every service passes against the healthy estate, with the CA trusted and verification on', async () => {
    const results = await probeAll(estate);
    expect(results.size).toBe(estate.services.reduce((n, s) => n + s.checks.length, 0));
    expect(unhealthy(results)).toEqual({});
    for (const s of estate.services) for (const c of s.checks) expect((c.tls as { verify?: boolean } | undefined)?.verify, `${s.id}/${String(c.id)}`).not.toBe(false);
    expect(results.get('lgsp/https')?.details).toBeDefined();
  });

  it('Node tls and openssl s_client see each site\'s own certificate, signed by the estate CA', async () => {
    for (const e of estate.endpoints.filter((x) => x.protocol === 'https')) {
      const leaf = await new Promise<{ authorized: boolean; cert: X509Certificate }>((resolve, reject) => {
        const s = connectTls({ host: '127.0.0.1', port: e.port, servername: e.host, ca: estate.ca }, () => {
          const cert = s.getPeerX509Certificate() as X509Certificate;
          resolve({ authorized: s.authorized, cert });
          s.destroy();
        });
        s.once('error', reject);
      });
      expect(leaf.authorized, e.host).toBe(true);
      expect(leaf.cert.subject).toContain(`CN=${e.host}`);
      expect(leaf.cert.subjectAltName).toBe(`DNS:${e.host}, IP Address:127.0.0.1`);
      expect(leaf.cert.checkIssued(new X509Certificate(estate.ca))).toBe(true);
    }
    const portal = await sClient(portalPort, 'dichvucong.tinh.gov.vn', caFile);
    expect(portal.verify).toBe('0 (ok)');
    expect((Date.parse(portal.leaf.validTo) - Date.now()) / 86_400_000).toBeGreaterThan(300);
  });

  it('portal-slow: the portal answers 3 s late and its http check fails on latency; nothing else is touched', async () => {
    await estate.fault('portal-slow', true);
    try {
      const results = await probeAll(estate);
      const bad = unhealthy(results);
      expect(Object.keys(bad)).toEqual(['portal/https']);
      expect(bad['portal/https']).toMatch(/^answered in 3\d{3} ms, over the limit of 2000 ms$/);
    } finally {
      await estate.fault('portal-slow', false);
    }
    expect((await probe(check(estate, 'portal', 'https'))).state).toBe('up');
  });

  it('portal-500: the http check is down with the status', async () => {
    await estate.fault('portal-500', true);
    expect(estate.activeFaults()).toEqual(['portal-500']);
    try {
      const r = await probe(check(estate, 'portal', 'https'));
      expect(r.state).toBe('down');
      expect(r.reason).toBe('expected status 200, got 500');
      expect((await probe(check(estate, 'portal', 'certificate'))).state).toBe('up');
    } finally {
      await estate.fault('portal-500', false);
    }
    expect(estate.activeFaults()).toEqual([]);
  });

  it('cert-expiring: the portal serves a certificate 10 days from expiry; the tls check warns, openssl sees it', async () => {
    await estate.fault('cert-expiring', true);
    try {
      const r = await probe(check(estate, 'portal', 'certificate'));
      expect(r.state).toBe('up');
      expect(r.warning).toMatch(/^certificate expires in (9\.9|10\.0) days \(.+\), under the warning 21 days$/);
      // Still a valid chain and the right name: the page itself answers.
      expect((await probe(check(estate, 'portal', 'https'))).state).toBe('up');
      const seen = await sClient(portalPort, 'dichvucong.tinh.gov.vn', caFile);
      expect(seen.verify).toBe('0 (ok)');
      const days = (Date.parse(seen.leaf.validTo) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(9.9);
      expect(days).toBeLessThanOrEqual(10);
      // With the critical threshold above 10 days, the same certificate is an outage.
      const strict = await probe({ ...check(estate, 'portal', 'certificate'), expiry: { warningDays: 30, criticalDays: 14 } });
      expect(strict.state).toBe('down');
      expect(strict.reason).toMatch(/under the critical 14 days$/);
    } finally {
      await estate.fault('cert-expiring', false);
    }
    const back = await probe(check(estate, 'portal', 'certificate'));
    expect(back.warning).toBeUndefined();
    expect((await sClient(portalPort, 'dichvucong.tinh.gov.vn', caFile)).leaf.validTo).not.toBe('');
  });

  it('dns-wrong: the portal\'s A record answers the wrong address; the other names stay right', async () => {
    await estate.fault('dns-wrong', true);
    try {
      const results = await probeAll(estate);
      const bad = unhealthy(results);
      expect(Object.keys(bad)).toEqual(['dns/a-portal']);
      expect(bad['dns/a-portal']).toMatch(/^A dichvucong\.tinh\.gov\.vn from 127\.0\.0\.1:\d+ answered 192\.0\.2\.66, expected 127\.0\.0\.1 exactly$/);
    } finally {
      await estate.fault('dns-wrong', false);
    }
    expect((await probe(check(estate, 'dns', 'a-portal'))).state).toBe('up');
  });

  it('the DNS responder: NXDOMAIN for an unknown name in the zone, REFUSED outside it', async () => {
    const dns = check(estate, 'dns', 'a-portal');
    const nx = await probe({ ...dns, name: 'khong-co.tinh.gov.vn' });
    expect(nx.reason).toMatch(/name does not exist \(NXDOMAIN\)/);
    const refused = await probe({ ...dns, name: 'example.com' });
    expect(refused.reason).toMatch(/query refused/);
  });

  it('host-down: cloud-host-3 fails and takes document management and e-mail down together, then both come back on their ports', async () => {
    const info = estate.faults.find((f) => f.name === 'host-down');
    expect(info).toMatchObject({ services: ['document-mgmt', 'email'], devices: ['cloud-host-3', 'vm-document-mgmt', 'vm-mail'] });
    await estate.fault('host-down', true);
    try {
      const bad = unhealthy(await probeAll(estate));
      expect(Object.keys(bad).sort()).toEqual(['document-mgmt/certificate', 'document-mgmt/https', 'email/smtp']);
      for (const reason of Object.values(bad)) expect(reason).toMatch(/^connection refused by 127\.0\.0\.1:\d+$/);
    } finally {
      await estate.fault('host-down', false);
    }
    expect(unhealthy(await probeAll(estate))).toEqual({});
  });

  it('a redundant service survives one host: host-1 down fails the portal, not the web portal; host-2 too fails both', async () => {
    await estate.fault('host-down:cloud-host-1', true);
    try {
      expect(Object.keys(unhealthy(await probeAll(estate))).sort()).toEqual(['portal/certificate', 'portal/https']);
      await estate.fault('host-down:cloud-host-2', true);
      expect(Object.keys(unhealthy(await probeAll(estate))).sort()).toEqual(['lgsp/certificate', 'lgsp/https', 'portal/certificate', 'portal/https', 'web-portal/certificate', 'web-portal/https']);
    } finally {
      await estate.fault('host-down:cloud-host-1', false);
      await estate.fault('host-down:cloud-host-2', false);
    }
    expect(unhealthy(await probeAll(estate))).toEqual({});
  });

  it('fault calls racing each other end in the last state asked for', async () => {
    await Promise.all([estate.fault('host-down', true), estate.fault('host-down', false), estate.fault('host-down', true)]);
    expect(estate.activeFaults()).toEqual(['host-down']);
    expect((await probe(check(estate, 'email', 'smtp'))).state).toBe('down');
    await Promise.all([estate.fault('host-down', false), estate.fault('host-down', true), estate.fault('host-down', false)]);
    expect(estate.activeFaults()).toEqual([]);
    expect((await probe(check(estate, 'email', 'smtp'))).state).toBe('up');
  });

  it('an unknown fault is refused, naming the field', async () => {
    const err = await estate.fault('portal-on-fire' as never, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchfloorError);
    expect((err as WatchfloorError).field).toBe('fault');
    const noHost = await estate.fault('host-down:cloud-host-99', true).catch((e: unknown) => e);
    expect((noHost as WatchfloorError).message).toMatch(/unknown fault "host-down:cloud-host-99"/);
  });

  it('the e-mail service greets, answers EHLO and says goodbye to QUIT', async () => {
    const port = estate.endpoints.find((e) => e.id === 'email')?.port as number;
    const transcript = await new Promise<string>((resolve, reject) => {
      const s = connectTcp(port, '127.0.0.1');
      let text = '';
      s.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.startsWith('220 ') && !text.includes('250')) s.write('EHLO watchfloor.test\r\nQUIT\r\n');
      });
      s.once('close', () => resolve(text));
      s.once('error', reject);
    });
    expect(transcript).toMatch(/^220 mail\.tinh\.gov\.vn ESMTP\r\n250-mail\.tinh\.gov\.vn\r\n[\s\S]*250 SMTPUTF8\r\n221 2\.0\.0 Bye\r\n$/);
  });
});

describe('snmp checks on the VMs, against the SNMP estate playing them', () => {
  let snmpEstate: SnmpEstate | undefined;
  let estate: ServiceEstate | undefined;
  afterAll(async () => {
    await estate?.stop();
    await snmpEstate?.stop();
  });

  it("each service gets one snmp check per VM, from the VM's inventory snmp block, and it passes", async () => {
    // The sample's hosts and VMs only, each agent on a free port (the sample's 16140-16152 may be busy).
    const sample = buildSampleInventory();
    const keep = (sample.devices ?? []).filter((d) => d.kind === 'host' || d.kind === 'vm').map((d) => ({ ...d, parents: (d.parents ?? []).filter((p) => p.startsWith('cloud-host-')) }));
    const inventory = Inventory.parse({ sites: sample.sites, devices: keep });
    const ports = new Map<string, number>();
    for (const d of keep) ports.set(d.id, await freeUdpPort());
    snmpEstate = await startSnmpEstate(inventory, { ports });
    estate = await startServiceEstate({ snmpChecks: { ports } });
    const snmpChecks = estate.services.flatMap((s) => s.checks.filter((c) => c.type === 'snmp').map((c) => `${s.id}/${String(c.id)}`));
    expect(snmpChecks).toEqual(['portal/snmp-vm-public-services', 'document-mgmt/snmp-vm-document-mgmt', 'lgsp/snmp-vm-lgsp', 'email/snmp-vm-mail', 'web-portal/snmp-vm-egov-portal-1', 'web-portal/snmp-vm-egov-portal-2']);
    const mail = check(estate, 'email', 'snmp-vm-mail');
    expect(mail).toMatchObject({ host: '127.0.0.1', port: ports.get('vm-mail'), version: '2c', community: 'vm-mail-ro' });
    const results = await probeAll(estate);
    expect(unhealthy(results)).toEqual({});
    expect(Object.values(results.get('email/snmp-vm-mail')?.details?.values as object)[0]).toBeGreaterThanOrEqual(0);
  });
});

describe('starting and stopping the estate', () => {
  it('stop() frees every port, even with a host down', async () => {
    const estate = await startServiceEstate();
    await estate.fault('host-down', true);
    await estate.stop();
    for (const e of estate.endpoints) expect(await portFree(e.port, e.protocol === 'dns'), `${e.id}:${e.port}`).toBe(true);
  });

  it('a port already taken rejects the start and leaves nothing listening', async () => {
    const dnsPort = await freeUdpPort();
    const webPort = await freePort();
    const blocker = createServer();
    const taken = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    try {
      await expect(startServiceEstate({ ports: { portal: webPort, 'web-portal': taken, dns: dnsPort } })).rejects.toThrow(/web-portal: cannot listen on 127\.0\.0\.1:\d+/);
      expect(await portFree(webPort, false)).toBe(true);
      expect(await portFree(dnsPort, true)).toBe(true);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('a domain that is not a DNS name is refused', async () => {
    await expect(startServiceEstate({ domain: 'not a domain/../' })).rejects.toThrow(/not a DNS domain/);
  });
});
