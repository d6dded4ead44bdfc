/*
 * The syslog receiver: UDP (RFC 5426, one message per datagram), TCP (RFC 6587) and TLS (RFC 5425)
 * on loopback unless told otherwise. Each frame passes, in order: `admit` (connection limits) ->
 * `frame` (framing.ts) -> `limit` (per-source token bucket) -> `enqueue` (bounded queue) ->
 * `decode` (UTF-8, garbage) -> `parse` (parse.ts) -> `onLine`. Whatever is dropped is counted in
 * `stats.dropped` by reason and logged once per source and reason; no input throws out of here.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createTcpServer, isIPv6, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Clock, Logger, LogLine } from '../../core/index.ts';
import { decodeFrame } from './decode.ts';
import { FrameDecoder } from './framing.ts';
import { DEFAULT_SYSLOG_LIMITS, SourceRateLimiter, type SyslogLimits } from './limits.ts';
import { parseSyslogLine } from './parse.ts';

export type SyslogTransport = 'udp' | 'tcp' | 'tls';

/** Where a line came from: the address the device mapping needs, which the line itself may not name. */
export interface SyslogOrigin {
  transport: SyslogTransport;
  address: string;
  port: number;
  /** Subject CN of a verified TLS client certificate. */
  clientCertificate?: string;
}

export interface SyslogTlsOptions {
  /** PEM texts (read the files before). */
  key: string | Buffer;
  cert: string | Buffer;
  /** CA that signs client certificates; when given, clients are asked for one. */
  ca?: string | Buffer;
  /** Refuse clients without a certificate signed by `ca` (RFC 5425 §5.2); false by default. */
  requireClientCert?: boolean;
}

export interface SyslogReceiverOptions {
  /** UDP port; 0 for an ephemeral one, false for none. */
  udpPort: number | false;
  /** TCP port; 0 for an ephemeral one, false for none. */
  tcpPort: number | false;
  /** TLS port (RFC 5425); needs `tls`. */
  tlsPort?: number | false;
  tls?: SyslogTlsOptions;
  /** Address to listen on; loopback by default, like the other listeners. */
  host?: string;
  onLine: (line: LogLine, origin: SyslogOrigin) => void;
  logger: Logger;
  clock: Clock;
  /** IANA zone of BSD timestamps (which carry none); UTC by default. */
  timezone?: string;
  limits?: Partial<SyslogLimits>;
}

export const DROP_REASONS = ['rate_limited', 'queue_full', 'garbage', 'idle_timeout', 'incomplete_frame', 'handler_error'] as const;
export type SyslogDropReason = (typeof DROP_REASONS)[number];

export interface SyslogStats {
  /** Frames received, per transport. */
  received: Record<SyslogTransport, number>;
  bytes: number;
  /** Lines handed to `onLine`. */
  lines: number;
  /** Frames lost, per reason. */
  dropped: Record<SyslogDropReason, number>;
  /** Frames longer than `maxFrameBytes`, kept cut. */
  truncated: number;
  /** Frames with invalid UTF-8, kept with U+FFFD. */
  invalidUtf8: number;
  connections: { open: number; accepted: number; refused: number; timedOut: number; tlsFailed: number };
  queue: { length: number; peak: number };
}

export interface SyslogReceiver {
  ports: { udp?: number; tcp?: number; tls?: number };
  stats: SyslogStats;
  /** Hands on what is queued, then closes every socket. */
  stop(): Promise<void>;
}

interface Queued {
  data: Buffer;
  origin: SyslogOrigin;
  at: number;
}

const MAX_LOGGED_KEYS = 4096;
const DRAIN_BATCH = 1000;

/** Starts the listeners; resolves once every port is bound. */
export async function startSyslogReceiver(o: SyslogReceiverOptions): Promise<SyslogReceiver> {
  const limits: SyslogLimits = { ...DEFAULT_SYSLOG_LIMITS, ...o.limits };
  const host = o.host ?? '127.0.0.1';
  const stats: SyslogStats = {
    received: { udp: 0, tcp: 0, tls: 0 },
    bytes: 0,
    lines: 0,
    dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<SyslogDropReason, number>,
    truncated: 0,
    invalidUtf8: 0,
    connections: { open: 0, accepted: 0, refused: 0, timedOut: 0, tlsFailed: 0 },
    queue: { length: 0, peak: 0 },
  };
  const limiter = new SourceRateLimiter(limits.ratePerSecond, limits.burst, limits.maxSources);
  const logged = new Set<string>();
  const queue: Queued[] = [];
  let head = 0;
  let draining = false;
  const paused = new Set<Socket>();
  const sockets = new Set<Socket>();
  const perSource = new Map<string, number>();

  /** Logs a problem the first time it happens for a source (a flood must not become a log flood). */
  const once = (reason: string, source: string, detail: Record<string, unknown> = {}): void => {
    const key = `${reason}\u0000${source}`;
    if (logged.has(key)) return;
    if (logged.size >= MAX_LOGGED_KEYS) {
      if (logged.has('*')) return;
      logged.add('*');
      o.logger.warn({ reason }, 'syslog: too many distinct sources with problems; further ones are only counted');
      return;
    }
    logged.add(key);
    o.logger.warn({ reason, source, ...detail }, 'syslog: input dropped or altered (logged once per source and reason; counted in stats)');
  };
  const drop = (reason: SyslogDropReason, source: string, detail?: Record<string, unknown>): void => {
    stats.dropped[reason]++;
    once(reason, source, detail);
  };

  const deliver = (q: Queued): void => {
    const d = decodeFrame(q.data);
    if (d.garbage) return drop('garbage', q.origin.address, { bytes: q.data.length });
    if (d.invalidUtf8) {
      stats.invalidUtf8++;
      once('invalid_utf8', q.origin.address);
    }
    try {
      o.onLine(parseSyslogLine(d.text, { receivedAt: q.at, source: q.origin.address, timezone: o.timezone }), q.origin);
      stats.lines++;
    } catch (e) {
      drop('handler_error', q.origin.address, { err: (e as Error).message });
    }
  };

  const drain = (): void => {
    draining = false;
    const end = Math.min(queue.length, head + DRAIN_BATCH);
    for (; head < end; head++) deliver(queue[head] as Queued);
    if (head >= queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head > 4096) {
      queue.splice(0, head);
      head = 0;
    }
    stats.queue.length = queue.length - head;
    if (paused.size > 0 && stats.queue.length < limits.maxQueue / 2) {
      for (const s of paused) s.resume();
      paused.clear();
    }
    if (stats.queue.length > 0) schedule();
  };
  const schedule = (): void => {
    if (draining) return;
    draining = true;
    setImmediate(drain);
  };

  /** `limit` and `enqueue`; false when the queue is full (the caller decides: drop for UDP, pause for streams). */
  const accept = (data: Buffer, origin: SyslogOrigin, truncated: boolean): boolean => {
    stats.received[origin.transport]++;
    stats.bytes += data.length;
    if (truncated) {
      stats.truncated++;
      once('truncated', origin.address, { maxFrameBytes: limits.maxFrameBytes });
    }
    const now = o.clock.now();
    if (!limiter.take(origin.address, now)) {
      drop('rate_limited', origin.address, { ratePerSecond: limits.ratePerSecond });
      return true;
    }
    const length = queue.length - head;
    if (origin.transport === 'udp' && length >= limits.maxQueue) {
      drop('queue_full', origin.address, { maxQueue: limits.maxQueue });
      return false;
    }
    queue.push({ data, origin, at: now });
    stats.queue.length = length + 1;
    if (stats.queue.length > stats.queue.peak) stats.queue.peak = stats.queue.length;
    schedule();
    return stats.queue.length < limits.maxQueue;
  };

  const ports: SyslogReceiver['ports'] = {};
  const closers: (() => Promise<void>)[] = [];

  // A port that cannot be bound closes the listeners already bound, so the caller may try again without them.
  try {
    // UDP: RFC 5426 §3.1, one syslog message per datagram.
    if (o.udpPort !== false) {
      const udp: UdpSocket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
      udp.on('message', (msg, rinfo) => {
        const origin: SyslogOrigin = { transport: 'udp', address: rinfo.address, port: rinfo.port };
        let end = msg.length;
        while (end > 0 && (msg[end - 1] === 0x0a || msg[end - 1] === 0x00 || msg[end - 1] === 0x0d)) end--;
        if (end === 0) return;
        const truncated = end > limits.maxFrameBytes;
        // Copied: the datagram's buffer may be reused; the queue must hold its own bytes.
        accept(Buffer.from(msg.subarray(0, Math.min(end, limits.maxFrameBytes))), origin, truncated);
      });
      await new Promise<void>((resolve, reject) => {
        udp.once('error', (e) => {
          udp.close();
          reject(e);
        });
        udp.bind(o.udpPort as number, host, () => {
          udp.removeAllListeners('error');
          udp.on('error', (e) => o.logger.warn({ err: e.message }, 'syslog: UDP socket error'));
          resolve();
        });
      });
      ports.udp = udp.address().port;
      closers.push(() => new Promise<void>((resolve) => udp.close(() => resolve())));
    }

    /** `admit`: connection limits, then framing, timeouts and backpressure for one stream. */
    const admit = (socket: Socket): void => {
      const address = socket.remoteAddress ?? '?';
      const n = perSource.get(address) ?? 0;
      socket.on('error', () => undefined); // reset by peer and the like: the close handler accounts
      if (stats.connections.open >= limits.maxConnections || n >= limits.maxConnectionsPerSource) {
        stats.connections.refused++;
        once('connection_limit', address, { maxConnections: limits.maxConnections, maxConnectionsPerSource: limits.maxConnectionsPerSource });
        socket.destroy();
        return;
      }
      stats.connections.open++;
      stats.connections.accepted++;
      perSource.set(address, n + 1);
      sockets.add(socket);
      socket.once('close', () => {
        stats.connections.open--;
        sockets.delete(socket);
        paused.delete(socket);
        const left = (perSource.get(address) ?? 1) - 1;
        if (left > 0) perSource.set(address, left);
        else perSource.delete(address);
      });
    };

    const stream = (socket: Socket, transport: 'tcp' | 'tls'): void => {
      const origin: SyslogOrigin = { transport, address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 };
      if (transport === 'tls') {
        const t = socket as TLSSocket;
        if (t.authorized) {
          const cn = t.getPeerCertificate()?.subject?.CN;
          if (cn) origin.clientCertificate = Array.isArray(cn) ? cn.join(',') : cn;
        }
      }
      let lastActivity = o.clock.now();
      const decoder = new FrameDecoder({
        maxFrame: limits.maxFrameBytes,
        onFrame: (f) => {
          if (!accept(f.data, origin, f.truncated) && !paused.has(socket)) {
            // Backpressure instead of loss: TCP holds the rest in the sender's buffers.
            paused.add(socket);
            socket.pause();
          }
        },
      });
      socket.setTimeout(limits.partialFrameTimeoutMs);
      socket.on('timeout', () => {
        // Paused by our own backpressure, the silence is ours: not the sender's fault.
        if (paused.has(socket)) socket.setTimeout(limits.partialFrameTimeoutMs);
        else if (decoder.pending) {
          stats.connections.timedOut++;
          drop('idle_timeout', origin.address, { timeoutMs: limits.partialFrameTimeoutMs });
          socket.destroy();
        } else if (o.clock.now() - lastActivity >= limits.idleTimeoutMs) {
          stats.connections.timedOut++;
          socket.destroy();
        } else socket.setTimeout(limits.partialFrameTimeoutMs);
      });
      socket.on('data', (chunk: Buffer) => {
        lastActivity = o.clock.now();
        decoder.push(chunk);
      });
      socket.once('close', () => {
        paused.delete(socket);
        const { lostBytes } = decoder.end();
        if (lostBytes > 0) drop('incomplete_frame', origin.address, { lostBytes });
      });
    };

    const listen = async (server: Server, port: number): Promise<number> => {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (e) => o.logger.warn({ err: e.message }, 'syslog: listener error'));
      const a = server.address();
      return typeof a === 'object' && a ? a.port : port;
    };
    const closeServer = (server: Server) => () => new Promise<void>((resolve) => server.close(() => resolve()));

    if (o.tcpPort !== false) {
      const tcp = createTcpServer((socket) => {
        admit(socket);
        if (!socket.destroyed) stream(socket, 'tcp');
      });
      ports.tcp = await listen(tcp, o.tcpPort);
      closers.push(closeServer(tcp));
    }

    if (o.tlsPort !== undefined && o.tlsPort !== false) {
      if (!o.tls) throw new Error('syslog: a TLS port needs tls.key and tls.cert');
      const tlsServer = createTlsServer({
        key: o.tls.key,
        cert: o.tls.cert,
        ...(o.tls.ca ? { ca: o.tls.ca, requestCert: true } : {}),
        rejectUnauthorized: o.tls.requireClientCert ?? false,
        handshakeTimeout: limits.partialFrameTimeoutMs,
      });
      // Limits apply to the raw connection, before the handshake costs anything.
      tlsServer.on('connection', (raw: Socket) => admit(raw));
      tlsServer.on('secureConnection', (socket: TLSSocket) => stream(socket, 'tls'));
      tlsServer.on('tlsClientError', (e, socket) => {
        stats.connections.tlsFailed++;
        once('tls_failed', socket.remoteAddress ?? '?', { err: e.message });
      });
      ports.tls = await listen(tlsServer, o.tlsPort);
      closers.push(closeServer(tlsServer));
    }
  } catch (err) {
    await Promise.all(closers.map((close) => close()));
    throw err;
  }

  return {
    ports,
    stats,
    async stop() {
      for (const s of sockets) s.destroy();
      await Promise.all(closers.map((c) => c()));
      // What was accepted is handed on, not lost.
      while (queue.length - head > 0) drain();
    },
  };
}
