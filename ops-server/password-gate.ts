/*
 * The one place a local user's password is checked, whichever door it comes through: the HTTP
 * login form, and /query's basic auth and `u`/`p` parameters (Grafana, the influx CLI). Each check
 * consults the lock of its (source, account) pair first, then verifies, counts a failure, raises the
 * security event that the rules turn into a SOC alert (config/rules.yaml: http-login-*), and audits.
 * A name that is no local account goes to the directory (ops-server/directory, config auth.ldap)
 * when one is configured, with the same locks, audit and events: the directory binds as the user.
 * The embedded MQTT broker checks its own accounts (broker/accounts.ts) with the same lock model
 * (core/login-guard.ts) in broker/login-gate.ts, kept in its own file (mqtt-login-locks.json).
 */
import { join } from 'node:path';
import { LoginGuard, plainSource, type Clock, type Logger, type SecurityEvent } from '../core/index.ts';
import type { AuditInput } from './audit.ts';
import type { OpsContext } from './deps.ts';
import { Directory, type DirectorySignIn } from './directory/index.ts';
import { Username, type Role, type StoredUser, type UserBook } from './users.ts';

/** Which door a password came through; named in the audit entry and the security event. */
export type PasswordDoor = 'login' | 'query';

export interface PasswordAttempt {
  username: string;
  password: string;
  /** The remote address (req.ip). */
  source: string | undefined;
  door: PasswordDoor;
  /** Writes an audit entry for this attempt (the route's audit(req, ...), so actor and source are the request's). */
  record(entry: AuditInput): void;
}

export type GateVerdict =
  | { ok: true; user: StoredUser; directory?: { roles: Role[]; groups: string[] } }
  /**
   * `refusal`: a directory sign-in that is not a wrong password: the directory is unavailable, or the
   * password was right and no group maps to a role. Neither counts toward a lockout.
   */
  | { ok: false; lockedUntil?: number; refusal?: 'unavailable' | 'no-role' };

export interface PasswordGateDeps {
  users: UserBook;
  guard: LoginGuard;
  clock: Clock;
  logger: Logger;
  onSecurityEvent?(e: SecurityEvent): void;
  /** LDAP / Active Directory, for names that are not local accounts; none when absent. */
  directory?: DirectorySignIn;
}

/** Under the data directory; `watchfloor users unlock` edits it. */
export const LOGIN_LOCKS_FILE = 'login-locks.json';

const ACTION: Record<PasswordDoor, string> = { login: 'auth.login', query: 'auth.query' };
const DOOR_NAME: Record<PasswordDoor, string> = { login: 'HTTP login', query: '/query basic or u/p auth' };

/** Checks a password against the lockouts, then the user book; reports every failure. */
export class PasswordGate {
  constructor(private readonly o: PasswordGateDeps) {}

  async check(a: PasswordAttempt): Promise<GateVerdict> {
    const { users, guard } = this.o;
    const source = plainSource(a.source);
    // /query takes any user name; no user's is longer than 64 (users.ts), so a longer one is clipped
    // in what is kept and reported (it still fails as unknown), against filling the logs with it.
    const local = users.get(a.username);
    const viaDirectory = this.o.directory !== undefined && (local === undefined || local.source === 'directory');
    // Directory names are matched without regard to case: one lock for `Alice` and `alice`.
    const typed = viaDirectory ? a.username.toLowerCase() : a.username;
    const name = typed.length > 64 ? `${typed.slice(0, 64)}…` : typed;
    const locked = guard.lockedUntil(name, source);
    if (locked !== undefined) {
      // Refused unverified: a locked pair learns nothing, not even whether the password was right.
      a.record({ action: ACTION[a.door], target: name, outcome: 'denied', detail: { reason: 'locked', until: locked } });
      return { ok: false, lockedUntil: locked };
    }
    if (viaDirectory && this.o.directory) return this.checkDirectory(this.o.directory, a, name, source);
    const result = await users.check(a.username, a.password);
    if ('user' in result) {
      guard.succeeded(name, source);
      return { ok: true, user: result.user };
    }
    const why = result.reason === 'unknown' ? 'unknown user' : result.reason === 'disabled' ? 'account disabled' : 'wrong password';
    return this.failed(a, name, source, result.reason, why);
  }

  /**
   * A directory sign-in. Names are kept in lower case (directories match them without regard to
   * case, so `Alice` and `alice` are one person) and must be names a local account could have.
   */
  private async checkDirectory(directory: DirectorySignIn, a: PasswordAttempt, name: string, source: string): Promise<GateVerdict> {
    const { users, guard, logger, clock } = this.o;
    const username = a.username.toLowerCase();
    if (!Username.safeParse(username).success) return this.failed(a, name, source, 'unknown', 'unknown user');
    const known = users.get(username);
    if (known?.disabled) return this.failed(a, name, source, 'disabled', 'account disabled');
    const v = await directory.authenticate(username, a.password);
    if (v.ok) {
      const user = users.recordDirectoryUser(username, v.role, v.dn, clock.now());
      if (!user) {
        logger.warn({ username, dn: v.dn }, 'directory: a local account has this name; the directory entry may not sign in as it');
        return this.failed(a, name, source, 'conflict', 'a local account has this name');
      }
      guard.succeeded(name, source);
      return { ok: true, user, directory: { roles: v.roles, groups: v.groups } };
    }
    if (v.reason === 'unavailable') {
      a.record({ action: ACTION[a.door], target: name, outcome: 'failed', detail: { reason: 'directory-unavailable', directory: directory.where } });
      return { ok: false, refusal: 'unavailable' };
    }
    if (v.reason === 'no-role') {
      // The password was right: no lockout strike; but the SOC hears of a refused sign-in.
      logger.warn({ username, dn: v.dn, groups: v.groups?.length ?? 0, source, door: a.door }, 'http: directory user has no group mapped to a role');
      a.record({ action: ACTION[a.door], target: name, outcome: 'denied', detail: { reason: 'no-role', dn: v.dn, groups: v.groups?.length ?? 0 } });
      this.report({ type: 'login_failed', source, username: name, detail: `${DOOR_NAME[a.door]}: directory user in no group mapped to a role` });
      return { ok: false, refusal: 'no-role' };
    }
    return this.failed(a, name, source, v.reason, v.reason === 'wrong' ? 'wrong password (directory)' : v.reason === 'ambiguous' ? 'name matches several directory entries' : 'unknown user');
  }

  /** A failed password: logged, audited, reported, and counted toward the pair's and the source's locks. */
  private failed(a: PasswordAttempt, name: string, source: string, reason: string, why: string): GateVerdict {
    const { guard, logger } = this.o;
    logger.warn({ username: name, source, door: a.door, reason }, 'http: failed login');
    a.record({ action: ACTION[a.door], target: name, outcome: 'failed', detail: { reason } });
    this.report({ type: 'login_failed', source, username: name, detail: `${DOOR_NAME[a.door]}: ${why}` });
    const lock = guard.failed(name, source);
    if (lock.locked) {
      const what = lock.scope === 'pair' ? `"${name}" from ${source}` : `every account from ${source}`;
      const detail = `locked ${what} until ${new Date(lock.until).toISOString()} (lock ${lock.strikes}) after repeated failed passwords; watchfloor users unlock ${name} --source ${source}`;
      logger.warn({ username: name, source, scope: lock.scope, until: lock.until, strikes: lock.strikes }, 'http: login lockout');
      a.record({ action: 'auth.lockout', target: lock.scope === 'pair' ? name : source, outcome: 'denied', detail: { scope: lock.scope, source, until: lock.until, strikes: lock.strikes } });
      this.report({ type: 'login_lockout', source, username: name, detail });
    }
    return { ok: false };
  }

  private report(e: Omit<SecurityEvent, 'ts' | 'origin'>): void {
    this.o.onSecurityEvent?.({ ts: this.o.clock.now(), origin: 'http', ...e });
  }
}

/** One gate per ops context (the login route and /query share its locks), its locks in DATA_DIR/login-locks.json. */
const gates = new WeakMap<OpsContext, PasswordGate>();

/** The password gate of this ops server, made at first use. */
export function passwordGateFor(ctx: OpsContext): PasswordGate {
  let gate = gates.get(ctx);
  if (!gate) {
    const guard = new LoginGuard(ctx.clock, undefined, ctx.dataDir ? join(ctx.dataDir, LOGIN_LOCKS_FILE) : undefined);
    const directory = ctx.ldap ? new Directory(ctx.ldap, ctx.logger) : undefined;
    if (directory) ctx.logger.info({ url: directory.where }, 'http: directory sign-in on; local accounts sign in as before');
    gate = new PasswordGate({ users: ctx.users, guard, clock: ctx.clock, logger: ctx.logger, onSecurityEvent: (e) => ctx.onSecurityEvent?.(e), directory });
    gates.set(ctx, gate);
  }
  return gate;
}
