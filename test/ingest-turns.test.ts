import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { IngestTurns } from '../collectors/mqtt/turns.ts';
import type { Alert, InventoryInput } from '../core/index.ts';
import { loadRules } from '../rules/index.ts';
import { connectMqtt, eventually, qos0Publish } from './support/net.ts';
import { startProduct, type StartedProduct } from './support/start-product.ts';

/** Spends `ms` of CPU, as a message's handling would. */
const busy = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

/** A turns instance already behind: its first message spends the whole budget, so what follows waits. */
function behind(): { turns: IngestTurns; ran: string[]; idle: () => Promise<void> } {
  const turns = new IngestTurns(2, (err) => {
    throw err;
  });
  const ran: string[] = [];
  turns.run('first', 'first-connection', () => busy(3));
  const idle = async (): Promise<void> => {
    while (turns.waiting > 0) await new Promise((r) => setImmediate(r));
  };
  return { turns, ran, idle };
}

describe('ingest turns: each connection in its turn, each device in order', () => {
  it('serves a quiet connection\'s one message ahead of a busy connection\'s backlog', async () => {
    const { turns, ran, idle } = behind();
    for (let i = 0; i < 1000; i++) turns.run(`bulk-${i % 50}`, 'bulk-collector', () => ran.push(`bulk ${i}`));
    turns.run('fire-panel', 'fire-panel', () => ran.push('fire-panel breach'));
    expect(turns.waiting).toBe(1001);
    await idle();
    // One message of the busy connection, then the panel's: not the 1,000 in front of it.
    expect(ran.indexOf('fire-panel breach')).toBe(1);
    expect(ran.filter((r) => r.startsWith('bulk')).length).toBe(1000);
  });

  it('keeps a device\'s messages in order when they come over two connections, and each connection\'s in order', async () => {
    const { turns, ran, idle } = behind();
    turns.run('sensor-1', 'old-connection', () => ran.push('sensor-1 a'));
    turns.run('sensor-2', 'old-connection', () => ran.push('sensor-2 a'));
    // The device reconnected: its next message comes over the new connection while its first still waits.
    turns.run('sensor-1', 'new-connection', () => ran.push('sensor-1 b'));
    turns.run('sensor-3', 'new-connection', () => ran.push('sensor-3 a'));
    turns.run('sensor-1', 'new-connection', () => ran.push('sensor-1 c'));
    await idle();
    expect(ran.filter((r) => r.startsWith('sensor-1'))).toEqual(['sensor-1 a', 'sensor-1 b', 'sensor-1 c']);
    // sensor-3 did not wait for sensor-1's lane: its own connection's turn came first.
    expect(ran.indexOf('sensor-3 a')).toBeLessThan(ran.indexOf('sensor-1 b'));
    expect(ran).toHaveLength(5);
  });

  it('calls each message\'s broker callback once its work ran, and runs at once when nothing waits', async () => {
    const turns = new IngestTurns(50, () => undefined);
    const order: string[] = [];
    turns.run('d', 'c', () => order.push('work'), () => order.push('done'));
    expect(order).toEqual(['work', 'done']);
    expect(turns.waiting).toBe(0);
  });
});

const BULK = Array.from({ length: 60 }, (_, i) => `bulk-${String(i).padStart(2, '0')}`);
const PANEL = 'fire-panel-1';
const inventory: InventoryInput = {
  sites: [{ id: 'dc1', name: 'Test DC' }],
  devices: [PANEL, ...BULK].map((id) => ({ id, kind: 'sensor', location: { site: 'dc1' } })),
};
const rule = { id: 'panel-breach', type: 'threshold', name: 'Panel breach', kind: 'availability', severity: 'critical', match: { metric: 'smoke' }, when: { above: 50 }, clear: { below: 50 } };

/**
 * The whole product under a flood from three collector connections, and one device's breach on its
 * own connection: the alert must come before the flood is worked through (issue 19: alerts must not
 * queue behind bulk writes). Counted in messages handled, not milliseconds, so a loaded machine
 * cannot make it pass or fail.
 */
describe('ingest under a flood: a device\'s breach is not held behind bulk connections', () => {
  let product: StartedProduct;
  const bulk: MqttClient[] = [];
  let panel: MqttClient;

  beforeAll(async () => {
    product = await startProduct({ inventory, rules: loadRules([rule], 'test') });
    await product.app.accounts.setCollector('bulk-collector', 'bulk-pass-1', '*');
    await product.app.accounts.setDevicePassword(PANEL, 'panel-pass-1');
    for (const id of ['bulk-a', 'bulk-b', 'bulk-c']) bulk.push(await connectMqtt(product.app.mqttPort, { username: 'bulk-collector', password: 'bulk-pass-1', clientId: id }));
    panel = await connectMqtt(product.app.mqttPort, { username: PANEL, password: 'panel-pass-1', clientId: PANEL });
  });
  afterAll(async () => {
    for (const c of bulk) await c.endAsync(true);
    await panel?.endAsync(true);
    await product?.app.stop();
  });

  it('raises the breach\'s alert after a few bulk messages, not after the backlog ahead of it', async () => {
    const { ingest } = product.app;
    const aedes = product.app.broker?.aedes;
    if (!aedes) throw new Error('no embedded broker');
    // When the panel's PUBLISH is parsed, and when its alert is raised: the bulk messages handled in between.
    let atParse: { handled: number; waiting: number } | undefined;
    let atAlert: number | undefined;
    const authorize = aedes.authorizePublish.bind(aedes);
    aedes.authorizePublish = (client, packet, done) => {
      if (packet.topic === `devices/${PANEL}/telemetry`) atParse = { handled: ingest.stats.messages, waiting: ingest.waiting };
      authorize(client, packet, done);
    };
    product.app.rules.book.listen((a: Alert) => {
      if (a.rule === 'panel-breach' && a.state === 'firing') atAlert = ingest.stats.messages;
    });

    // 8,000 messages a connection, each encoded once and written in one go, so the product does the work.
    const payload = JSON.stringify({ metrics: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`m${i}`, i])) });
    const round = Buffer.concat(BULK.map((d) => qos0Publish(`devices/${d}/telemetry`, payload)));
    const flood = Buffer.concat(Array.from({ length: Math.ceil(8000 / BULK.length) }, () => round));
    const total = bulk.length * Math.ceil(8000 / BULK.length) * BULK.length;
    const before = ingest.stats.messages;
    const valuesBefore = ingest.stats.values;
    for (const c of bulk) (c.stream as Socket).write(flood);
    // Once the flood is being worked through, the breach.
    await eventually(() => (ingest.stats.messages - before > 1000 ? true : undefined), 10_000, 1);
    await panel.publishAsync(`devices/${PANEL}/telemetry`, JSON.stringify({ metrics: { smoke: 90 } }));

    await eventually(() => atAlert, 30_000);
    const parsed = atParse as { handled: number; waiting: number };
    // Ingest was behind when the breach came in (else this proves nothing) ...
    expect(total - (parsed.handled - before), 'bulk messages not yet handled when the breach was parsed').toBeGreaterThan(5000);
    expect(parsed.waiting, 'messages waiting in ingest when the breach was parsed').toBeGreaterThan(0);
    // ... and it was handled within one round of the connections: before, it waited behind everything
    // the broker had read from the three (thousands).
    expect((atAlert as number) - parsed.handled, 'messages handled between the breach\'s parse and its alert').toBeLessThanOrEqual(10);
    expect((atAlert as number) - before, 'the flood was not worked through first').toBeLessThan(total);
    // And every bulk value is taken in the end: nothing was dropped to make room.
    const expected = total * 30 + 1;
    await eventually(() => (ingest.stats.values - valuesBefore >= expected ? true : undefined), 60_000);
    expect(ingest.stats.values - valuesBefore).toBe(expected);
    expect([...ingest.stats.dropped.values()].reduce((a, b) => a + b, 0)).toBe(0);
  }, 120_000);
});
