import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger, type Point } from '../core/index.ts';
import { DATABASE_FILE, openEmbeddedStore, type TimeSeriesStore } from '../store/index.ts';

const T0 = Date.UTC(2025, 0, 1); // aligned to any step used here
const rackTags = { site: 'qnm', room: 'dc1', rack: 'r01', position: 'front-top', aisle: 'cold', kind: 'sensor' };

let dir: string;
let store: TimeSeriesStore;
const open = (): Promise<TimeSeriesStore> => openEmbeddedStore({ dir, logger: silentLogger, flushIntervalMs: 50 });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'watchfloor-store-'));
  store = await open();
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded time-series store', () => {
  it('answers a range with the mean, min, max and last of each step and null where there is no data', async () => {
    // Step 60 s: bucket 0 holds 10, 30, 20 (in that time order); bucket 1 is empty; bucket 2 holds 5.
    store.write([
      { device: 'th-1', metric: 'temperature', ts: T0 + 1_000, value: 10 },
      { device: 'th-1', metric: 'temperature', ts: T0 + 40_000, value: 20 },
      { device: 'th-1', metric: 'temperature', ts: T0 + 20_000, value: 30 },
      { device: 'th-1', metric: 'temperature', ts: T0 + 125_000, value: 5 },
      { device: 'th-1', metric: 'humidity', ts: T0 + 2_000, value: 99 },
      { device: 'th-2', metric: 'temperature', ts: T0 + 3_000, value: 99 },
    ]);
    await store.flush();
    const q = { device: 'th-1', metric: 'temperature', from: T0, to: T0 + 179_999, stepMs: 60_000 } as const;
    const values = async (agg: 'mean' | 'min' | 'max' | 'last'): Promise<(number | null)[]> =>
      (await store.range({ ...q, agg })).map((b) => b.value);

    expect((await store.range({ ...q, agg: 'mean' })).map((b) => b.ts)).toEqual([T0, T0 + 60_000, T0 + 120_000]);
    expect(await values('mean')).toEqual([20, null, 5]);
    expect(await values('min')).toEqual([10, null, 5]);
    expect(await values('max')).toEqual([30, null, 5]);
    expect(await values('last')).toEqual([20, null, 5]);
  });

  it('aligns the first bucket to the step and keeps points outside from..to out', async () => {
    store.write([
      { device: 'ups-1', metric: 'load', ts: T0 + 5_000, value: 1 },
      { device: 'ups-1', metric: 'load', ts: T0 + 15_000, value: 2 },
      { device: 'ups-1', metric: 'load', ts: T0 + 25_000, value: 3 },
    ]);
    await store.flush();
    const buckets = await store.range({ device: 'ups-1', metric: 'load', from: T0 + 10_000, to: T0 + 20_000, stepMs: 60_000, agg: 'max' });
    expect(buckets).toEqual([{ ts: T0, value: 2 }]);
  });

  it('answers an unknown series with empty buckets and rejects a bad query with the field at fault', async () => {
    const buckets = await store.range({ device: 'nobody', metric: 'load', from: T0, to: T0 + 9_999, stepMs: 5_000, agg: 'mean' });
    expect(buckets).toEqual([{ ts: T0, value: null }, { ts: T0 + 5_000, value: null }]);
    await expect(store.range({ device: 'a', metric: 'b', from: T0, to: T0 + 1, stepMs: 0, agg: 'mean' })).rejects.toMatchObject({
      code: 'WF_ERR_BAD_REQUEST',
      field: 'step',
    });
    await expect(
      store.range({ device: 'a', metric: 'b', from: T0, to: T0 + 1, stepMs: 1, agg: 'median' as 'mean' }),
    ).rejects.toMatchObject({ status: 400, field: 'agg' });
  });

  it('serves the latest value of each series with its tags, filtered by device and by metric', () => {
    store.write([
      { device: 'th-1', metric: 'temperature', ts: T0 + 2_000, value: 24.5, tags: rackTags },
      { device: 'th-1', metric: 'temperature', ts: T0 + 1_000, value: 99 }, // older: not the latest
      { device: 'th-1', metric: 'humidity', ts: T0 + 2_000, value: 45, tags: rackTags },
      { device: 'th-2', metric: 'temperature', ts: T0 + 3_000, value: 30, tags: { ...rackTags, rack: 'r02' } },
    ]);
    const key = (v: { device: string; metric: string }): string => `${v.device}/${v.metric}`;

    expect(store.latest().map(key).sort()).toEqual(['th-1/humidity', 'th-1/temperature', 'th-2/temperature']);
    expect(store.latest({ device: 'th-1', metric: 'temperature' })).toEqual([
      { device: 'th-1', metric: 'temperature', ts: T0 + 2_000, value: 24.5, tags: rackTags },
    ]);
    expect(store.latest({ device: 'th-1' }).map(key).sort()).toEqual(['th-1/humidity', 'th-1/temperature']);
    expect(store.latest({ metric: 'temperature' }).map((v) => [v.device, v.value, v.tags.rack])).toEqual(
      expect.arrayContaining([
        ['th-1', 24.5, 'r01'],
        ['th-2', 30, 'r02'],
      ]),
    );
    expect(store.latest({ device: 'unknown' })).toEqual([]);
  });

  it('keeps points, latest values and tags across close and reopen', async () => {
    store.write([
      { device: 'crac-1', metric: 'supply_temp', ts: T0, value: 18, tags: { site: 'qnm', room: 'dc1', kind: 'crac' } },
      { device: 'crac-1', metric: 'supply_temp', ts: T0 + 10_000, value: 19 },
    ]);
    await store.close();
    await store.close(); // closing twice is fine

    store = await open();
    expect(store.latest({ device: 'crac-1' })).toEqual([
      { device: 'crac-1', metric: 'supply_temp', ts: T0 + 10_000, value: 19, tags: { site: 'qnm', room: 'dc1', kind: 'crac' } },
    ]);
    const buckets = await store.range({ device: 'crac-1', metric: 'supply_temp', from: T0, to: T0 + 19_999, stepMs: 10_000, agg: 'last' });
    expect(buckets.map((b) => b.value)).toEqual([18, 19]);

    // Tags changed by the inventory are the ones kept; the series keeps its history.
    store.write([{ device: 'crac-1', metric: 'supply_temp', ts: T0 + 20_000, value: 20, tags: { site: 'qnm', room: 'dc2', kind: 'crac' } }]);
    await store.close();
    store = await open();
    expect(store.latest({ device: 'crac-1' })[0]?.tags.room).toBe('dc2');
    expect(store.stats().series).toBe(1);
    const all = await store.range({ device: 'crac-1', metric: 'supply_temp', from: T0, to: T0 + 29_999, stepMs: 30_000, agg: 'mean' });
    expect(all).toEqual([{ ts: T0, value: 19 }]);
  });

  it('loses nothing when 200,000 points are written, flushed and read back', async () => {
    const devices = 100;
    const perDevice = 2_000;
    for (let i = 0; i < perDevice; i++) {
      const batch: Point[] = [];
      for (let d = 0; d < devices; d++) batch.push({ device: `pdu-${d}`, metric: 'power_w', ts: T0 + i * 1_000, value: d + i });
      store.write(batch);
    }
    expect(store.stats().pending).toBe(devices * perDevice);
    await store.flush();
    expect(store.stats()).toMatchObject({ written: devices * perDevice, pending: 0, series: devices });

    // One day-long bucket per series (T0 is midnight): a lost point would move the mean of d + i over i.
    const whole = { metric: 'power_w', from: T0, to: T0 + perDevice * 1_000 - 1, stepMs: 86_400_000 } as const;
    for (const d of [0, 57, 99]) {
      const [mean] = await store.range({ ...whole, device: `pdu-${d}`, agg: 'mean' });
      expect(mean?.value).toBeCloseTo(d + (perDevice - 1) / 2, 9);
      const perSecond = await store.range({ ...whole, device: `pdu-${d}`, stepMs: 1_000, agg: 'last' });
      expect(perSecond).toHaveLength(perDevice);
      expect(perSecond.every((b, i) => b.value === d + i)).toBe(true);
    }
  });

  it('drops a non-finite value or a bad timestamp and stores the rest', async () => {
    store.write([
      { device: 'th-1', metric: 'temperature', ts: T0, value: 21 },
      { device: 'th-1', metric: 'temperature', ts: T0 + 1_000, value: NaN },
      { device: 'th-1', metric: 'temperature', ts: T0 + 2_000, value: Infinity },
      { device: 'th-1', metric: 'temperature', ts: Number.NaN, value: 22 },
      null as unknown as Point,
    ]);
    expect(store.latest({ device: 'th-1' })).toMatchObject([{ ts: T0, value: 21 }]);
    expect(store.stats().dropped).toBe(4);
    await store.flush();
    const buckets = await store.range({ device: 'th-1', metric: 'temperature', from: T0, to: T0 + 2_999, stepMs: 1_000, agg: 'max' });
    expect(buckets.map((b) => b.value)).toEqual([21, null, null]);
  });

  it('writes in the background on its own, without an explicit flush', async () => {
    store.write([{ device: 'door-1', metric: 'open', ts: T0, value: 1 }]);
    await expect.poll(() => store.stats().written, { timeout: 5_000 }).toBe(1);
  });

  it('keeps the points when the disk fails in a background flush, logs it, and writes them once the disk is back', async () => {
    // Reopened after a clean close, DuckDB has no write-ahead log open; a directory in its place makes every commit fail.
    await store.close();
    const errors: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) });
    store = await openEmbeddedStore({ dir, logger, flushIntervalMs: 10 });
    const wal = join(dir, `${DATABASE_FILE}.wal`);
    mkdirSync(wal);

    store.write([{ device: 'smoke-1', metric: 'alarm', ts: T0, value: 1, tags: { room: 'dc1' } }]);
    await expect.poll(() => errors.join(''), { timeout: 5_000 }).toContain('flush failed; points kept for the next try');
    expect(store.stats()).toMatchObject({ written: 0, pending: 1 });

    rmSync(wal, { recursive: true });
    await expect.poll(() => store.stats(), { timeout: 15_000 }).toMatchObject({ written: 1, pending: 0 });
    await store.close();
    store = await open();
    expect(store.latest({ device: 'smoke-1' })).toMatchObject([{ ts: T0, value: 1, tags: { room: 'dc1' } }]);
  });

  it('refuses a second open of the same directory in one process instead of corrupting it', async () => {
    await expect(open()).rejects.toMatchObject({ code: 'WF_ERR_STORE_OPEN' });
    store.write([{ device: 'th-1', metric: 'temperature', ts: T0, value: 21 }]);
    await store.flush();
    expect(store.stats().written).toBe(1);
  });

  it('drops and counts points beyond the queue limit rather than growing without bound', async () => {
    await store.close();
    store = await openEmbeddedStore({ dir, logger: silentLogger, maxPendingPoints: 3 });
    store.write([1, 2, 3, 4, 5].map((i) => ({ device: 'pdu-1', metric: 'power_w', ts: T0 + i, value: i })));
    expect(store.stats()).toMatchObject({ pending: 3, dropped: 2 });
    await store.flush();
    expect(store.stats()).toMatchObject({ written: 3, pending: 0 });
  });
});
