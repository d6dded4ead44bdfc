import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { FakeClock, Inventory, bundledConfigDir, readDataFile, type Alert } from '../core/index.ts';
import { join } from 'node:path';
import { runSimulateCommand } from '../simulators/index.ts';
import { simulatorPassword } from '../cli/index.ts';
import { eventually } from './support/net.ts';
import { connectSocket, login, startProduct, type StartedProduct } from './support/start-product.ts';

/**
 * The demo a newcomer runs: the product with its sample fleet, then `watchfloor simulate
 * crac-failure` against its broker. The sample fleet stands down while the scenario runs, the racks
 * the failed CRAC cools warm up until the cold-aisle alerts fire, and the fleet comes back after.
 */
describe('the crac-failure scenario against the running product', () => {
  const clock = new FakeClock(Date.now());
  let product: StartedProduct;
  let socket: Socket;
  const alerts: Alert[] = [];

  beforeAll(async () => {
    const inventory = readDataFile(join(bundledConfigDir, 'sample-datacenter.yaml'), Inventory);
    product = await startProduct({ inventory, clock });
    await product.app.startSimulation({ intervalMs: 250 });
    socket = await connectSocket(product.base, await login(product.base));
    socket.on('alert', (a: Alert) => alerts.push(a));
  });
  afterAll(async () => {
    socket?.close();
    await product?.app.stop();
  });

  it('fires the cold-aisle alerts for the racks the failed CRAC cools, and only those', async () => {
    expect(product.app.fleet).toBeDefined();
    const password = await simulatorPassword(product.dataDir, product.app.accounts);
    const lines: string[] = [];
    const abort = new AbortController();
    const running = runSimulateCommand(
      ['crac-failure', '--broker', `mqtt://127.0.0.1:${product.app.mqttPort}`, '--password', password, '--speed', '120', '--interval-ms', '250'],
      { stdout: (l) => lines.push(l), stderr: (l) => lines.push(l), signal: abort.signal },
    );
    // The scenario logs in and runs its first ticks before it says which unit stopped; on a machine busy with the
    // other suites that took over 10 s once. A simulator that never says it shows what it did say.
    await eventually(() => lines.find((l) => l.includes('has stopped; racks it cools')), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; the simulator said: ${lines.join(' | ') || '(nothing)'}`);
    });
    const cooled = (lines.find((l) => l.includes('racks it cools')) as string).split('racks it cools: ')[1]?.split(', ') ?? [];
    expect(cooled.length).toBeGreaterThan(2);
    // The sample fleet stands down so two fleets do not write different values for one sensor.
    await eventually(() => (product.app.fleet === undefined ? true : undefined), 5000);

    // At 120x, the cooled racks pass 32 °C in a few seconds; then the rules' `for` must elapse.
    await eventually(
      () => {
        const hot = product.app.store.latest({ metric: 'temperature' }).filter((v) => v.tags.aisle === 'cold' && v.value > 32.5);
        return hot.length >= cooled.length ? hot : undefined;
      },
      20_000,
      100,
    );
    clock.advance(31_000);
    await eventually(() => (alerts.some((a) => a.rule === 'cold-aisle-hot' && a.state === 'firing') ? true : undefined), 5000);
    await new Promise((r) => setTimeout(r, 1200));
    const firing = alerts.filter((a) => a.state === 'firing' && a.rule.startsWith('cold-aisle'));
    const racks = new Set(firing.map((a) => a.labels.rack));
    expect([...racks].sort()).toEqual([...cooled].sort());
    expect(firing.some((a) => a.severity === 'critical')).toBe(true);
    expect(firing.some((a) => a.severity === 'warning')).toBe(true);
    // The unit itself: its fan stopped, so "CRAC stopped" fires for it and no other.
    const failedCrac = (lines.find((l) => l.includes('has stopped')) as string).split(' has stopped')[0];
    const stopped = alerts.filter((a) => a.rule === 'crac-stopped' && a.state === 'firing').map((a) => a.labels.device);
    expect(stopped).toEqual([failedCrac]);

    abort.abort();
    expect(await running).toBe(0);
    // The scenario's fleet left; the sample fleet takes the floor again, without a burst of
    // "offline" alerts for the devices it takes back.
    await eventually(() => product.app.fleet, 10_000);
    await new Promise((r) => setTimeout(r, 1200));
    expect(alerts.filter((a) => a.rule === 'device-offline')).toEqual([]);
  }, 60_000);
});
