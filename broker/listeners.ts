import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Aedes } from 'aedes';
import type { Logger, MqttConfig } from '../core/index.ts';
import type { Connections } from './connections.ts';
import { plainAddress, type FrontDoor } from './front-door.ts';
import { gateSocket, PUBLISH_OVERHEAD_BYTES } from './packet-gate.ts';
import type { Refusals } from './refusals.ts';

export interface ListenerDeps {
  cfg: MqttConfig;
  aedes: Aedes;
  door: FrontDoor;
  report: Refusals;
  book: Connections;
  logger: Logger;
}

/** The broker's TCP listener, and its TLS one when `mqtt.tls` has a certificate and key. */
export interface Listeners {
  port: number;
  /** The mqtts port when TLS is configured. */
  tlsPort?: number;
  /** Bytes read from and written to every connection since start, open or closed. */
  bytes(): { in: number; out: number };
  /** Stops accepting connections; resolves once every listener is closed (after its connections are gone). */
  stopListening(): Promise<void>;
  /** Destroys the connections still open (after aedes closed its clients). */
  dropConnections(): void;
}

/** Opens the listeners; every connection, TCP or TLS, passes the front door before aedes sees a byte of it. */
export async function openListeners(d: ListenerDeps): Promise<Listeners> {
  const { cfg, aedes, door, report, book, logger } = d;
  const sockets = new Set<Socket>();
  const closedBytes = { in: 0, out: 0 };

  function onConnection(socket: Socket): void {
    socket.on('error', () => undefined); // aedes reports stream errors on the client; never an uncaught 'error'
    const source = plainAddress(socket.remoteAddress);
    const verdict = door.admit(source);
    if (verdict) {
      report.refuse(verdict, { source, detail: verdict === 'too_many_connections' ? `${door.openFrom(source)} open` : undefined }, true);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    // Before the login only a CONNECT-sized packet is read; after it, the payload limit plus a PUBLISH's own fields.
    const gate = gateSocket(socket, { beforeLogin: cfg.maxConnectBytes, afterLogin: cfg.maxPayloadBytes + PUBLISH_OVERHEAD_BYTES }, (p) => {
      const reason = p.loggedIn && p.type === 3 ? 'payload_too_large' : 'packet_too_large';
      report.refuse(reason, { source, detail: `packet type ${p.type} declares ${p.declared} bytes; at most ${p.limit} ${p.loggedIn ? 'after' : 'before'} login; connection closed` }, true);
    });
    book.gateOf.set(socket, gate);
    socket.once('close', () => {
      door.release(source);
      sockets.delete(socket);
      closedBytes.in += socket.bytesRead;
      closedBytes.out += socket.bytesWritten;
    });
    aedes.handle(socket);
  }

  const listen = (server: Server, port: number): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, cfg.host, () => {
        server.off('error', reject);
        server.on('error', (err) => logger.error({ err: err.message }, 'mqtt: listener error'));
        resolve((server.address() as AddressInfo).port);
      });
    });

  const servers: Server[] = [];
  const tcp = createServer(onConnection);
  servers.push(tcp);
  const port = await listen(tcp, cfg.port);
  logger.info({ host: cfg.host, port }, 'mqtt: broker listening');

  let tlsPort: number | undefined;
  if (cfg.tls.cert && cfg.tls.key) {
    const tls = createTlsServer(
      {
        cert: readFileSync(cfg.tls.cert),
        key: readFileSync(cfg.tls.key),
        ...(cfg.tls.ca ? { ca: readFileSync(cfg.tls.ca), requestCert: true, rejectUnauthorized: cfg.tls.requireClientCert } : {}),
        minVersion: 'TLSv1.2',
      },
      onConnection,
    );
    tls.on('tlsClientError', (err, socket) => {
      report.refuse('malformed_packet', { source: plainAddress(socket.remoteAddress), detail: `TLS: ${err.message}` }, true);
    });
    servers.push(tls);
    tlsPort = await listen(tls, cfg.tls.port);
    logger.info({ host: cfg.host, port: tlsPort }, 'mqtts: broker listening');
  }

  return {
    port,
    tlsPort,
    bytes() {
      let bytesIn = closedBytes.in;
      let bytesOut = closedBytes.out;
      for (const s of sockets) {
        bytesIn += s.bytesRead;
        bytesOut += s.bytesWritten;
      }
      return { in: bytesIn, out: bytesOut };
    },
    stopListening: () => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined),
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
  };
}
