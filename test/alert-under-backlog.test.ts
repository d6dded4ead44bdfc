import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Alert, InventoryInput, Point } from '../core/index.ts';
import { loadRules } from '../rules/index.ts';
import { connectMqtt, eventually } from './support/net.ts';
import { startProduct, type StartedProduct } from './support/start-product.ts';

/**
 * Issue 19: alerts must not queue behind bulk work. Both cases run the whole product and measure work
 * or order, not time, so a loaded machine does not decide them.
 */
const BULK_DEVICES = Array.from({ length: 50 }, (_, i) => `bulk-${String(i).padStart(2, '0')}`);
const PROBES = ['probe-0', 'probe-1'];
const inventory: InventoryInput = {
  sites: [{ id: 'dc1', name: 'Test DC' }],
  devices: [...BULK_DEVICES, ...PROBES].map((id) => ({ id, kind: 'sensor', location: { site: 'dc1' } })),
};
const probeRule = {
  id: 'backlog-probe', type: 'threshold', name: 'Backlog probe', kind: 'performance', severity: 'info',
  match: { metric: 'probe' }, when: { above: 50 }, clear: { below: 50 },
};

describe('alerts and the event loop behind bulk work', () => {
  let product: StartedProduct;
  let probe: MqttClient;
  const raised = new Map<string, { messages: number; pending: number }>();

  beforeAll(async () => {
    product = await startProduct({ inventory, rules: loadRules([probeRule], 'test') });
    await product.app.accounts.setCollector('probe-collector', 'probe-collector-pass', '*');
    probe = await connectMqtt(product.app.mqttPort, { username: 'probe-collector', password: 'probe-collector-pass' });
    product.app.rules.book.listen((a: Alert) => {
      if (a.rule === 'backlog-probe' && a.state === 'firing' && a.labels.device) {
        raised.set(a.labels.device, { messages: product.app.ingest.stats.messages, pending: product.app.store.stats().pending });
      }
    });
  });
  afterAll(async () => {
    await probe?.endAsync(true);
    await product?.app.stop();
  });

  it('raises an alert while the store is still writing a large batch: evaluation does not wait for the disk', async () => {
    const { store } = product.app;
    const now = Date.now();
    // 600,000 points queued, then written in one flush (DuckDB appends in slices, yielding between them).
    const points: Point[] = [];
    for (let i = 0; i < 600_000; i++) points.push({ device: BULK_DEVICES[i % 50] as string, metric: 'humidity', ts: now - 600_000 + i, value: i % 100 });
    store.write(points);
    const flushed = store.flush();
    probe.publish('devices/probe-0/telemetry', '{"metrics":{"probe":100}}', { qos: 0 });
    const at = await eventually(() => raised.get('probe-0'), 30_000);
    expect(at.pending, 'points still being written when the alert was raised').toBeGreaterThan(0);
    await flushed;
  }, 60_000);

  it('keeps the event loop turning through a burst of bulk telemetry, and handles all of it in order', async () => {
    const { ingest, store } = product.app;
    const burst = 40_000;
    const before = ingest.stats.messages;
    // One synchronous burst through the product's own broker, as one large socket read is parsed.
    // Before the fix all of it was handled before anything else ran: timers, socket.io, other sockets.
    const broker = product.app.broker?.aedes;
    for (let i = 0; i < burst; i++) {
      const payload = Buffer.from(`{"metrics":{"temperature":${i}}}`);
      broker?.publish({ cmd: 'publish', topic: `devices/${BULK_DEVICES[i % 50]}/telemetry`, payload, qos: 0, retain: false, dup: false }, () => undefined);
    }
    const handledWhenTheLoopTurned = await new Promise<number>((resolve) => setImmediate(() => resolve(ingest.stats.messages - before)));
    expect(handledWhenTheLoopTurned, 'bulk messages handled before the event loop turned').toBeLessThan(burst);

    // A breach on its own connection meanwhile is raised; every message of the burst is handled, each device's in order.
    probe.publish('devices/probe-1/telemetry', '{"metrics":{"probe":100}}', { qos: 0 });
    await eventually(() => raised.get('probe-1'), 60_000);
    await eventually(() => (ingest.stats.messages - before >= burst + 1 && ingest.waiting === 0 ? true : undefined), 60_000);
    await store.flush();
    expect(store.latest({ device: 'bulk-07', metric: 'temperature' }).map((p) => p.value)).toEqual([burst - 50 + 7]);
  }, 120_000);
});
