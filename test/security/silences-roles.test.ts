/*
 * Issue 12, item 5: silences keep to role boundaries. A silence covers only the alert kinds its
 * author's role acts on (noc: availability, environment, power, performance; soc: security;
 * admin: all); expiring another's silence takes the same right; both are audited, done or refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../core/index.ts';
import { loadRules, type RuleInput } from '../../rules/index.ts';
import { connectMqtt, eventually } from '../support/net.ts';
import { api, login, startProduct, type LoggedIn, type StartedProduct } from '../support/start-product.ts';

const rules: RuleInput[] = [
  { id: 'hot', type: 'threshold', name: 'Hot', kind: 'environment', severity: 'major', match: { metric: 'temperature' }, when: { above: 30 } },
  { id: 'brute', type: 'event', name: 'Brute force', kind: 'security', severity: 'major', source: 'security', match: { type: 'bad_credentials' }, count: { min: 3, window: '5m', by: 'source' } },
];

interface Silence {
  id: string;
  kinds?: string[];
  createdBy: string;
}
interface Entry {
  actor: string;
  action: string;
  target?: string;
  outcome: string;
}

const hour = () => Date.now() + 3_600_000;

describe('silences and roles', () => {
  let p: StartedProduct;
  let admin: LoggedIn;
  let noc: LoggedIn;
  let soc: LoggedIn;
  const silence = (who: LoggedIn, body: unknown) => api(p.base, who, '/api/v1/silences', { method: 'POST', body });
  const expire = (who: LoggedIn, id: string) => api(p.base, who, `/api/v1/silences/${id}`, { method: 'DELETE' });
  const audit = async (): Promise<string[]> =>
    ((await api(p.base, admin, '/api/v1/audit?action=silence&limit=500')).body as Entry[]).map((e) => `${e.actor} ${e.action} ${e.target ?? '-'} ${e.outcome}`);

  beforeAll(async () => {
    p = await startProduct({ rules: loadRules(rules, 'test') });
    admin = await login(p.base);
    for (const [name, role] of [['nina', 'noc'], ['sam', 'soc']]) {
      expect((await api(p.base, admin, '/api/v1/users', { method: 'POST', body: { username: name, role, password: `${name}-password-1` } })).status).toBe(201);
    }
    noc = await login(p.base, 'nina', 'nina-password-1');
    soc = await login(p.base, 'sam', 'sam-password-1');
  });
  afterAll(() => p?.app.stop());

  it('a noc user cannot silence security alerts: a security kind is refused (403, audited), and a silence without kinds covers only the noc kinds', async () => {
    const refused = await silence(noc, { matchers: [{ name: 'rule', value: 'brute' }], kinds: ['environment', 'security'], endsAt: hour() });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { field: 'kinds[1]', message: expect.stringMatching(/noc user may not silence security alerts/) } });

    // "Everything from brute" by the NOC: accepted, but pinned to the kinds the NOC acts on.
    const wide = await silence(noc, { matchers: [{ name: 'rule', op: '=~', value: '.*' }], endsAt: hour(), comment: 'quiet night' });
    expect(wide.status).toBe(201);
    const wideSilence = wide.body as Silence;
    expect(wideSilence.kinds).toEqual(['availability', 'environment', 'power', 'performance']);

    // Three wrong MQTT passwords make a real security alert: it stays loud for the SOC.
    for (let i = 0; i < 3; i++) await expect(connectMqtt(p.app.mqttPort, { username: 'crac-1', password: `wrong-${i}` })).rejects.toThrow();
    const brute = await eventually(async () => ((await api(p.base, soc, '/api/v1/alerts?kind=security&state=firing')).body as Alert[]).find((a) => a.rule === 'brute'));
    expect(brute.silencedBy).toEqual([]);
    // ...while the noc silence does silence what the NOC acts on.
    const [hot] = p.app.rules.onPoint({ device: 's-a01-ft', metric: 'temperature', value: 35, ts: 0, tags: { device: 's-a01-ft' } });
    expect(hot?.silencedBy).toEqual([wideSilence.id]);

    // The SOC may silence its own kind, not the NOC's.
    const socOwn = await silence(soc, { matchers: [{ name: 'rule', value: 'brute' }], kinds: ['security'], endsAt: hour() });
    expect(socOwn.status).toBe(201);
    expect((await silence(soc, { matchers: [{ name: 'rule', value: 'hot' }], kinds: ['environment'], endsAt: hour() })).status).toBe(403);
    await eventually(async () => {
      const a = ((await api(p.base, soc, `/api/v1/alerts/${brute.id}`)).body as Alert);
      return a.silencedBy?.includes((socOwn.body as Silence).id) ? a : undefined;
    });

    const entries = await audit();
    expect(entries).toEqual(expect.arrayContaining([
      'nina silence.create - denied',
      `nina silence.create ${wideSilence.id} ok`,
      `sam silence.create ${(socOwn.body as Silence).id} ok`,
      'sam silence.create - denied',
    ]));
  });

  it("a noc user cannot expire the soc's or the admin's silences (403, audited); their own, and within their kinds, they can", async () => {
    const socs = (await silence(soc, { matchers: [{ name: 'source', value: '10.0.0.9' }], kinds: ['security'], endsAt: hour() })).body as Silence;
    const admins = (await silence(admin, { matchers: [{ name: 'device', value: 'crac-1' }], endsAt: hour(), comment: 'maintenance' })).body as Silence;
    expect(admins.kinds).toBeUndefined(); // an admin's silence covers every kind
    const nocs = (await silence(noc, { matchers: [{ name: 'device', value: 's-a01-fm' }], endsAt: hour() })).body as Silence;
    await api(p.base, admin, '/api/v1/users', { method: 'POST', body: { username: 'nora', role: 'noc', password: 'nora-password-1' } });
    const otherNoc = await login(p.base, 'nora', 'nora-password-1');

    const denied = await expire(noc, socs.id);
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: { message: expect.stringMatching(/covers security alerts, which a noc user may not act on/) } });
    expect((await expire(noc, admins.id)).status).toBe(403);
    expect((await expire(soc, nocs.id)).status).toBe(403);
    const still = ((await api(p.base, admin, '/api/v1/silences')).body as Silence[]).map((s) => s.id);
    expect(still).toEqual(expect.arrayContaining([socs.id, admins.id, nocs.id]));

    // The SOC's silences are not even listed to the NOC.
    expect(((await api(p.base, noc, '/api/v1/silences')).body as Silence[]).map((s) => s.id)).not.toContain(socs.id);

    expect((await expire(otherNoc, nocs.id)).status).toBe(204); // another noc user: same kinds
    expect((await expire(soc, socs.id)).status).toBe(204);
    expect((await expire(admin, admins.id)).status).toBe(204);

    const entries = await audit();
    expect(entries).toEqual(expect.arrayContaining([
      `nina silence.expire ${socs.id} denied`,
      `nina silence.expire ${admins.id} denied`,
      `sam silence.expire ${nocs.id} denied`,
      `nora silence.expire ${nocs.id} ok`,
      `sam silence.expire ${socs.id} ok`,
      `admin silence.expire ${admins.id} ok`,
    ]));
  });
});
