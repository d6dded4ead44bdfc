/*
 * Sign-in against LDAP or Active Directory. The password is checked by the directory itself: we bind
 * AS THE USER with it (RFC 4513 5.1.3 simple bind) and never read or compare a hash. The role comes
 * from the user's groups (roles.ts). One connection per sign-in, closed after it: a sign-in is rare,
 * and no long-lived connection means none goes stale or holds a bind.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, ResultCodeError, SizeLimitExceededError, type Entry } from 'ldapts';
import { ConfigError, type LdapConfig, type Logger } from '../../core/index.ts';
import type { Role } from '../users.ts';
import { escapeDnValue, escapeFilterValue, fillTemplate } from './escape.ts';
import { roleFromGroups } from './roles.ts';

/** Why a directory sign-in did not give a role. */
export type DirectoryRefusal =
  /** No entry for that name (search mode). */
  | 'unknown'
  /** The directory refused the bind: wrong password, or (bind DN mode) no such user, or a locked account. */
  | 'wrong'
  /** The password was right, but no group of the user maps to a role. */
  | 'no-role'
  /** The filter found more than one entry: the name does not say who. */
  | 'ambiguous'
  /** The directory could not be reached or answered an error (down, timeout, TLS, the service account refused). */
  | 'unavailable';

export type DirectoryVerdict =
  | { ok: true; dn: string; role: Role; roles: Role[]; groups: string[] }
  | { ok: false; reason: DirectoryRefusal; detail: string; dn?: string; groups?: string[] };

/** What the password gate needs of a directory (tests may hand in their own). */
export interface DirectorySignIn {
  /** Where it is, for log lines (the URL, never a password). */
  readonly where: string;
  authenticate(username: string, password: string): Promise<DirectoryVerdict>;
}

/** Attribute values as strings, whatever shape ldapts gives them in (one value, several, buffers). */
const values = (v: Entry[string] | undefined): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x))));

/** An error of the bind AS THE USER that means "refused", not "broken". */
const isRefusal = (e: unknown): boolean => e instanceof InvalidCredentialsError || (e instanceof ResultCodeError && [48, 49, 50, 53].includes(e.code));

const describe = (e: unknown): string => {
  const err = e as { code?: unknown; message?: string };
  return `${err.message ?? String(e)}${typeof err.code === 'string' ? ` (${err.code})` : ''}`.split('\n')[0] as string;
};

export class Directory implements DirectorySignIn {
  readonly where: string;
  private readonly tls: ConnectionOptions | undefined;

  constructor(
    private readonly config: LdapConfig,
    private readonly logger: Logger,
  ) {
    this.where = config.url;
    let ca: Buffer | undefined;
    try {
      ca = config.caFile ? readFileSync(config.caFile) : undefined;
    } catch (e) {
      // At start, not at the first sign-in: a CA that cannot be read is a configuration to fix.
      throw new ConfigError('auth.ldap.caFile', [`auth.ldap.caFile: ${(e as Error).message}`]);
    }
    const secure = config.startTls || /^ldaps:/i.test(config.url);
    this.tls = secure ? { ...(ca ? { ca } : {}), minVersion: 'TLSv1.2' } : undefined;
  }

  async authenticate(username: string, password: string): Promise<DirectoryVerdict> {
    // An empty password is an unauthenticated bind (RFC 4513 5.1.2), which servers answer "success":
    // it proves nothing, so it is refused here, before any directory sees it.
    if (password === '') return { ok: false, reason: 'wrong', detail: 'empty password' };
    const c = this.config;
    const ms = c.timeoutSeconds * 1000;
    const client = new Client({ url: c.url, timeout: ms, connectTimeout: ms, ...(this.tls && !c.startTls ? { tlsOptions: this.tls } : {}) });
    let step = 'connect';
    try {
      if (c.startTls) {
        step = 'StartTLS';
        // The certificate is checked against the URL's host: the upgraded socket does not know it by itself.
        await client.startTLS({ ...this.tls, host: new URL(c.url).hostname.replace(/^\[|\]$/g, '') });
      }
      let dn: string;
      let groups: string[] | undefined;
      if (c.search) {
        if (c.search.bindDn && c.search.bindPasswordFile) {
          step = 'bind as the service account';
          const servicePassword = readFileSync(c.search.bindPasswordFile, 'utf8').split('\n')[0]?.trim() ?? '';
          await client.bind(c.search.bindDn, servicePassword);
        }
        step = 'search for the user';
        const attribute = c.groups.attribute;
        const found = await client.search(c.search.baseDn, {
          scope: 'sub',
          filter: fillTemplate(c.search.filter, { user: escapeFilterValue(username) }),
          attributes: attribute ? [attribute] : ['1.1'],
          sizeLimit: 2,
        }).catch((e: unknown) => {
          if (e instanceof SizeLimitExceededError) return { searchEntries: [{ dn: '' }, { dn: '' }] as Entry[] };
          throw e;
        });
        if (found.searchEntries.length === 0) return { ok: false, reason: 'unknown', detail: 'no directory entry has that name' };
        if (found.searchEntries.length > 1) return { ok: false, reason: 'ambiguous', detail: `the filter ${c.search.filter} finds more than one entry for that name` };
        const entry = found.searchEntries[0] as Entry;
        dn = entry.dn;
        // Read with the service account, before the user's bind: users often may not read groups.
        // Nothing of it is used unless the user's own bind succeeds below.
        step = 'read the groups';
        groups = attribute ? values(entry[attribute]) : await this.groupSearch(client, dn, username);
        step = 'bind as the user';
        await client.bind(dn, password);
      } else {
        dn = fillTemplate(c.userDn as string, { user: escapeDnValue(username) });
        step = 'bind as the user';
        await client.bind(dn, password);
      }
      if (groups === undefined) {
        step = 'read the groups';
        const attribute = c.groups.attribute;
        if (attribute) {
          const own = await client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: [attribute] });
          groups = values(own.searchEntries[0]?.[attribute]);
        } else groups = await this.groupSearch(client, dn, username);
      }
      const mapping = roleFromGroups(groups, c.groupRoles);
      if (!mapping.role) return { ok: false, reason: 'no-role', dn, groups, detail: `none of the ${groups.length} groups of ${dn} is in auth.ldap.groupRoles` };
      return { ok: true, dn, role: mapping.role, roles: mapping.roles, groups: mapping.matched };
    } catch (e) {
      if (step === 'bind as the user' && isRefusal(e)) return { ok: false, reason: 'wrong', detail: `the directory refused the bind: ${describe(e)}` };
      const detail = `${step} at ${c.url} failed: ${describe(e)}`;
      this.logger.warn({ url: c.url, step, err: describe(e) }, 'directory: unavailable, directory users cannot sign in (local accounts still can)');
      return { ok: false, reason: 'unavailable', detail };
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  /** The DNs of the groups naming the user (groupOfNames member, groupOfUniqueNames uniqueMember, AD's member). */
  private async groupSearch(client: Client, dn: string, username: string): Promise<string[]> {
    const g = this.config.groups.search as NonNullable<LdapConfig['groups']['search']>;
    const found = await client.search(g.baseDn, { scope: 'sub', filter: fillTemplate(g.filter, { dn: escapeFilterValue(dn), user: escapeFilterValue(username) }), attributes: ['1.1'] });
    return found.searchEntries.map((e) => e.dn);
  }
}
