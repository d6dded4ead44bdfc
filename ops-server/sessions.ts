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
}

export const SESSION_COOKIE = 'wf_session';

/** Server-side sessions: logout really ends them; idle and absolute expiry bound a stolen cookie's life. */
export class SessionBook {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly idleMs = 30 * 60_000,
    private readonly absoluteMs = 12 * 3600_000,
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
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session for an id, touching its idle timer; expired ones are removed. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const now = this.clock.now();
    if (now - s.lastSeenAt > this.idleMs || now - s.createdAt > this.absoluteMs) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeenAt = now;
    return s;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }
}

/** Reads one cookie from a Cookie header without a parser dependency on the socket.io path. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}
