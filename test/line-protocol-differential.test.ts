/*
 * The real tool as the oracle: the same bodies (test/fixtures/line-protocol/differential.lp) POSTed to
 * Debian's influxd 1.x and to Watchfloor's /write must get the same status code and keep the same
 * points. Known, documented differences (collectors/line-protocol/README.md) are not in the file:
 * lines without a host tag, string fields, `u` integers (influxd 1.6 is built without them), timestamps ahead, CRLF.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_INSTANCE_TAGS, metricOf } from '../collectors/index.ts';
import { startLineProtocolProduct, type LineProtocolProduct } from './support/line-protocol-product.ts';
import { influxdb1, type ServerProcess } from './support/tsdb-servers.ts';

const FIXTURE = new URL('./fixtures/line-protocol/differential.lp', import.meta.url);

/** The blocks of the fixture, its header comment dropped, with the time placeholders filled in. */
function bodies(now: number): string[] {
  const text = readFileSync(FIXTURE, 'utf8').split('\n---\n');
  text[0] = (text[0] as string).split('\n').filter((l, i, all) => i >= all.findIndex((x) => !x.startsWith('#'))).join('\n');
  return text.map((b) => {
    const filled = b.replace(/\{now-(\d+)\}/g, (_m, n: string) => String(now - Number(n))).replace(/\{now\}/g, String(now)).replace(/\{old\}/g, String(now - 100 * 365 * 86400));
    return filled;
  });
}

type Row = string; // "device metric ts value"

describe('line protocol: Watchfloor answers and keeps as influxd 1.x does', () => {
  let influx: ServerProcess;
  let p: LineProtocolProduct;
  let writer = '';

  beforeAll(async () => {
    influx = await influxdb1();
    // A retention as the product's store keeps (store.retention.hourDays, 5 years): a century-old point is beyond both.
    const r = await fetch(`${influx.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'CREATE DATABASE lp WITH DURATION 1825d' }) });
    expect(r.status).toBe(200);
    p = await startLineProtocolProduct({ autoRegister: [{ hosts: '*', kind: 'server', layer: 'server', site: 'dc1' }] });
    writer = await p.token('telegraf', 'writer');
  }, 60_000);
  afterAll(async () => {
    await p?.app.stop();
    await influx?.destroy();
  });

  /** What influxd kept, as Watchfloor names it: device from `host`, metric by the documented rule, booleans 1/0. */
  async function influxRows(): Promise<Row[]> {
    const r = await fetch(`${influx.url}/query?db=lp&epoch=ms&q=${encodeURIComponent('SELECT * FROM /.*/ GROUP BY *')}`);
    const body = (await r.json()) as { results: { series?: { name: string; tags: Record<string, string>; columns: string[]; values: unknown[][] }[] }[] };
    const rows: Row[] = [];
    for (const s of body.results[0]?.series ?? []) {
      for (const v of s.values) {
        s.columns.forEach((c, i) => {
          const value = v[i];
          if (c === 'time' || value === null || typeof value === 'string') return;
          // GROUP BY * gives the series' missing tags as "": a line cannot carry an empty tag value.
          const tags = Object.fromEntries(Object.entries(s.tags).filter(([, t]) => t !== ''));
          const metric = metricOf(s.name, c, tags, DEFAULT_INSTANCE_TAGS[s.name]);
          rows.push(`${s.tags.host} ${metric} ${String(v[0])} ${typeof value === 'boolean' ? Number(value) : String(value)}`);
        });
      }
    }
    return rows.sort();
  }

  async function watchfloorRows(): Promise<Row[]> {
    await p.app.store.flush();
    const series = p.app.store.series().filter((s) => s.device.startsWith('srv-'));
    const columns = await p.app.store.points?.({ series, from: 0, to: Date.now() + 3_600_000 });
    if (!columns) throw new Error('the store cannot list raw points');
    const rows: Row[] = [];
    series.forEach((s, i) => {
      const c = columns[i];
      for (let k = 0; k < (c?.ts.length ?? 0); k++) rows.push(`${s.device} ${s.metric} ${c?.ts[k]} ${c?.value[k]}`);
    });
    return rows.sort();
  }

  it('gives the same status to every body and keeps the same points', async () => {
    const now = Math.floor(Date.now() / 1000);
    const statuses: string[] = [];
    for (const [i, body] of bodies(now).entries()) {
      const a = await fetch(`${influx.url}/write?db=lp&precision=s`, { method: 'POST', body });
      const b = await fetch(`${p.base}/write?db=lp&precision=s&u=telegraf&p=${writer}`, { method: 'POST', body });
      const [ta, tb] = [await a.text(), await b.text()];
      statuses.push(`block ${i}: influxd ${a.status} watchfloor ${b.status}`);
      expect(b.status, `block ${i}\n${body}\ninfluxd: ${ta}\nwatchfloor: ${tb}`).toBe(a.status);
      // Both say a partial write when some lines were kept.
      expect(tb.includes('partial write'), `block ${i}: ${ta} / ${tb}`).toBe(ta.includes('partial write'));
    }
    const [expected, actual] = [await influxRows(), await watchfloorRows()];
    expect(expected.length).toBeGreaterThan(30);
    expect(actual).toEqual(expected);
  }, 60_000);
});
