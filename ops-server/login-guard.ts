import type { Clock } from '../core/index.ts';

export interface LoginLimits {
  /** Failed logins per username within `windowMs` before that username is locked. */
  perUser: number;
  /** Failed logins per source address within `windowMs` before that source is locked. */
  perSource: number;
  windowMs: number;
  lockoutMs: number;
}

/** OWASP's guidance: a handful of failures per account, more per address (NAT), a lockout of minutes. */
export const defaultLoginLimits: LoginLimits = { perUser: 5, perSource: 20, windowMs: 15 * 60_000, lockoutMs: 15 * 60_000 };

interface Tally {
  failures: number[];
  lockedUntil?: number;
}

/** What a failure did: nothing more, or it just locked the user or the source. */
export type LockOutcome = { locked: false } | { locked: true; key: 'user' | 'source'; until: number };

/**
 * Counts failed logins per username and per source in a sliding window; past the limit, both the
 * username and the source are refused (even with the right password) until the lockout ends.
 */
export class LoginGuard {
  private readonly users = new Map<string, Tally>();
  private readonly sources = new Map<string, Tally>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: LoginLimits = defaultLoginLimits,
  ) {}

  /** When the username or the source is locked now, the epoch ms the lockout ends; else undefined. */
  lockedUntil(username: string, source: string): number | undefined {
    const now = this.clock.now();
    const u = this.users.get(username)?.lockedUntil;
    const s = this.sources.get(source)?.lockedUntil;
    const until = Math.max(u !== undefined && u > now ? u : 0, s !== undefined && s > now ? s : 0);
    return until > 0 ? until : undefined;
  }

  /** Records a failure; says whether it started a lockout (once per lockout, for one security event). */
  failed(username: string, source: string): LockOutcome {
    const user = this.bump(this.users, username, this.limits.perUser);
    const src = this.bump(this.sources, source, this.limits.perSource);
    if (user !== undefined) return { locked: true, key: 'user', until: user };
    if (src !== undefined) return { locked: true, key: 'source', until: src };
    return { locked: false };
  }

  /** A good login clears the username's failures (not the source's: one good account must not unlock a sprayer). */
  succeeded(username: string): void {
    this.users.delete(username);
  }

  private bump(map: Map<string, Tally>, key: string, limit: number): number | undefined {
    const now = this.clock.now();
    const t = map.get(key) ?? { failures: [] };
    t.failures = t.failures.filter((ts) => now - ts < this.limits.windowMs);
    t.failures.push(now);
    map.set(key, t);
    if (t.failures.length >= limit && (t.lockedUntil === undefined || t.lockedUntil <= now)) {
      t.lockedUntil = now + this.limits.lockoutMs;
      t.failures = [];
      return t.lockedUntil;
    }
    // Bound memory against a spray of random usernames: forget quiet entries.
    if (map.size > 10_000) for (const [k, v] of map) if ((v.lockedUntil ?? 0) <= now && v.failures.every((ts) => now - ts >= this.limits.windowMs)) map.delete(k);
    return undefined;
  }
}
