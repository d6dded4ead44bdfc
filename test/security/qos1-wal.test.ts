// Issue 12 item 9, the parts under the PUBACK: the ingest write-ahead log (store/wal.ts) and the
// store's commit mark (store/embedded/ log_marks), without a product around them.
import { describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, StoreConfig, systemClock, type Point } from '../../core/index.ts';
import { openEmbeddedStore, openStore, openWriteAheadLog, type CommitLog, type TimeSeriesStore } from '../../store/index.ts';
import { eventually } from '../support/net.ts';

const tags = { kind: 'sensor', rack: 'A01' };
/** An hour ago, on the hour: inside every retention. */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const reading = (i: number): Point[] => [
  { device: 's-1', metric: 'temperature', ts: T0 + i * 1000, value: 20 + i, tags },
  { device: 's-1', metric: 'humidity', ts: T0 + i * 1000, value: 40 + i, tags },
];
const appended = (log: { append(p: readonly Point[], done: (err?: Error) => void): void }, points: Point[]): Promise<void> =>
  new Promise((resolve, reject) => log.append(points, (err) => (err ? reject(err) : resolve())));

/** A store that only records what the log hands it: which records were replayed and what mark it reports. */
function recordingStore(committed = 0): TimeSeriesStore & { replayed: { seq: number; points: readonly Point[] }[]; log?: CommitLog } {
  const s = {
    replayed: [] as { seq: number; points: readonly Point[] }[],
    log: undefined as CommitLog | undefined,
    write: () => undefined,
    flush: async () => undefined,
    latest: () => [],
    range: async () => [],
    rangeGroups: async () => [],
    series: () => [],
    stats: () => ({ written: 0, pending: 0, series: 0, dropped: 0 }),
    close: async () => undefined,
    attachLog: async (log: CommitLog) => {
      s.log = log;
      return committed;
    },
    replay: (seq: number, points: readonly Point[]) => void s.replayed.push({ seq, points }),
  };
  return s;
}

describe('the ingest write-ahead log', () => {
  it('answers each append after its group is on disk, and hands every record back at the next open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-wal-'));
    const first = recordingStore();
    const log = await openWriteAheadLog(first, { dir, logger: silentLogger });
    // Three appends in one go: one group, one synced write.
    await Promise.all([appended(log, reading(0)), appended(log, reading(1)), appended(log, reading(2))]);
    expect(log.stats()).toMatchObject({ appended: 3, groups: 1, failures: 0 });
    const files = readdirSync(dir);
    expect(files).toEqual(['0000000000000001.wal']);
    expect(readFileSync(join(dir, files[0] as string), 'utf8').trim().split('\n')).toHaveLength(3);
    // No close: the process died here. The next open hands all three back, tags and all.
    const second = recordingStore();
    const again = await openWriteAheadLog(second, { dir, logger: silentLogger });
    expect(second.replayed.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(second.replayed[1]?.points).toEqual(reading(1));
    // Numbering goes on, in a new segment; the store's commit of everything deletes the old one.
    expect(again.head()).toBe(3);
    await appended(again, reading(3));
    expect(again.head()).toBe(4);
    again.committed(3);
    await eventually(() => (readdirSync(dir).includes('0000000000000001.wal') ? undefined : true));
    expect(readdirSync(dir)).toEqual(['0000000000000004.wal']);
    await again.close();
  });

  it('skips a line torn by a crash mid-write and keeps the records around it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-wal-torn-'));
    const log = await openWriteAheadLog(recordingStore(), { dir, logger: silentLogger });
    await appended(log, reading(0));
    await appended(log, reading(1));
    // The crash came in the middle of the next group's write.
    appendFileSync(join(dir, '0000000000000001.wal'), '{"s":3,"d":"s-1","t":17');
    const store = recordingStore();
    const again = await openWriteAheadLog(store, { dir, logger: silentLogger });
    expect(store.replayed.map((r) => r.seq)).toEqual([1, 2]);
    expect(again.head()).toBe(2);
    await again.close();
  });

  it('numbers on above the store\'s mark when the log\'s files are gone, so no new record looks committed', async () => {
    const store = recordingStore(41);
    const log = await openWriteAheadLog(store, { dir: mkdtempSync(join(tmpdir(), 'wf-wal-mark-')), logger: silentLogger });
    expect(log.head()).toBe(41);
    await appended(log, reading(0));
    expect(log.head()).toBe(42);
    await log.close();
  });

  it('refuses an append once closed, so a publish is never acknowledged without its record', async () => {
    const log = await openWriteAheadLog(recordingStore(), { dir: mkdtempSync(join(tmpdir(), 'wf-wal-closed-')), logger: silentLogger });
    await log.close();
    await expect(appended(log, reading(0))).rejects.toThrow(/closed/);
  });
});

describe('the embedded store\'s commit mark', () => {
  it('commits the log head with the points, reports it, and replays only records above it after a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-wal-store-'));
    let head = 0;
    const reported: number[] = [];
    const log: CommitLog = { head: () => head, committed: (seq) => void reported.push(seq) };
    const store = await openEmbeddedStore({ dir, logger: silentLogger, flushIntervalMs: 60_000, maintenanceIntervalMs: 0 });
    expect(await store.attachLog(log)).toBe(0);
    store.write(reading(0));
    store.write(reading(1));
    head = 2;
    await store.flush();
    expect(reported).toEqual([2]);
    await store.close();

    const reopened = await openEmbeddedStore({ dir, logger: silentLogger, flushIntervalMs: 60_000, maintenanceIntervalMs: 0 });
    expect(await reopened.attachLog(log)).toBe(2);
    // Records 1 and 2 are in the store already (the crash came before the log dropped them); 3 is not.
    reopened.replay(1, reading(0));
    reopened.replay(2, reading(1));
    reopened.replay(3, reading(2));
    head = 3;
    await reopened.flush();
    expect(reported).toEqual([2, 3]);
    const buckets = await reopened.range({ device: 's-1', metric: 'temperature', from: T0, to: T0 + 2999, stepMs: 1000, agg: 'mean' });
    expect(buckets.map((b) => b.value)).toEqual([20, 21, 22]);
    expect(reopened.stats().written).toBe(2);
    await reopened.close();
  });
});

describe('the write-ahead log with store: influxdb', () => {
  it('drops a record only once the InfluxDB buffer holds it too, and sends replayed records to InfluxDB again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-wal-influx-'));
    // Nothing listens there: every send fails, so lines reach the buffer's files and stay.
    const config = StoreConfig.parse({ kind: 'influxdb', influxdb: { url: 'http://127.0.0.1:9', bucket: 'telemetry' } });
    const store = await openStore(config, { dir, logger: silentLogger, clock: systemClock });
    let head = 0;
    const reported: number[] = [];
    expect(await store.attachLog?.({ head: () => head, committed: (seq) => void reported.push(seq) })).toBe(0);
    store.write(reading(0));
    head = 1;
    await store.flush();
    // The embedded copy has committed record 1, but the log hears of it only with the InfluxDB buffer on disk.
    expect(reported).toEqual([]);
    await eventually(() => (reported.length > 0 ? true : undefined), 5000);
    expect(reported).toEqual([1]);
    const lines = (): string => readdirSync(join(dir, 'influxdb-buffer')).filter((f) => f.endsWith('.lp')).map((f) => readFileSync(join(dir, 'influxdb-buffer', f), 'utf8')).join('');
    expect(lines()).toMatch(/^sensor,.*device=s-1.* temperature=20 /m);
    // A record the embedded copy already has is not written to it again, but InfluxDB gets it once more.
    store.replay?.(1, reading(0));
    expect(store.stats().pending).toBe(0);
    await store.close();
    expect(lines().match(/temperature=20 /g)).toHaveLength(2);
  });
});
