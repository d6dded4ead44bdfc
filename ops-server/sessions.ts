import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/index.ts';
import type { Role } from './users.ts';

export interface Session {
  id: string;
  username: string;
  role: Role;
  /** Sent back in X-CSRF-Token on every state-changing request made with the cookie. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  /** How the caller proved who they are: a session cookie, or an API token (no CSRF: no ambient credential). */
  via: 'cookie' | 'token';
}

export const SESSION_COOKIE = 'wf_session';

/** Server-side sessions: logout really ends them; idle and absolute expiry bound a stolen cookie's life. */
export class SessionBook {
  private readonly sessions = new Map<string, Session>();
  private readonly listeners: ((id: string) => void)[] = [];

  constructor(
    private readonly clock: Clock,
    readonly idleMs = 30 * 60_000,
    readonly absoluteMs = 12 * 3600_000,
  ) {}

  /** A new session with a fresh id (never reusing one the client brought, against fixation). */
  create(username: string, role: Role): Session {
    const now = this.clock.now();
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      username,
      role,
      csrfToken: randomBytes(24).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      via: 'cookie',
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session for an id, touching its idle timer; expired ones are ended. */
  get(id: string | undefined): Session | undefined {
    const s = this.peek(id);
    if (s) s.lastSeenAt = this.clock.now();
    return s;
  }

  /** The live session for an id without touching its idle timer (a socket receiving pushes is not activity). */
  peek(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const now = this.clock.now();
    if (now - s.lastSeenAt > this.idleMs || now - s.createdAt > this.absoluteMs) {
      this.end(id);
      return undefined;
    }
    return s;
  }

  /** Ends a session; listeners (the socket.io side) drop what hangs on it. */
  end(id: string): void {
    if (!this.sessions.delete(id)) return;
    for (const l of this.listeners) l(id);
  }

  /** Ends every session of a user (disabled, password changed). */
  endUser(username: string): number {
    const ids = [...this.sessions.values()].filter((s) => s.username === username).map((s) => s.id);
    for (const id of ids) this.end(id);
    return ids.length;
  }

  /** Ends the sessions that expired; returns how many. */
  sweep(): number {
    let n = 0;
    for (const id of [...this.sessions.keys()]) if (!this.peek(id)) n++;
    return n;
  }

  /** Called with the id of every session that ends (logout, expiry, user disabled). */
  onEnd(listener: (id: string) => void): void {
    this.listeners.push(listener);
  }

  get size(): number {
    return this.sessions.size;
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
