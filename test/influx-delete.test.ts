import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, StoreConfig, systemClock, type Point } from '../core/index.ts';
import { openStore, type TimeSeriesStore } from '../store/index.ts';
import { eventually } from './support/net.ts';
import { influxdb1, type ServerProcess } from './support/tsdb-servers.ts';

/*
 * deleteSeries with `store: influxdb` against Debian's influxd 1.6.7 (`api: v1`: DROP SERIES by POST to
 * /query). influxd is the oracle: what it still holds for the device is asked of it directly.
 */
let influx: ServerProcess;
let store: TimeSeriesStore;
const MIN = 60_000;
const T0 = Math.floor(Date.now() / MIN) * MIN - 30 * MIN;

const points = (device: string, kind: string): Point[] =>
  Array.from({ length: 20 }, (_, i) => [
    { device, metric: 'temperature', ts: T0 + i * MIN, value: 20 + i, tags: { kind, rack: 'A01' } },
    { device, metric: 'humidity', ts: T0 + i * MIN, value: 40 + i, tags: { kind, rack: 'A01' } },
  ]).flat();

/** How many temperature points influxd holds for the device, every measurement searched. */
async function countInInflux(device: string): Promise<number> {
  const q = `SELECT count("temperature") FROM /.*/ WHERE "device" = '${device}'`;
  const r = await fetch(`${influx.url}/query?${new URLSearchParams({ db: 'watchfloor', q })}`);
  const body = (await r.json()) as { results: { series?: { values: [string, number][] }[] }[] };
  return (body.results[0]?.series ?? []).reduce((n, s) => n + (s.values[0]?.[1] ?? 0), 0);
}

beforeAll(async () => {
  influx = await influxdb1();
  const config = StoreConfig.parse({ kind: 'influxdb', flushIntervalMs: 50, influxdb: { url: influx.url, bucket: 'watchfloor/autogen', api: 'v1' } });
  store = await openStore(config, { dir: mkdtempSync(join(tmpdir(), 'wf-influx-del-')), logger: silentLogger, clock: systemClock });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await influx?.destroy();
}, 30_000);

describe('deleting a device\'s series with store: influxdb (influxd 1.6)', () => {
  it('drops the device\'s series in InfluxDB and in the embedded copy, and leaves the other devices\'', async () => {
    store.write([...points('sensor-a', 'sensor'), ...points('pdu-b', 'pdu')]);
    await store.flush();
    await eventually(async () => ((await countInInflux('sensor-a')) === 20 && (await countInInflux('pdu-b')) === 20 ? true : undefined), 20_000, 100);

    const deleted = await store.deleteSeries?.({ device: 'sensor-a' });
    expect(deleted).toEqual({ device: 'sensor-a', series: 2 });
    expect(await countInInflux('sensor-a')).toBe(0);
    expect(await countInInflux('pdu-b')).toBe(20);
    // range() reads InfluxDB: nothing for the deleted device, the other's buckets all there.
    const q = { metric: 'temperature', from: T0, to: T0 + 20 * MIN - 1, stepMs: MIN, agg: 'mean' as const };
    expect((await store.range({ ...q, device: 'sensor-a' })).every((b) => b.value === null)).toBe(true);
    expect((await store.range({ ...q, device: 'pdu-b' })).filter((b) => b.value !== null)).toHaveLength(20);
    expect(store.series({ device: 'sensor-a' })).toEqual([]);
    expect(store.latest({ device: 'sensor-a' })).toEqual([]);
    expect(store.series({ device: 'pdu-b' })).toHaveLength(2);
  }, 40_000);

  it('deletes nothing when InfluxDB does not answer, and says so', async () => {
    await influx.stop();
    const failed = await store.deleteSeries?.({ device: 'pdu-b' }).catch((err: unknown) => err);
    expect(failed).toMatchObject({ code: 'WF_ERR_STORE_UNAVAILABLE', status: 503, message: expect.stringContaining('did not answer the delete') });
    // The embedded copy still has the series: the caller can try again once InfluxDB is back.
    expect(store.series({ device: 'pdu-b' })).toHaveLength(2);
    await influx.start();
    expect(await store.deleteSeries?.({ device: 'pdu-b' })).toEqual({ device: 'pdu-b', series: 2 });
    expect(await countInInflux('pdu-b')).toBe(0);
  }, 60_000);
});
