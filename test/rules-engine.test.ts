import { describe, expect, it } from 'vitest';
import { FakeClock, type DeviceTags, type Point } from '../core/index.ts';
import { loadRules, RuleEngine, type RuleInput } from '../rules/index.ts';

const T0 = 1_700_000_000_000;

const warm: RuleInput = {
  id: 'cold-aisle-warm', type: 'threshold', name: 'Cold aisle warm', kind: 'environment', severity: 'warning',
  match: { metric: 'temperature', tags: { aisle: 'cold' } }, when: { above: 27 }, clear: { below: 26 }, for: '30s',
  summary: '{{device}} inlet {{value}} °C above {{threshold}} °C for {{for}}',
};
const offline: RuleInput = { id: 'device-offline', type: 'nodata', name: 'Device offline', severity: 'major', after: '60s' };

/** An engine on a fake clock, with tags objects stable per device as the Estate hands them out. */
function setup(rules: RuleInput[], keep?: { keepResolvedMs?: number; maxResolved?: number }) {
  const clock = new FakeClock(T0);
  const tags = new Map<string, DeviceTags>();
  const tagsOf = (device: string): DeviceTags => {
    let t = tags.get(device);
    if (!t) tags.set(device, (t = { device, kind: 'sensor', rack: 'R1', aisle: device.includes('rear') ? 'hot' : 'cold' }));
    return t;
  };
  const engine = new RuleEngine({ rules: loadRules(rules, 'test'), clock, tagsOf, ...keep });
  const point = (device: string, value: number, metric = 'temperature'): Point => ({ device, metric, value, ts: clock.now(), tags: tagsOf(device) });
  return { clock, engine, point, tagsOf };
}

describe('RuleEngine: thresholds', () => {
  it('is pending until `for` has passed, then fires one alert with labels and summary', () => {
    const { clock, engine, point } = setup([warm]);
    expect(engine.onPoint(point('s1-front', 28))).toEqual([]);
    clock.advance(29_000);
    expect(engine.onPoint(point('s1-front', 28.4))).toEqual([]);
    expect(engine.alerts()).toEqual([]);
    clock.advance(1_000);
    const [alert, ...more] = engine.onPoint(point('s1-front', 28.5));
    expect(more).toEqual([]);
    expect(alert).toMatchObject({
      rule: 'cold-aisle-warm', name: 'Cold aisle warm', kind: 'environment', severity: 'warning', state: 'firing',
      labels: { device: 's1-front', metric: 'temperature', aisle: 'cold', rack: 'R1', kind: 'sensor' },
      summary: 's1-front inlet 28.5 °C above 27 °C for 30s', value: 28.5, startsAt: T0, endsAt: null, updatedAt: T0 + 30_000,
    });
    expect(engine.get(alert!.id)).toBe(alert);
    expect(engine.onPoint(point('s1-front', 29))).toEqual([]);
  });

  it('fires a pending series on tick when no further value comes', () => {
    const { clock, engine, point } = setup([warm]);
    engine.onPoint(point('s1-front', 28.2));
    expect(engine.tick(T0 + 29_999)).toEqual([]);
    const changes = engine.tick(T0 + 30_000);
    expect(changes).toMatchObject([{ state: 'firing', value: 28.2, startsAt: T0, updatedAt: T0 + 30_000 }]);
    expect(engine.tick(clock.advance(60_000))).toEqual([]);
  });

  it('a dip before `for` elapses resets the wait', () => {
    const { clock, engine, point } = setup([warm]);
    engine.onPoint(point('s1-front', 28));
    clock.advance(20_000);
    engine.onPoint(point('s1-front', 26.9));
    clock.advance(5_000);
    engine.onPoint(point('s1-front', 28));
    expect(engine.tick(T0 + 40_000)).toEqual([]);
    expect(engine.tick(T0 + 55_000)).toMatchObject([{ state: 'firing', startsAt: T0 + 25_000 }]);
  });

  it('hysteresis: 27.5 fires, 26.5 stays firing, 25.9 resolves and keeps endsAt', () => {
    const { clock, engine, point } = setup([{ ...warm, for: '0s' }]);
    const [fired] = engine.onPoint(point('s1-front', 27.5));
    expect(fired?.state).toBe('firing');
    clock.advance(10_000);
    expect(engine.onPoint(point('s1-front', 26.5))).toEqual([]);
    clock.advance(10_000);
    const [resolved] = engine.onPoint(point('s1-front', 25.9));
    expect(resolved).toMatchObject({ id: fired!.id, fingerprint: fired!.fingerprint, state: 'resolved', startsAt: T0, endsAt: T0 + 20_000, value: 27.5 });
    expect(engine.get(fired!.id)).toEqual(resolved);
    expect(engine.alerts({ state: 'firing' })).toEqual([]);
  });

  it('a below-threshold rule fires under the line', () => {
    const { engine, point } = setup([{ id: 'too-cold', type: 'threshold', name: 'Too cold', kind: 'environment', severity: 'minor', match: { metric: 'temperature' }, when: { below: 18 } }]);
    expect(engine.onPoint(point('s1-front', 18))).toEqual([]);
    expect(engine.onPoint(point('s1-front', 17.5))).toMatchObject([{ state: 'firing', value: 17.5, summary: 's1-front temperature 17.5, below 18' }]);
  });

  it('separate series are separate alerts with distinct fingerprints', () => {
    const { engine, point } = setup([{ ...warm, for: '0s' }]);
    const [a] = engine.onPoint(point('s1-front', 30));
    const [b] = engine.onPoint(point('s2-front', 30));
    expect(a!.fingerprint).not.toBe(b!.fingerprint);
    expect(a!.id).not.toBe(b!.id);
    expect(engine.alerts().map((x) => x.labels.device).sort()).toEqual(['s1-front', 's2-front']);
  });

  it('a re-fire after resolve is a new alert id with the same fingerprint', () => {
    const { clock, engine, point } = setup([{ ...warm, for: '0s' }]);
    const [first] = engine.onPoint(point('s1-front', 30));
    engine.onPoint(point('s1-front', 20));
    clock.advance(60_000);
    const [second] = engine.onPoint(point('s1-front', 30));
    expect(second!.fingerprint).toBe(first!.fingerprint);
    expect(second!.id).not.toBe(first!.id);
    // Newest first: the new occurrence, then the resolved one.
    expect(engine.alerts().map((x) => [x.id, x.state])).toEqual([[second!.id, 'firing'], [first!.id, 'resolved']]);
  });

  it('re-firing within the same millisecond still gets a new id', () => {
    const { engine, point } = setup([{ ...warm, for: '0s' }]);
    const [first] = engine.onPoint(point('s1-front', 30));
    engine.onPoint(point('s1-front', 20));
    const [second] = engine.onPoint(point('s1-front', 30));
    expect(second!.id).not.toBe(first!.id);
  });

  it('a point only meets rules of its metric and matching tags', () => {
    const { engine, point } = setup([{ ...warm, for: '0s', match: { metric: 'temperature', tags: { aisle: 'cold', rack: ['R1', 'R2'] } } }]);
    expect(engine.onPoint(point('s1-rear', 45))).toEqual([]);
    expect(engine.onPoint(point('s1-front', 45, 'humidity'))).toEqual([]);
    expect(engine.onPoint(point('s1-front', 45))).toHaveLength(1);
  });

  it('answers the same empty result when nothing changes (no allocation on the hot path)', () => {
    const { engine, point } = setup([warm, offline]);
    const a = engine.onPoint(point('s1-front', 20));
    const b = engine.onPoint(point('s2-front', 20, 'power'));
    expect(a).toHaveLength(0);
    expect(a).toBe(b);
  });

  it('resolves a firing alert when its device moves out of the rule\'s reach', () => {
    const { engine, point } = setup([{ ...warm, for: '0s' }]);
    engine.onPoint(point('s1-front', 30));
    const moved: Point = { ...point('s1-front', 30), tags: { device: 's1-front', aisle: 'hot' } };
    expect(engine.onPoint(moved)).toMatchObject([{ state: 'resolved' }]);
  });

  it('filters by state, kind and severity', () => {
    const { engine, point } = setup([{ ...warm, for: '0s' }, { ...warm, id: 'hot', severity: 'critical', for: '0s', when: { above: 32 }, clear: { below: 31 } }]);
    engine.onPoint(point('s1-front', 33));
    expect(engine.alerts({ severity: 'critical' }).map((a) => a.rule)).toEqual(['hot']);
    expect(engine.alerts({ kind: 'environment', state: 'firing' })).toHaveLength(2);
    expect(engine.alerts({ kind: 'availability' })).toEqual([]);
    expect(engine.alerts({ state: 'resolved' })).toEqual([]);
  });

  it('forgets resolved alerts after the retention time, and beyond the cap', () => {
    const { clock, engine, point } = setup([{ ...warm, for: '0s' }], { keepResolvedMs: 60_000, maxResolved: 2 });
    for (let i = 0; i < 3; i++) {
      engine.onPoint(point('s1-front', 30));
      clock.advance(1_000);
      engine.onPoint(point('s1-front', 20));
      clock.advance(1_000);
    }
    expect(engine.alerts({ state: 'resolved' })).toHaveLength(2);
    engine.tick(clock.advance(60_000));
    expect(engine.alerts()).toEqual([]);
  });

  it('hands out frozen alerts, so a consumer cannot change the book by accident', () => {
    const { engine, point } = setup([{ ...warm, for: '0s' }]);
    const [alert] = engine.onPoint(point('s1-front', 30));
    expect(Object.isFrozen(alert)).toBe(true);
    expect(Object.isFrozen(alert!.labels)).toBe(true);
  });
});

describe('RuleEngine: no data', () => {
  it('a device silent for `after` is offline on tick, dated when the silence ran out', () => {
    const { clock, engine, point } = setup([offline]);
    engine.onPoint(point('s1-front', 22));
    expect(engine.tick(T0 + 59_999)).toEqual([]);
    clock.set(T0 + 61_000);
    const [alert] = engine.tick(clock.now());
    expect(alert).toMatchObject({
      rule: 'device-offline', kind: 'availability', severity: 'major', state: 'firing', value: null,
      labels: { device: 's1-front', aisle: 'cold' }, summary: 's1-front offline: no data for 1m', startsAt: T0 + 60_000, updatedAt: T0 + 61_000,
    });
    expect(engine.tick(T0 + 120_000)).toEqual([]);
  });

  it('an offline status (last will, dropped connection) fires at once; a point resolves it', () => {
    const { clock, engine, point } = setup([offline]);
    engine.onPoint(point('s1-front', 22));
    const [fired] = engine.onStatus('s1-front', 'offline', T0 + 5_000);
    expect(fired).toMatchObject({ state: 'firing', startsAt: T0 + 5_000, summary: 's1-front offline: reported offline (last will or dropped connection)' });
    expect(engine.onStatus('s1-front', 'offline', T0 + 6_000)).toEqual([]);
    clock.set(T0 + 20_000);
    expect(engine.onPoint(point('s1-front', 22))).toMatchObject([{ id: fired!.id, state: 'resolved', endsAt: T0 + 20_000 }]);
    // Seen again: the silence counts from the point, not from before.
    expect(engine.tick(T0 + 70_000)).toEqual([]);
    expect(engine.tick(T0 + 80_000)).toMatchObject([{ state: 'firing', startsAt: T0 + 80_000 }]);
  });

  it('an online status resolves it too', () => {
    const { engine, point } = setup([offline]);
    engine.onPoint(point('s1-front', 22));
    engine.tick(T0 + 60_000);
    expect(engine.onStatus('s1-front', 'online', T0 + 70_000)).toMatchObject([{ state: 'resolved', endsAt: T0 + 70_000 }]);
  });

  it('devices never heard from since start are not alerted, however long the wait', () => {
    const { engine, point, tagsOf } = setup([offline, warm]);
    // s2 is in the inventory (it has tags) but has not reported since start; s1 reported once.
    expect(tagsOf('s2-front')).toBeDefined();
    engine.onPoint(point('s1-front', 22));
    expect(engine.tick(T0 + 3_600_000).map((a) => a.labels.device)).toEqual(['s1-front']);
  });

  it('a nodata rule watches only the devices its tags match', () => {
    const { engine, point } = setup([{ ...offline, match: { tags: { aisle: 'hot' } } }]);
    engine.onPoint(point('s1-front', 22));
    engine.onPoint(point('s1-rear', 35));
    expect(engine.tick(T0 + 60_000).map((a) => a.labels.device)).toEqual(['s1-rear']);
    expect(engine.onStatus('s1-front', 'offline', T0 + 61_000)).toEqual([]);
  });
});
