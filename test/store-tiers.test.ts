import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, silentLogger, type Point } from '../core/index.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import { chooseTier, DATABASE_FILE, defaultTiers, openEmbeddedStore, type EmbeddedTimeSeriesStore, type EmbeddedStoreOptions } from '../store/index.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1);
const tiers = { rawRetentionMs: 2 * DAY, minuteRetentionMs: 10 * DAY, fiveMinuteRetentionMs: 20 * DAY, hourRetentionMs: 400 * DAY, settleMs: 2 * MIN };

let dir: string;
let clock: FakeClock;
let store: EmbeddedTimeSeriesStore;
const open = (extra: Partial<EmbeddedStoreOptions> = {}): Promise<EmbeddedTimeSeriesStore> =>
  openEmbeddedStore({ dir, logger: silentLogger, clock, tiers, maintenanceIntervalMs: 0, ...extra });

/** Three hours of one temperature every 10 s: a slow ramp, so each minute and hour has a distinct mean. */
function threeHours(): Point[] {
  const points: Point[] = [];
  for (let t = 0; t < 3 * HOUR; t += 10_000) points.push({ device: 'th-1', metric: 'temperature', ts: T0 + t, value: 20 + t / HOUR });
  return points;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'watchfloor-tiers-'));
  clock = new FakeClock(T0 + 3 * HOUR + 5 * MIN);
  store = await open();
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('retention and downsampling tiers', () => {
  it('chooses the coarsest tier the step allows, and a coarser one when the range is older than a tier keeps', () => {
    const now = T0 + 100 * DAY;
    expect(chooseTier(now - HOUR, 10_000, now, defaultTiers)).toBe('raw');
    expect(chooseTier(now - DAY, 5 * MIN, now, defaultTiers)).toBe('fiveMinutes');
    expect(chooseTier(now - DAY, 2 * MIN, now, defaultTiers)).toBe('minute');
    expect(chooseTier(now - DAY, 15 * MIN, now, defaultTiers)).toBe('fiveMinutes');
    expect(chooseTier(now - 30 * DAY, HOUR, now, defaultTiers)).toBe('hour');
    expect(chooseTier(now - 30 * DAY, 10_000, now, defaultTiers)).toBe('minute');
    expect(chooseTier(now - 95 * DAY, MIN, now, defaultTiers)).toBe('fiveMinutes');
    expect(chooseTier(now - 400 * DAY, MIN, now, defaultTiers)).toBe('hour');
  });

  it('answers the same from the rollups as from the raw points, then keeps answering after raw and minute data expire', async () => {
    store.write(threeHours());
    await store.flush();
    const byMinute = { device: 'th-1', metric: 'temperature', from: T0, to: T0 + 3 * HOUR - 1, stepMs: 5 * MIN } as const;
    const byHour = { ...byMinute, stepMs: HOUR } as const;
    const before = {
      mean: await store.range({ ...byMinute, agg: 'mean' }),
      max: await store.range({ ...byMinute, agg: 'max' }),
      min: await store.range({ ...byMinute, agg: 'min' }),
      sum: await store.range({ ...byMinute, agg: 'sum' }),
      last: await store.range({ ...byMinute, agg: 'last' }),
      count: await store.range({ ...byMinute, agg: 'count' }),
      hour: await store.range({ ...byHour, agg: 'mean' }),
    };
    expect(before.count.map((b) => b.value)).toEqual(Array(36).fill(30));

    const report = await store.maintain();
    // 3 h of settled minutes (the clock is 5 min past the data): 180 minute rows, 3 hour rows.
    expect(report.rolledUp).toEqual({ minute: 180, fiveMinutes: 36, hour: 3 });
    const close = (a: { value: number | null }[], b: { value: number | null }[]): void =>
      expect(a.map((x) => x.value?.toFixed(9))).toEqual(b.map((x) => x.value?.toFixed(9)));
    close(await store.range({ ...byMinute, agg: 'mean' }), before.mean);
    close(await store.range({ ...byMinute, agg: 'max' }), before.max);
    close(await store.range({ ...byMinute, agg: 'min' }), before.min);
    close(await store.range({ ...byMinute, agg: 'sum' }), before.sum);
    close(await store.range({ ...byMinute, agg: 'last' }), before.last);
    close(await store.range({ ...byMinute, agg: 'count' }), before.count);
    close(await store.range({ ...byHour, agg: 'mean' }), before.hour);

    // Three days on: the raw points are gone, the minute rollups still answer (even a 10 s step, at minute resolution).
    clock.advance(3 * DAY);
    const expired = await store.maintain();
    expect(expired.deleted.raw).toBe(threeHours().length);
    close(await store.range({ ...byMinute, agg: 'mean' }), before.mean);
    const fine = await store.range({ ...byMinute, stepMs: 10_000, agg: 'mean' });
    expect(fine.filter((b) => b.value !== null)).toHaveLength(180);

    // Past the minute tier's retention the 5-minute rollups answer a 5-minute step in full.
    clock.advance(10 * DAY);
    expect((await store.maintain()).deleted.minute).toBe(180);
    for (const agg of ['mean', 'min', 'max', 'sum', 'count', 'last'] as const) close(await store.range({ ...byMinute, agg }), before[agg]);
    // Past theirs only hours remain.
    clock.advance(10 * DAY);
    expect((await store.maintain()).deleted.fiveMinutes).toBe(36);
    close(await store.range({ ...byHour, agg: 'mean' }), before.hour);
    const minutesNow = await store.range({ ...byMinute, agg: 'mean' });
    expect(minutesNow.filter((b) => b.value !== null)).toHaveLength(3);
  });

  it('fills the 5-minute tier from the minute rollups in a store made before it, history and all', async () => {
    store.write(threeHours());
    await store.flush();
    await store.maintain();
    const q = { device: 'th-1', metric: 'temperature', from: T0, to: T0 + 3 * HOUR - 1, stepMs: 5 * MIN } as const;
    const before = { mean: await store.range({ ...q, agg: 'mean' }), count: await store.range({ ...q, agg: 'count' }), last: await store.range({ ...q, agg: 'last' }) };
    await store.close();
    // What a store from before the tier looks like once its raw points expired: minute and hour rollups only.
    const db = await DuckDBInstance.create(join(dir, DATABASE_FILE));
    const c = await db.connect();
    await c.run('DELETE FROM rollup_5m');
    await c.run("DELETE FROM tier_watermarks WHERE tier = 'fiveMinutes'");
    await c.run('DELETE FROM points');
    c.closeSync();
    db.closeSync();
    store = await open();
    expect((await store.maintain()).rolledUp).toEqual({ fiveMinutes: 36 });
    expect((await store.range({ ...q, agg: 'count' })).map((b) => b.value)).toEqual(before.count.map((b) => b.value));
    expect((await store.range({ ...q, agg: 'mean' })).map((b) => b.value?.toFixed(9))).toEqual(before.mean.map((b) => b.value?.toFixed(9)));
    expect((await store.range({ ...q, agg: 'last' })).map((b) => b.value)).toEqual(before.last.map((b) => b.value));
    // Once only: the next pass has nothing new to fill.
    expect((await store.maintain()).rolledUp).toEqual({});
  });

  it('serves points newer than the watermark from the raw tier, and keeps the watermarks across a reopen', async () => {
    store.write(threeHours());
    await store.flush();
    await store.maintain();
    // A point within the last, not yet settled, minutes.
    store.write([{ device: 'th-1', metric: 'temperature', ts: T0 + 3 * HOUR + 4 * MIN, value: 99 }]);
    await store.flush();
    const q = { device: 'th-1', metric: 'temperature', from: T0 + 3 * HOUR - 10 * MIN, to: T0 + 3 * HOUR + 5 * MIN, stepMs: 5 * MIN, agg: 'max' } as const;
    expect((await store.range(q)).map((b) => b.value)).toEqual([expect.closeTo(22.9 , 1), expect.closeTo(23, 1), 99, null]);
    await store.close();
    store = await open();
    expect((await store.maintain()).rolledUp).toEqual({});
    expect((await store.range(q)).map((b) => b.value)).toEqual([expect.closeTo(22.9, 1), expect.closeTo(23, 1), 99, null]);
  });

  it('aggregates several series per group in one query', async () => {
    store.write([
      { device: 'a', metric: 'power', ts: T0, value: 10 },
      { device: 'b', metric: 'power', ts: T0 + 1000, value: 30 },
      { device: 'c', metric: 'power', ts: T0 + 2000, value: 5 },
    ]);
    await store.flush();
    const groups = [[{ device: 'a', metric: 'power' }, { device: 'b', metric: 'power' }], [{ device: 'c', metric: 'power' }], [{ device: 'zz', metric: 'power' }]];
    const out = await store.rangeGroups({ groups, from: T0, to: T0 + MIN - 1, stepMs: MIN, agg: 'mean' });
    expect(out.map((g) => g.map((b) => b.value))).toEqual([[20], [5], [null]]);
    expect((await store.rangeGroups({ groups, from: T0, to: T0 + MIN - 1, stepMs: MIN, agg: 'sum' }))[0]?.[0]?.value).toBe(40);
  });
});

describe('bad input and limits', () => {
  it('refuses far-future and too-old timestamps, NaN and enormous tag values, counting each reason', async () => {
    const now = clock.now();
    store.write([
      { device: 'th-1', metric: 't', ts: now + 2 * DAY, value: 1 },
      { device: 'th-1', metric: 't', ts: now - 500 * DAY, value: 1 },
      { device: 'th-1', metric: 't', ts: now, value: Number.NaN },
      { device: 'th-1', metric: 't', ts: now, value: '7' as unknown as number },
      { device: 'th-2', metric: 't', ts: now, value: 1, tags: { room: 'x'.repeat(10_000) } },
      { device: 'th-3', metric: 't', ts: now, value: 1, tags: { room: 'dc1' } },
    ]);
    await store.flush();
    expect(store.stats()).toMatchObject({ written: 1, dropped: 5, refused: { future: 1, too_old: 1, invalid: 2, tags: 1 } });
    expect(store.latest().map((l) => l.device)).toEqual(['th-3']);
  });

  it('refuses points of new series beyond the cardinality limit, and still takes points of known series', async () => {
    await store.close();
    store = await open({ maxSeries: 3 });
    const now = clock.now();
    const burst = Array.from({ length: 10 }, (_, i): Point => ({ device: `d${i}`, metric: 'x', ts: now, value: i }));
    store.write(burst);
    store.write([{ device: 'd0', metric: 'x', ts: now + 1, value: 100 }]);
    await store.flush();
    expect(store.stats()).toMatchObject({ series: 3, written: 4, refused: { cardinality: 7 } });
    expect(store.latest({ device: 'd0' })[0]?.value).toBe(100);
  });

  it('lists series by tags and reports its disk use', async () => {
    const now = clock.now();
    store.write([
      { device: 's1', metric: 'temperature', ts: now, value: 1, tags: { device: 's1', kind: 'sensor', room: 'r1' } },
      { device: 's1', metric: 'humidity', ts: now, value: 1, tags: { device: 's1', kind: 'sensor', room: 'r1' } },
      { device: 's2', metric: 'temperature', ts: now, value: 1, tags: { device: 's2', kind: 'sensor', room: 'r2' } },
      { device: 'ups-1', metric: 'load', ts: now, value: 1, tags: { device: 'ups-1', kind: 'ups', room: 'r1' } },
    ]);
    await store.flush();
    const key = (l: { device: string; metric: string }[]): string[] => l.map((s) => `${s.device}/${s.metric}`).sort();
    expect(key(store.series({ tags: { room: 'r1' } }))).toEqual(['s1/humidity', 's1/temperature', 'ups-1/load']);
    expect(key(store.series({ metric: 'temperature', tags: { kind: 'sensor' } }))).toEqual(['s1/temperature', 's2/temperature']);
    expect(store.series({ device: 's2' })[0]?.tags).toEqual({ device: 's2', kind: 'sensor', room: 'r2' });
    expect(store.stats().diskBytes).toBeGreaterThan(0);
  });
});
