import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { tightenSecretFile, writeSecretFile, type Clock } from '../core/index.ts';
import { Role } from './users.ts';

export interface Session {
  /** The cookie's value; '' for a session restored from disk until its cookie is presented again. */
  id: string;
  username: string;
  role: Role;
  /** Sent back in X-CSRF-Token on every state-changing request made with the cookie. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  /** How the caller proved who they are: a session cookie, or an API token (no CSRF: no ambient credential). */
  via: 'cookie' | 'token';
  /** The user's credential stamp at login (users.ts credentialStamp): a password change ends the session. */
  credential?: string;
}

export const SESSION_COOKIE = 'wf_session';

export interface SessionBookOptions {
  idleMs?: number;
  absoluteMs?: number;
  /**
   * Where sessions outlive a restart (a wall screen must not fall back to the login form when the
   * server is upgraded). The file holds a SHA-256 of each session id, never the id itself: reading
   * it does not give anyone a cookie.
   */
  file?: string;
  /** Told when the file cannot be read (the sessions then start empty). */
  warn?: (message: string) => void;
}

const StoredSession = z.strictObject({
  key: z.string().min(1),
  username: z.string().min(1),
  role: Role,
  csrfToken: z.string().min(1),
  createdAt: z.number(),
  lastSeenAt: z.number(),
  credential: z.string().optional(),
});
type StoredSession = z.infer<typeof StoredSession>;

const digest = (id: string): string => createHash('sha256').update(id).digest('base64url');
/** How often a moved idle timer is written down; a restart loses at most this much of it. */
const SAVE_TOUCHES_EVERY_MS = 60_000;

/** Server-side sessions: logout really ends them; idle and absolute expiry bound a stolen cookie's life. */
export class SessionBook {
  /** By the digest of the session id. */
  private readonly sessions = new Map<string, Session>();
  private readonly listeners: ((id: string) => void)[] = [];
  readonly idleMs: number;
  readonly absoluteMs: number;
  private readonly file: string | undefined;
  private readonly warn: (message: string) => void;
  private touched = false;
  private readonly saver: NodeJS.Timeout | undefined;
  private admit: (s: Session) => boolean = () => true;

  constructor(
    private readonly clock: Clock,
    options: SessionBookOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 30 * 60_000;
    this.absoluteMs = options.absoluteMs ?? 12 * 3600_000;
    this.file = options.file;
    this.warn = options.warn ?? (() => undefined);
    if (this.file) {
      this.load(this.file);
      this.saver = setInterval(() => this.touched && this.save(), SAVE_TOUCHES_EVERY_MS).unref();
    }
  }

  /**
   * Sets the check every look-up applies (the user still enabled, same role, same password): a
   * session it refuses ends there, for the HTTP API, /query and the sockets alike. One check per
   * book; a later call replaces it.
   */
  admitWith(check: (s: Session) => boolean): void {
    this.admit = check;
  }

  /** A new session with a fresh id (never reusing one the client brought, against fixation). */
  create(username: string, role: Role, credential?: string): Session {
    const now = this.clock.now();
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      username,
      role,
      csrfToken: randomBytes(24).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      via: 'cookie',
      ...(credential !== undefined ? { credential } : {}),
    };
    this.sessions.set(digest(session.id), session);
    this.save();
    return session;
  }

  /** The live session for an id, touching its idle timer; expired ones are ended. */
  get(id: string | undefined): Session | undefined {
    const s = this.peek(id);
    if (s) {
      s.lastSeenAt = this.clock.now();
      this.touched = true;
    }
    return s;
  }

  /** The live session for an id without touching its idle timer (a socket receiving pushes is not activity). */
  peek(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const key = digest(id);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    const now = this.clock.now();
    s.id = id; // known again for a session restored from disk (so its end reaches the sockets)
    if (now - s.lastSeenAt > this.idleMs || now - s.createdAt > this.absoluteMs || !this.admit(s)) {
      this.endKey(key);
      return undefined;
    }
    return s;
  }

  /** Ends a session; listeners (the socket.io side) drop what hangs on it. */
  end(id: string): void {
    this.endKey(digest(id));
  }

  /** Ends every session of a user (disabled, password changed in this process). */
  endUser(username: string): number {
    return this.endWhere((s) => s.username === username);
  }

  /** Ends the sessions `keep` refuses (after a restart: users removed, disabled or given another role meanwhile). */
  retain(keep: (s: Session) => boolean): number {
    return this.endWhere((s) => !keep(s));
  }

  /** Ends the sessions that expired; returns how many. */
  sweep(): number {
    const now = this.clock.now();
    return this.endWhere((s) => now - s.lastSeenAt > this.idleMs || now - s.createdAt > this.absoluteMs);
  }

  /** Called with the id of every session that ends (logout, expiry, user disabled). */
  onEnd(listener: (id: string) => void): void {
    this.listeners.push(listener);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Writes down the idle timers moved since the last save, and stops the periodic save. */
  close(): void {
    if (this.saver) clearInterval(this.saver);
    if (this.touched) this.save();
  }

  private endWhere(match: (s: Session) => boolean): number {
    const keys = [...this.sessions].filter(([, s]) => match(s)).map(([k]) => k);
    for (const k of keys) this.endKey(k);
    return keys.length;
  }

  private endKey(key: string): void {
    const s = this.sessions.get(key);
    if (!s) return;
    this.sessions.delete(key);
    this.save();
    // A restored session nobody presented since the restart has nothing hanging on it yet.
    if (s.id) for (const l of this.listeners) l(s.id);
  }

  private load(file: string): void {
    if (!existsSync(file)) return;
    tightenSecretFile(file);
    let stored: StoredSession[];
    try {
      stored = z.strictObject({ sessions: z.array(StoredSession) }).parse(JSON.parse(readFileSync(file, 'utf8'))).sessions;
    } catch (err) {
      // Sessions are a convenience across restarts, never worth refusing to start over: everyone logs in again.
      this.warn(`${file}: unreadable, sessions start empty (${(err as Error).message.split('\n')[0]})`);
      return;
    }
    const now = this.clock.now();
    for (const { key, ...rest } of stored) {
      if (now - rest.lastSeenAt > this.idleMs || now - rest.createdAt > this.absoluteMs) continue;
      this.sessions.set(key, { ...rest, id: '', via: 'cookie' });
    }
  }

  private save(): void {
    this.touched = false;
    if (!this.file) return;
    const sessions: StoredSession[] = [...this.sessions].map(([key, s]) => ({
      key, username: s.username, role: s.role, csrfToken: s.csrfToken, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt,
      ...(s.credential !== undefined ? { credential: s.credential } : {}),
    }));
    writeSecretFile(this.file, JSON.stringify({ sessions }));
  }
}

/** Reads one cookie from a Cookie header without a parser dependency on the socket.io path. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined; // a malformed %-escape is a forged cookie, not a crash
      }
    }
  }
  return undefined;
}
