// A syslog sender process for bench/syslog.ts: the stream of syslog-lines.ts over TCP (RFC 6587
// octet counting, BENCH_CONNECTIONS connections) or UDP (one datagram a line), paced to BENCH_RATE
// lines/s (0: as fast as TCP takes them) for BENCH_SECONDS; reports what it sent over IPC.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { octetFrame, streamLines } from './syslog-lines.ts';

const PORT = Number(process.env.BENCH_PORT);
const TRANSPORT = process.env.BENCH_TRANSPORT === 'udp' ? 'udp' : 'tcp';
const RATE = Number(process.env.BENCH_RATE ?? 0);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = TRANSPORT === 'udp' ? 1 : Number(process.env.BENCH_CONNECTIONS ?? 4);
const TICK_MS = 10;
const CHUNK = 256;

// About 80,000 distinct lines (20 cycles, each with its own attackers), sent round and round.
const lines = streamLines(Number(process.env.BENCH_CYCLES ?? 20));
const frames = lines.map(octetFrame);
const all = Buffer.concat(frames);
const offsets: number[] = [0];
for (const f of frames) offsets.push((offsets.at(-1) as number) + f.length);
const datagrams = lines.map((l) => Buffer.from(l, 'utf8'));

/** Lines `from` .. `from + n` (wrapping round) of the stream as one octet-counted chunk. */
function chunk(from: number, n: number): Buffer {
  const a = from % frames.length;
  const b = Math.min(frames.length, a + n);
  const head = all.subarray(offsets[a], offsets[b]);
  return b - a === n ? head : Buffer.concat([head, chunk(0, n - (b - a))]);
}

let sent = 0;
/** When the last line was handed to the socket (the kernel may still hold it). */
let wroteAt = 0;
const started = performance.now();
const until = started + SECONDS * 1000;

async function tcpConnection(k: number): Promise<void> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: PORT }, () => resolve(s));
    s.once('error', reject);
  });
  let next = Math.floor((k * frames.length) / CONNECTIONS);
  const write = (n: number): boolean => {
    const ok = socket.write(chunk(next, n));
    next += n;
    sent += n;
    return ok;
  };
  if (RATE <= 0) {
    while (performance.now() < until) {
      if (!write(CHUNK)) await new Promise((r) => socket.once('drain', r));
    }
  } else {
    // Paced: what is due by now is sent in chunks; a connection the receiver holds back falls behind (counted as not sent).
    const perMs = RATE / CONNECTIONS / 1000;
    let due = 0;
    while (performance.now() < until) {
      const target = Math.floor((performance.now() - started) * perMs);
      while (due < target && !socket.writableNeedDrain) {
        const n = Math.min(CHUNK, target - due);
        write(n);
        due += n;
      }
      if (socket.writableNeedDrain) {
        await new Promise((r) => socket.once('drain', r));
        due = Math.floor((performance.now() - started) * perMs); // what could not be sent is skipped, not queued
      } else await new Promise((r) => setTimeout(r, TICK_MS));
    }
  }
  wroteAt = Math.max(wroteAt, performance.now());
  await new Promise<void>((resolve) => socket.end(resolve));
  await new Promise((r) => (socket.closed ? r(undefined) : socket.once('close', r)));
}

async function udp(): Promise<void> {
  const s = createSocket('udp4');
  const perMs = (RATE > 0 ? RATE : 30_000) / 1000;
  let due = 0;
  let next = 0;
  while (performance.now() < until) {
    const target = Math.floor((performance.now() - started) * perMs);
    for (; due < target; due++) {
      s.send(datagrams[next++ % datagrams.length] as Buffer, PORT, '127.0.0.1');
      sent++;
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  wroteAt = performance.now();
  await new Promise((r) => setTimeout(r, 200));
  s.close();
}

if (TRANSPORT === 'udp') await udp();
else await Promise.all(Array.from({ length: CONNECTIONS }, (_, k) => tcpConnection(k)));
process.send?.({ type: 'done', sent, writeSeconds: (wroteAt - started) / 1000, seconds: (performance.now() - started) / 1000 });
process.disconnect?.();
