import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, type Alert } from '../core/index.ts';
import { ORPHAN_GRACE_MS, loadRules, type RuleInput } from '../rules/index.ts';
import { eventually } from './support/net.ts';
import { api, connectSocket, login, startProduct, type LoggedIn, type StartedProduct } from './support/start-product.ts';

const rules: RuleInput[] = [
  { id: 'hot', type: 'threshold', name: 'Hot', kind: 'environment', severity: 'critical', match: { metric: 'temperature' }, when: { above: 30 }, runbook: 'https://runbooks.example/hot' },
  { id: 'brute', type: 'event', name: 'Brute force', kind: 'security', severity: 'major', source: 'security', match: { type: 'bad_credentials' }, count: { min: 3, window: '5m', by: 'source' } },
];

let p: StartedProduct;
let admin: LoggedIn;
let noc: LoggedIn;
let soc: LoggedIn;
let viewer: LoggedIn;

async function addUser(name: string, role: string): Promise<LoggedIn> {
  const r = await api(p.base, admin, '/api/v1/users', { method: 'POST', body: { username: name, role, password: `${name}-password-1` } });
  expect(r.status).toBe(201);
  return login(p.base, name, `${name}-password-1`);
}

const fireHot = (device: string): Alert => {
  const [a] = p.app.rules.onPoint({ device, metric: 'temperature', value: 35, ts: 0, tags: { device, rack: 'A01' } });
  if (!a) throw new Error('no alert');
  return a;
};
const fireBrute = (source: string): Alert => {
  let out: readonly Alert[] = [];
  for (let i = 0; i < 3; i++) out = p.app.rules.onEvent({ ts: 0, type: 'bad_credentials', origin: 'mqtt', source });
  if (!out[0]) throw new Error('no alert');
  return out[0];
};
const act = (who: LoggedIn, id: string, action: string, body: unknown = {}) => api(p.base, who, `/api/v1/alerts/${id}/${action}`, { method: 'POST', body });

beforeAll(async () => {
  p = await startProduct({ rules: loadRules(rules, 'test') });
  admin = await login(p.base);
  noc = await addUser('nina', 'noc');
  soc = await addUser('sam', 'soc');
  viewer = await addUser('vic', 'viewer');
});
afterAll(async () => {
  await p.app.stop();
});

describe('alert lifecycle over HTTP', () => {
  it('walks the NOC transitions, answering 409 to illegal ones and pushing each change on socket.io', async () => {
    const a = fireHot('s-1');
    expect(a.runbook).toBe('https://runbooks.example/hot');
    const socket = await connectSocket(p.base, noc);
    const seen: Alert[] = [];
    socket.on('alert', (x: Alert) => seen.push(x));
    try {
      const steps: [string, unknown, number, Partial<Alert>?][] = [
        ['unack', {}, 409],
        ['ack', {}, 200, { acknowledged: true, ackedBy: 'nina' }],
        ['ack', {}, 409],
        ['assign', { assignee: 'nina' }, 200, { assignee: 'nina' }],
        ['assign', { assignee: 'nina' }, 409],
        ['comment', { text: 'fan tray replaced' }, 200, { comments: 1 }],
        ['reopen', {}, 409],
        ['unack', {}, 200, { acknowledged: false }],
        ['resolve', {}, 200, { state: 'resolved' }],
        ['resolve', {}, 409],
        ['ack', {}, 409],
        ['reopen', {}, 200, { state: 'firing', endsAt: null }],
      ];
      for (const [action, body, status, want] of steps) {
        const r = await act(noc, a.id, action, body);
        expect([action, r.status]).toEqual([action, status]);
        if (status === 409) expect((r.body as { error: { code: string } }).error.code).toBe('WF_ERR_CONFLICT');
        if (want) expect(r.body).toMatchObject(want);
      }
      await eventually(() => (seen.some((x) => x.id === a.id && x.state === 'firing' && x.comments === 1 && x.endsAt === null && x.updatedAt > a.updatedAt) ? true : undefined), 5000);
    } finally {
      socket.close();
    }
    const h = await api(p.base, viewer, `/api/v1/alerts/${a.id}/history`);
    const lines = h.body as { who: string; action: string; detail?: { text?: string } }[];
    expect(lines.map((l) => `${l.who}:${l.action}`)).toEqual(['system:fired', 'nina:ack', 'nina:assign', 'nina:comment', 'nina:unack', 'nina:resolve', 'nina:reopen']);
    expect(lines[3]?.detail?.text).toBe('fan tray replaced');
  });

  it('enforces roles: NOC not on security, SOC not on environment, viewer on nothing', async () => {
    const hot = fireHot('s-2');
    const brute = fireBrute('10.9.9.9');
    expect((await act(soc, hot.id, 'ack')).status).toBe(403);
    expect((await act(noc, brute.id, 'ack')).status).toBe(403);
    expect((await act(viewer, hot.id, 'ack')).status).toBe(403);
    expect((await act(admin, hot.id, 'ack')).status).toBe(200);
    expect((await act(soc, brute.id, 'ack')).status).toBe(200);
  });

  it('triage goes new -> in_progress -> closed with a disposition; illegal moves answer 409, bad input 400', async () => {
    const a = fireBrute('10.8.8.8');
    expect(a.triage).toBe('new');
    expect((await act(soc, a.id, 'triage', { status: 'closed', disposition: 'benign' })).status).toBe(409);
    expect(await act(soc, a.id, 'triage', { status: 'in_progress' })).toMatchObject({ status: 200, body: { triage: 'in_progress' } });
    expect((await act(soc, a.id, 'triage', { status: 'closed' })).status).toBe(409);
    const bad = await act(soc, a.id, 'triage', { status: 'closed', disposition: 'maybe' });
    expect(bad).toMatchObject({ status: 400, body: { error: { field: 'disposition' } } });
    expect(await act(soc, a.id, 'triage', { status: 'closed', disposition: 'true_positive' })).toMatchObject({ status: 200, body: { triage: 'closed', disposition: 'true_positive' } });
    expect((await act(soc, a.id, 'frobnicate')).status).toBe(404);
    expect((await act(soc, 'no-such-alert', 'ack')).status).toBe(404);
    expect(await act(soc, a.id, 'comment', { text: '' })).toMatchObject({ status: 400, body: { error: { field: 'text' } } });
  });

  it('silences over HTTP mark matching alerts, and lists the rules', async () => {
    const r = await api(p.base, noc, '/api/v1/silences', { method: 'POST', body: { matchers: [{ name: 'device', value: 's-3' }], endsAt: Date.now() + 3_600_000, comment: 'swap' } });
    expect(r.status).toBe(201);
    const a = fireHot('s-3');
    expect(a.silencedBy).toEqual([(r.body as { id: string }).id]);
    expect((await api(p.base, noc, '/api/v1/silences', { method: 'POST', body: { endsAt: 'soon' } })).body).toMatchObject({ error: { field: 'endsAt' } });
    const list = await api(p.base, viewer, '/api/v1/rules');
    expect((list.body as { rule: { id: string }; firing: number }[]).map((x) => x.rule.id)).toEqual(['hot', 'brute']);
    expect((await api(p.base, admin, '/api/v1/rules/reload', { method: 'POST' })).status).toBe(409);
  });
});

describe('alerts survive a restart', () => {
  it('keeps open, acknowledged and commented alerts with their history, and takes them up again', async () => {
    const first = await startProduct({ rules: loadRules(rules, 'test') });
    const s = await login(first.base);
    const [a] = first.app.rules.onPoint({ device: 's-9', metric: 'temperature', value: 33, ts: 0, tags: { device: 's-9' } });
    expect((await api(first.base, s, `/api/v1/alerts/${a?.id}/ack`, { method: 'POST' })).status).toBe(200);
    expect((await api(first.base, s, `/api/v1/alerts/${a?.id}/comment`, { method: 'POST', body: { text: 'on it' } })).status).toBe(200);
    await first.app.stop();

    const second = await startProduct({ rules: loadRules(rules, 'test'), dataDir: first.dataDir });
    try {
      const s2 = await login(second.base);
      const got = await api(second.base, s2, `/api/v1/alerts/${a?.id}`);
      expect(got.body).toMatchObject({ state: 'firing', acknowledged: true, ackedBy: 'admin', comments: 1 });
      const h = await api(second.base, s2, `/api/v1/alerts/${a?.id}/history`);
      expect((h.body as { action: string }[]).map((l) => l.action)).toEqual(['fired', 'ack', 'comment']);
      // The same condition is the same alert; once it clears, that alert resolves.
      expect(second.app.rules.onPoint({ device: 's-9', metric: 'temperature', value: 34, ts: 0, tags: { device: 's-9' } })).toEqual([]);
      const [resolved] = second.app.rules.onPoint({ device: 's-9', metric: 'temperature', value: 20, ts: 0, tags: { device: 's-9' } });
      expect(resolved).toMatchObject({ id: a?.id, state: 'resolved', acknowledged: true });
    } finally {
      await second.app.stop();
    }
  });

  it('resolves, as unconfirmed, a firing alert that no value takes up within 10 minutes of the restart', async () => {
    const clock = new FakeClock(Date.now());
    const first = await startProduct({ rules: loadRules(rules, 'test'), clock });
    const [gone] = first.app.rules.onPoint({ device: 's-7', metric: 'temperature', value: 33, ts: clock.now(), tags: { device: 's-7' } });
    const [back] = first.app.rules.onPoint({ device: 's-6', metric: 'temperature', value: 33, ts: clock.now(), tags: { device: 's-6' } });
    expect([gone?.state, back?.state]).toEqual(['firing', 'firing']);
    await first.app.stop();

    const second = await startProduct({ rules: loadRules(rules, 'test'), dataDir: first.dataDir, clock });
    try {
      const s = await login(second.base);
      const state = async (id: string | undefined): Promise<string> => ((await api(second.base, s, `/api/v1/alerts/${id}`)).body as Alert).state;
      // s-6 reports again, still hot: its alert is taken up and stays. s-7 never reports again.
      clock.advance(60_000);
      second.app.rules.onPoint({ device: 's-6', metric: 'temperature', value: 34, ts: clock.now(), tags: { device: 's-6' } });
      clock.advance(ORPHAN_GRACE_MS - 120_000);
      await new Promise((r) => setTimeout(r, 1500)); // the product's rule ticker runs each second
      expect(await state(gone?.id)).toBe('firing');
      clock.advance(120_000);
      await eventually(async () => ((await state(gone?.id)) === 'resolved' ? true : undefined), 10_000, 100);
      expect(await state(back?.id)).toBe('firing');
      const h = (await api(second.base, s, `/api/v1/alerts/${gone?.id}/history`)).body as { action: string; who: string; detail?: { reason?: string } }[];
      expect(h.at(-1)).toMatchObject({ action: 'resolved', who: 'system', detail: { reason: 'no value since the restart confirmed it' } });
    } finally {
      await second.app.stop();
    }
  });
});
