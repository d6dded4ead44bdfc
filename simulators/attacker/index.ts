/**
 * The simulated attacker: plays attacks on the sample estate as the syslog lines its servers,
 * switches and firewalls would send, to a syslog receiver over UDP or TCP (RFC 6587 octet
 * counting), so the SOC view is live on `npm start` as the floor plan is.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import type { Logger } from '../../core/index.ts';
import { ATTACKS, attackLines, backgroundLines, type AttackLine, type AttackName } from './lines.ts';

export { ATTACKS, attackLines, backgroundLines, seededRandom, type AttackLine, type AttackName, type AttackOptions } from './lines.ts';

export interface AttackerOptions {
  host?: string;
  port: number;
  transport?: 'udp' | 'tcp';
  /** Time between the starts of two attacks (default 4 minutes); the attacks take turns. */
  everyMs?: number;
  /** Time before the first attack (default 20 s: the product has settled, the operator is looking). */
  firstAfterMs?: number;
  /** One background line every this many ms (default 3 s; 0 for none). */
  backgroundEveryMs?: number;
  seed?: number;
  logger?: Logger;
}

export interface Attacker {
  /** Lines sent so far. */
  readonly sent: number;
  /** Plays one attack now (tests, and the operator's "show me" button); resolves once its lines are sent. */
  play(name: AttackName): Promise<number>;
  stop(): Promise<void>;
}

/** Sends lines to a syslog receiver: one datagram per line over UDP, octet-counted frames over TCP. */
class SyslogSender {
  private udp?: UdpSocket;
  private tcp?: Socket;
  private connecting?: Promise<Socket>;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly transport: 'udp' | 'tcp',
    private readonly logger?: Logger,
  ) {}

  async send(line: string): Promise<void> {
    const bytes = Buffer.from(line, 'utf8');
    if (this.transport === 'udp') {
      this.udp ??= createSocket(this.host.includes(':') ? 'udp6' : 'udp4').on('error', (err) => this.logger?.warn({ err: err.message }, 'attacker: udp send failed'));
      const udp = this.udp;
      await new Promise<void>((resolve) => udp.send(bytes, this.port, this.host, () => resolve()));
      return;
    }
    const socket = await this.connection();
    socket.write(`${bytes.length} `);
    socket.write(bytes);
  }

  private connection(): Promise<Socket> {
    if (this.tcp && !this.tcp.destroyed) return Promise.resolve(this.tcp);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: this.host, port: this.port }, () => {
        this.tcp = s;
        this.connecting = undefined;
        resolve(s);
      });
      s.on('error', (err) => {
        this.connecting = undefined;
        this.logger?.warn({ err: err.message }, 'attacker: syslog connection failed');
        reject(err);
      });
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    this.udp?.close();
    if (this.tcp) await new Promise<void>((resolve) => this.tcp?.end(resolve));
  }
}

/** Starts the attacker: background chatter, and an attack every `everyMs`, each in its own time. */
export function startAttacker(options: AttackerOptions): Attacker {
  const sender = new SyslogSender(options.host ?? '127.0.0.1', options.port, options.transport ?? 'udp', options.logger);
  let seed = options.seed ?? Date.now() % 1_000_000;
  let sent = 0;
  let stopped = false;
  let turn = 0;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) fn();
    }, ms);
    t.unref();
    timers.add(t);
  };

  const sendLine = (l: AttackLine): Promise<void> =>
    sender.send(l.line).then(
      () => void sent++,
      () => undefined, // a receiver that is not up yet: the next line tries again
    );

  /** Sends the lines at their times relative to now, as the attack would unfold. */
  const unfold = (lines: AttackLine[]): Promise<number> =>
    new Promise((resolve) => {
      const start = lines[0]?.at ?? 0;
      let left = lines.length;
      if (left === 0) resolve(0);
      for (const l of lines) {
        later(l.at - start, () => {
          void sendLine(l).then(() => {
            if (--left === 0) resolve(lines.length);
          });
        });
      }
    });

  const play = (name: AttackName): Promise<number> => {
    options.logger?.info({ attack: name }, 'attacker: playing an attack on the sample estate');
    return unfold(attackLines(name, { start: Date.now(), seed: seed++ }));
  };

  const every = options.everyMs ?? 240_000;
  const nextAttack = (): void => {
    const name = ATTACKS[turn++ % ATTACKS.length] as AttackName;
    void play(name);
    later(every, nextAttack);
  };
  later(options.firstAfterMs ?? 20_000, nextAttack);

  const bgEvery = options.backgroundEveryMs ?? 3_000;
  if (bgEvery > 0) {
    const chatter = (): void => {
      const [l] = backgroundLines(Date.now(), 1, seed++);
      if (l) void sendLine(l);
      later(bgEvery, chatter);
    };
    later(bgEvery, chatter);
  }

  return {
    get sent() {
      return sent;
    },
    play,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await sender.close();
    },
  };
}
