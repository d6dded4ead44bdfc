import { join } from 'node:path';
import type { Clock, Logger, Point, StoreConfig } from '../core/index.ts';
import { openEmbeddedStore, type EmbeddedTimeSeriesStore } from './embedded.ts';
import { InfluxReader } from './influx/reader.ts';
import { startInfluxWriter, type InfluxWriter } from './influx/writer.ts';
import type { GroupRangeQuery, LatestValue, RangeBucket, RangeQuery, SeriesInfo, SeriesLimitEvent, SeriesSelector, StoreStats, TimeSeriesStore } from './types.ts';

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
  return new InfluxBackedStore(embedded, writer, reader);
}

/**
 * `store: influxdb`. Writes go to InfluxDB (through the writer's disk buffer) and to the embedded engine.
 * Reads of history come from InfluxDB through InfluxQL: range(), rangeGroups() and /query (the ops
 * server proxies it here), so what a user charts is what the team's InfluxDB holds, including points
 * other writers put there. latest() and series() stay in memory (the embedded engine's series book):
 * they are synchronous, on the rules' and the live screens' hot path, and a round trip per call would
 * be neither; they know the series this process has written or loaded from its embedded copy.
 * A point still in the writer's buffer (InfluxDB down or behind) is not yet in range() answers.
 */
class InfluxBackedStore implements TimeSeriesStore {
  constructor(
    private readonly embedded: EmbeddedTimeSeriesStore,
    readonly influx: InfluxWriter,
    private readonly reader: InfluxReader,
  ) {}

  write(points: readonly Point[]): void {
    this.embedded.write(points);
    this.influx.write(points);
  }
  flush(): Promise<void> {
    return this.embedded.flush();
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
  stats(): StoreStats {
    return { ...this.embedded.stats(), influxdb: this.influx.stats() };
  }
  async close(): Promise<void> {
    await Promise.all([this.embedded.close(), this.influx.close()]);
  }

  /** The measurement of a series this process knows (its `kind` tag, "device" when untagged); undefined for one it does not. */
  private measurementOf(device: string, metric: string): string | undefined {
    const s = this.embedded.series({ device, metric })[0] ?? this.embedded.series({ device })[0];
    return s === undefined ? undefined : (s.tags.kind ?? 'device');
  }
}
