import { z } from 'zod';

const Days = z.number().positive();
const Count = z.number().int().min(0);

/**
 * `store:` in the config. `embedded` keeps everything under the data directory; `influxdb` also writes
 * every point to InfluxDB through an on-disk buffer (v2 write API, served by InfluxDB 1.8+, 2.x, 3.x and
 * VictoriaMetrics; or 1.x's own `/write` with `api: v1`) and reads ranges and `/query` back from it
 * through InfluxQL on its v1 `/query` endpoint (1.x, 2.x with a DBRP mapping, 3.x).
 */
export const StoreConfig = z
  .strictObject({
    kind: z.enum(['embedded', 'influxdb']).default('embedded'),
    flushIntervalMs: z.number().int().positive().default(200),
    /** Retention per tier, in days: raw points, 1-minute rollups, 1-hour rollups. */
    retention: z.strictObject({ rawDays: Days.default(7), minuteDays: Days.default(90), fiveMinuteDays: Days.default(365), hourDays: Days.default(1825) }).prefault({}),
    /** The cardinality limit: points of series beyond it are refused and counted. */
    maxSeries: z.number().int().positive().default(100_000),
    /**
     * Bounds on one `/query` request (InfluxDB's [coordinator] max-select-point, max-select-series,
     * max-select-buckets and query-timeout, answered in its words; store/influxql/limits.ts); 0 = no limit.
     * Buckets count over every group and field of the request, not once per statement as InfluxDB does.
     */
    query: z
      .strictObject({
        maxSelectPoint: Count.default(2_000_000),
        maxSelectSeries: Count.default(10_000),
        maxSelectBuckets: Count.default(100_000),
        timeoutSeconds: z.number().min(0).default(30),
        maxStatements: Count.default(100),
      })
      .prefault({}),
    influxdb: z
      .strictObject({
        url: z.url(),
        /** An InfluxDB 2.x/3.x API token, or "user:password" for 1.x. */
        token: z.string().default(''),
        org: z.string().default(''),
        /** 2.x/3.x: the bucket; 1.x: "database" or "database/retention-policy" (1.8's own convention). */
        bucket: z.string().min(1),
        /** Which write endpoint: `v2` (/api/v2/write: 1.8+, 2.x, 3.x) or `v1` (/write?db=&rp=: every 1.x). */
        api: z.enum(['v2', 'v1']).default('v2'),
        /** The database InfluxQL reads (`db=` on /query); default the bucket's part before "/" (2.x: the DBRP mapping's database). */
        database: z.string().min(1).optional(),
        /** The on-disk buffer that holds points while the database is away. */
        bufferMaxBytes: z.number().int().positive().default(1024 ** 3),
      })
      .optional(),
  })
  .refine((s) => s.kind !== 'influxdb' || s.influxdb !== undefined, { path: ['influxdb'], message: 'store.kind influxdb needs store.influxdb {url, bucket}' });
export type StoreConfig = z.infer<typeof StoreConfig>;
