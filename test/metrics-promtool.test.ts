import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatchfloor, type Watchfloor } from '../cli/index.ts';
import { freeUdpPort } from '../collectors/index.ts';
import { Config, ConfigError, Inventory, loadConfig, silentLogger } from '../core/index.ts';
import { Registry } from 'prom-client';
import { registerStoreMetrics, type TimeSeriesStore } from '../store/index.ts';
import { connectMqtt, eventually } from './support/net.ts';
import { ADMIN_PASSWORD, smallInventory, startProduct, type StartedProduct } from './support/start-product.ts';

/** Prometheus' own linter on a scrape: what it prints (warnings and errors) and its exit code. */
function promtoolCheck(exposition: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
    child.stdin.end(exposition);
  });
}

const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('/metrics as Prometheus lints it', () => {
  let product: StartedProduct;
  let sensor: MqttClient;
  let text: string;

  beforeAll(async () => {
    product = await startProduct();
    await product.app.accounts.setDevicePassword('s-a01-ft', 'sensor-secret-1');
    sensor = await connectMqtt(product.app.mqttPort, { username: 's-a01-ft', password: 'sensor-secret-1' });
    for (let i = 0; i < 5; i++) await sensor.publishAsync('devices/s-a01-ft/telemetry', JSON.stringify({ metrics: { temperature: 22 + i, humidity: 40 } }), { qos: 1 });
    await sensor.publishAsync('devices/s-a01-ft/telemetry', 'not json', { qos: 1 });
    // One refused login, so a labelled counter has a non-zero reason next to the zeros.
    await expect(connectMqtt(product.app.mqttPort, { username: 's-a01-ft', password: 'wrong', reconnectPeriod: 0 })).rejects.toThrow();
    text = await eventually(async () => {
      const t = await (await fetch(`${product.base}/metrics`)).text();
      return (sample(t, 'watchfloor_store_written_total') ?? 0) >= 10 && (sample(t, 'watchfloor_rules_evaluated_values_total') ?? 0) >= 10 ? t : undefined;
    }, 10_000);
  }, 30_000);

  afterAll(async () => {
    await sensor?.endAsync();
    await product?.app.stop();
  });

  it('passes `promtool check metrics` with no warning, on a scrape with non-zero counters', async () => {
    expect(sample(text, 'watchfloor_ingest_messages_total')).toBeGreaterThanOrEqual(6);
    expect(sample(text, 'watchfloor_ingest_values_total')).toBeGreaterThanOrEqual(10);
    const r = await promtoolCheck(text);
    expect(r.output.trim()).toBe('');
    expect(r.code).toBe(0);
  });

  it('exports running totals as counters and levels as gauges', () => {
    for (const name of [
      'watchfloor_ingest_messages_total', 'watchfloor_ingest_values_total', 'watchfloor_store_written_total',
      'watchfloor_rules_evaluation_seconds_total', 'watchfloor_rules_evaluated_values_total',
      'watchfloor_ingest_dropped_total', 'watchfloor_mqtt_refused_total', 'watchfloor_store_refused_total',
      'watchfloor_wal_records_total', 'watchfloor_wal_group_commits_total', 'watchfloor_wal_failures_total',
    ]) expect(text).toContain(`# TYPE ${name} counter`);
    // The five QoS 1 readings (and the QoS 1 garbage, which is decoded and refused before the log) went through the write-ahead log.
    expect(sample(text, 'watchfloor_wal_records_total')).toBeGreaterThanOrEqual(5);
    for (const name of ['watchfloor_store_pending', 'watchfloor_alerts_firing', 'watchfloor_socketio_clients']) expect(text).toContain(`# TYPE ${name} gauge`);
  });

  it("keeps prom-client's process and Node.js metrics under their standard names", () => {
    expect(text).toMatch(/^# TYPE process_cpu_seconds_total counter$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+/m);
    expect(text).toMatch(/^nodejs_active_handles\{type="Socket"\} \d+/m);
    expect(text).not.toMatch(/watchfloor_(process|nodejs)_/);
    // Gauges named as counters (prometheus/client_js#283) are not exported; nodejs_active_handles{type} holds the same.
    expect(text).not.toMatch(/nodejs_active_\w+_total/);
  });

  it('says which build runs', () => {
    expect(text).toMatch(/^# TYPE watchfloor_build_info gauge$/m);
    expect(text).toContain(`watchfloor_build_info{version="0.1.0",node_version="${process.version}"} 1`);
  });

  it('exports every known reason of the labelled counters, 0 until it happens', () => {
    expect(sample(text, 'watchfloor_ingest_dropped_total{reason="invalid_json"}')).toBe(1);
    expect(sample(text, 'watchfloor_ingest_dropped_total{reason="unknown_device"}')).toBe(0);
    expect(sample(text, 'watchfloor_mqtt_refused_total{reason="bad_credentials"}')).toBe(1);
    expect(sample(text, 'watchfloor_mqtt_refused_total{reason="topic_denied"}')).toBe(0);
    expect(sample(text, 'watchfloor_mqtt_refused_total{reason="malformed_packet"}')).toBe(0);
    for (const reason of ['invalid', 'too_old', 'future', 'tags', 'cardinality', 'full', 'closed']) {
      expect(sample(text, `watchfloor_store_refused_total{reason="${reason}"}`)).toBe(0);
    }
  });
});

describe("the store's figures with store: influxdb", () => {
  it('exports the InfluxDB writer\'s totals as counters that promtool accepts', async () => {
    const stats = { written: 5, pending: 0, series: 2, dropped: 1, refused: { future: 1 }, diskBytes: 4096, influxdb: { sent: 20, bufferedBytes: 512, segments: 1, dropped: 0, failures: 2, rejected: 3 } };
    const registry = new Registry();
    registerStoreMetrics(registry, { stats: () => stats } as unknown as TimeSeriesStore);
    const text = await registry.metrics();
    for (const name of ['watchfloor_influxdb_sent_points_total', 'watchfloor_influxdb_dropped_points_total', 'watchfloor_influxdb_rejected_points_total']) expect(text).toContain(`# TYPE ${name} counter`);
    expect(text).toMatch(/^watchfloor_influxdb_sent_points_total 20$/m);
    expect(text).toMatch(/^# TYPE watchfloor_influxdb_buffered_bytes gauge$/m);
    expect(text).toMatch(/^watchfloor_store_refused_total\{reason="future"\} 1$/m);
    expect(text).toMatch(/^watchfloor_store_refused_total\{reason="cardinality"\} 0$/m);
    const r = await promtoolCheck(text);
    expect(r.output.trim()).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('/metrics behind a bearer token (http.metricsToken)', () => {
  const token = 'scrape-token-0123456789abcdef';
  let app: Watchfloor;
  let base: string;

  beforeAll(async () => {
    const config = Config.parse({
      dataDir: mkdtempSync(join(tmpdir(), 'wf-metrics-token-')),
      http: { host: '127.0.0.1', port: 0, metricsToken: token },
      mqtt: { host: '127.0.0.1', port: 0 },
      snmp: { trapPort: await freeUdpPort() },
    });
    app = await startWatchfloor({ config, inventory: Inventory.parse(smallInventory), logger: silentLogger, adminPassword: ADMIN_PASSWORD });
    base = `http://127.0.0.1:${app.httpPort}`;
  }, 30_000);

  afterAll(async () => {
    await app?.stop();
  });

  it('answers 401 with WWW-Authenticate: Bearer without the token or with another one', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer not-the-token-at-all-000' }, { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` }, { authorization: `Bearer ${token}x` }]) {
      const r = await fetch(`${base}/metrics`, { headers });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer /);
      const body = (await r.json()) as { error: { code: string } };
      expect(body.error.code).toBe('WF_ERR_UNAUTHORIZED');
    }
  });

  it('answers 200 with the exposition to `Authorization: Bearer <token>`', async () => {
    const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await r.text()).toContain('watchfloor_build_info{');
  });

  it('leaves /healthz open', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('takes the token from WATCHFLOOR_METRICS_TOKEN, and refuses a short one', () => {
    expect(loadConfig(undefined, {}).config.http.metricsToken).toBeUndefined();
    expect(loadConfig(undefined, { WATCHFLOOR_METRICS_TOKEN: token }).config.http.metricsToken).toBe(token);
    expect(() => loadConfig(undefined, { WATCHFLOOR_METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => Config.parse({ http: { metricsToken: 'short' } })).toThrow(/16 characters/);
  });
});
