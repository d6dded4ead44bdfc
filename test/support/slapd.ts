/*
 * Debian's slapd (OpenLDAP) as a real directory for tests: on loopback and a free port, with its own
 * slapd.conf, mdb database and pid file in a temp folder (nothing of /etc/ldap's own database is
 * touched), the memberof overlay on so groupOfNames members read as memberOf on their entries, as
 * Active Directory shows them. Ready once ldapsearch reads the suffix; the entries are loaded then with
 * ldapadd as the rootdn, so the overlay sees them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort, run } from './net.ts';

export const SLAPD_SUFFIX = 'dc=watchfloor,dc=test';
export const SLAPD_ROOT_DN = `cn=admin,${SLAPD_SUFFIX}`;
export const SLAPD_ROOT_PASSWORD = 'slapd-root-secret';

export interface DirectoryPerson {
  uid: string;
  password: string;
  /** The cn of each group (ou=groups) the person is a member of. */
  groups: string[];
}

export interface Slapd {
  url: string;
  port: number;
  /** `ldaps://127.0.0.1:PORT`, when started with TLS files. */
  ldapsUrl?: string;
  /** Runs ldapadd as the rootdn with this LDIF (more entries, changed groups). */
  ldif(text: string, modify?: boolean): Promise<void>;
  stop(): Promise<void>;
}

const groupDn = (cn: string): string => `cn=${cn},ou=groups,${SLAPD_SUFFIX}`;
export const personDn = (uid: string): string => `uid=${uid},ou=people,${SLAPD_SUFFIX}`;

/** The LDIF of people and their groups (groupOfNames needs a member: the rootdn stands in for an empty group). */
export function peopleLdif(people: DirectoryPerson[], groups: string[]): string {
  const out = [
    `dn: ${SLAPD_SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Watchfloor test\ndc: watchfloor`,
    `dn: ou=people,${SLAPD_SUFFIX}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ou=groups,${SLAPD_SUFFIX}\nobjectClass: organizationalUnit\nou: groups`,
    ...people.map((p) => `dn: ${personDn(p.uid)}\nobjectClass: inetOrgPerson\nuid: ${p.uid}\ncn: ${p.uid}\nsn: ${p.uid}\nuserPassword: ${p.password}`),
    ...groups.map((g) => {
      const members = people.filter((p) => p.groups.includes(g)).map((p) => personDn(p.uid));
      return [`dn: ${groupDn(g)}`, 'objectClass: groupOfNames', `cn: ${g}`, ...(members.length ? members : [SLAPD_ROOT_DN]).map((m) => `member: ${m}`)].join('\n');
    }),
  ];
  return `${out.join('\n\n')}\n`;
}

/**
 * `tls`: PEM files (a server certificate for 127.0.0.1, its key): StartTLS on the ldap:// port, and an
 * ldaps:// port beside it.
 */
export async function startSlapd(o: { people: DirectoryPerson[]; groups: string[]; tls?: { cert: string; key: string } }): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'wf-slapd-'));
  const db = join(dir, 'db');
  mkdirSync(db);
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = o.tls ? `ldaps://127.0.0.1:${await freePort()}` : undefined;
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'moduleload memberof',
    'loglevel stats',
    ...(o.tls ? [`TLSCertificateFile ${o.tls.cert}`, `TLSCertificateKeyFile ${o.tls.key}`] : []),
    'database mdb',
    `suffix "${SLAPD_SUFFIX}"`,
    `rootdn "${SLAPD_ROOT_DN}"`,
    `rootpw ${SLAPD_ROOT_PASSWORD}`,
    `directory ${db}`,
    'maxsize 16777216',
    'overlay memberof',
    'memberof-group-oc groupOfNames',
    'memberof-member-ad member',
    'memberof-memberof-ad memberOf',
    // People bind with their own password and read their own entry and the groups; nobody reads a password.
    'access to attrs=userPassword by self =w by anonymous auth by * none',
    'access to * by users read by anonymous auth',
    '',
  ].join('\n'));
  let output = '';
  let slapd: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (slapd && slapd.exitCode === null && slapd.signalCode === null) {
      const exited = new Promise((r) => slapd?.once('exit', r));
      slapd.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // -d: in the foreground, so the test owns the process (and its exit); its log (256: stats) goes to stderr.
  slapd = spawn('slapd', ['-d', '256', '-f', conf, '-h', [`${url}/`, ...(ldapsUrl ? [`${ldapsUrl}/`] : [])].join(' ')], { stdio: ['ignore', 'pipe', 'pipe'] });
  slapd.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  slapd.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const ldif = async (text: string, modify = false): Promise<void> => {
    const file = join(dir, `load-${Date.now()}-${Math.random().toString(36).slice(2)}.ldif`);
    writeFileSync(file, text);
    const r = await run(modify ? 'ldapmodify' : 'ldapadd', ['-x', '-H', url, '-D', SLAPD_ROOT_DN, '-w', SLAPD_ROOT_PASSWORD, '-f', file]);
    if (r.code !== 0) throw new Error(`ldap${modify ? 'modify' : 'add'} failed (${r.code}): ${r.stderr}${r.stdout}`);
  };
  try {
    await eventually(async () => {
      if (slapd?.exitCode !== null) throw new Error(`slapd exited with ${slapd?.exitCode}`);
      const r = await run('ldapsearch', ['-x', '-H', url, '-D', SLAPD_ROOT_DN, '-w', SLAPD_ROOT_PASSWORD, '-b', '', '-s', 'base', '-LLL', 'namingContexts'], 3000);
      return r.code === 0 ? true : undefined;
    }, 15_000, 100);
    await ldif(peopleLdif(o.people, o.groups));
  } catch (e) {
    await stop();
    throw new Error(`slapd did not start: ${(e as Error).message}\n${output}`, { cause: e });
  }
  return { url, port, ...(ldapsUrl ? { ldapsUrl } : {}), ldif, stop };
}
