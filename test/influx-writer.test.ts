import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Config, silentLogger, systemClock, type Point } from '../core/index.ts';
import { openStore, startInfluxWriter, toLine, type InfluxWriter } from '../store/index.ts';
import { eventually } from './support/net.ts';
import { influxdb1, victoriaMetrics, type ServerProcess } from './support/tsdb-servers.ts';

const tags = (device: string): Record<string, string> => ({ device, kind: 'sensor', room: 'room 1', rack: 'A01' });

/** Every sample of the sensor_temperature series in VictoriaMetrics, by device, through its export API. */
async function exported(vm: ServerProcess): Promise<Map<string, { ts: number; value: number }[]>> {
  const r = await fetch(`${vm.url}/api/v1/export?${new URLSearchParams({ 'match[]': '{__name__="sensor_temperature"}', start: '0' })}`);
  const out = new Map<string, { ts: number; value: number }[]>();
  for (const line of (await r.text()).split('\n')) {
    if (!line) continue;
    const s = JSON.parse(line) as { metric: Record<string, string>; values: number[]; timestamps: number[] };
    const list = out.get(s.metric.device as string) ?? [];
    s.timestamps.forEach((ts, i) => list.push({ ts, value: s.values[i] as number }));
    out.set(s.metric.device as string, list);
  }
  return out;
}

describe('line protocol', () => {
  it('maps a point onto measurement = kind, tags = inventory tags, field = metric, escaping what the protocol needs', () => {
    expect(toLine({ device: 's-1', metric: 'temperature', ts: 1700000000123.7, value: 24.5, tags: tags('s-1') })).toBe(
      'sensor,device=s-1,rack=A01,room=room\\ 1 temperature=24.5 1700000000123',
    );
    expect(toLine({ device: 'x,y', metric: 'load', ts: 1, value: 3 })).toBe('device,device=x\\,y load=3 1');
    expect(toLine({ device: 'x', metric: 'load', ts: 1, value: Number.NaN })).toBeUndefined();
  });
});

describe('InfluxDB writer', () => {
  let writer: InfluxWriter | undefined;
  let dir: string;
  afterEach(async () => {
    await writer?.close();
    writer = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends batches of at most 5,000 lines, gzipped, and replays in order after the server refused them', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wf-influx-buf-'));
    // A bare HTTP server speaking /api/v2/write: it fails the first requests (503), then keeps the bodies it accepts.
    let refuse = 3;
    const bodies: string[] = [];
    const encodings = new Set<string>();
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (refuse-- > 0) return void res.writeHead(503).end('{"code":"unavailable","message":"down"}');
        encodings.add(String(req.headers['content-encoding']));
        const body = Buffer.concat(chunks);
        bodies.push((req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString());
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      writer = startInfluxWriter({ url: `http://127.0.0.1:${port}`, bucket: 'wf', dir, intervalMs: 50, maxBackoffMs: 300, logger: silentLogger });
      const T = 1_700_000_000_000;
      for (let i = 0; i < 12_000; i += 1000) {
        writer.write(Array.from({ length: 1000 }, (_, k): Point => ({ device: 's-1', metric: 'temperature', ts: T + i + k, value: i + k, tags: tags('s-1') })));
      }
      // The count rises as each batch is in; the segment file goes once its last batch is: wait for both.
      await eventually(() => (writer?.stats().sent === 12_000 && writer.stats().segments === 0 ? true : undefined), 30_000, 50);
      const lines = bodies.flatMap((b) => b.split('\n').filter(Boolean));
      expect(lines.map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)) - T)).toEqual(Array.from({ length: 12_000 }, (_, i) => i));
      expect(Math.max(...bodies.map((b) => b.split('\n').filter(Boolean).length))).toBeLessThanOrEqual(5000);
      expect([...encodings]).toEqual(['gzip']);
      expect(writer.stats()).toMatchObject({ segments: 0, bufferedBytes: 0, dropped: 0 });
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('sets aside a batch the server refuses for good (400), says why, and goes on with the later points', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wf-influx-buf-'));
    const T = 1_700_000_000_000;
    // Like InfluxDB 1.x with a retention policy: a body with a point older than the policy keeps is refused (400).
    const accepted: string[] = [];
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString();
        const lines = text.split('\n').filter(Boolean);
        if (lines.some((l) => Number(l.slice(l.lastIndexOf(' ') + 1)) < T)) return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"partial write: points beyond retention policy dropped=1"}');
        accepted.push(...lines);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      writer = startInfluxWriter({ url: `http://127.0.0.1:${port}`, bucket: 'wf', dir, intervalMs: 30, maxBackoffMs: 200, logger: silentLogger });
      const point = (i: number): Point => ({ device: 's-1', metric: 'temperature', ts: T + i, value: i, tags: tags('s-1') });
      writer.write([point(0), point(1)]);
      await eventually(() => (writer?.stats().sent === 2 ? true : undefined), 10_000, 20);
      // A reading a device kept for ten days (a sensor back from a long outage): older than the policy.
      writer.write([point(-10 * 86_400_000)]);
      await eventually(() => (writer?.stats().rejected === 1 ? true : undefined), 10_000, 20);
      writer.write([point(3), point(4)]);
      await eventually(() => (writer?.stats().sent === 4 && writer.stats().segments === 0 ? true : undefined), 10_000, 20);
      expect(accepted.map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)) - T)).toEqual([0, 1, 3, 4]);
      const files = readdirSync(join(dir, 'rejected'));
      expect(files).toHaveLength(1);
      const kept = readFileSync(join(dir, 'rejected', files[0]!), 'utf8').split('\n');
      expect(kept[0]).toMatch(/^# InfluxDB answered 400: .*beyond retention policy/);
      expect(kept[1]).toBe(toLine(point(-10 * 86_400_000)));
      expect(writer.stats()).toMatchObject({ segments: 0, rejected: 1, failures: 0 });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('keeps what it could not send on disk across a restart, within its bound', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wf-influx-buf-'));
    const dead = `http://127.0.0.1:9`; // discard port: nothing listens on loopback
    writer = startInfluxWriter({ url: dead, bucket: 'wf', dir, intervalMs: 20, maxBackoffMs: 200, logger: silentLogger });
    writer.write([{ device: 's-1', metric: 'temperature', ts: 1_700_000_000_000, value: 1, tags: tags('s-1') }]);
    await eventually(() => (writer?.stats().segments === 1 ? true : undefined), 10_000);
    await writer.close();
    writer = undefined;
    expect(readdirSync(dir).filter((f) => f.endsWith('.lp'))).toHaveLength(1);
    const bounded = startInfluxWriter({ url: dead, bucket: 'wf', dir, maxBufferBytes: 200, intervalMs: 20, logger: silentLogger });
    writer = bounded;
    bounded.write(Array.from({ length: 10 }, (_, i): Point => ({ device: 's-1', metric: 'temperature', ts: 1_700_000_000_001 + i, value: i, tags: tags('s-1') })));
    // The bound holds: the older, buffered line stays; the newest lines beyond 200 bytes are refused and counted.
    expect(bounded.stats().dropped).toBeGreaterThan(5);
  });
});

describe('store: influxdb in the config', () => {
  it('refuses kind influxdb without a server, naming the field', () => {
    const r = Config.safeParse({ store: { kind: 'influxdb' } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['store', 'influxdb']);
  });

  it('writes every point to the embedded store and to InfluxDB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-store-influx-'));
    const received: string[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        received.push(...(req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString().split('\n').filter(Boolean));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const config = Config.parse({ store: { kind: 'influxdb', influxdb: { url: `http://127.0.0.1:${port}`, bucket: 'wf', token: 'admin:secret' } } }).store;
      const store = await openStore(config, { dir, logger: silentLogger, clock: systemClock });
      const now = Date.now();
      store.write([{ device: 's-1', metric: 'temperature', ts: now, value: 21.5, tags: tags('s-1') }]);
      await store.flush();
      expect(store.latest({ device: 's-1' })[0]?.value).toBe(21.5);
      await eventually(() => (received.length === 1 ? true : undefined), 10_000);
      expect(received[0]).toBe(`sensor,device=s-1,rack=A01,room=room\\ 1 temperature=21.5 ${now}`);
      await store.close();
    } finally {
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('InfluxDB writer against VictoriaMetrics (/api/v2/write)', () => {
  let vm: ServerProcess;
  let dir: string;
  beforeAll(async () => {
    vm = await victoriaMetrics();
    dir = mkdtempSync(join(tmpdir(), 'wf-influx-vm-'));
  }, 60_000);
  afterAll(async () => {
    await vm?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('loses no point when the server is stopped for 30 s in the middle of a stream', async () => {
    const writer = startInfluxWriter({ url: vm.url, bucket: 'watchfloor', dir, intervalMs: 200, maxBackoffMs: 2000, logger: silentLogger });
    const devices = ['s-1', 's-2', 's-3', 's-4'];
    const T = Date.now() - 3_600_000;
    let i = 0;
    // 4 series, 20 points each every 100 ms of wall time, with distinct timestamps 10 ms apart.
    const timer = setInterval(() => {
      const batch: Point[] = [];
      for (let k = 0; k < 20; k++, i++) for (const d of devices) batch.push({ device: d, metric: 'temperature', ts: T + i * 10, value: i, tags: tags(d) });
      writer.write(batch);
    }, 100);
    try {
      await new Promise((r) => setTimeout(r, 3000));
      await vm.stop();
      const before = writer.stats().sent;
      await new Promise((r) => setTimeout(r, 30_000));
      expect(writer.stats().sent).toBe(before); // nothing got through while it was down
      expect(writer.stats().segments).toBeGreaterThan(10);
      await vm.start();
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      clearInterval(timer);
    }
    const total = i;
    await eventually(() => (writer.stats().sent === total * devices.length ? true : undefined), 60_000, 200);
    await writer.close();
    const got = await eventually(async () => {
      const m = await exported(vm);
      return [...m.values()].every((l) => l.length === total) && m.size === devices.length ? m : undefined;
    }, 60_000, 500);
    for (const d of devices) {
      const list = (got.get(d) ?? []).sort((a, b) => a.ts - b.ts);
      expect(list.map((p) => p.value)).toEqual(Array.from({ length: total }, (_, k) => k));
      expect(list.map((p) => p.ts - T)).toEqual(Array.from({ length: total }, (_, k) => k * 10));
    }
  }, 150_000);
});

describe('InfluxDB writer against Debian influxd 1.x', () => {
  let influx: ServerProcess;
  let dir: string;
  beforeAll(async () => {
    influx = await influxdb1();
    dir = mkdtempSync(join(tmpdir(), 'wf-influx-rp-'));
  }, 60_000);
  afterAll(async () => {
    await influx?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('sets aside a reading older than the retention policy (influxd answers 400) and writes the rest', async () => {
    const q = (text: string): Promise<{ results: { series?: { values: unknown[][] }[] }[] }> =>
      fetch(`${influx.url}/query?db=watchfloor`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ q: text }) }).then((r) => r.json() as never);
    await q('CREATE RETENTION POLICY "hour" ON "watchfloor" DURATION 1h REPLICATION 1');
    const writer = startInfluxWriter({ url: influx.url, bucket: 'watchfloor/hour', api: 'v1', dir, intervalMs: 30, maxBackoffMs: 200, logger: silentLogger });
    try {
      const now = Date.now();
      const point = (ts: number, value: number): Point => ({ device: 's-1', metric: 'temperature', ts, value, tags: tags('s-1') });
      writer.write([point(now - 2000, 21), point(now - 1000, 22)]);
      await eventually(() => (writer.stats().sent === 2 ? true : undefined), 10_000, 20);
      writer.write([point(now - 10 * 86_400_000, 30)]);
      await eventually(() => (writer.stats().rejected === 1 ? true : undefined), 10_000, 20);
      writer.write([point(now, 23)]);
      await eventually(() => (writer.stats().sent === 3 ? true : undefined), 10_000, 20);
      const r = await q('SELECT count("temperature") FROM "watchfloor"."hour"."sensor"');
      expect(r.results[0]?.series?.[0]?.values[0]?.[1]).toBe(3);
      const [file] = readdirSync(join(dir, 'rejected'));
      expect(readFileSync(join(dir, 'rejected', file!), 'utf8')).toMatch(/^# InfluxDB answered 400: .*retention policy/);
    } finally {
      await writer.close();
    }
  }, 60_000);
});
