import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { hashSecret, randomSecret, verifySecret } from '../core/index.ts';

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
});
export type StoredUser = z.infer<typeof StoredUser>;

/** What the API shows of a user: never the hash. */
export interface PublicUser {
  username: string;
  role: Role;
  disabled: boolean;
}

export const publicUser = (u: StoredUser): PublicUser => ({ username: u.username, role: u.role, disabled: u.disabled });

/** Local users, scrypt-hashed, in one JSON file under the data directory. */
export class UserBook {
  private readonly users = new Map<string, StoredUser>();

  constructor(private readonly file?: string) {
    if (file && existsSync(file)) {
      const parsed = z.strictObject({ users: z.array(StoredUser) }).parse(JSON.parse(readFileSync(file, 'utf8')));
      for (const u of parsed.users) this.users.set(u.username, u);
    }
  }

  get(username: string): StoredUser | undefined {
    return this.users.get(username);
  }

  list(): PublicUser[] {
    return [...this.users.values()].map(publicUser);
  }

  async add(username: string, role: Role, password: string, now: number): Promise<StoredUser> {
    const user: StoredUser = { username, role, hash: await hashSecret(password), disabled: false, createdAt: now };
    this.users.set(username, user);
    this.save();
    return user;
  }

  /** The user when the password matches and the account is enabled. */
  async verify(username: string, password: string): Promise<StoredUser | undefined> {
    const user = this.users.get(username);
    if (!user || user.disabled) return undefined;
    return (await verifySecret(password, user.hash)) ? user : undefined;
  }

  /**
   * Makes sure an admin exists. Its password comes from `password` (WATCHFLOOR_ADMIN_PASSWORD) or is
   * generated; the generated one is returned so the caller prints it once, and is never stored in clear.
   */
  async ensureAdmin(password: string | undefined, now: number): Promise<{ created: boolean; generatedPassword?: string }> {
    if ([...this.users.values()].some((u) => u.role === 'admin')) return { created: false };
    const generated = password ? undefined : randomSecret(12);
    await this.add('admin', 'admin', password ?? (generated as string), now);
    return { created: true, generatedPassword: generated };
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ users: [...this.users.values()] }, null, 2), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
