import { gzipSync } from 'node:zlib';
import { InfluxDB, Point } from '@influxdata/influxdb-client';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, run } from './support/net.ts';
import { api, ADMIN_PASSWORD } from './support/start-product.ts';
import { startLineProtocolProduct, type LineProtocolProduct } from './support/line-protocol-product.ts';

const NOW_S = () => Math.floor(Date.now() / 1000);

describe('line protocol in: /write and /api/v2/write', () => {
  let p: LineProtocolProduct;
  let writer = '';
  let otherWriter = '';
  let noc = '';

  beforeAll(async () => {
    p = await startLineProtocolProduct({
      maxQueuedPoints: 1000,
      instanceTags: { big: ['shard'] },
      autoRegister: [
        { token: 'telegraf-office', hosts: 'pc-*', kind: 'workstation', layer: 'enduser', site: 'dc1' },
        { token: '*', hosts: 'srv-??', kind: 'server', layer: 'server', site: 'dc1' },
      ],
    });
    writer = await p.token('telegraf-office', 'writer');
    otherWriter = await p.token('node-red', 'writer');
    noc = await p.token('nagios', 'noc');
  }, 60_000);
  afterAll(() => p?.app.stop());

  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${p.base}${path}`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body) });
  const v2 = (body: string | Buffer, token = writer, query = 'org=o&bucket=b&precision=s', headers: Record<string, string> = {}) => post(`/api/v2/write?${query}`, body, { authorization: `Token ${token}`, ...headers });
  const latest = (device: string, metric: string) => p.app.store.latest({ device, metric })[0]?.value;
  const count = async (device: string, metric: string) => {
    await p.app.store.flush();
    const b = await p.app.store.range({ device, metric, from: 0, to: Date.now() + 3_600_000, stepMs: 1e13, agg: 'count' });
    return b.reduce((s, x) => s + (x.value ?? 0), 0);
  };

  it('takes Telegraf lines on /api/v2/write, auto-registers the host its rule allows and lists it for the admin', async () => {
    const t = NOW_S();
    const body = [
      `cpu,cpu=cpu-total,host=pc-01 usage_idle=97.5,usage_user=1.5 ${t}`,
      `cpu,cpu=cpu0,host=pc-01 usage_idle=96 ${t}`,
      `mem,host=pc-01 used_percent=41.2,available=8123456789i ${t}`,
      `disk,host=pc-01,path=/,fstype=ext4 used_percent=72.5,inodes_used=1000u ${t}`,
      `system,host=pc-01 uptime=12345i,load1=0.5,n_users=2i ${t}`,
      `net,host=pc-01,interface=eth0 bytes_recv=1234567i,err_in=0i ${t}`,
      `docker,host=pc-01 up=true,state="running" ${t}`,
    ].join('\n');
    const r = await v2(body);
    expect(r.status).toBe(204);
    expect(r.headers.get('x-watchfloor-refused')).toBe('string_field=1');
    expect(latest('pc-01', 'cpu.usage_idle')).toBe(97.5);
    expect(latest('pc-01', 'cpu.cpu0.usage_idle')).toBe(96);
    expect(latest('pc-01', 'mem.available')).toBe(8123456789);
    expect(latest('pc-01', 'disk.root.used_percent')).toBe(72.5);
    expect(latest('pc-01', 'disk.root.inodes_used')).toBe(1000);
    expect(latest('pc-01', 'system.uptime')).toBe(12345);
    expect(latest('pc-01', 'net.eth0.bytes_recv')).toBe(1234567);
    expect(latest('pc-01', 'docker.up')).toBe(1);
    expect(p.app.store.latest({ device: 'pc-01' }).find((l) => l.metric === 'cpu.usage_idle')?.ts).toBe(t * 1000);
    const devices = (await api(p.base, p.admin, '/api/v1/devices')).body as { id: string; kind: string; layer?: string; labels?: Record<string, string> }[];
    expect(devices.find((d) => d.id === 'pc-01')).toMatchObject({ kind: 'workstation', layer: 'enduser', labels: { registeredBy: 'line-protocol', writer: 'telegraf-office' } });
    expect(p.collector.stats().refused.string_field).toBeGreaterThanOrEqual(1);
  });

  it('refuses and counts a host no rule allows, keeping the other lines of the batch (partial write)', async () => {
    const before = p.collector.stats().refused.unknown_device;
    const r = await v2(`cpu,host=laptop-9 usage_idle=1\ncpu,host=pc-02 usage_idle=55\ncpu,host=pc-03 usage_idle=1`.replace('pc-03', 'srv-01'), otherWriter, 'org=o&bucket=b');
    expect(r.status).toBe(400);
    const body = (await r.json()) as { code: string; message: string };
    expect(body.code).toBe('invalid');
    expect(body.message).toMatch(/^partial write: unknown device "laptop-9".* dropped=2$/s);
    expect(body.message).toContain('unknown device "pc-02"'); // its rule names another writer
    expect(latest('srv-01', 'cpu.usage_idle')).toBe(1);
    expect(latest('pc-02', 'cpu.usage_idle')).toBeUndefined();
    expect(p.collector.stats().refused.unknown_device - before).toBe(2);
    const devices = (await api(p.base, p.admin, '/api/v1/devices')).body as { id: string; layer?: string }[];
    expect(devices.map((d) => d.id)).not.toContain('laptop-9');
    expect(devices.find((d) => d.id === 'srv-01')?.layer).toBe('server');
  });

  it('names each bad line by its number and reason, in each API shape, and keeps the good ones', async () => {
    const t = NOW_S();
    const body = `cpu,host=pc-01 usage_steal=1 ${t}\ncpu,host=pc-01 usage_steal= ${t}\ncpu\\,bad,host=pc-01,x\\ =y usage_guest=tru ${t}\ncpu,host=pc-01 usage_nice=3 ${t}`;
    const r2 = await v2(body);
    expect(r2.status).toBe(400);
    const m2 = ((await r2.json()) as { message: string }).message;
    expect(m2).toContain(`unable to parse 'cpu,host=pc-01 usage_steal= ${t}': missing field value (line 2)`);
    expect(m2).toContain('invalid boolean (line 3)');
    expect(m2).toMatch(/^partial write: .* dropped=0$/s);
    expect(latest('pc-01', 'cpu.usage_nice')).toBe(3);
    const r1 = await post(`/write?db=telegraf&precision=s&u=telegraf&p=${writer}`, 'just garbage');
    expect(r1.status).toBe(400);
    expect(await r1.json()).toEqual({ error: "unable to parse 'just garbage': invalid field format (line 1)" });
    expect(r1.headers.get('x-influxdb-error')).toBe("unable to parse 'just garbage': invalid field format (line 1)");
  });

  it('refuses a field whose type changed, as InfluxDB does, and nothing else', async () => {
    expect((await v2(`typed,host=pc-01 v=1i,w=1`)).status).toBe(204);
    const r = await v2(`typed,host=pc-01 v=2.5\ntyped,host=pc-01 w=2`);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toBe('partial write: field type conflict: input field "v" on measurement "typed" is type float, already exists as type integer dropped=1');
    expect(latest('pc-01', 'typed.w')).toBe(2);
    expect(latest('pc-01', 'typed.v')).toBe(1);
  });

  it('refuses a timestamp a century off (either way) as beyond retention; the rest of the batch is stored', async () => {
    const t = NOW_S();
    const r = await v2(`century,host=pc-01 v=1 ${t - 100 * 365 * 86400}\ncentury,host=pc-01 v=2 ${t + 100 * 365 * 86400}\ncentury,host=pc-01 v=3 ${t}`);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toBe('partial write: points beyond retention policy dropped=2');
    expect(await count('pc-01', 'century.v')).toBe(1);
    expect(latest('pc-01', 'century.v')).toBe(3);
  });

  it('authenticates only writer tokens: 401 without, with a bad one or a user password; 403 for other roles; the writer can do nothing else', async () => {
    const line = 'auth,host=pc-01 v=1';
    expect((await post('/api/v2/write?org=o&bucket=b', line)).status).toBe(401);
    expect(await (await post('/api/v2/write?org=o&bucket=b', line)).json()).toEqual({ code: 'unauthorized', message: 'unauthorized access' });
    expect((await v2(line, `${writer}x`)).status).toBe(401);
    expect((await post(`/write?db=x&u=admin&p=${ADMIN_PASSWORD}`, line)).status).toBe(401);
    expect(await (await post(`/write?db=x&u=admin&p=${ADMIN_PASSWORD}`, line)).json()).toEqual({ error: 'authorization failed' });
    expect((await post('/write?db=x', line, { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` })).status).toBe(401);
    expect((await v2(line, noc)).status).toBe(403);
    expect((await post(`/write?db=x&u=n&p=${noc}`, line)).status).toBe(403);
    // The writer token elsewhere: refused on the REST API (403), on /query (401: no reader), on socket.io.
    expect((await fetch(`${p.base}/api/v1/devices`, { headers: { authorization: `Bearer ${writer}` } })).status).toBe(403);
    expect((await fetch(`${p.base}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, body: '{"name":"x","role":"admin"}' })).status).toBe(403);
    expect((await fetch(`${p.base}/query?q=SHOW+MEASUREMENTS&u=x&p=${writer}`)).status).toBe(401);
    const socket = io(p.base, { transports: ['websocket'], auth: { token: writer }, reconnection: false });
    const refused = await new Promise<string>((resolve) => {
      socket.once('connect_error', (e) => resolve(e.message));
      socket.once('connect', () => resolve('connected'));
    });
    socket.close();
    expect(refused).toBe('unauthorized');
    // Every 1.x form with the token as the password, and Token/Bearer.
    for (const [path, headers] of [
      [`/write?db=d&u=telegraf&p=${writer}`, {}],
      ['/write?db=d', { authorization: `Basic ${Buffer.from(`telegraf:${writer}`).toString('base64')}` }],
      ['/write?db=d', { authorization: `Token ${writer}` }],
      ['/write?db=d&rp=autogen&precision=ms', { authorization: `Bearer ${writer}` }],
    ] as const) {
      expect((await post(path, line, headers)).status, path).toBe(204);
    }
    expect(await (await post('/write', line, { authorization: `Token ${writer}` })).json()).toEqual({ error: 'database is required' });
    expect((await post('/write?db=d&precision=x', line, { authorization: `Token ${writer}` })).status).toBe(400);
    expect((await v2(line, writer, 'org=o&bucket=b&precision=h')).status).toBe(400);
  });

  it('takes a 10 MB body whole, a gzip body, and answers a gzip bomb 413 with nothing of it kept', async () => {
    const t0 = Date.now() - 600_000;
    const lines: string[] = [];
    let size = 0;
    for (let i = 0; size < 10_000_000; i++) {
      const l = `big,host=pc-big,shard=s${i % 100},padding=${'x'.repeat(20)} value=${i},other=${i * 2} ${t0 + Math.floor(i / 100)}`;
      lines.push(l);
      size += l.length + 1;
    }
    const r = await v2(lines.join('\n'), writer, 'org=o&bucket=b&precision=ms');
    expect(r.status).toBe(204);
    let stored = 0;
    for (let k = 0; k < 100; k++) stored += (await count('pc-big', `big.s${k}.value`)) + (await count('pc-big', `big.s${k}.other`));
    expect(stored).toBe(lines.length * 2);

    const gz = await v2(gzipSync(`gz,host=pc-01 v=7`), writer, 'org=o&bucket=b', { 'content-encoding': 'gzip' });
    expect(gz.status).toBe(204);
    expect(latest('pc-01', 'gz.v')).toBe(7);

    // 100 MB of lines in about 100 kB of gzip: over the 25 MB limit once inflated.
    const bomb = gzipSync(Buffer.from(`bomb,host=pc-01 v=1\n`.repeat(5_000_000)));
    expect(bomb.length).toBeLessThan(1_000_000);
    for (const path of ['/api/v2/write?org=o&bucket=b', '/write?db=d']) {
      const b = await post(path, bomb, { authorization: `Token ${writer}`, 'content-encoding': 'gzip' });
      expect(b.status).toBe(413);
    }
    expect(latest('pc-01', 'bomb.v')).toBeUndefined();
    const bad = await v2(Buffer.from('not gzip at all'), writer, 'org=o&bucket=b', { 'content-encoding': 'gzip' });
    expect(bad.status).toBe(400);
    // A plain body over the limit too; the server still takes the next write.
    expect((await v2('x'.repeat(26_000_000))).status).toBe(413);
    expect((await v2('after,host=pc-01 v=1')).status).toBe(204);
  }, 120_000);

  it('answers 429 when the queue is full and loses nothing: the refused writes, retried, are all stored', async () => {
    const t0 = Date.now() - 300_000;
    const batch = (k: number) => Array.from({ length: 2000 }, (_, i) => `queue,host=pc-q v=${i} ${t0 + k * 2000 + i}`).join('\n');
    const statuses = await Promise.all(Array.from({ length: 8 }, (_, k) => v2(batch(k), writer, 'org=o&bucket=b&precision=ms').then(async (r) => ({ k, status: r.status, retry: r.headers.get('retry-after'), body: await r.text() }))));
    const busy = statuses.filter((s) => s.status === 429);
    expect(statuses.every((s) => s.status === 204 || s.status === 429)).toBe(true);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0]?.retry).toBe('1');
    expect(JSON.parse(busy[0]?.body ?? '{}')).toEqual({ code: 'too many requests', message: 'the write queue is full; retry later' });
    expect(await count('pc-q', 'queue.v')).toBe((8 - busy.length) * 2000);
    for (const s of busy) {
      await eventually(async () => ((await v2(batch(s.k), writer, 'org=o&bucket=b&precision=ms')).status === 204 ? true : undefined), 10_000, 50);
    }
    expect(await count('pc-q', 'queue.v')).toBe(16_000);
  }, 60_000);

  it('is written by @influxdata/influxdb-client WriteApi and by the influx CLI INSERT', async () => {
    const writeApi = new InfluxDB({ url: p.base, token: writer }).getWriteApi('office', 'telegraf', 'ms');
    writeApi.useDefaultTags({ host: 'pc-client' });
    const ts = Date.now();
    writeApi.writePoint(new Point('cpu').tag('cpu', 'cpu-total').floatField('usage_idle', 12.5).intField('n', 3).timestamp(ts));
    writeApi.writePoint(new Point('disk').tag('path', '/home').floatField('used_percent', 91).timestamp(ts));
    await writeApi.close();
    expect(latest('pc-client', 'cpu.usage_idle')).toBe(12.5);
    expect(latest('pc-client', 'cpu.n')).toBe(3);
    expect(latest('pc-client', 'disk.home.used_percent')).toBe(91);

    const port = new URL(p.base).port;
    const cli = await run('influx', ['-host', '127.0.0.1', '-port', port, '-username', 'telegraf', '-password', writer, '-database', 'office', '-execute', 'INSERT cpu,host=pc-cli usage_idle=42.5'], 20_000);
    expect(cli.code, cli.stderr + cli.stdout).toBe(0);
    expect(latest('pc-cli', 'cpu.usage_idle')).toBe(42.5);
    const denied = await run('influx', ['-host', '127.0.0.1', '-port', port, '-username', 'admin', '-password', ADMIN_PASSWORD, '-database', 'office', '-execute', 'INSERT cpu,host=pc-cli usage_idle=1'], 20_000);
    expect(denied.stdout + denied.stderr).toContain('authorization failed');
    expect(latest('pc-cli', 'cpu.usage_idle')).toBe(42.5);
  }, 60_000);
});
