import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import { CommandDesk } from './commands.ts';
import type { OpsContext } from './deps.ts';
import { createHttpApp, defaultPublicDir } from './http.ts';
import { defaultParts, type OpsParts } from './own-state.ts';
import { Realtime } from './realtime.ts';
import { nocLogDevices } from './routes/soc.ts';

export interface OpsServer {
  readonly port: number;
  /** `https` when a certificate is configured. */
  readonly scheme: 'http' | 'https';
  readonly realtime: Realtime;
  /** The express app (its router stack lists every route: the authorization matrix test walks it). */
  readonly app: express.Express;
  readonly parts: OpsParts;
  close(): Promise<void>;
}

export interface OpsServerOptions {
  host: string;
  port: number;
  publicDir?: string;
  telemetryBatchMs?: number;
  /** How often sockets are checked against session expiry; 5 s by default. */
  sessionCheckMs?: number;
  /** PEM files: with them the API, the UI and socket.io are served over TLS only (and cookies are Secure). */
  tls?: { cert: string; key: string };
  /** Browser origins allowed to call the API (CORS); none by default. */
  corsOrigins?: readonly string[];
  /** The URL people open the UI at behind a proxy that rewrites Host: its origin is trusted like the server's own. */
  publicUrl?: string;
}

/** Starts the HTTP API, the web UI and socket.io on one port (HTTPS when a certificate is configured). */
export async function startOpsServer(ctx: OpsContext, options: OpsServerOptions): Promise<OpsServer> {
  const commands = ctx.commandBus ? new CommandDesk(ctx.commandBus, ctx.logger) : undefined;
  await commands?.start();
  const parts = defaultParts(ctx, commands);
  const app = createHttpApp(ctx, options.publicDir ?? defaultPublicDir, parts, { corsOrigins: options.corsOrigins, publicUrl: options.publicUrl });
  const http: Server | HttpsServer = options.tls
    ? createHttpsServer({ cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) }, app)
    : createServer(app);
  // Slow-loris bounds: a client gets 30 s to send its headers and 60 s for the whole request.
  http.headersTimeout = 30_000;
  http.requestTimeout = 60_000;
  const realtime = new Realtime(http, ctx.sessions, { batchMs: options.telemetryBatchMs, sessionCheckMs: options.sessionCheckMs, tokens: parts.tokens, now: () => ctx.clock.now(), nocLogDevices: () => nocLogDevices(ctx), trustedOrigins: [...(options.publicUrl ? [options.publicUrl] : []), ...(options.corsOrigins ?? [])] });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  http.on('error', (err) => ctx.logger.error({ err: err.message }, 'http: server error'));
  const port = (http.address() as AddressInfo).port;
  const scheme = options.tls ? 'https' : 'http';
  ctx.logger.info({ host: options.host, port, scheme, auditHead: parts.auditLog.head }, 'http: ops server listening');
  let closed: Promise<void> | undefined;
  return {
    port,
    scheme,
    realtime,
    app,
    parts,
    close() {
      // socket.io's close also closes the HTTP server it is attached to, whose callback waits for every
      // open connection to end; a browser's preconnected socket that never sends a request would hold a
      // restart for minutes. So connections are cut until the server is closed: socket.io's close is
      // asynchronous, and a browser may connect again before it stops the server accepting.
      closed ??= (async () => {
        const done = realtime.close();
        http.closeAllConnections();
        const cutter = setInterval(() => http.closeAllConnections(), 100);
        try {
          await done;
        } finally {
          clearInterval(cutter);
        }
        await commands?.stop();
      })();
      return closed;
    },
  };
}
