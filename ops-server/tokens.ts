import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { tightenSecretFile, writeSecretFile } from '../core/index.ts';
import { Role } from './users.ts';

/** A token as shown to its owner once: `wft_<id>.<secret>`; the id finds the record, the secret proves it. */
const TOKEN = /^wft_([A-Za-z0-9_-]{8,32})\.([A-Za-z0-9_-]{20,128})$/;

/**
 * A token's role: a user role, or `writer`, which only writes line protocol (/write, /api/v2/write)
 * and is refused everywhere else (verify() never returns it; verifyWriter() returns only it).
 */
export const TokenRole = z.enum([...Role.options, 'writer']);
export type TokenRole = z.infer<typeof TokenRole>;

const StoredToken = z.strictObject({
  id: z.string(),
  name: z.string(),
  role: TokenRole,
  /** sha256 of the secret: the secret is 32 random bytes, so a slow hash adds nothing but per-request cost. */
  hash: z.string(),
  createdAt: z.number(),
  createdBy: z.string(),
  revokedAt: z.number().optional(),
  lastUsedAt: z.number().optional(),
});
export type StoredToken = z.infer<typeof StoredToken>;
/** What the API shows of a token: never its hash. */
export type PublicToken = Omit<StoredToken, 'hash'>;

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** API tokens for scripts and integrations: hashed at rest, scoped to one role, revocable, shown once. */
export class TokenBook {
  private readonly tokens = new Map<string, StoredToken>();

  constructor(private readonly file?: string) {
    if (file && existsSync(file)) {
      tightenSecretFile(file);
      const parsed = z.strictObject({ tokens: z.array(StoredToken) }).parse(JSON.parse(readFileSync(file, 'utf8')));
      for (const t of parsed.tokens) this.tokens.set(t.id, t);
    }
  }

  /** Creates a token; the clear value is in the answer and nowhere else. */
  create(name: string, role: TokenRole, createdBy: string, now: number): { token: string; record: PublicToken } {
    const id = randomBytes(9).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    const record: StoredToken = { id, name, role, hash: sha256(secret).toString('base64'), createdAt: now, createdBy };
    this.tokens.set(id, record);
    this.save();
    return { token: `wft_${id}.${secret}`, record: publicToken(record) };
  }

  /** The live token record of a user role for a presented value, or undefined (malformed, unknown, revoked, wrong secret, a writer). */
  verify(presented: string, now: number): (StoredToken & { role: Role }) | undefined {
    const t = this.check(presented, now);
    return t && t.role !== 'writer' ? (t as StoredToken & { role: Role }) : undefined;
  }

  /** The live `writer` token for a presented value, or undefined. */
  verifyWriter(presented: string, now: number): StoredToken | undefined {
    const t = this.check(presented, now);
    return t?.role === 'writer' ? t : undefined;
  }

  /** True when the value is a live writer token: refused with a 403 (not a 401) on the routes it may not call. */
  isWriter(presented: string, now: number): boolean {
    return this.verifyWriter(presented, now) !== undefined;
  }

  private check(presented: string, now: number): StoredToken | undefined {
    const m = TOKEN.exec(presented);
    if (!m) return undefined;
    const record = this.tokens.get(m[1] as string);
    if (!record || record.revokedAt !== undefined) return undefined;
    const expected = Buffer.from(record.hash, 'base64');
    const actual = sha256(m[2] as string);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    record.lastUsedAt = now; // kept in memory; written with the next change
    return record;
  }

  /** True while the token exists and is not revoked (sockets opened with it are checked against this). */
  isLive(id: string): boolean {
    const t = this.tokens.get(id);
    return t !== undefined && t.revokedAt === undefined;
  }

  list(): PublicToken[] {
    return [...this.tokens.values()].map(publicToken);
  }

  /** Revokes a token; false when there is no such token. */
  revoke(id: string, now: number): boolean {
    const t = this.tokens.get(id);
    if (!t) return false;
    t.revokedAt ??= now;
    this.save();
    return true;
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    writeSecretFile(this.file, JSON.stringify({ tokens: [...this.tokens.values()] }, null, 2));
  }
}

const publicToken = ({ hash: _hash, ...rest }: StoredToken): PublicToken => rest;
