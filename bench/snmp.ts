/**
 * SNMP benchmark: varbinds/s polled by one process from simulated switches (default 1,000 devices x 24
 * interfaces, the 60-second-cycle target) and traps/s decoded by the trap receiver.
 * Run: node bin/run-ts.js bench/snmp.ts [devices=1000] [interfaces=24] [traps=20000]
 * Prints figures only; never fails on time.
 */
import snmp from 'net-snmp';
import { SnmpPoller, TrapReceiver, type Accumulator } from '../collectors/index.ts';
import { silentLogger } from '../core/index.ts';
import { startAgent, syntheticSwitch, type SimulatedAgent } from '../simulators/snmp/index.ts';

const devices = Number(process.argv[2] ?? 1000);
const interfaces = Number(process.argv[3] ?? 24);
const trapCount = Number(process.argv[4] ?? 20000);
const mb = (): string => `${Math.round(process.memoryUsage().rss / 1048576)} MB rss`;

const agents: SimulatedAgent[] = [];
const t0 = Date.now();
for (let i = 0; i < devices; i++) agents.push(await startAgent(syntheticSwitch({ name: `sw-${i}`, interfaces }).store));
console.log(`started ${devices} simulated switches x ${interfaces} interfaces in ${Date.now() - t0} ms (${mb()})`);

let telemetry = 0;
const latencies: number[] = [];
const acc: Accumulator = { telemetry: () => void telemetry++, event: () => undefined, status: () => undefined };
const poller = new SnmpPoller({
  targets: agents.map((a, i) => ({ device: `sw-${i}`, snmp: { host: '127.0.0.1', port: a.port, version: '2c', community: 'public', intervalSeconds: 60 } })),
  accumulator: acc, logger: silentLogger, concurrency: 64, timeoutMs: 5000, retries: 1,
});
for (let cycle = 1; cycle <= 2; cycle++) {
  const before = poller.stats.varbinds;
  const start = Date.now();
  const results = await Promise.all([...Array(devices).keys()].map(async (i) => {
    const s = Date.now();
    const r = await poller.pollNow(`sw-${i}`);
    latencies.push(Date.now() - s);
    return r;
  }));
  const ms = Date.now() - start;
  const failed = results.filter((r) => r instanceof Error).length;
  const vb = poller.stats.varbinds - before;
  latencies.sort((a, b) => a - b);
  const p = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  console.log(`poll cycle ${cycle}: ${devices} devices in ${(ms / 1000).toFixed(1)} s (target: inside 60 s), ${vb} varbinds, ${Math.round(vb / (ms / 1000))} varbinds/s, failures ${failed}, per-device poll p50 ${p(0.5)} ms p95 ${p(0.95)} ms p99 ${p(0.99)} ms (${mb()})`);
  latencies.length = 0;
}
await poller.stop();
for (const a of agents) await a.close();

// Traps: v2c linkDown notifications from a few sender sessions to one receiver, decoded and handed on.
let published = 0;
const rx = new TrapReceiver({
  port: 0, devices: () => [{ id: 'sw-0', kind: 'switch', location: { site: 's' }, parents: [], labels: {}, snmp: { host: '127.0.0.1', port: 161, version: '2c', community: 'public', intervalSeconds: 60 } }],
  accumulator: { telemetry: () => undefined, status: () => undefined, event: () => void published++ }, onSecurityEvent: () => undefined, logger: silentLogger,
});
await rx.start();
const senders = [...Array(4).keys()].map(() => {
  const s = snmp.createSession('127.0.0.1', 'public', { version: snmp.Version2c, trapPort: rx.port });
  s.on('error', () => undefined);
  return s;
});
const vbs = [
  { oid: '1.3.6.1.2.1.2.2.1.1.3', type: snmp.ObjectType.Integer, value: 3 },
  { oid: '1.3.6.1.2.1.2.2.1.7.3', type: snmp.ObjectType.Integer, value: 1 },
  { oid: '1.3.6.1.2.1.2.2.1.8.3', type: snmp.ObjectType.Integer, value: 2 },
];
const tStart = Date.now();
for (let sent = 0; sent < trapCount; ) {
  const batch = Math.min(100, trapCount - sent);
  await Promise.all([...Array(batch).keys()].map((k) => new Promise<void>((r) => (senders[k % 4] as ReturnType<typeof snmp.createSession>).trap('1.3.6.1.6.3.1.1.5.3', vbs, {}, () => r()))));
  sent += batch;
  // Let the receiver drain so the kernel's UDP buffer does not drop what we measure (give up after 200 ms: loss is reported).
  const batchDeadline = Date.now() + 200;
  while (rx.stats.received < sent - 100 && Date.now() < batchDeadline) await new Promise((r) => setImmediate(r));
}
const waitUntil = Date.now() + 5000;
while (rx.stats.received < trapCount && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 10));
const tMs = Date.now() - tStart;
console.log(`traps: ${trapCount} sent, ${rx.stats.received} received, ${published} decoded and published in ${(tMs / 1000).toFixed(2)} s = ${Math.round(published / (tMs / 1000))} traps/s (sender in the same process) (${mb()})`);
for (const s of senders) s.close();
await rx.stop();
console.log(`command: node bin/run-ts.js bench/snmp.ts ${devices} ${interfaces} ${trapCount}`);
