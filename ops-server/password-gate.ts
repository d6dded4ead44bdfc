/*
 * The one place a local user's password is checked, whichever door it comes through: the HTTP
 * login form, and /query's basic auth and `u`/`p` parameters (Grafana, the influx CLI). Each check
 * consults the lock of its (source, account) pair first, then verifies, counts a failure, raises the
 * security event that the rules turn into a SOC alert (config/rules.yaml: http-login-*), and audits.
 * The embedded MQTT broker checks its own accounts (broker/accounts.ts) with the same lock model
 * (core/login-guard.ts) in broker/login-gate.ts, kept in its own file (mqtt-login-locks.json).
 */
import { join } from 'node:path';
import { LoginGuard, plainSource, type Clock, type Logger, type SecurityEvent } from '../core/index.ts';
import type { AuditInput } from './audit.ts';
import type { OpsContext } from './deps.ts';
import type { StoredUser, UserBook } from './users.ts';

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

export type GateVerdict = { ok: true; user: StoredUser } | { ok: false; lockedUntil?: number };

export interface PasswordGateDeps {
  users: UserBook;
  guard: LoginGuard;
  clock: Clock;
  logger: Logger;
  onSecurityEvent?(e: SecurityEvent): void;
}

/** Under the data directory; `watchfloor users unlock` edits it. */
export const LOGIN_LOCKS_FILE = 'login-locks.json';

const ACTION: Record<PasswordDoor, string> = { login: 'auth.login', query: 'auth.query' };
const DOOR_NAME: Record<PasswordDoor, string> = { login: 'HTTP login', query: '/query basic or u/p auth' };

/** Checks a password against the lockouts, then the user book; reports every failure. */
export class PasswordGate {
  constructor(private readonly o: PasswordGateDeps) {}

  async check(a: PasswordAttempt): Promise<GateVerdict> {
    const { users, guard, logger } = this.o;
    const source = plainSource(a.source);
    // /query takes any user name; no user's is longer than 64 (users.ts), so a longer one is clipped
    // in what is kept and reported (it still fails as unknown), against filling the logs with it.
    const name = a.username.length > 64 ? `${a.username.slice(0, 64)}…` : a.username;
    const locked = guard.lockedUntil(name, source);
    if (locked !== undefined) {
      // Refused unverified: a locked pair learns nothing, not even whether the password was right.
      a.record({ action: ACTION[a.door], target: name, outcome: 'denied', detail: { reason: 'locked', until: locked } });
      return { ok: false, lockedUntil: locked };
    }
    const result = await users.check(a.username, a.password);
    if ('user' in result) {
      guard.succeeded(name, source);
      return { ok: true, user: result.user };
    }
    const why = result.reason === 'unknown' ? 'unknown user' : result.reason === 'disabled' ? 'account disabled' : 'wrong password';
    logger.warn({ username: name, source, door: a.door, reason: result.reason }, 'http: failed login');
    a.record({ action: ACTION[a.door], target: name, outcome: 'failed', detail: { reason: result.reason } });
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
    gate = new PasswordGate({ users: ctx.users, guard, clock: ctx.clock, logger: ctx.logger, onSecurityEvent: (e) => ctx.onSecurityEvent?.(e) });
    gates.set(ctx, gate);
  }
  return gate;
}
