import type { Server as HttpServer } from 'node:http';
import { ALL_ROLES, SECURITY_ROLES, rolesSeeing } from './visibility.ts';
import type { Server as HttpsServer } from 'node:https';
import { Server as SocketServer, type Socket } from 'socket.io';
import { LOG_SEVERITIES, type Alert, type DeviceStatus, type Point, type SecurityEvent } from '../core/index.ts';
import type { StoredLog } from '../store/index.ts';
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
  /** The devices whose logs the noc role reads (network, power, cooling); the noc tails nothing without it. */
  nocLogDevices?: () => readonly string[];
}

/** What a client tailing the logs asked for (`logs:tail`); every filter given must hold. */
export interface LogTail {
  /** Words and "quoted phrases" all in the message or fields, case-insensitive. */
  q?: string;
  host?: string;
  program?: string;
  /** This severity or a more severe one. */
  severity?: (typeof LOG_SEVERITIES)[number];
}

/** The roles that may tail logs: soc and admin all of them, noc those of its devices. */
const LOG_ROLES: readonly Role[] = ['admin', 'soc', 'noc'];
/** Most lines one `log` event carries to one socket; a burst beyond it is cut, not queued. */
const MAX_TAIL_BATCH = 500;

/**
 * socket.io fan-out. Telemetry is coalesced per series and sent in batches every `batchMs`
 * (a browser wants a few updates a second, not one event per value); alerts and device
 * status go out at once, because a NOC waits for them. Every socket belongs to a session or
 * an API token and joins its role's room; it is disconnected when that session ends.
 */
export class Realtime {
  readonly io: SocketServer;
  /** The newest point of each series since the last batch, by device then metric: no key string nor object made per value. */
  private pending = new Map<string, Map<string, Point>>();
  private readonly timer: NodeJS.Timeout;
  private readonly checker: NodeJS.Timeout;
  /** Sockets tailing the logs, with their compiled filter: logs() costs nothing while it is empty. */
  private readonly tails = new Map<Socket, (l: StoredLog) => boolean>();
  private readonly nocLogDevices: () => readonly string[];

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
    this.nocLogDevices = options.nocLogDevices ?? (() => []);
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
      // Authorization on every incoming event: the session must still be live; the only client events
      // are the log tail's, for the roles that read logs; anything else is refused.
      socket.use((packet, next) => {
        if (!this.stillValid(socket, sessions, options.tokens)) {
          socket.disconnect(true);
          return next(new Error('unauthorized'));
        }
        const event = packet[0];
        if ((event === 'logs:tail' || event === 'logs:untail') && LOG_ROLES.includes(socket.data.role as Role)) return next();
        next(new Error('forbidden: no such client event for this role'));
      });
      socket.on('logs:tail', (raw: unknown) => {
        const f = tailFilter(raw);
        if (f) this.tails.set(socket, f);
      });
      socket.on('logs:untail', () => this.tails.delete(socket));
      socket.on('disconnect', () => this.tails.delete(socket));
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

  /**
   * Queues values for the next batch; the newest value of a series wins. On the ingest path for every
   * value (a message's points share their device), so it only keeps a reference; the batch is made at flush.
   */
  telemetry(points: readonly Point[]): void {
    let device: string | undefined;
    let series: Map<string, Point> | undefined;
    for (const p of points) {
      if (p.device !== device) {
        device = p.device;
        series = this.pending.get(device);
        if (!series) this.pending.set(device, (series = new Map()));
      }
      (series as Map<string, Point>).set(p.metric, p);
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

  /** A service's state changed (issue 16): `{id, state, reason?, causes, at}` to every role (all read the services). */
  service(update: { id: string; state: string; reason?: string; causes: readonly string[]; at: number }): void {
    this.toRoles(ALL_ROLES).emit('service', update);
  }

  /** Sends the lines just stored, as event `log`, to each socket tailing them (its filter and its role's scope). */
  logs(lines: readonly StoredLog[]): void {
    if (this.tails.size === 0 || lines.length === 0) return;
    let noc: Set<string> | undefined;
    for (const [socket, matches] of this.tails) {
      let inScope = (_l: StoredLog): boolean => true;
      if (socket.data.role === 'noc') {
        const devices = (noc ??= new Set(this.nocLogDevices()));
        inScope = (l) => l.device !== undefined && devices.has(l.device);
      } else if (!LOG_ROLES.includes(socket.data.role as Role)) continue;
      const batch: StoredLog[] = [];
      for (const l of lines) {
        if (inScope(l) && matches(l)) batch.push(l);
        if (batch.length >= MAX_TAIL_BATCH) break;
      }
      if (batch.length > 0) socket.emit('log', batch);
    }
  }

  /** How many sockets tail the logs now. */
  get tailing(): number {
    return this.tails.size;
  }

  get clients(): number {
    return this.io.engine.clientsCount;
  }

  private toRoles(roles: readonly Role[]) {
    return this.io.to(roles.map(room));
  }

  private flush(): void {
    if (this.pending.size === 0) return;
    const batch: TelemetryUpdate[] = [];
    for (const series of this.pending.values()) for (const p of series.values()) batch.push({ device: p.device, metric: p.metric, ts: p.ts, value: p.value });
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

/** The filter a `logs:tail` asks for, compiled; undefined for a malformed request (ignored). */
export function tailFilter(raw: unknown): ((l: StoredLog) => boolean) | undefined {
  const r = (raw ?? {}) as Record<string, unknown>;
  if (typeof r !== 'object' || Array.isArray(r)) return undefined;
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' && v.length <= 1024 ? v.trim() : undefined);
  const q = text(r.q);
  const host = text(r.host)?.toLowerCase();
  const program = text(r.program);
  const sev = text(r.severity);
  const maxSev = sev === undefined ? LOG_SEVERITIES.length : LOG_SEVERITIES.indexOf(sev as LogTail['severity'] & string);
  if (maxSev < 0) return undefined;
  const words = q === undefined ? [] : [...q.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] ?? m[2] ?? '').toLowerCase()).filter((w) => w !== '');
  return (l) => {
    if (host !== undefined && l.host.toLowerCase() !== host) return false;
    if (program !== undefined && l.program !== program) return false;
    if (LOG_SEVERITIES.indexOf(l.severity) > maxSev) return false;
    if (words.length === 0) return true;
    const hay = `${l.message}\u0000${JSON.stringify(l.fields)}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  };
}
