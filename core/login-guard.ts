/*
 * Failed-password accounting for every door a password comes through: the ops server's HTTP login
 * and /query basic auth and u/p (ops-server/password-gate.ts), and the embedded MQTT broker's
 * accounts (broker/login-gate.ts). It lives in core/ so both layers share one lock model without
 * the broker importing the ops server; each door keeps its own lock file.
 *
 * Locks are per (source address, account) pair, with exponential backoff, as OWASP's Authentication
 * Cheat Sheet advises ("Account Lockout": lock on the pair, back off exponentially), so that failures
 * from one address never lock the account for the others: locking the account itself hands any
 * insider a way to keep the admin out. A source that sprays many accounts is locked as a whole.
 *
 * Locks (and their backoff level) live in a JSON file under the data directory (login-locks.json for
 * HTTP, mqtt-login-locks.json for MQTT), re-read when it changes, so `watchfloor users unlock` clears
 * one in a running server and a restart does not reset the backoff. Failures below the threshold are
 * counted in memory only.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Clock } from './clock.ts';

/** The MQTT broker's lock file under the data directory (the ops server's is login-locks.json, ops-server/password-gate.ts). */
export const MQTT_LOGIN_LOCKS_FILE = 'mqtt-login-locks.json';

export interface LockPolicy {
  /** Failures within `windowMs` that start the first lock. */
  threshold: number;
  /** Failures that start the next lock once a lock has been served (1: every further failure). */
  relockThreshold: number;
  /** The first lock's length; each further lock doubles it, up to `maxLockMs`. */
  baseLockMs: number;
  maxLockMs: number;
  /** Counts failures within this long, instead of the limits' `windowMs` (a door's own knob, e.g. mqtt.bruteForce.windowSeconds). */
  windowMs?: number;
}

export interface LoginLimits {
  /** One account from one address: a few guesses, then 1 min, 2 min, 4 min ... up to 15 min per guess. */
  pair: LockPolicy;
  /** One address against any accounts (password spraying; generous for a NAT): 5 min, 10 min ... 1 h. */
  source: LockPolicy;
  windowMs: number;
  /** A backoff level is forgotten after this long without failures (and a pair's at a good login). */
  forgetMs: number;
}

export const defaultLoginLimits: LoginLimits = {
  pair: { threshold: 5, relockThreshold: 1, baseLockMs: 60_000, maxLockMs: 15 * 60_000 },
  source: { threshold: 20, relockThreshold: 20, baseLockMs: 5 * 60_000, maxLockMs: 3600_000 },
  windowMs: 15 * 60_000,
  forgetMs: 24 * 3600_000,
};

const LockEntry = z.strictObject({
  scope: z.enum(['pair', 'source']),
  source: z.string(),
  /** The account, for a pair. */
  account: z.string().optional(),
  lockedUntil: z.number(),
  /** How many locks this key has served: the backoff exponent. */
  strikes: z.number().int().min(1),
  lastFailureAt: z.number(),
});
type LockEntry = z.infer<typeof LockEntry>;
const LocksFile = z.strictObject({ locks: z.array(LockEntry) });

interface Tally {
  scope: 'pair' | 'source';
  source: string;
  account?: string;
  failures: number[];
  lockedUntil: number;
  strikes: number;
  lastFailureAt: number;
}

/** What a failure did: nothing more, or it started a lock (once per lock, for one security event). */
export type LockOutcome = { locked: false } | { locked: true; scope: 'pair' | 'source'; until: number; strikes: number };

/** What `unlock` cleared. */
export interface Unlocked {
  pairs: number;
  sources: number;
}

const keyOf = (scope: 'pair' | 'source', source: string, account?: string): string => (scope === 'pair' ? `p\0${source}\0${account}` : `s\0${source}`);

/** `::ffff:10.0.0.1` and `10.0.0.1` are one source (IPv4 on a dual-stack socket). */
export const plainSource = (address: string | undefined): string => (address ?? 'unknown').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');

/** Counts failed passwords per (source, account) and per source; locks with exponential backoff. */
export class LoginGuard {
  private readonly tallies = new Map<string, Tally>();
  /** The file's identity when last read or written (rename makes a new inode: the CLI's write shows). */
  private seen = '';

  constructor(
    private readonly clock: Clock,
    private readonly limits: LoginLimits = defaultLoginLimits,
    private readonly file?: string,
  ) {
    this.reload();
  }

  /** When `account` from `source` is locked now, the epoch ms the lock ends; else undefined. */
  lockedUntil(account: string, source: string): number | undefined {
    this.reload();
    const now = this.clock.now();
    const until = Math.max(this.tallies.get(keyOf('pair', source, account))?.lockedUntil ?? 0, this.tallies.get(keyOf('source', source))?.lockedUntil ?? 0);
    return until > now ? until : undefined;
  }

  /** Records a failure; says whether it started a lock of the pair or of the whole source. */
  failed(account: string, source: string): LockOutcome {
    this.reload();
    const pair = this.bump('pair', source, account, this.limits.pair);
    const src = this.bump('source', source, undefined, this.limits.source);
    if (pair || src) this.save();
    this.prune();
    if (pair) return { locked: true, scope: 'pair', until: pair.lockedUntil, strikes: pair.strikes };
    if (src) return { locked: true, scope: 'source', until: src.lockedUntil, strikes: src.strikes };
    return { locked: false };
  }

  /** A good password clears that pair (not the source: one good account must not unlock a sprayer). */
  succeeded(account: string, source: string): void {
    this.reload();
    const key = keyOf('pair', source, account);
    const t = this.tallies.get(key);
    if (!t) return;
    this.tallies.delete(key);
    if (t.strikes > 0) this.save();
  }

  /** Clears the locks of `account` (from every source, or only `source`, whose source-wide lock goes too). */
  unlock(account: string, source?: string): Unlocked {
    this.reload();
    const cleared = clearMatching(this.tallies, account, source);
    if (cleared.pairs + cleared.sources > 0) this.save();
    return cleared;
  }

  /** The locks in force now, for the CLI and the logs. */
  locks(): LockEntry[] {
    this.reload();
    const now = this.clock.now();
    return [...this.tallies.values()].filter((t) => t.lockedUntil > now).map(toEntry);
  }

  private bump(scope: 'pair' | 'source', source: string, account: string | undefined, policy: LockPolicy): Tally | undefined {
    const now = this.clock.now();
    const key = keyOf(scope, source, account);
    let t = this.tallies.get(key);
    if (t && t.strikes > 0 && now - t.lastFailureAt > this.limits.forgetMs) t = undefined; // quiet for a day: a fresh start
    t ??= { scope, source, account, failures: [], lockedUntil: 0, strikes: 0, lastFailureAt: now };
    this.tallies.set(key, t);
    t.lastFailureAt = now;
    if (t.lockedUntil > now) return undefined; // already locked (a source lock counts the pair's attempts too)
    const windowMs = policy.windowMs ?? this.limits.windowMs;
    t.failures = t.failures.filter((ts) => now - ts < windowMs);
    t.failures.push(now);
    if (t.failures.length < (t.strikes > 0 ? policy.relockThreshold : policy.threshold)) return undefined;
    t.strikes += 1;
    t.lockedUntil = now + Math.min(policy.maxLockMs, policy.baseLockMs * 2 ** Math.min(t.strikes - 1, 30));
    t.failures = [];
    return t;
  }

  /** Bounds memory against a spray of random usernames: forgets keys with nothing to remember. */
  private prune(): void {
    if (this.tallies.size <= 10_000) return;
    const now = this.clock.now();
    const windowMs = Math.max(this.limits.windowMs, this.limits.pair.windowMs ?? 0, this.limits.source.windowMs ?? 0);
    for (const [k, t] of this.tallies) {
      const quiet = t.failures.every((ts) => now - ts >= windowMs);
      if (quiet && (t.strikes === 0 || now - t.lastFailureAt > this.limits.forgetMs)) this.tallies.delete(k);
    }
  }

  /** Takes the file's locks when another process (the users CLI) changed it. */
  private reload(): void {
    if (!this.file) return;
    const id = identity(this.file);
    if (id === this.seen) return;
    this.seen = id;
    const stored = readLocks(this.file);
    const inFile = new Set(stored.map((e) => keyOf(e.scope, e.source, e.account)));
    // A lock the file no longer holds was cleared: its pending failures go with it.
    for (const [k, t] of this.tallies) if (t.strikes > 0 && !inFile.has(k)) this.tallies.delete(k);
    for (const e of stored) {
      const k = keyOf(e.scope, e.source, e.account);
      const t = this.tallies.get(k);
      if (t) Object.assign(t, { lockedUntil: e.lockedUntil, strikes: e.strikes, lastFailureAt: e.lastFailureAt });
      else this.tallies.set(k, { ...e, failures: [] });
    }
  }

  private save(): void {
    if (!this.file) return;
    writeLocks(this.file, [...this.tallies.values()].filter((t) => t.strikes > 0).map(toEntry));
    this.seen = identity(this.file);
  }
}

const toEntry = (t: Tally): LockEntry => ({ scope: t.scope, source: t.source, ...(t.account !== undefined ? { account: t.account } : {}), lockedUntil: t.lockedUntil, strikes: t.strikes, lastFailureAt: t.lastFailureAt });

function clearMatching<T extends { scope: 'pair' | 'source'; source: string; account?: string }>(map: Map<string, T>, account: string, source: string | undefined): Unlocked {
  const cleared: Unlocked = { pairs: 0, sources: 0 };
  for (const [k, t] of map) {
    const hit = t.scope === 'pair' ? t.account === account && (source === undefined || t.source === source) : source !== undefined && t.source === source;
    if (!hit) continue;
    map.delete(k);
    if (t.scope === 'pair') cleared.pairs++;
    else cleared.sources++;
  }
  return cleared;
}

function identity(file: string): string {
  if (!existsSync(file)) return 'absent';
  const s = statSync(file);
  return `${s.ino}:${s.mtimeMs}:${s.size}`;
}

function readLocks(file: string): LockEntry[] {
  if (!existsSync(file)) return [];
  try {
    return LocksFile.parse(JSON.parse(readFileSync(file, 'utf8'))).locks;
  } catch {
    // A damaged lock file must not lock anyone out, nor stop a login: the locks start over.
    return [];
  }
}

function writeLocks(file: string, locks: LockEntry[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ locks }), { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * `watchfloor users unlock`: clears the locks of `account` in the lock file, which a running server
 * re-reads at its next password check. Returns what was cleared.
 */
export function unlockInFile(file: string, account: string, source?: string): Unlocked {
  const map = new Map(readLocks(file).map((e) => [keyOf(e.scope, e.source, e.account), e]));
  const cleared = clearMatching(map, account, source === undefined ? undefined : plainSource(source));
  if (cleared.pairs + cleared.sources > 0) writeLocks(file, [...map.values()]);
  return cleared;
}

/** The locks recorded in the lock file still in force at `now`. */
export function locksInFile(file: string, now: number): LockEntry[] {
  return readLocks(file).filter((e) => e.lockedUntil > now);
}
