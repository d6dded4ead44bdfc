import type { Server as HttpServer } from 'node:http';
import { ALL_ROLES, SECURITY_ROLES, rolesSeeing } from './visibility.ts';
import type { Server as HttpsServer } from 'node:https';
import { Server as SocketServer, type Socket } from 'socket.io';
import type { Alert, DeviceStatus, Point, SecurityEvent } from '../core/index.ts';
import { originAllowed, trustedOrigins } from './origin.ts';
import { readCookie, SESSION_COOKIE, type SessionBook } from './sessions.ts';
import type { TokenBook } from './tokens.ts';
import type { Role } from './users.ts';

/** One latest value as pushed to browsers: no tags, they are in the inventory the page already has. */
export interface TelemetryUpdate {
  device: string;
  metric: string;
  ts: number;
  value: number;
}

const room = (role: Role): string => `role:${role}`;

export interface RealtimeOptions {
  batchMs?: number;
  /** How often sockets are checked against their session's expiry (logout ends them at once). */
  sessionCheckMs?: number;
  tokens?: TokenBook;
  now?: () => number;
  /** Browser origins trusted besides the server's own (the public URL, `http.corsOrigins`). */
  trustedOrigins?: readonly string[];
}

/**
 * socket.io fan-out. Telemetry is coalesced per series and sent in batches every `batchMs`
 * (a browser wants a few updates a second, not one event per value); alerts and device
 * status go out at once, because a NOC waits for them. Every socket belongs to a session or
 * an API token and joins its role's room; it is disconnected when that session ends.
 */
export class Realtime {
  readonly io: SocketServer;
  private pending = new Map<string, TelemetryUpdate>();
  private readonly timer: NodeJS.Timeout;
  private readonly checker: NodeJS.Timeout;

  constructor(http: HttpServer | HttpsServer, sessions: SessionBook, options: RealtimeOptions = {}) {
    // No CORS: the page is served from this origin; a 100 kB cap on what a client may send.
    // The handshake (polling and WebSocket alike) from another site's page is refused before any
    // cookie is read: cross-site WebSocket hijacking (origin.ts).
    const trusted = trustedOrigins(options.trustedOrigins ?? []);
    this.io = new SocketServer(http, {
      serveClient: true,
      cors: undefined,
      maxHttpBufferSize: 100_000,
      allowRequest: (req, callback) => (originAllowed(req.headers.origin, req.headers.host, trusted) ? callback(null, true) : callback('origin not allowed', false)),
    });
    const now = options.now ?? (() => Date.now());
    // The handshake needs a live session or an API token; without one the client gets connect_error "unauthorized".
    this.io.use((socket, next) => {
      const auth = socket.handshake.auth as { token?: unknown } | undefined;
      const bearer = /^Bearer\s+(\S+)$/i.exec(socket.handshake.headers.authorization ?? '')?.[1];
      const presented = typeof auth?.token === 'string' ? auth.token : bearer;
      if (presented !== undefined) {
        const token = options.tokens?.verify(presented, now());
        if (!token) return next(new Error('unauthorized'));
        socket.data.username = `token:${token.name}`;
        socket.data.role = token.role;
        socket.data.tokenId = token.id;
        return next();
      }
      const session = sessions.get(readCookie(socket.handshake.headers.cookie, SESSION_COOKIE));
      if (!session) return next(new Error('unauthorized'));
      socket.data.username = session.username;
      socket.data.role = session.role;
      socket.data.sessionId = session.id;
      next();
    });
    this.io.on('connection', (socket) => {
      void socket.join(room(socket.data.role as Role));
      // Authorization on every incoming event: the session must still be live, and no client event
      // is defined yet, so anything else is refused (and logged by its absence of handler).
      socket.use((_packet, next) => {
        if (!this.stillValid(socket, sessions, options.tokens)) {
          socket.disconnect(true);
          return next(new Error('unauthorized'));
        }
        next(new Error('forbidden: no client events are accepted'));
      });
      socket.on('error', () => undefined); // a refused packet must not escape as an uncaught 'error'
    });
    sessions.onEnd((id) => {
      for (const s of this.io.sockets.sockets.values()) if (s.data.sessionId === id) s.disconnect(true);
    });
    this.timer = setInterval(() => this.flush(), options.batchMs ?? 250);
    this.timer.unref();
    this.checker = setInterval(() => {
      for (const s of this.io.sockets.sockets.values()) if (!this.stillValid(s, sessions, options.tokens)) s.disconnect(true);
    }, options.sessionCheckMs ?? 5000);
    this.checker.unref();
  }

  private stillValid(socket: Socket, sessions: SessionBook, tokens: TokenBook | undefined): boolean {
    if (typeof socket.data.sessionId === 'string') return sessions.peek(socket.data.sessionId) !== undefined;
    if (typeof socket.data.tokenId === 'string') return tokens?.isLive(socket.data.tokenId as string) ?? false;
    return false;
  }

  /** Queues values for the next batch; the newest value of a series wins. */
  telemetry(points: readonly Point[]): void {
    for (const p of points) {
      this.pending.set(`${p.device}\u0000${p.metric}`, { device: p.device, metric: p.metric, ts: p.ts, value: p.value });
    }
  }

  alert(alert: Alert): void {
    this.toRoles(rolesSeeing(alert.kind)).emit('alert', alert);
  }

  deviceStatus(device: string, status: DeviceStatus, ts: number): void {
    this.toRoles(ALL_ROLES).emit('device-status', { device, status, ts });
  }

  securityEvent(event: SecurityEvent): void {
    this.toRoles(SECURITY_ROLES).emit('security-event', event);
  }

  get clients(): number {
    return this.io.engine.clientsCount;
  }

  private toRoles(roles: readonly Role[]) {
    return this.io.to(roles.map(room));
  }

  private flush(): void {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.toRoles(ALL_ROLES).emit('telemetry', batch);
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.checker);
    return new Promise((resolve) => {
      this.io.close(() => resolve());
    });
  }
}
