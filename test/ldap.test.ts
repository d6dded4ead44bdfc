import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatchfloor } from '../cli/index.ts';
import { freeUdpPort } from '../collectors/index.ts';
import { Config, Inventory, LdapConfig, silentLogger, type Logger } from '../core/index.ts';
import { Directory, escapeDnValue, escapeFilterValue, normalizeDn, roleFromGroups } from '../ops-server/directory/index.ts';
import { makeSyslogCertificates } from './fixtures/syslog/certs.ts';
import { eventually } from './support/net.ts';
import { personDn, SLAPD_ROOT_DN, SLAPD_ROOT_PASSWORD, SLAPD_SUFFIX, startSlapd, type Slapd } from './support/slapd.ts';
import { ADMIN_PASSWORD, api, login, smallInventory, type LoggedIn } from './support/start-product.ts';

/**
 * Directory sign-in against Debian's slapd on loopback: people bind as themselves, their groups
 * (groupOfNames, read as memberOf through slapd's memberof overlay, or by a group search) give
 * their role; local accounts keep working when the directory is down.
 */

const GROUPS = ['noc', 'soc', 'ops-admins', 'unmapped'];
const group = (cn: string): string => `cn=${cn},ou=groups,${SLAPD_SUFFIX}`;
const PEOPLE = [
  { uid: 'alice', password: 'alice-directory-pw', groups: ['noc'] },
  { uid: 'bob', password: 'bob-directory-pw', groups: ['soc'] },
  { uid: 'carol', password: 'carol-directory-pw', groups: ['unmapped'] },
  { uid: 'dave', password: 'dave-directory-pw', groups: ['noc'] },
  { uid: 'erin', password: 'erin-directory-pw', groups: ['noc', 'soc'] },
];
// Spelled as an administrator might type them: upper case, spaces after commas (compared normalized).
const GROUP_ROLES = { [group('noc').toUpperCase()]: 'noc', [group('soc').replace(/,/g, ', ')]: 'soc', [group('ops-admins')]: 'admin' } as const;

/** A pino logger whose lines the test reads. */
function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines: () => lines };
}

const tryLogin = async (base: string, username: string, password: string): Promise<{ status: number; body: { error?: { message: string }; user?: { role: string; source: string } } }> => {
  const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  return { status: res.status, body: (await res.json()) as { error?: { message: string } } };
};

describe('escaping a user name for LDAP', () => {
  it('writes filter syntax in an assertion value as \\XX (RFC 4515)', () => {
    expect(escapeFilterValue('*)(uid=*')).toBe('\\2a\\29\\28uid=\\2a');
    expect(escapeFilterValue('a\\b\0')).toBe('a\\5cb\\00');
    expect(escapeFilterValue('nguyễn.văn')).toBe('nguyễn.văn');
  });
  it('escapes DN specials, a leading # or space and a trailing space (RFC 4514)', () => {
    expect(escapeDnValue('alice,ou=admins')).toBe('alice\\,ou\\=admins');
    expect(escapeDnValue('#x y ')).toBe('\\#x y\\ ');
    expect(escapeDnValue(' a+b;"<>\\')).toBe('\\ a\\+b\\;\\"\\<\\>\\\\');
  });
  it('compares group DNs without regard to case or spaces after commas, and gives the first role by precedence', () => {
    expect(normalizeDn('CN=NOC, OU=Groups,DC=x')).toBe('cn=noc,ou=groups,dc=x');
    const m = roleFromGroups([group('soc'), group('noc'), group('unmapped')], GROUP_ROLES);
    expect(m).toEqual({ role: 'soc', roles: ['soc', 'noc'], matched: [group('soc'), group('noc')] });
    expect(roleFromGroups([group('unmapped')], GROUP_ROLES).role).toBeUndefined();
  });
});

describe('directory sign-in against slapd', () => {
  let slapd: Slapd;
  let dir: string;
  let serviceSecret: string;

  beforeAll(async () => {
    slapd = await startSlapd({ people: PEOPLE, groups: GROUPS });
    dir = mkdtempSync(join(tmpdir(), 'wf-ldap-'));
    serviceSecret = join(dir, 'ldap-bind-password');
    writeFileSync(serviceSecret, `${SLAPD_ROOT_PASSWORD}\n`, { mode: 0o600 });
  }, 30_000);
  afterAll(async () => {
    await slapd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const searchConfig = (over: Partial<LdapConfig> = {}): LdapConfig =>
    LdapConfig.parse({
      url: slapd.url,
      search: { bindDn: SLAPD_ROOT_DN, bindPasswordFile: serviceSecret, baseDn: `ou=people,${SLAPD_SUFFIX}`, filter: '(&(objectClass=inetOrgPerson)(uid={user}))' },
      groupRoles: GROUP_ROLES,
      timeoutSeconds: 3,
      ...over,
    });

  it('finds the user, binds as them, and maps memberOf to a role', async () => {
    const d = new Directory(searchConfig(), silentLogger);
    expect(await d.authenticate('alice', 'alice-directory-pw')).toEqual({ ok: true, dn: personDn('alice'), role: 'noc', roles: ['noc'], groups: [group('noc')] });
    expect(await d.authenticate('alice', 'not-her-password')).toMatchObject({ ok: false, reason: 'wrong' });
    expect(await d.authenticate('nobody', 'whatever')).toMatchObject({ ok: false, reason: 'unknown' });
    // An empty password would be an anonymous bind, which slapd answers with success: refused before.
    expect(await d.authenticate('alice', '')).toMatchObject({ ok: false, reason: 'wrong' });
    expect(await d.authenticate('carol', 'carol-directory-pw')).toMatchObject({ ok: false, reason: 'no-role', dn: personDn('carol') });
  });

  it('keeps filter syntax in a name a name: "*)(uid=*" and "*" find nobody, with any password', async () => {
    const d = new Directory(searchConfig(), silentLogger);
    for (const name of ['*)(uid=*', '*', 'al*', 'alice)(|(uid=*']) {
      expect(await d.authenticate(name, 'alice-directory-pw'), name).toMatchObject({ ok: false, reason: 'unknown' });
    }
    // The oracle: slapd itself, given the same filter unescaped, would have found every person.
    const { run } = await import('./support/net.ts');
    const raw = await run('ldapsearch', ['-x', '-H', slapd.url, '-D', SLAPD_ROOT_DN, '-w', SLAPD_ROOT_PASSWORD, '-b', `ou=people,${SLAPD_SUFFIX}`, '-LLL', '(&(objectClass=inetOrgPerson)(uid=*))', 'dn']);
    expect(raw.stdout.match(/^dn:/gm)?.length).toBe(PEOPLE.length);
  });

  it('binds to a DN template with the name DN-escaped, and reads groups by a groupOfNames search', async () => {
    const d = new Directory(LdapConfig.parse({
      url: slapd.url,
      userDn: `uid={user},ou=people,${SLAPD_SUFFIX}`,
      groups: { search: { baseDn: `ou=groups,${SLAPD_SUFFIX}`, filter: '(&(objectClass=groupOfNames)(member={dn}))' } },
      groupRoles: GROUP_ROLES,
    }), silentLogger);
    expect(await d.authenticate('bob', 'bob-directory-pw')).toEqual({ ok: true, dn: personDn('bob'), role: 'soc', roles: ['soc'], groups: [group('soc')] });
    expect(await d.authenticate('erin', 'erin-directory-pw')).toMatchObject({ ok: true, role: 'soc', roles: ['soc', 'noc'] });
    // "bob,ou=people" would otherwise be another DN; escaped, it names no entry and the bind is refused.
    expect(await d.authenticate(`bob,ou=people,${SLAPD_SUFFIX}`, 'bob-directory-pw')).toMatchObject({ ok: false, reason: 'wrong' });
  });

  it('says "unavailable" for a refused service account and for a port nobody listens on, within its timeout', async () => {
    writeFileSync(join(dir, 'wrong-secret'), 'not-the-password\n');
    const refused = new Directory(searchConfig({ search: { bindDn: SLAPD_ROOT_DN, bindPasswordFile: join(dir, 'wrong-secret'), baseDn: SLAPD_SUFFIX, filter: '(uid={user})' } }), silentLogger);
    expect(await refused.authenticate('alice', 'alice-directory-pw')).toMatchObject({ ok: false, reason: 'unavailable', detail: expect.stringContaining('service account') });
    const down = new Directory(searchConfig({ url: 'ldap://127.0.0.1:1' }), silentLogger);
    const t0 = performance.now();
    expect(await down.authenticate('alice', 'alice-directory-pw')).toMatchObject({ ok: false, reason: 'unavailable' });
    expect(performance.now() - t0).toBeLessThan(3500);
  });

  it('refuses configurations that would send passwords in clear or are ambiguous, naming the field', () => {
    const bad = (o: object): string => LdapConfig.safeParse({ groupRoles: GROUP_ROLES, userDn: 'uid={user},dc=x', ...o }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') ?? 'accepted';
    expect(bad({ url: 'ldap://dc1.example.org' })).toMatch(/^startTls: .*in clear/);
    expect(bad({ url: 'ldap://dc1.example.org', startTls: true })).toBe('accepted');
    expect(bad({ url: 'ldaps://dc1.example.org:636' })).toBe('accepted');
    expect(bad({ url: 'ldap://127.0.0.1:389', search: { baseDn: 'dc=x' } })).toMatch(/userDn: give either userDn or search/);
    expect(bad({ url: 'http://x' })).toMatch(/^url: /);
  });
});

describe('directory sign-in over TLS (slapd with a test CA)', () => {
  let slapd: Slapd;
  let certs: string;

  beforeAll(async () => {
    certs = mkdtempSync(join(tmpdir(), 'wf-ldap-tls-'));
    // A CA and a server certificate for 127.0.0.1 (openssl), as the syslog TLS tests make them.
    await makeSyslogCertificates(certs);
    slapd = await startSlapd({ people: PEOPLE, groups: GROUPS, tls: { cert: join(certs, 'server.crt'), key: join(certs, 'server.key') } });
  }, 60_000);
  afterAll(async () => {
    await slapd?.stop();
    rmSync(certs, { recursive: true, force: true });
  });

  const config = (over: object): LdapConfig => LdapConfig.parse({ url: slapd.url, userDn: `uid={user},ou=people,${SLAPD_SUFFIX}`, groupRoles: GROUP_ROLES, timeoutSeconds: 3, ...over });

  it('signs in over StartTLS and over ldaps:// with the CA file given', async () => {
    const startTls = new Directory(config({ startTls: true, caFile: join(certs, 'ca.crt') }), silentLogger);
    expect(await startTls.authenticate('alice', 'alice-directory-pw')).toMatchObject({ ok: true, role: 'noc' });
    const ldaps = new Directory(config({ url: slapd.ldapsUrl, caFile: join(certs, 'ca.crt') }), silentLogger);
    expect(await ldaps.authenticate('bob', 'bob-directory-pw')).toMatchObject({ ok: true, role: 'soc' });
    expect(await ldaps.authenticate('bob', 'wrong')).toMatchObject({ ok: false, reason: 'wrong' });
  });

  it('sends no password to a server whose certificate does not chain to the CA: unavailable, not wrong', async () => {
    // Without caFile the system's CAs apply, and they do not know the test CA.
    for (const over of [{ url: slapd.ldapsUrl }, { startTls: true }]) {
      const d = new Directory(config(over), silentLogger);
      expect(await d.authenticate('alice', 'alice-directory-pw'), JSON.stringify(over)).toMatchObject({ ok: false, reason: 'unavailable', detail: expect.stringMatching(/certificate/i) });
    }
    // The right CA, but the certificate names 127.0.0.1 and the URL another name for it.
    const misnamed = new Directory(config({ url: slapd.url.replace('127.0.0.1', 'localhost'), startTls: true, caFile: join(certs, 'ca.crt') }), silentLogger);
    expect(await misnamed.authenticate('alice', 'alice-directory-pw')).toMatchObject({ ok: false, reason: 'unavailable', detail: expect.stringMatching(/altnames/) });
  });
});

describe('signing in to the product with a directory account', () => {
  let slapd: Slapd;
  let base: string;
  let stop: () => Promise<void>;
  let logs: () => Record<string, unknown>[];
  let admin: LoggedIn;

  beforeAll(async () => {
    slapd = await startSlapd({ people: PEOPLE, groups: GROUPS });
    const dataDir = mkdtempSync(join(tmpdir(), 'wf-ldap-product-'));
    const secret = join(dataDir, 'ldap-bind-password');
    writeFileSync(secret, `${SLAPD_ROOT_PASSWORD}\n`, { mode: 0o600 });
    const trapPort = await freeUdpPort();
    const captured = capturingLogger();
    logs = captured.lines;
    const config = Config.parse({
      dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, snmp: { trapPort }, store: { flushIntervalMs: 50 },
      auth: { ldap: { url: slapd.url, search: { bindDn: SLAPD_ROOT_DN, bindPasswordFile: secret, baseDn: SLAPD_SUFFIX, filter: '(&(objectClass=inetOrgPerson)(uid={user}))' }, groupRoles: GROUP_ROLES, timeoutSeconds: 2 } },
    });
    const app = await startWatchfloor({ config, inventory: Inventory.parse(smallInventory), logger: captured.logger, adminPassword: ADMIN_PASSWORD });
    base = `http://127.0.0.1:${app.httpPort}`;
    stop = async () => {
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
    admin = await login(base);
  }, 60_000);
  afterAll(async () => {
    await stop?.();
    await slapd?.stop();
  });

  const auditOf = async (target: string): Promise<{ action: string; outcome: string; detail?: Record<string, unknown> }[]> =>
    ((await api(base, admin, '/api/v1/audit?limit=5000')).body as { action: string; target?: string; outcome: string; detail?: Record<string, unknown> }[]).filter((e) => e.target === target);

  it('gives a noc group member the noc role: noc routes answer, admin and soc-only routes refuse', async () => {
    const s = await login(base, 'alice', 'alice-directory-pw');
    expect((await api(base, s, '/api/v1/auth/me')).body).toMatchObject({ user: { username: 'alice', role: 'noc' } });
    expect((await api(base, s, '/api/v1/security-events')).status).toBe(403);
    expect((await api(base, s, '/api/v1/audit')).status).toBe(403);
    expect((await api(base, s, '/api/v1/users')).status).toBe(403);
    expect((await api(base, s, '/api/v1/alerts')).status).toBe(200);
    // The admin sees alice as a directory user; the sign-in's audit entry says which groups gave what.
    const users = (await api(base, admin, '/api/v1/users')).body as { username: string; role: string; source: string; dn?: string }[];
    expect(users.find((u) => u.username === 'alice')).toMatchObject({ role: 'noc', source: 'directory', dn: personDn('alice') });
    expect(await auditOf('alice')).toContainEqual(expect.objectContaining({ action: 'auth.login', outcome: 'ok', detail: { via: 'directory', dn: personDn('alice'), roles: ['noc'], groups: [group('noc')] } }));
  });

  it('gives a soc group member the soc role, names matched without regard to case', async () => {
    const s = await login(base, 'Bob', 'bob-directory-pw');
    expect((await api(base, s, '/api/v1/auth/me')).body).toMatchObject({ user: { username: 'bob', role: 'soc' } });
    expect((await api(base, s, '/api/v1/security-events')).status).toBe(200);
    expect((await api(base, s, '/api/v1/users')).status).toBe(403);
  });

  it('refuses a directory user in no mapped group (403, audited, a security event), with the right password', async () => {
    const r = await tryLogin(base, 'carol', 'carol-directory-pw');
    expect(r.status).toBe(403);
    expect(r.body.error?.message).toMatch(/none of your groups gives a Watchfloor role/);
    expect(await auditOf('carol')).toContainEqual(expect.objectContaining({ action: 'auth.login', outcome: 'denied', detail: expect.objectContaining({ reason: 'no-role' }) }));
    const events = (await api(base, admin, '/api/v1/security-events')).body as { type: string; username?: string; detail?: string }[];
    expect(events).toContainEqual(expect.objectContaining({ type: 'login_failed', username: 'carol', detail: expect.stringMatching(/no group mapped/) }));
    expect(((await api(base, admin, '/api/v1/users')).body as { username: string }[]).map((u) => u.username)).not.toContain('carol');
  });

  it('refuses a wrong directory password and counts it: the fifth locks the pair, then even the right password waits', async () => {
    for (let i = 0; i < 5; i++) expect((await tryLogin(base, 'dave', `wrong-${i}`)).status, `attempt ${i + 1}`).toBe(401);
    const locked = await tryLogin(base, 'dave', 'dave-directory-pw');
    expect(locked.status).toBe(429);
    expect(await auditOf('dave')).toContainEqual(expect.objectContaining({ action: 'auth.lockout', outcome: 'denied' }));
    expect((await auditOf('dave')).filter((e) => e.action === 'auth.login' && e.outcome === 'failed')).toHaveLength(5);
  });

  it('refuses filter syntax in a name', async () => {
    for (const name of ['*)(uid=*', '*', 'alice)(uid=*']) expect((await tryLogin(base, name, 'alice-directory-pw')).status, name).toBe(401);
  });

  it('applies a group change made in the directory at the next sign-in, which ends the sessions of the old role', async () => {
    const before = await login(base, 'alice', 'alice-directory-pw');
    await slapd.ldif(`dn: ${group('noc')}\nchangetype: modify\ndelete: member\nmember: ${personDn('alice')}\n\ndn: ${group('ops-admins')}\nchangetype: modify\nadd: member\nmember: ${personDn('alice')}\n`, true);
    // Until she signs in again, her session keeps the role it was given.
    expect((await api(base, before, '/api/v1/auth/me')).body).toMatchObject({ user: { role: 'noc' } });
    const after = await login(base, 'alice', 'alice-directory-pw');
    expect((await api(base, after, '/api/v1/auth/me')).body).toMatchObject({ user: { role: 'admin' } });
    expect((await api(base, after, '/api/v1/users')).status).toBe(200);
    expect((await api(base, before, '/api/v1/auth/me')).status).toBe(401);
  });

  it('refuses a directory user an admin disabled here, without asking the directory', async () => {
    const r = await api(base, admin, '/api/v1/users/bob', { method: 'PATCH', body: { disabled: true } });
    expect(r.status).toBe(200);
    expect((await tryLogin(base, 'bob', 'bob-directory-pw')).status).toBe(401);
    expect((await api(base, admin, '/api/v1/users/bob', { method: 'PATCH', body: { role: 'admin' } })).body).toMatchObject({ error: { field: 'role' } });
  });

  it('with slapd stopped: the local admin still signs in, a directory user is told the directory is unavailable, and the log says so', async () => {
    await slapd.stop();
    const local = await tryLogin(base, 'admin', ADMIN_PASSWORD);
    expect(local.status).toBe(200);
    const t0 = performance.now();
    const d = await tryLogin(base, 'alice', 'alice-directory-pw');
    expect(d.status).toBe(503);
    expect(d.body.error?.message).toMatch(/directory \(LDAP\) is unavailable.*local accounts still can/);
    expect(performance.now() - t0).toBeLessThan(2500);
    await eventually(() => (logs().some((l) => String(l.msg).startsWith('directory: unavailable') && String(l.url) === slapd.url) ? true : undefined), 2000);
    // Not a wrong password: a directory outage locks nobody out.
    for (let i = 0; i < 6; i++) expect((await tryLogin(base, 'alice', 'alice-directory-pw')).status).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
