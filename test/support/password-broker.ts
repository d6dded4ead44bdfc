import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';

export interface PasswordBroker {
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * A bare aedes broker on a loopback port that checks a username and password against `accounts`:
 * a peer for the simulators that is not the product's own broker.
 */
export async function startPasswordBroker(accounts: Record<string, string>): Promise<PasswordBroker> {
  const broker = await Aedes.createBroker();
  broker.authenticate = (_client, username, password, done) => {
    if (username !== undefined && accounts[username] !== undefined && password?.toString() === accounts[username]) return done(null, true);
    // [MQTT-3.2.2.3] CONNACK return code 4: bad user name or password.
    done(Object.assign(new Error('bad username or password'), { returnCode: 4 }) as AuthenticateError, null);
  };
  const server = createServer(broker.handle);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((done) => broker.close(() => done()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
