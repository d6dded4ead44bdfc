// A load generator in its own process: MQTT connections publishing rack-sensor telemetry over TCP,
// paced to a target rate, as a fleet of real devices (through a collector account) would.
import mqtt from 'mqtt';
import { BENCH_COLLECTOR } from './fixtures.ts';

const port = Number(process.env.BENCH_MQTT_PORT);
const rate = Number(process.env.BENCH_RATE); // messages per second from this process
const seconds = Number(process.env.BENCH_SECONDS);
const devices = (process.env.BENCH_DEVICES ?? '').split(',');
const connections = Number(process.env.BENCH_CONNECTIONS ?? 4);
/** 0 (default) or 1: at QoS 1 the broker answers each message with a PUBACK once it is durable (store/wal.ts). */
const qos = (Number(process.env.BENCH_QOS ?? 0) === 1 ? 1 : 0) as 0 | 1;

const clients = await Promise.all(
  Array.from({ length: connections }, () =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...BENCH_COLLECTOR, reconnectPeriod: 0 }),
  ),
);

let sent = 0;
/** QoS 1: publish to PUBACK, per message. */
const ackMs: number[] = [];
/**
 * QoS 1: at most this many messages awaiting PUBACK per connection, as a device's MQTT stack keeps a
 * window; the broker refuses a client past its maxInflightPerClient (1,000). A full window holds the
 * schedule back, so the rate achieved (sent / seconds) shows what the acknowledgments allow.
 */
const WINDOW = 500;
const inflight = clients.map(() => 0);
const tickMs = 10;
const started = Date.now();
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const elapsed = Date.now() - started;
    if (elapsed >= seconds * 1000) {
      clearInterval(timer);
      return resolve();
    }
    // Catch up to where the schedule says we should be, so a late tick does not lower the rate.
    const due = Math.floor((elapsed / 1000) * rate) - sent;
    for (let i = 0; i < due; i++) {
      const c = sent % connections;
      if (qos === 1 && (inflight[c] as number) >= WINDOW) break;
      const device = devices[sent % devices.length] as string;
      const t = 20 + (sent % 50) / 10;
      const payload = `{"metrics":{"temperature":${t},"humidity":${45 + (sent % 7)},"dewpoint":${t - 10},"airflow_cfm":${300 + (sent % 11)}}}`;
      const at = performance.now();
      if (qos === 1) inflight[c] = (inflight[c] as number) + 1;
      (clients[c] as mqtt.MqttClient).publish(`devices/${device}/telemetry`, payload, { qos }, qos === 1 ? (err) => {
        inflight[c] = (inflight[c] as number) - 1;
        if (!err) ackMs.push(performance.now() - at);
      } : undefined);
      sent++;
    }
  }, tickMs);
});
// The schedule is over: the offered load stops now (the parent times an overload's end from this).
const scheduledSeconds = (Date.now() - started) / 1000;
process.send?.({ type: 'scheduled', sent, seconds: scheduledSeconds });
// Wait for the sockets to drain before reporting, so "sent" means handed to the kernel. When the
// product reads slower than the schedule, what it has not read waits here (and in the kernel's
// socket buffers): `seconds` then runs past the schedule, and sent / seconds is the rate achieved.
await Promise.all(clients.map((c) => c.endAsync()));
process.send?.({
  type: 'done', sent, scheduledSeconds, seconds: (Date.now() - started) / 1000,
  acked: ackMs.length, ackMs: ackMs.sort((a, b) => a - b).filter((_, i) => i % 100 === 0),
});
