/*
 * Where an InfluxDB is and how to sign in, shared by the writer and the InfluxQL reader.
 * InfluxDB 1.8 names a database and retention policy "db/rp" wherever 2.x names a bucket
 * (docs.influxdata.com, "InfluxDB 1.8 API compatibility"), so one `bucket` setting serves both.
 */

export interface InfluxTarget {
  url: string;
  /** 2.x/3.x API token, or "user:password" for 1.x. */
  token?: string;
  /** 2.x/3.x bucket, or 1.x "db" / "db/rp". */
  bucket: string;
  /** `db=` for InfluxQL; default the bucket's database part. */
  database?: string;
}

/** The 1.x database and retention policy a bucket names ("db/rp"; no "/": the database's default policy). */
export function databaseOf(t: InfluxTarget): { db: string; rp?: string } {
  const i = t.bucket.indexOf('/');
  const db = t.database ?? (i < 0 ? t.bucket : t.bucket.slice(0, i));
  const rp = i < 0 ? undefined : t.bucket.slice(i + 1) || undefined;
  return { db, rp };
}

/**
 * Credentials as InfluxDB takes them: "user:password" as the v1 `u`/`p` parameters (every 1.x, and 2.x's
 * v1 compatibility API), a bare token as `Authorization: Token` (2.x, 3.x). 2.x tokens never hold a colon.
 */
export function authOf(token: string | undefined): { params: Record<string, string>; headers: Record<string, string> } {
  if (!token) return { params: {}, headers: {} };
  const i = token.indexOf(':');
  if (i >= 0) return { params: { u: token.slice(0, i), p: token.slice(i + 1) }, headers: {} };
  return { params: {}, headers: { authorization: `Token ${token}` } };
}

/** The base URL without a trailing slash. */
export const baseOf = (t: InfluxTarget): string => t.url.replace(/\/+$/, '');
