import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { hashSecret, randomSecret, tightenSecretFile, verifySecret, writeSecretFile } from '../core/index.ts';

/** admin: everything; noc: availability, environment, power, device commands; soc: security; viewer: read only. */
export const Role = z.enum(['admin', 'noc', 'soc', 'viewer']);
export type Role = z.infer<typeof Role>;

export const Username = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.@-]+$/, 'use letters, digits, ".", "_", "@" or "-"');

const StoredUser = z.strictObject({
  username: Username,
  role: Role,
  hash: z.string(),
  disabled: z.boolean().default(false),
  createdAt: z.number(),
  /** When the password was last set (epoch ms): sessions older than it, without a credential stamp, end. */
  passwordChangedAt: z.number().optional(),
  /**
   * `directory`: a person who signed in through LDAP (ops-server/directory), recorded at each sign-in
   * with the role their groups gave; no local password (the hash never verifies). Absent: local.
   */
  source: z.enum(['local', 'directory']).optional(),
  /** A directory user's DN, as the directory last gave it. */
  dn: z.string().optional(),
  /** When a directory user last signed in (epoch ms). */
  lastLoginAt: z.number().optional(),
});
export type StoredUser = z.infer<typeof StoredUser>;

/** What the API shows of a user: never the hash. */
export interface PublicUser {
  username: string;
  role: Role;
  disabled: boolean;
  /** `directory` for people who signed in through LDAP; their role is their groups'. */
  source: 'local' | 'directory';
  /** A directory user's DN and last sign-in. */
  dn?: string;
  lastLoginAt?: number;
}

export const publicUser = (u: StoredUser): PublicUser => ({
  username: u.username,
  role: u.role,
  disabled: u.disabled,
  source: u.source ?? 'local',
  ...(u.dn !== undefined ? { dn: u.dn } : {}),
  ...(u.lastLoginAt !== undefined ? { lastLoginAt: u.lastLoginAt } : {}),
});

/** What a directory user's record holds for a hash: not a scrypt string, so verifySecret never matches it. */
const NO_LOCAL_PASSWORD = 'directory:no-local-password';

/**
 * A short digest of the user's stored hash: it changes with every password change, so a session
 * that records it at login ends when the password changes, in this process or through the CLI.
 * It is a hash of a hash, no help to anyone guessing the password.
 */
export const credentialStamp = (u: StoredUser): string => createHash('sha256').update(u.hash).digest('base64url').slice(0, 22);

/** What a session must match to stay valid (sessions.ts), without importing the session type here. */
export interface SessionClaim {
  username: string;
  role: Role;
  createdAt: number;
  credential?: string;
}

/** Why a password check failed: the gate tells the SOC which (never the caller). */
export type CheckResult = { user: StoredUser } | { reason: 'unknown' | 'disabled' | 'wrong' };

/** How long a verified password is remembered, so a Grafana dashboard's 20 panels pay one scrypt, not 20. */
export const VERIFIED_TTL_MS = 60_000;

/** A hash of nothing, checked against for unknown users; made once, lazily. */
let decoy: Promise<string> | undefined;
const decoyHash = (): Promise<string> => (decoy ??= hashSecret(randomSecret()));

/** Local users, scrypt-hashed, in one JSON file under the data directory. */
export class UserBook {
  private readonly users = new Map<string, StoredUser>();
  /** The file's mtime when last read or written: `watchfloor users` edits it while the server runs. */
  private mtimeMs = -1;
  /**
   * Passwords that verified lately, as an HMAC of (user, stored hash, password) under a key made at
   * start and never written anywhere: never the password. A changed hash (passwd here or in the CLI)
   * no longer matches, and a disabled user is refused before the cache is consulted.
   */
  private readonly verified = new Map<string, { mac: Buffer; until: number }>();
  private readonly cacheKey = randomBytes(32);

  constructor(private readonly file?: string) {
    this.refresh();
  }

  /** Reads the file again when another process (the users CLI) changed it. */
  private refresh(): void {
    if (!this.file || !existsSync(this.file)) return;
    tightenSecretFile(this.file);
    const mtimeMs = statSync(this.file).mtimeMs;
    if (mtimeMs === this.mtimeMs) return;
    const parsed = z.strictObject({ users: z.array(StoredUser) }).parse(JSON.parse(readFileSync(this.file, 'utf8')));
    this.users.clear();
    for (const u of parsed.users) this.users.set(u.username, u);
    this.verified.clear(); // another process changed the users: verify afresh
    this.mtimeMs = mtimeMs;
  }

  get(username: string): StoredUser | undefined {
    this.refresh();
    return this.users.get(username);
  }

  list(): PublicUser[] {
    this.refresh();
    return [...this.users.values()].map(publicUser);
  }

  async add(username: string, role: Role, password: string, now: number): Promise<StoredUser> {
    this.refresh();
    const user: StoredUser = { username, role, hash: await hashSecret(password), disabled: false, createdAt: now };
    this.users.set(username, user);
    this.save();
    return user;
  }

  /** Sets a new password; false when there is no such user. */
  async setPassword(username: string, password: string): Promise<boolean> {
    const user = this.get(username);
    if (!user) return false;
    user.hash = await hashSecret(password);
    user.passwordChangedAt = Date.now();
    this.verified.delete(username);
    this.save();
    return true;
  }

  /** Disables (or enables again) an account; false when there is no such user. */
  setDisabled(username: string, disabled: boolean): boolean {
    const user = this.get(username);
    if (!user) return false;
    user.disabled = disabled;
    this.verified.delete(username);
    this.save();
    return true;
  }

  /**
   * Records a directory user at a good sign-in: made on first sign-in, their role (from their groups)
   * and DN updated at each. A role changed in the directory so applies at the next sign-in, which
   * ends the sessions of the old role (admits). Undefined when a local account has the name: a
   * directory entry never takes over a local account.
   */
  recordDirectoryUser(username: string, role: Role, dn: string, now: number): StoredUser | undefined {
    const known = this.get(username);
    if (known && known.source !== 'directory') return undefined;
    const user: StoredUser = known ?? { username, role, hash: NO_LOCAL_PASSWORD, disabled: false, createdAt: now, source: 'directory' };
    if (known && known.role === role && known.dn === dn && now - (known.lastLoginAt ?? 0) < 60_000) return known; // a burst of /query logins: one write a minute
    user.role = role;
    user.dn = dn;
    user.lastLoginAt = now;
    this.users.set(username, user);
    this.save();
    return user;
  }

  /** Gives a user another role (their sessions of the old role end at their next request); false when there is no such user. */
  setRole(username: string, role: Role): boolean {
    const user = this.get(username);
    if (!user) return false;
    user.role = role;
    this.verified.delete(username);
    this.save();
    return true;
  }

  /** Removes a user; false when there is no such user. */
  remove(username: string): boolean {
    if (!this.get(username)) return false;
    this.users.delete(username);
    this.verified.delete(username);
    this.save();
    return true;
  }

  /** The user when the password matches and the account is enabled. */
  async verify(username: string, password: string): Promise<StoredUser | undefined> {
    const result = await this.check(username, password);
    return 'user' in result ? result.user : undefined;
  }

  /**
   * Checks a password: the user, or why not. Call it through the PasswordGate (password-gate.ts),
   * which applies the lockouts and reports failures; a password verified in the last minute is
   * recognised without scrypt.
   */
  async check(username: string, password: string): Promise<CheckResult> {
    const user = this.get(username);
    if (!user || user.disabled || user.source === 'directory') {
      // Spend the same scrypt time as for a real user, so the answer's timing does not tell who exists.
      // A directory user has no local password: only the directory checks theirs.
      await verifySecret(password, await decoyHash());
      return { reason: user?.disabled ? 'disabled' : 'unknown' };
    }
    const mac = createHmac('sha256', this.cacheKey).update(`${user.username}\0${user.hash}\0${password}`).digest();
    const known = this.verified.get(username);
    const now = performance.now();
    if (known && known.until > now && timingSafeEqual(known.mac, mac)) return { user };
    if (!(await verifySecret(password, user.hash))) return { reason: 'wrong' };
    if (this.verified.size >= 10_000) this.verified.clear();
    this.verified.set(username, { mac, until: now + VERIFIED_TTL_MS });
    return { user };
  }

  /**
   * Whether a session may go on: its user still exists, is enabled, has the same role, and has not
   * changed password since (the stamp taken at login, or for an older session its creation time).
   */
  admits(session: SessionClaim): boolean {
    const user = this.get(session.username);
    if (!user || user.disabled || user.role !== session.role) return false;
    if (session.credential !== undefined) return session.credential === credentialStamp(user);
    return user.passwordChangedAt === undefined || session.createdAt >= user.passwordChangedAt;
  }

  /**
   * Makes sure an admin exists. Its password comes from `password` (WATCHFLOOR_ADMIN_PASSWORD) or is
   * generated; the generated one is returned so the caller prints it once, and is never stored in clear.
   */
  async ensureAdmin(password: string | undefined, now: number): Promise<{ created: boolean; generatedPassword?: string }> {
    this.refresh();
    if ([...this.users.values()].some((u) => u.role === 'admin')) return { created: false };
    const generated = password ? undefined : randomSecret(12);
    await this.add('admin', 'admin', password ?? (generated as string), now);
    return { created: true, generatedPassword: generated };
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    writeSecretFile(this.file, JSON.stringify({ users: [...this.users.values()] }, null, 2));
    this.mtimeMs = statSync(this.file).mtimeMs;
  }
}
