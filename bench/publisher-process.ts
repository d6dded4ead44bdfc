// A load generator in its own process: MQTT connections publishing rack-sensor telemetry over TCP,
// paced to a target rate, as a fleet of real devices (through a collector account) would.
import mqtt from 'mqtt';
import { BENCH_COLLECTOR } from './fixtures.ts';

const port = Number(process.env.BENCH_MQTT_PORT);
const rate = Number(process.env.BENCH_RATE); // messages per second from this process
const seconds = Number(process.env.BENCH_SECONDS);
const devices = (process.env.BENCH_DEVICES ?? '').split(',');
const connections = Number(process.env.BENCH_CONNECTIONS ?? 4);

const clients = await Promise.all(
  Array.from({ length: connections }, () =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...BENCH_COLLECTOR, reconnectPeriod: 0 }),
  ),
);

let sent = 0;
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
      const device = devices[sent % devices.length] as string;
      const t = 20 + (sent % 50) / 10;
      const payload = `{"metrics":{"temperature":${t},"humidity":${45 + (sent % 7)},"dewpoint":${t - 10},"airflow_cfm":${300 + (sent % 11)}}}`;
      (clients[sent % connections] as mqtt.MqttClient).publish(`devices/${device}/telemetry`, payload, { qos: 0 });
      sent++;
    }
  }, tickMs);
});
// Wait for the sockets to drain before reporting, so "sent" means handed to the kernel.
await Promise.all(clients.map((c) => c.endAsync()));
process.send?.({ type: 'done', sent, seconds: (Date.now() - started) / 1000 });
