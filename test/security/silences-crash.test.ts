/*
 * Issue 12, item 1: a silence matcher must not be able to kill the product, nor keep it dead
 * across restarts. Over real HTTP and MQTT against the whole product; test/support/crash-guard.ts
 * fails any of these tests in which the product throws an uncaught exception.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatchfloor } from '../../cli/index.ts';
import { freeUdpPort } from '../../collectors/index.ts';
import { Config, Inventory, silentLogger, systemClock, type Alert } from '../../core/index.ts';
import { loadRules, NotifyConfig, RuleEngine, startNotifier, type Notification, type RuleInput } from '../../rules/index.ts';
import { connectMqtt, eventually } from '../support/net.ts';
import { ADMIN_PASSWORD, api, login, smallInventory, startProduct, type LoggedIn, type StartedProduct } from '../support/start-product.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hour = () => Date.now() + 3_600_000;

/** Milliseconds /healthz takes to answer: the event loop's latency as a person's browser sees it. */
async function healthLatency(base: string): Promise<number> {
  const t = performance.now();
  const r = await fetch(`${base}/healthz`);
  expect(r.status).toBe(200);
  return performance.now() - t;
}

// 15 characters: JavaScript's backtracking engine takes seconds on ^(?:((a+)+)+X)$ (doubling per character).
const SHORT = 'a'.repeat(15);
const LONG = 'a'.repeat(10_000);
const rules: RuleInput[] = [
  { id: 'hot', type: 'threshold', name: 'Hot', kind: 'environment', severity: 'major', match: { metric: 'temperature' }, when: { above: 30 }, labels: { blob: SHORT } },
  { id: 'wet', type: 'threshold', name: 'Wet', kind: 'environment', severity: 'major', match: { metric: 'humidity' }, when: { above: 80 }, labels: { blob: LONG } },
];

describe('silence matchers cannot take the product down', () => {
  let p: StartedProduct;
  let admin: LoggedIn;
  let noc: LoggedIn;
  let sensor: MqttClient | undefined;

  beforeAll(async () => {
    p = await startProduct({ rules: loadRules(rules, 'test') });
    admin = await login(p.base);
    expect((await api(p.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'nina', role: 'noc', password: 'nina-password-1' } })).status).toBe(201);
    noc = await login(p.base, 'nina', 'nina-password-1');
  });
  afterAll(async () => {
    sensor?.end(true);
    await p?.app.stop();
  });

  it('a regex that does not compile is a 400 naming matchers[i].value, is not stored, and the product answers /healthz after 5 s of ticks', async () => {
    const bad = await api(p.base, noc, '/api/v1/silences', { method: 'POST', body: { matchers: [{ name: 'device', op: '=~', value: '(' }], endsAt: hour() } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { field: 'matchers[0].value' } });
    expect(JSON.stringify(bad.body)).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
    const second = await api(p.base, noc, '/api/v1/silences', { method: 'POST', body: { matchers: [{ name: 'device', value: 's-1' }, { name: 'rack', op: '!~', value: '[' }], endsAt: hour() } });
    expect(second).toMatchObject({ status: 400, body: { error: { field: 'matchers[1].value' } } });
    // A group that would break out of the ^(?:…)$ anchors does not compile on its own either.
    const escape = await api(p.base, noc, '/api/v1/silences', { method: 'POST', body: { matchers: [{ name: 'device', op: '=~', value: 'x)|(.*' }], endsAt: hour() } });
    expect(escape).toMatchObject({ status: 400, body: { error: { field: 'matchers[0].value' } } });
    const tooLong = await api(p.base, noc, '/api/v1/silences', { method: 'POST', body: { matchers: [{ name: 'device', op: '=~', value: 'a'.repeat(5000) }], endsAt: hour() } });
    expect(tooLong).toMatchObject({ status: 400, body: { error: { field: 'matchers[0].value' } } });
    expect((await api(p.base, admin, '/api/v1/silences')).body).toEqual([]);

    await sleep(5_500); // five ticks of the rules engine: the crash used to come on the first
    expect(await healthLatency(p.base)).toBeLessThan(1000);
    expect(p.app.rules.evaluationErrors).toBe(0);
  });

  it('a backtracking pattern against a long label is matched in linear time: the event loop never stalls', async () => {
    const evil = await api(p.base, noc, '/api/v1/silences', { method: 'POST', body: { matchers: [{ name: 'blob', op: '=~', value: '((a+)+)+X' }], endsAt: hour(), comment: 'never matches' } });
    expect(evil.status).toBe(201);
    const fits = await api(p.base, noc, '/api/v1/silences', { method: 'POST', body: { matchers: [{ name: 'blob', op: '=~', value: '((.+)+)+' }], endsAt: hour(), comment: 'matches' } });
    expect(fits.status).toBe(201);
    const fitsId = (fits.body as { id: string }).id;

    await p.app.accounts.setDevicePassword('s-a01-ft', 'sensor-secret-1');
    sensor = await connectMqtt(p.app.mqttPort, { username: 's-a01-ft', password: 'sensor-secret-1' });
    const firing = async (rule: string): Promise<Alert | undefined> =>
      ((await api(p.base, noc, '/api/v1/alerts?state=firing')).body as Alert[]).find((a) => a.rule === rule);

    for (const [metric, value, rule] of [['temperature', 35, 'hot'], ['humidity', 95, 'wet']] as const) {
      const started = performance.now();
      sensor.publish('devices/s-a01-ft/telemetry', JSON.stringify({ metrics: { [metric]: value } }), { qos: 1 });
      // While the alert is raised and matched against both silences, the server keeps answering.
      const latency = await healthLatency(p.base);
      const alert = await eventually(() => firing(rule), 5000);
      expect(latency).toBeLessThan(1000);
      expect(performance.now() - started).toBeLessThan(3000);
      expect(alert.silencedBy).toEqual([fitsId]);
    }
  });

  it('an evaluation that throws, on a point or on the 1 s tick, is logged and counted, and the product goes on', async () => {
    const engine = p.app.rules as unknown as { book: { prune: (now: number) => void }; tick: (now: number) => unknown; evaluationErrors: number };
    const before = engine.evaluationErrors;
    const prune = engine.book.prune;
    const tick = engine.tick;
    try {
      // A fault inside one step of the tick, then the whole tick throwing (as an unguarded bug would).
      engine.book.prune = () => {
        throw new Error('injected: prune failed');
      };
      await eventually(() => (engine.evaluationErrors > before ? true : undefined), 3000);
      engine.tick = () => {
        throw new Error('injected: tick failed');
      };
      const counted = engine.evaluationErrors;
      await eventually(() => (engine.evaluationErrors > counted ? true : undefined), 3000);
      // A listener of the alert book (journal, notifier) that throws: the alert still opens.
      engine.tick = tick;
      p.app.rules.book.listen(() => {
        throw new Error('injected: a listener failed');
      });
      const listened = engine.evaluationErrors;
      const [opened] = p.app.rules.onPoint({ device: 's-a01-fm', metric: 'temperature', value: 45, ts: 0, tags: { device: 's-a01-fm' } });
      expect(opened).toMatchObject({ rule: 'hot', state: 'firing' });
      expect(engine.evaluationErrors).toBe(listened + 1);
      // The count is on /metrics, where an operator's alerting on the product itself reads it.
      const scrape = await (await fetch(`${p.base}/metrics`)).text();
      expect(scrape).toMatch(new RegExp(`^watchfloor_rules_evaluation_errors_total ${engine.evaluationErrors}$`, 'm'));
    } finally {
      engine.book.prune = prune;
      engine.tick = tick;
    }
    expect(await healthLatency(p.base)).toBeLessThan(1000);
  });
});

describe('a bad silence saved by an older version', () => {
  it('is set aside at start with a log line: the product starts, the silence is not active, and it is kept in alerts/rejected.jsonl', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wf-bad-silence-'));
    mkdirSync(join(dataDir, 'alerts'), { recursive: true });
    const good = { id: 'good-1', matchers: [{ name: 'device', value: 's-a01-ft', op: '=' }], startsAt: 0, endsAt: hour(), comment: 'ok', createdBy: 'admin' };
    const bad = { id: 'bad-1', matchers: [{ name: 'device', value: '(', op: '=~' }], startsAt: 0, endsAt: hour(), comment: 'from an older version', createdBy: 'mallory' };
    writeFileSync(join(dataDir, 'alerts', 'state.json'), JSON.stringify({ alerts: [{ id: 'half', state: 'firing' }], silences: [bad, good] }));

    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const config = Config.parse({ dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, snmp: { trapPort: await freeUdpPort() }, store: { flushIntervalMs: 50 } });
    const app = await startWatchfloor({ config, inventory: Inventory.parse(smallInventory), rules: loadRules(rules, 'test'), logger, adminPassword: ADMIN_PASSWORD });
    const base = `http://127.0.0.1:${app.httpPort}`;
    try {
      const admin = await login(base);
      const listed = (await api(base, admin, '/api/v1/silences')).body as { id: string }[];
      expect(listed.map((s) => s.id)).toEqual(['good-1']);
      const [alert] = app.rules.onPoint({ device: 's-a01-fb', metric: 'temperature', value: 40, ts: 0, tags: { device: 's-a01-fb' } });
      expect(alert?.silencedBy).toEqual([]);

      const rejected = readFileSync(join(dataDir, 'alerts', 'rejected.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { what: string; reason: string; item: { id: string } });
      expect(rejected).toEqual(expect.arrayContaining([
        expect.objectContaining({ what: 'silence', item: expect.objectContaining({ id: 'bad-1' }), reason: expect.stringMatching(/^matchers\[0\]\.value: /) }),
        expect.objectContaining({ what: 'alert', item: expect.objectContaining({ id: 'half' }) }),
      ]));
      const logged = lines.map((l) => JSON.parse(l) as { msg: string; id?: string; level: number });
      expect(logged).toEqual(expect.arrayContaining([expect.objectContaining({ msg: 'alerts: a saved silence does not validate; set aside', id: 'bad-1' })]));

      await sleep(4_500); // the crash loop came about 4 s after every start
      expect(await healthLatency(base)).toBeLessThan(1000);
    } finally {
      await app.stop();
    }
  });
});

describe('notification timers', () => {
  it('a transport that throws instead of rejecting, and a malformed saved outbox, are not fatal: the notification waits for a retry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-outbox-'));
    writeFileSync(join(dir, 'outbox.json'), JSON.stringify({ not: 'a list' }));
    const engine = new RuleEngine({ rules: loadRules(rules, 'test'), clock: systemClock });
    const config = NotifyConfig.parse({ receivers: [{ name: 'pager', webhook: { url: 'http://127.0.0.1:9/hook' } }], routes: [{ receiver: 'pager', group_wait: '0s' }], retry: { initial: '50ms', max: '100ms' } });
    let calls = 0;
    const throwing = (_n: Notification): Promise<void> => {
      calls++;
      throw new Error('injected: transport threw synchronously');
    };
    const notifier = startNotifier({ config, book: engine.book, clock: systemClock, logger: silentLogger, dir, transports: new Map([['pager', throwing]]) });
    try {
      engine.onPoint({ device: 's-a01-ft', metric: 'temperature', value: 40, ts: 0, tags: { device: 's-a01-ft' } });
      await eventually(() => (calls >= 2 ? true : undefined), 5000); // tried, failed, tried again
      expect(notifier.outbox.pending).toBe(1);
      expect(JSON.parse(readFileSync(join(dir, 'outbox.json.rejected'), 'utf8'))).toEqual({ not: 'a list' });
    } finally {
      notifier.stop();
    }
  });
});
