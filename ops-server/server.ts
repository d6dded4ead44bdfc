import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OpsContext } from './context.ts';
import { createHttpApp, defaultPublicDir } from './http.ts';
import { Realtime } from './realtime.ts';

export interface OpsServer {
  readonly port: number;
  readonly realtime: Realtime;
  close(): Promise<void>;
}

/** Starts the HTTP API, the web UI and socket.io on one port. */
export async function startOpsServer(
  ctx: OpsContext,
  options: { host: string; port: number; publicDir?: string; telemetryBatchMs?: number },
): Promise<OpsServer> {
  const app = createHttpApp(ctx, options.publicDir ?? defaultPublicDir);
  const http: Server = createServer(app);
  const realtime = new Realtime(http, ctx.sessions, options.telemetryBatchMs);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  ctx.logger.info({ host: options.host, port }, 'http: ops server listening');
  let closed: Promise<void> | undefined;
  return {
    port,
    realtime,
    close() {
      // socket.io's close also closes the HTTP server it is attached to.
      closed ??= realtime.close().then(() => {
        http.closeAllConnections();
      });
      return closed;
    },
  };
}
