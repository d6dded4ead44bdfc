/*
 * The broker's password door: MQTT CONNECTs with a username and password go through the same lock
 * model as the ops server's HTTP login and /query (core/login-guard.ts): a lock per (source,
 * username) pair with doubling backoff, so guesses from one address never lock an account for the
 * others, and a lock of a whole source that sprays many accounts, sized by the config's
 * `mqtt.bruteForce` knobs. Its locks live in DATA_DIR/mqtt-login-locks.json, apart from HTTP's
 * login-locks.json: an MQTT account and an HTTP user of the same name are different identities,
 * and a sprayer of one door is not locked out of the other.
 *
 * Every failure raises `bad_credentials`, a lock `brute_force_lockout` (config/rules.yaml
 * mqtt-brute-force counts the first), and both go to the product's audit log through `onAudit`.
 */
import type { Clock, Logger, SecurityEvent } from '../core/index.ts';
import { defaultLoginLimits, LoginGuard, type LockPolicy, type LoginLimits } from '../core/login-guard.ts';
import type { MqttAccount, MqttRole } from './accounts.ts';

/** Under the data directory; the same format as login-locks.json, so core/login-guard.ts unlockInFile clears it. */
export { MQTT_LOGIN_LOCKS_FILE } from '../core/login-guard.ts';

/** An audit entry as the ops server's audit log takes it (ops-server/audit.ts AuditLog.append); the broker does not import it. */
export interface MqttAuditEntry {
  /** `mqtt.login` (a password or certificate checked), `mqtt.lockout` (a pair or source locked). */
  action: 'mqtt.login' | 'mqtt.lockout';
  /** `mqtt:<username>` once the password was right, `-` before (like a failed HTTP login). */
  actor: string;
  source: string;
  /** The username tried, or the source for a whole-source lock. */
  target: string;
  outcome: 'ok' | 'denied' | 'failed';
  detail?: Record<string, unknown>;
}

/** `mqtt.bruteForce` in milliseconds: this many failures from one source in the window lock it for `lockoutMs` (then doubling). */
export interface BruteForceLimits {
  failures: number;
  windowMs: number;
  lockoutMs: number;
}

/** A policy that never locks: `mqtt.bruteForce.failures: 0` turns the lockouts off (a lab, a load test). */
const NEVER: LockPolicy = { threshold: Infinity, relockThreshold: Infinity, baseLockMs: 0, maxLockMs: 0 };

/**
 * The guard's limits for MQTT. The pair is HTTP's (5 guesses in 15 min, then 1 min doubling to
 * 15 min; fewer guesses when `failures` is set lower). The source keeps the config's meaning:
 * `failures` within `windowSeconds` lock every account from that address for `lockoutSeconds`,
 * each further lock twice as long, up to an hour (HTTP's source lock does the same).
 */
export function mqttLoginLimits(b: BruteForceLimits): LoginLimits {
  if (b.failures <= 0) return { ...defaultLoginLimits, pair: NEVER, source: NEVER };
  return {
    ...defaultLoginLimits,
    pair: { ...defaultLoginLimits.pair, threshold: Math.min(defaultLoginLimits.pair.threshold, b.failures) },
    source: { threshold: b.failures, relockThreshold: b.failures, baseLockMs: b.lockoutMs, maxLockMs: Math.max(b.lockoutMs, 3600_000), windowMs: b.windowMs },
  };
}

type EventFields = Omit<SecurityEvent, 'ts' | 'origin' | 'type'>;

export interface MqttLoginGateDeps {
  bruteForce: BruteForceLimits;
  clock: Clock;
  logger: Logger;
  /** The lock file; without it locks are kept in memory. */
  file?: string;
  /** The broker's refusal counter and reporter (refusals.ts Refusals.refuse): counts the reason on /metrics and raises the event. */
  refuse(type: 'bad_credentials' | 'locked_out', event: EventFields, flood?: boolean): void;
  securityEvent(event: Omit<SecurityEvent, 'ts' | 'origin'>): void;
  onAudit?: (entry: MqttAuditEntry) => void;
}

/** A locked pair or source retrying is audited once per this long (its refusals are all counted on /metrics). */
const LOCKED_AUDIT_INTERVAL_MS = 10_000;

/** Usernames are kept and reported up to this many characters (a CONNECT may carry a long one; it still fails as unknown). */
const MAX_NAME = 64;
const clip = (name: string): string => (name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}…` : name);

/** Checks every MQTT login against the locks, and counts, reports and audits its outcome. */
export class MqttLoginGate {
  readonly guard: LoginGuard;
  private readonly lockedAudited = new Map<string, number>();

  constructor(private readonly d: MqttLoginGateDeps) {
    this.guard = new LoginGuard(d.clock, mqttLoginLimits(d.bruteForce), d.file);
  }

  /**
   * When `username` from `source` (or the whole source) is locked: reports the refusal and returns the
   * lock's end; the broker then refuses without checking the password, so a locked pair learns nothing.
   */
  locked(username: string | undefined, source: string): number | undefined {
    const name = clip(username ?? '');
    const until = this.guard.lockedUntil(name, source);
    if (until === undefined) return undefined;
    this.d.refuse('locked_out', { source, username }, true);
    const key = `${source}\0${name}`;
    const now = this.d.clock.now();
    const last = this.lockedAudited.get(key);
    if (last === undefined || now - last >= LOCKED_AUDIT_INTERVAL_MS) {
      if (this.lockedAudited.size >= 10_000) this.lockedAudited.clear();
      this.lockedAudited.set(key, now);
      this.audit({ action: 'mqtt.login', actor: '-', source, target: name, outcome: 'denied', detail: { reason: 'locked', until } });
    }
    return until;
  }

  /** A wrong password or unknown username: counted, reported, audited, and maybe the start of a lock. */
  failed(username: string, source: string, clientId: string | undefined, account: MqttAccount | undefined): void {
    const name = clip(username);
    const reason = account ? 'wrong password' : 'unknown username';
    // The password is never logged nor audited, not even a wrong one.
    this.d.refuse('bad_credentials', { source, username: name, clientId, detail: reason });
    this.audit({ action: 'mqtt.login', actor: '-', source, target: name, outcome: 'failed', detail: { reason, ...(account ? { role: account.role } : {}) } });
    const lock = this.guard.failed(name, source);
    if (!lock.locked) return;
    const { failures, windowMs } = this.d.bruteForce;
    const what = lock.scope === 'pair' ? `"${name}" from ${source}` : `every account from ${source} (${failures} failed logins in ${windowMs / 1000} s)`;
    const detail = `locked out ${what} until ${new Date(lock.until).toISOString()} (lock ${lock.strikes}) after repeated failed logins`;
    this.d.logger.warn({ source, username: name, scope: lock.scope, until: lock.until, strikes: lock.strikes }, 'mqtt: brute force; login locked out');
    this.d.securityEvent({ type: 'brute_force_lockout', source, username: name, detail });
    this.audit({ action: 'mqtt.lockout', actor: '-', source, target: lock.scope === 'pair' ? name : source, outcome: 'denied', detail: { scope: lock.scope, username: name, until: lock.until, strikes: lock.strikes } });
  }

  /** The password (or certificate) checked out: a password clears the pair's count; admins and collectors are audited. */
  succeeded(account: MqttAccount, source: string, method: 'password' | 'certificate'): void {
    if (method === 'password') this.guard.succeeded(clip(account.username), source);
    // Device logins that succeed are NOT audited: thousands of sensors reconnecting after a network
    // blip would flood the audit log and bury what it is for. Their failures are, like everyone's.
    if (!auditedRoles.has(account.role)) return;
    this.audit({ action: 'mqtt.login', actor: `mqtt:${account.username}`, source, target: account.username, outcome: 'ok', detail: { role: account.role, method } });
  }

  private audit(entry: MqttAuditEntry): void {
    try {
      this.d.onAudit?.(entry);
    } catch (err) {
      // A full disk under the audit log must not turn into refused (or admitted) logins.
      this.d.logger.error({ err: err instanceof Error ? err.message : String(err), action: entry.action }, 'mqtt: audit entry not written');
    }
  }
}

const auditedRoles: ReadonlySet<MqttRole> = new Set<MqttRole>(['admin', 'collector']);
