import { join } from 'node:path';
import { wfError, type Clock, type Logger, type Point, type StoreConfig } from '../core/index.ts';
import { openEmbeddedStore, type EmbeddedTimeSeriesStore } from './embedded/index.ts';
import { deleteDeviceFromInflux, InfluxReader, startInfluxWriter, type InfluxDeleteTarget, type InfluxWriter } from './influx/index.ts';
import type { CommitLog, GroupRangeQuery, LatestValue, RangeBucket, RangeQuery, SeriesDeletion, SeriesInfo, SeriesLimitEvent, SeriesSelector, StoreStats, TimeSeriesStore } from './types.ts';

const DAY = 86_400_000;

/** Where the store lives and who hears about it. */
export interface StoreSurroundings {
  dir: string;
  logger: Logger;
  clock: Clock;
  /** A point refused for the series limit (see SeriesLimitEvent); the app turns it into a device event for the rules. */
  onSeriesLimit?: (e: SeriesLimitEvent) => void;
}

/** Opens the store the config names: the embedded engine, and with `kind: influxdb` InfluxDB's writer and reader beside it. */
export async function openStore(config: StoreConfig, where: StoreSurroundings): Promise<TimeSeriesStore> {
  const embedded = await openEmbeddedStore({
    dir: where.dir,
    logger: where.logger,
    clock: where.clock,
    flushIntervalMs: config.flushIntervalMs,
    maxSeries: config.maxSeries,
    onSeriesLimit: where.onSeriesLimit,
    tiers: {
      rawRetentionMs: config.retention.rawDays * DAY,
      minuteRetentionMs: config.retention.minuteDays * DAY,
      fiveMinuteRetentionMs: config.retention.fiveMinuteDays * DAY,
      hourRetentionMs: config.retention.hourDays * DAY,
    },
  });
  if (config.kind !== 'influxdb' || !config.influxdb) return embedded;
  const i = config.influxdb;
  const writer = startInfluxWriter({ url: i.url, token: i.token, org: i.org, bucket: i.bucket, api: i.api, dir: join(where.dir, 'influxdb-buffer'), maxBufferBytes: i.bufferMaxBytes, logger: where.logger });
  const reader = new InfluxReader({ url: i.url, token: i.token, bucket: i.bucket, database: i.database });
  return new InfluxBackedStore(embedded, writer, reader, { url: i.url, token: i.token, org: i.org, bucket: i.bucket, database: i.database, api: i.api });
}

/**
 * `store: influxdb`. Writes go to InfluxDB (through the writer's disk buffer) and to the embedded engine.
 * Reads of history come from InfluxDB through InfluxQL: range(), rangeGroups() and /query (the ops
 * server proxies it here), so what a user charts is what the team's InfluxDB holds, including points
 * other writers put there. latest() and series() stay in memory (the embedded engine's series book):
 * they are synchronous, on the rules' and the live screens' hot path, and a round trip per call would
 * be neither; they know the series this process has written or loaded from its embedded copy.
 * A point still in the writer's buffer (InfluxDB down or behind) is not yet in range() answers.
 *
 * The ingest write-ahead log (store/wal.ts) covers both copies: a record is dropped only once the
 * embedded copy has committed it and the writer's disk buffer holds its lines, and at start every
 * record still in the log is sent to InfluxDB again (a line sent twice overwrites itself).
 */
class InfluxBackedStore implements TimeSeriesStore {
  /** The newest record the embedded copy committed, waiting for the writer's disk buffer to hold it too. */
  private heldMark = 0;
  private holding: NodeJS.Timeout | undefined;
  private persisting = false;
  private closed = false;

  constructor(
    private readonly embedded: EmbeddedTimeSeriesStore,
    readonly influx: InfluxWriter,
    private readonly reader: InfluxReader,
    private readonly target: InfluxDeleteTarget,
  ) {}

  write(points: readonly Point[]): void {
    this.embedded.write(points);
    this.influx.write(points);
  }
  flush(): Promise<void> {
    return this.embedded.flush();
  }
  attachLog(log: CommitLog): Promise<number> {
    return this.embedded.attachLog({ head: () => log.head(), committed: (seq) => this.holdForInflux(seq, log) });
  }
  replay(seq: number, points: readonly Point[]): void {
    this.embedded.replay(seq, points);
    this.influx.write(points);
  }
  latest(selector?: { device?: string; metric?: string }): LatestValue[] {
    return this.embedded.latest(selector);
  }
  range(q: RangeQuery): Promise<RangeBucket[]> {
    return this.reader.range(q, this.measurementOf(q.device, q.metric));
  }
  async rangeGroups(q: GroupRangeQuery): Promise<RangeBucket[][]> {
    const answers = await this.reader.rangeGroups(q, (d, m) => this.measurementOf(d, m));
    if (answers.every((a) => a !== undefined)) return answers;
    // Groups mixing measurements or metrics have no one InfluxQL statement: those come from the embedded copy.
    const local = await this.embedded.rangeGroups(q);
    return answers.map((a, i) => a ?? local[i] ?? []);
  }
  series(selector?: SeriesSelector): SeriesInfo[] {
    return this.embedded.series(selector);
  }
  influxql(q: string, epoch?: string): Promise<{ status: number; body: unknown }> {
    return this.reader.proxy(q, epoch);
  }
  /**
   * InfluxDB's copy first, once the writer has sent what it held (those points would bring the series
   * back): were InfluxDB down, nothing is deleted and the caller can try again. Then the embedded copy.
   */
  async deleteSeries(selector: { device: string }): Promise<SeriesDeletion> {
    if (!(await this.influx.sentAll(10_000)))
      throw wfError('STORE_UNAVAILABLE', `InfluxDB has not taken the points buffered before the delete (it is down or behind): nothing of "${selector.device}" was deleted; try again`);
    await deleteDeviceFromInflux(this.target, selector.device);
    const local = await this.embedded.deleteSeries(selector);
    // InfluxDB counts nothing it deletes; the embedded copy's counts are of this process' copy only.
    return { device: local.device, series: local.series };
  }
  stats(): StoreStats {
    return { ...this.embedded.stats(), influxdb: this.influx.stats() };
  }
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.holding);
    await Promise.all([this.embedded.close(), this.influx.close()]);
  }

  /**
   * Passes an embedded commit on to the log once the writer's buffer file holds the same points (they
   * were written to both in one write(), before that commit took its batch). At most once a second:
   * each persist makes a buffer segment, and the log can wait.
   */
  private holdForInflux(seq: number, log: CommitLog): void {
    this.heldMark = Math.max(this.heldMark, seq);
    if (this.holding || this.persisting || this.closed) return;
    this.holding = setTimeout(() => {
      this.holding = undefined;
      this.persisting = true;
      const mark = this.heldMark;
      this.influx
        .persisted()
        .then(() => log.committed(mark))
        .catch(() => undefined) // the writer logs its own disk failures; the log keeps the records and the next commit retries
        .finally(() => {
          this.persisting = false;
          if (this.heldMark > mark) this.holdForInflux(this.heldMark, log);
        });
    }, 1000);
    this.holding.unref();
  }

  /** The measurement of a series this process knows (its `kind` tag, "device" when untagged); undefined for one it does not. */
  private measurementOf(device: string, metric: string): string | undefined {
    const s = this.embedded.series({ device, metric })[0] ?? this.embedded.series({ device })[0];
    return s === undefined ? undefined : (s.tags.kind ?? 'device');
  }
}
