import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, silentLogger, type Point } from '../core/index.ts';
import { openEmbeddedStore, type Aggregation, type EmbeddedTimeSeriesStore } from '../store/index.ts';

/*
 * A range whose bounds fall inside rollup periods: the periods wholly inside come from the rollups,
 * the partial ones at the edges from the raw points, so a count over 10 minutes is the points inside
 * those 10 minutes (InfluxDB's 114, not the 120 of whole rollup minutes), whatever the tier.
 */
const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 1);
let dir: string;
let store: EmbeddedTimeSeriesStore;
const points: Point[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wf-edges-'));
  store = await openEmbeddedStore({ dir, logger: silentLogger, clock: new FakeClock(T0 + 4 * HOUR), maintenanceIntervalMs: 0 });
  for (let t = 0; t < 3 * HOUR; t += 5_000) points.push({ device: 'th-1', metric: 'temperature', ts: T0 + t + 700, value: Math.round(20 + 10 * Math.sin(t / 600_000)) });
  store.write(points);
  await store.flush();
  const report = await store.maintain();
  expect(report.rolledUp.minute).toBeGreaterThan(0);
  expect(report.rolledUp.hour).toBeGreaterThan(0);
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The exact answer from the points themselves. */
function exact(from: number, to: number, stepMs: number, agg: Aggregation): (number | null)[] {
  const start = Math.floor(from / stepMs) * stepMs;
  const out: (number | null)[] = [];
  for (let b = start; b <= to; b += stepMs) {
    const vs = points.filter((p) => p.ts >= Math.max(b, from) && p.ts < b + stepMs && p.ts <= to).map((p) => p.value);
    if (vs.length === 0) out.push(null);
    else if (agg === 'count') out.push(vs.length);
    else if (agg === 'sum') out.push(vs.reduce((a, v) => a + v, 0));
    else if (agg === 'min') out.push(Math.min(...vs));
    else if (agg === 'max') out.push(Math.max(...vs));
    else if (agg === 'mean') out.push(vs.reduce((a, v) => a + v, 0) / vs.length);
    else out.push(vs[vs.length - 1] as number);
  }
  return out;
}

describe('rollup rows never count points outside the range', () => {
  const cases: [string, number, number, number][] = [
    ['10 minutes at a 10-minute step, both edges mid-minute', T0 + 61 * MIN + 30_000, T0 + 71 * MIN + 29_999, 10 * MIN],
    ['an hour at a 1-minute step (the minute tier, one row per bucket)', T0 + 30 * MIN + 12_345, T0 + 90 * MIN + 40_500, MIN],
    ['two hours at a 1-hour step (the hour tier)', T0 + 17 * MIN, T0 + 2 * HOUR + 43 * MIN, HOUR],
    ['a range inside one rollup minute', T0 + 62 * MIN + 10_000, T0 + 62 * MIN + 40_000, MIN],
  ];
  for (const [what, from, to, stepMs] of cases) {
    it(what, async () => {
      for (const agg of ['count', 'sum', 'min', 'max', 'mean', 'last'] as Aggregation[]) {
        const got = (await store.range({ device: 'th-1', metric: 'temperature', from, to, stepMs, agg })).map((b) => b.value);
        const want = exact(from, to, stepMs, agg);
        expect(got.length, agg).toBe(want.length);
        got.forEach((v, i) => (v === null ? expect(want[i], `${agg} bucket ${i}`).toBeNull() : expect(v, `${agg} bucket ${i}`).toBeCloseTo(want[i] as number, 9)));
      }
    });
  }

  it('counts 114 points in 9.5 minutes that start 30 s into a rolled-up minute, from the 5-minute tier (not 120)', async () => {
    const from = T0 + 61 * MIN + 30_000;
    const [bucket] = await store.rangeGroups({ groups: [[{ device: 'th-1', metric: 'temperature' }]], from, to: from + 9.5 * MIN - 1, stepMs: 20 * MIN, agg: 'count' });
    expect(bucket?.map((b) => b.value).filter((v) => v !== null)).toEqual([114]);
  });
});
