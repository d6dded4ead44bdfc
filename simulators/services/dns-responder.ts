/**
 * A small authoritative DNS responder on node:dgram for the estate's zone: A records only, answers
 * read from a map at each query so a fault (a wrong address) takes effect on the next packet.
 * RFC 1035 §4.1 message format; names outside the zone are REFUSED, unknown names in it NXDOMAIN,
 * a known name asked for another type NOERROR with no answer (RFC 2308 NODATA).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';

// RFC 1035 §4.1.1 RCODEs and §3.2.2 TYPE/CLASS values.
const RCODE = { noError: 0, formErr: 1, nxDomain: 3, notImp: 4, refused: 5 } as const;
const TYPE_A = 1;
const CLASS_IN = 1;
const HEADER = 12;

export interface DnsResponder {
  readonly port: number;
  /** Queries answered so far. */
  readonly queries: number;
  close(): Promise<void>;
}

interface Question {
  name: string;
  type: number;
  klass: number;
  /** Offset just past the question, where the answer section starts. */
  end: number;
}

/** Reads the first question; labels only (a question carries no compression pointers in practice, and we refuse them). */
function readQuestion(msg: Buffer): Question | undefined {
  const labels: string[] = [];
  let at = HEADER;
  for (;;) {
    if (at >= msg.length) return undefined;
    const len = msg[at] as number;
    if (len === 0) break;
    if (len > 63 || at + 1 + len > msg.length) return undefined;
    labels.push(msg.subarray(at + 1, at + 1 + len).toString('latin1'));
    at += 1 + len;
  }
  at += 1;
  if (at + 4 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(at), klass: msg.readUInt16BE(at + 2), end: at + 4 };
}

/** The answer to one query, or undefined for a packet not worth answering (too short, already a response). */
export function answerQuery(msg: Buffer, zone: string, lookup: (name: string) => readonly string[] | undefined, ttl = 30): Buffer | undefined {
  if (msg.length < HEADER) return undefined;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // QR set: a response, not a query
  const opcode = (flags >> 11) & 0xf;
  const rd = flags & 0x0100;
  const qd = msg.readUInt16BE(4);
  const q = qd === 1 ? readQuestion(msg) : undefined;
  const reply = (rcode: number, answers: readonly string[] = [], question = q): Buffer => {
    const head = Buffer.alloc(HEADER);
    msg.copy(head, 0, 0, 2); // same ID
    const aa = question && rcode !== RCODE.refused ? 0x0400 : 0;
    head.writeUInt16BE(0x8000 | (opcode << 11) | aa | rd | rcode, 2);
    head.writeUInt16BE(question ? 1 : 0, 4);
    head.writeUInt16BE(answers.length, 6);
    const parts: Buffer[] = [head];
    if (question) parts.push(msg.subarray(HEADER, question.end));
    for (const ip of answers) {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc000 | HEADER, 0); // the name: a pointer to the question's (RFC 1035 §4.1.4)
      rr.writeUInt16BE(TYPE_A, 2);
      rr.writeUInt16BE(CLASS_IN, 4);
      rr.writeUInt32BE(ttl, 6);
      rr.writeUInt16BE(4, 10);
      ip.split('.').forEach((b, i) => rr.writeUInt8(Number(b), 12 + i));
      parts.push(rr);
    }
    return Buffer.concat(parts);
  };
  if (opcode !== 0) return reply(RCODE.notImp, [], undefined);
  if (!q) return reply(RCODE.formErr, [], undefined);
  const inZone = q.name === zone || q.name.endsWith(`.${zone}`);
  if (!inZone || q.klass !== CLASS_IN) return reply(RCODE.refused);
  const addresses = lookup(q.name);
  if (!addresses) return reply(RCODE.nxDomain);
  return reply(RCODE.noError, q.type === TYPE_A ? addresses.filter((a) => isIPv4(a)) : []);
}

/** Starts the responder on UDP `address`:`port` (0: a free port); `lookup` is read at every query. */
export function startDnsResponder(o: { zone: string; lookup: (name: string) => readonly string[] | undefined; address?: string; port?: number; ttl?: number }): Promise<DnsResponder> {
  const zone = o.zone.toLowerCase().replace(/\.$/, '');
  let queries = 0;
  const socket: Socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const out = answerQuery(msg, zone, o.lookup, o.ttl);
    if (!out) return;
    queries++;
    socket.send(out, rinfo.port, rinfo.address, () => undefined);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(o.port ?? 0, o.address ?? '127.0.0.1', () => {
      socket.removeListener('error', reject);
      // After bind, a send error (the client went away) must not kill the process.
      socket.on('error', () => undefined);
      resolve({
        port: socket.address().port,
        get queries() {
          return queries;
        },
        close: () => new Promise<void>((r) => socket.close(() => r())),
      });
    });
  });
}
