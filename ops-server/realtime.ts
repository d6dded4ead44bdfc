import type { Server as HttpServer } from 'node:http';
import { Server as SocketServer } from 'socket.io';
import type { Alert, DeviceStatus, Point, SecurityEvent } from '../core/index.ts';
import { readCookie, SESSION_COOKIE, type SessionBook } from './sessions.ts';

/** One latest value as pushed to browsers: no tags, they are in the inventory the page already has. */
export interface TelemetryUpdate {
  device: string;
  metric: string;
  ts: number;
  value: number;
}

/**
 * socket.io fan-out. Telemetry is coalesced per series and sent in batches every `batchMs`
 * (a browser wants a few updates a second, not one event per value); alerts and device
 * status go out at once, because a NOC waits for them.
 */
export class Realtime {
  readonly io: SocketServer;
  private pending = new Map<string, TelemetryUpdate>();
  private readonly timer: NodeJS.Timeout;

  constructor(http: HttpServer, sessions: SessionBook, batchMs = 250) {
    this.io = new SocketServer(http, { serveClient: true, cors: undefined });
    // The handshake needs a live session; without one the client gets connect_error "unauthorized".
    this.io.use((socket, next) => {
      const session = sessions.get(readCookie(socket.handshake.headers.cookie, SESSION_COOKIE));
      if (!session) return next(new Error('unauthorized'));
      socket.data.username = session.username;
      socket.data.role = session.role;
      next();
    });
    this.timer = setInterval(() => this.flush(), batchMs);
    this.timer.unref();
  }

  /** Queues values for the next batch; the newest value of a series wins. */
  telemetry(points: readonly Point[]): void {
    for (const p of points) {
      this.pending.set(`${p.device}\u0000${p.metric}`, { device: p.device, metric: p.metric, ts: p.ts, value: p.value });
    }
  }

  alert(alert: Alert): void {
    this.io.emit('alert', alert);
  }

  deviceStatus(device: string, status: DeviceStatus, ts: number): void {
    this.io.emit('device-status', { device, status, ts });
  }

  securityEvent(event: SecurityEvent): void {
    this.io.emit('security-event', event);
  }

  get clients(): number {
    return this.io.engine.clientsCount;
  }

  private flush(): void {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.io.emit('telemetry', batch);
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    return new Promise((resolve) => {
      this.io.close(() => resolve());
    });
  }
}
