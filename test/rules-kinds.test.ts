import { describe, expect, it } from 'vitest';
import { Estate, FakeClock, Inventory, type DeviceTags, type Point } from '../core/index.ts';
import { dependencyTree, inSchedule, loadRules, RuleEngine, SilenceBook, type RuleInput } from '../rules/index.ts';

const T0 = Date.UTC(2024, 0, 3, 3, 0, 0); // Wednesday 10:00 in Asia/Ho_Chi_Minh (UTC+7)

function setup(rules: RuleInput[], opts: { ancestorsOf?: (d: string) => readonly string[]; silences?: SilenceBook } = {}) {
  const clock = new FakeClock(T0);
  const tags = new Map<string, DeviceTags>();
  const tagsOf = (device: string): DeviceTags => {
    let t = tags.get(device);
    if (!t) tags.set(device, (t = { device, kind: 'sensor', rack: device.split('-')[1] ?? 'R1', row: 'A', aisle: 'cold' }));
    return t;
  };
  const engine = new RuleEngine({ rules: loadRules(rules, 'test'), clock, tagsOf, ...opts });
  const point = (device: string, value: number, metric = 'temperature'): Point => ({ device, metric, value, ts: clock.now(), tags: tagsOf(device) });
  return { clock, engine, point };
}

const base = { kind: 'environment', severity: 'warning' } as const;

describe('rule kinds', () => {
  it('threshold keep_firing_for holds a cleared alert, a new breach cancels the countdown', () => {
    const { clock, engine, point } = setup([{ id: 't', type: 'threshold', name: 'T', ...base, match: { metric: 'temperature' }, when: { above: 27 }, keep_firing_for: '1m' }]);
    expect(engine.onPoint(point('s-R1', 28))).toMatchObject([{ state: 'firing' }]);
    clock.advance(10_000);
    expect(engine.onPoint(point('s-R1', 25))).toEqual([]);
    clock.advance(30_000);
    expect(engine.onPoint(point('s-R1', 28))).toEqual([]);
    clock.advance(10_000);
    engine.onPoint(point('s-R1', 25));
    expect(engine.tick(clock.advance(59_000))).toEqual([]);
    expect(engine.tick(clock.advance(1_000))).toMatchObject([{ state: 'resolved' }]);
  });

  it('rate of change: up more than 2 in 5 minutes fires, steady warm does not', () => {
    const { clock, engine, point } = setup([{ id: 'r', type: 'rate', name: 'R', ...base, match: { metric: 'temperature' }, window: '5m', when: { above: 2 }, summary: '{{device}} +{{value}} °C in {{window}}' }]);
    for (let i = 0; i < 10; i++) {
      expect(engine.onPoint(point('s-R1', 30))).toEqual([]);
      clock.advance(30_000);
    }
    engine.onPoint(point('s-R1', 31));
    clock.advance(60_000);
    const fired = engine.onPoint(point('s-R1', 32.5));
    expect(fired).toMatchObject([{ rule: 'r', state: 'firing', summary: 's-R1 +2.5 °C in 5m' }]);
    clock.advance(6 * 60_000);
    expect(engine.onPoint(point('s-R1', 32.5))).toMatchObject([{ state: 'resolved' }]);
  });

  it('state: fires while the value is a firing state, names it, resolves on another', () => {
    const { engine, point } = setup([{ id: 'link', type: 'state', name: 'Link down', kind: 'availability', severity: 'major', match: { metric: 'ifOperStatus' }, firing: [2], states: { '1': 'up', '2': 'down' } }]);
    expect(engine.onPoint(point('sw-R1', 1, 'ifOperStatus'))).toEqual([]);
    expect(engine.onPoint(point('sw-R1', 2, 'ifOperStatus'))).toMatchObject([{ state: 'firing', summary: 'sw-R1 ifOperStatus is down' }]);
    expect(engine.onPoint(point('sw-R1', 1, 'ifOperStatus'))).toMatchObject([{ state: 'resolved' }]);
  });

  it('event match with field conditions, resolving after resolve_after', () => {
    const { clock, engine } = setup([{ id: 'ld', type: 'event', name: 'Link down trap', kind: 'availability', severity: 'major', match: { type: 'linkDown', where: { 'attributes.ifIndex': { above: 0 }, 'attributes.ifName': { regex: '^Gi' } } }, resolve_after: '2m' }]);
    expect(engine.onEvent({ device: 'sw-R1', ts: T0, type: 'linkDown', attributes: { ifIndex: 3, ifName: 'Te1/0/1' } })).toEqual([]);
    expect(engine.onEvent({ device: 'sw-R1', ts: T0, type: 'linkUp', attributes: { ifIndex: 3, ifName: 'Gi1/0/3' } })).toEqual([]);
    expect(engine.onEvent({ device: 'sw-R1', ts: T0, type: 'linkDown', attributes: { ifIndex: 3, ifName: 'Gi1/0/3' } })).toMatchObject([{ state: 'firing', labels: { device: 'sw-R1', event: 'linkDown' } }]);
    expect(engine.tick(clock.advance(119_000))).toEqual([]);
    expect(engine.tick(clock.advance(1_000))).toMatchObject([{ state: 'resolved' }]);
  });

  it('windowed count grouped by source: 5 failed logins from one address in 5 minutes', () => {
    const { clock, engine } = setup([{ id: 'bf', type: 'event', name: 'MQTT brute force', kind: 'security', severity: 'major', source: 'security', match: { type: 'bad_credentials' }, count: { min: 5, window: '5m', by: 'source' } }]);
    const fail = (source: string) => engine.onEvent({ ts: clock.now(), type: 'bad_credentials', origin: 'mqtt', source });
    for (let i = 0; i < 4; i++) {
      expect(fail('10.0.0.9')).toEqual([]);
      expect(fail(`10.0.1.${i}`)).toEqual([]);
      clock.advance(30_000);
    }
    expect(fail('10.0.0.9')).toMatchObject([{ state: 'firing', kind: 'security', value: 5, labels: { source: '10.0.0.9', origin: 'mqtt' } }]);
    clock.advance(10 * 60_000);
    // 4 spread over more than the window never reach 5 inside it.
    for (let i = 0; i < 6; i++) {
      expect(fail('10.0.0.7')).toEqual([]);
      clock.advance(2 * 60_000);
    }
  });

  it('time window in a zone: a door opened after hours alerts, during hours not', () => {
    const rule: RuleInput = { id: 'door', type: 'event', name: 'Door after hours', kind: 'security', severity: 'major', match: { type: 'door_open' }, schedule: { timezone: 'Asia/Ho_Chi_Minh', hours: '08:00-18:00', outside: true } };
    const { clock, engine } = setup([rule]);
    expect(engine.onEvent({ device: 'door-R1', ts: 0, type: 'door_open' })).toEqual([]); // Wed 10:00 local
    clock.set(Date.UTC(2024, 0, 3, 12, 30)); // Wed 19:30 local
    expect(engine.onEvent({ device: 'door-R1', ts: 0, type: 'door_open' })).toMatchObject([{ state: 'firing' }]);
    const s = loadRules([rule], 't')[0];
    if (s?.type !== 'event' || !s.schedule) throw new Error('bad rule');
    expect(inSchedule(s.schedule, Date.UTC(2024, 0, 6, 3, 0))).toBe(true); // Saturday 10:00 local: outside working days
    expect(inSchedule(s.schedule, Date.UTC(2024, 0, 3, 0, 59))).toBe(true); // Wed 07:59 local: before hours
    expect(inSchedule(s.schedule, Date.UTC(2024, 0, 3, 1, 0))).toBe(false); // Wed 08:00 local: working
  });

  it('aggregates: the mean of a row, and 3 sensors of one rack over a threshold', () => {
    const { engine, point } = setup([
      { id: 'row-mean', type: 'aggregate', name: 'Row mean', ...base, match: { metric: 'temperature' }, group_by: ['row'], fn: 'mean', when: { above: 27 } },
      { id: 'rack-hot', type: 'aggregate', name: 'Rack hot spots', ...base, severity: 'major', match: { metric: 'temperature' }, group_by: ['rack'], fn: 'count_above', of: 30, when: { above: 2.5 } },
    ]);
    expect(engine.onPoint(point('c-R2', 15))).toEqual([]);
    expect(engine.onPoint(point('a-R1', 31))).toEqual([]);
    expect(engine.onPoint(point('b-R1', 31))).toEqual([]);
    const fired = engine.onPoint(point('d-R1', 32));
    expect(fired.map((a) => [a.rule, a.rule === 'row-mean' ? a.labels.row : a.labels.rack, a.value])).toEqual([['row-mean', 'A', 27.25], ['rack-hot', 'R1', 3]]);
    expect(engine.onPoint(point('d-R1', 25)).map((a) => [a.rule, a.state])).toEqual([['row-mean', 'resolved'], ['rack-hot', 'resolved']]);
  });

  it('correlation: door, port up and unknown device on one rack within 5 minutes make one incident', () => {
    const { clock, engine } = setup([
      { id: 'door', type: 'event', name: 'Door open', kind: 'security', severity: 'minor', match: { type: 'door_open' } },
      { id: 'port-up', type: 'event', name: 'Port up', kind: 'availability', severity: 'info', match: { type: 'linkUp' } },
      { id: 'unknown', type: 'event', name: 'Unknown device', kind: 'security', severity: 'major', match: { type: 'unknown_device' } },
      { id: 'intrusion', type: 'correlation', name: 'Physical intrusion', severity: 'critical', rules: ['door', 'port-up', 'unknown'], by: 'rack', within: '5m' },
    ]);
    engine.onEvent({ device: 'door-B07', ts: 0, type: 'door_open' });
    clock.advance(60_000);
    engine.onEvent({ device: 'sw-B07', ts: 0, type: 'linkUp', attributes: { ifName: 'Gi1/0/7' } });
    engine.onEvent({ device: 'sw-C01', ts: 0, type: 'unknown_device' }); // another rack
    clock.advance(60_000);
    const changes = engine.onEvent({ device: 'sw-B07', ts: 0, type: 'unknown_device', attributes: { mac: '02:00:00:00:00:01' } });
    const incident = changes.find((a) => a.rule === 'intrusion');
    expect(incident).toMatchObject({ kind: 'security', severity: 'critical', labels: { rack: 'B07' } });
    const related = engine.alerts().filter((a) => a.rule !== 'intrusion' && a.labels.rack === 'B07').map((a) => a.id);
    expect([...(incident?.related ?? [])].sort()).toEqual(related.sort());
    expect(incident?.description).toContain('sw-B07');
  });
});

describe('noise control', () => {
  it('flapping: held as one alert, marked once on entry and resolved once on exit', () => {
    const { clock, engine, point } = setup([{ id: 't', type: 'threshold', name: 'T', ...base, match: { metric: 'temperature' }, when: { above: 27 } }]);
    const all: string[] = [];
    for (let i = 0; i < 30; i++) {
      for (const a of engine.onPoint(point('s-R1', i % 2 === 0 ? 28 : 26))) all.push(`${a.id}:${a.state}:${a.flapping}`);
      clock.advance(5_000);
    }
    const ids = new Set(all.map((l) => l.split(':')[0]));
    expect(ids.size).toBeLessThan(15); // not one alert per flap
    const flapping = engine.alerts({ state: 'firing' });
    expect(flapping).toMatchObject([{ flapping: true }]);
    const changesAfter: string[] = [];
    for (let i = 0; i < 25; i++) {
      for (const a of engine.onPoint(point('s-R1', 26))) changesAfter.push(`${a.state}:${a.flapping}`);
      clock.advance(5_000);
    }
    expect(changesAfter).toEqual(['resolved:true']);
  });

  it('dependencies: a PDU down marks its rack devices suppressed; they lose the mark when it is back', () => {
    const estate = new Estate(Inventory.parse({
      sites: [{ id: 'dc' , name: 'DC' }],
      rooms: [{ id: 'r1', site: 'dc', name: 'R1', width: 10, depth: 10 }],
      racks: [{ id: 'B07', room: 'r1', row: 'B', position: 7, x: 1, y: 1, facing: 'south' }],
      devices: [
        { id: 'rtr', kind: 'router', location: { room: 'r1', x: 5, y: 5 } },
        { id: 'pdu-b07', kind: 'pdu', location: { rack: 'B07', u: 1 } },
        { id: 'sw-b07', kind: 'switch', location: { rack: 'B07', u: 42 } },
        { id: 'srv-b07', kind: 'server', location: { rack: 'B07', u: 10 } },
      ],
    }));
    const tree = dependencyTree(estate);
    expect(tree('srv-b07')).toEqual(expect.arrayContaining(['pdu-b07', 'sw-b07', 'rtr']));
    const clock = new FakeClock(T0);
    const engine = new RuleEngine({
      rules: loadRules([{ id: 'off', type: 'nodata', name: 'Offline', severity: 'major', after: '1m' }], 't'), clock, tagsOf: (d) => estate.tagsOf(d), ancestorsOf: tree,
    });
    const hb = (device: string) => engine.onPoint({ device, metric: 'up', value: 1, ts: clock.now() });
    hb('srv-b07');
    hb('pdu-b07');
    const [srvDown] = engine.onStatus('srv-b07', 'offline', clock.now());
    expect(srvDown).toMatchObject({ suppressedBy: null });
    const changes = engine.onStatus('pdu-b07', 'offline', clock.now());
    const pduAlert = changes.find((a) => a.labels.device === 'pdu-b07');
    expect(changes.find((a) => a.labels.device === 'srv-b07')).toMatchObject({ state: 'firing', suppressedBy: pduAlert?.id });
    const back = engine.onStatus('pdu-b07', 'online', clock.now());
    expect(back.find((a) => a.labels.device === 'srv-b07')).toMatchObject({ state: 'firing', suppressedBy: null });
    expect(engine.onStatus('srv-b07', 'online', clock.now())).toMatchObject([{ state: 'resolved' }]);
  });

  it('silences by matchers and kind: door_open on B07 silenced while its temperature still alerts', () => {
    const silences = new SilenceBook();
    const { clock, engine, point } = setup([
      { id: 'door', type: 'event', name: 'Door', kind: 'security', severity: 'major', match: { type: 'door_open' } },
      { id: 'hot', type: 'threshold', name: 'Hot', ...base, match: { metric: 'temperature' }, when: { above: 27 } },
    ], { silences });
    silences.add({ matchers: [{ name: 'rack', value: 'B07', op: '=' }], kinds: ['security'], startsAt: T0, endsAt: T0 + 60_000, comment: 'maintenance' }, 'noc1', T0);
    const [door] = engine.onEvent({ device: 'door-B07', ts: 0, type: 'door_open' });
    const [hot] = engine.onPoint(point('s-B07', 30));
    expect(door?.silencedBy).toHaveLength(1);
    expect(hot?.silencedBy).toEqual([]);
    clock.set(T0 + 60_000);
    const ended = engine.tick(clock.now());
    expect(ended.find((a) => a.id === door?.id)).toMatchObject({ state: 'firing', silencedBy: [] });
  });
});
