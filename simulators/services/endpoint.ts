/**
 * One listening service that a fault can take off the network and bring back on the same port: its
 * server closed and every open connection destroyed (the VM's host failed), then listening again.
 */
import type { Server, Socket } from 'node:net';

export class Endpoint {
  private readonly sockets = new Set<Socket>();
  private listening = false;
  private port = 0;

  constructor(
    readonly id: string,
    private readonly server: Server,
    private readonly address = '127.0.0.1',
  ) {
    // TLS servers hand out TLSSockets on 'secureConnection', but 'connection' sees every raw socket.
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
      // A peer resetting mid-answer must not become an uncaught error.
      s.on('error', () => undefined);
    });
    server.on('error', () => undefined);
  }

  /** The bound port (stable across down/up). */
  get boundPort(): number {
    return this.port;
  }

  get isUp(): boolean {
    return this.listening;
  }

  /** Listens on `port` (0: a free one the first time, then the same one). */
  listen(port = this.port): Promise<number> {
    if (this.listening) return Promise.resolve(this.port);
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new Error(`${this.id}: cannot listen on ${this.address}:${port}: ${err.message}`));
      this.server.once('error', onError);
      this.server.listen(port, this.address, () => {
        this.server.removeListener('error', onError);
        const a = this.server.address();
        this.port = typeof a === 'object' && a ? a.port : port;
        this.listening = true;
        resolve(this.port);
      });
    });
  }

  /** Stops listening and destroys every open connection; resolves when the port is free. */
  down(): Promise<void> {
    if (!this.listening) return Promise.resolve();
    this.listening = false;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
    });
  }
}
