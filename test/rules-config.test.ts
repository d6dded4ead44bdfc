import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, Estate, FakeClock, Inventory } from '../core/index.ts';
import { builtinRulesPath, loadRules, loadRulesFile, parseDuration, RuleEngine } from '../rules/index.ts';

/** The ConfigError lines a bad rule list produces. */
function problems(raw: unknown): string[] {
  try {
    loadRules(raw, 'rules.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).file).toBe('rules.yaml');
    return (err as ConfigError).issues;
  }
  throw new Error('expected the rules to be refused');
}

const good = { id: 'cold-aisle-warm', type: 'threshold', name: 'Warm', kind: 'environment', severity: 'warning', match: { metric: 'temperature' }, when: { above: 27 } };

describe('loadRules', () => {
  it('reads `{rules: [...]}` and the bare list alike, durations in milliseconds', () => {
    const rules = loadRules({ rules: [{ ...good, for: '30s' }] }, 'x');
    expect(rules).toEqual(loadRules([{ ...good, for: '30s' }], 'x'));
    expect(rules[0]).toMatchObject({ for: 30_000 });
    expect(loadRules([good], 'x')[0]).toMatchObject({ for: 0 });
  });

  it.each([
    ['30s', 30_000], ['250ms', 250], ['1.5m', 90_000], ['2h', 7_200_000], ['30', undefined], ['s', undefined], ['-5s', undefined],
  ])('parseDuration(%j) = %j', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each<[string, unknown, string[]]>([
    ['a bad duration', [good, { ...good, id: 'x' }, { ...good, id: 'cold-aisle-hot', for: '30 seconds' }], ['rules.2 (cold-aisle-hot).for: expected a duration like "30s"']],
    ['a duration given as a number', [{ ...good, for: 30 }], ['rules.0 (cold-aisle-warm).for: expected a duration like "30s"']],
    ['an unknown type', [{ ...good, type: 'sigmoid' }], ["rules.0 (cold-aisle-warm).type: Invalid discriminator value. Expected 'threshold' | 'nodata' | 'rate' | 'state' | 'event' | 'aggregate' | 'correlation' | 'sigma'"]],
    ['a misspelt field', [{ ...good, fro: '30s' }], ['rules.0 (cold-aisle-warm): Unrecognized key: "fro"']],
    ['no threshold', [{ ...good, when: {} }], ['rules.0 (cold-aisle-warm).when: give "above", "below" or both']],
    ['an inside-out band', [{ ...good, when: { above: 20, below: 80 } }], ['rules.0 (cold-aisle-warm).when: "below" (80) must be less than "above" (20), or every value would fire']],
    ['a clear line past the threshold', [{ ...good, clear: { below: 28 } }], ['rules.0 (cold-aisle-warm).clear.below: must not exceed when.above (27): it would clear a value that still breaches']],
    ['a clear line for a side not watched', [{ ...good, clear: { above: 10 } }], ['rules.0 (cold-aisle-warm).clear.above: only applies with "when.below"']],
    ['a bad severity, a rule without an id', [{ ...good, severity: 'urgent' }, { ...good, id: undefined }], [
      'rules.0 (cold-aisle-warm).severity: Invalid option: expected one of "critical"|"major"|"minor"|"warning"|"info"',
      'rules.1.id: Invalid input: expected string, received undefined',
    ]],
    ['a duplicate id', [good, good], ['rules.1 (cold-aisle-warm).id: duplicate rule id "cold-aisle-warm"']],
    ['a nodata rule that never waits', [{ id: 'off', type: 'nodata', name: 'Off', severity: 'major', after: '0s' }], ['rules.0 (off).after: must be longer than 0s']],
    ['not a list', { rules: 'all of them' }, ['rules: Invalid input: expected array, received string']],
  ])('refuses %s, naming the rule and the field', (_name, raw, lines) => {
    expect(problems(raw)).toEqual(lines);
  });

  it('names the file and the line of a YAML syntax error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-rules-'));
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, 'rules:\n  - id: x\n   type: [\n');
    expect(() => loadRulesFile(file)).toThrow(ConfigError);
    expect(() => loadRulesFile(file)).toThrow(file);
  });
});

describe('built-in rules (config/rules.yaml)', () => {
  const inventory = Inventory.parse({
    sites: [{ id: 'dc1', name: 'DC 1' }],
    rooms: [{ id: 'room1', site: 'dc1', name: 'Server room', width: 10, depth: 8 }],
    racks: [{ id: 'R01', room: 'room1', row: 'A', position: 1, x: 1, y: 1, facing: 'south' }],
    devices: [
      { id: 'th-r01-front', kind: 'sensor', sensorType: 'temperature-humidity', location: { rack: 'R01', position: 'front-middle' } },
      { id: 'th-r01-rear', kind: 'sensor', sensorType: 'temperature-humidity', location: { rack: 'R01', position: 'rear' } },
      { id: 'san1', kind: 'storage', location: { rack: 'R01', u: 1 } },
      { id: 'host1', kind: 'host', location: { site: 'dc1', area: 'cloud' }, parents: ['san1'] },
      { id: 'vm1', kind: 'vm', location: { site: 'dc1', area: 'cloud' }, parents: ['host1'] },
    ],
  });

  function engine() {
    const estate = new Estate(inventory);
    const clock = new FakeClock(1_000_000);
    const rules = new RuleEngine({ rules: loadRulesFile(builtinRulesPath), clock, tagsOf: (d) => estate.tagsOf(d) });
    const feed = (device: string, metric: string, value: number, seconds: number): string[] => {
      const fired: string[] = [];
      for (let s = 0; s <= seconds; s += 5) {
        clock.set(1_000_000 + s * 1000);
        for (const a of rules.onPoint({ device, metric, value, ts: clock.now(), tags: estate.tagsOf(device) })) fired.push(`${a.rule}:${a.severity}:${a.state}`);
      }
      return fired;
    };
    return { rules, feed };
  }

  it('loads', () => {
    expect(loadRulesFile(builtinRulesPath).map((r) => r.id)).toEqual([
      'cold-aisle-warm', 'cold-aisle-hot', 'humidity-out-of-range', 'device-offline', 'rack-hot-spot', 'row-cold-aisle-warm', 'inlet-rising-fast',
      'ups-on-battery', 'ups-on-battery-trap', 'ups-low-runtime', 'pdu-load-high', 'pdu-phase-near-overload', 'pdu-phase-overload', 'crac-stopped', 'smoke-detected', 'link-down', 'link-down-polled',
      'port-up', 'reboot-detected', 'host-cpu-high', 'disk-space-low', 'disk-space-critical', 'series-limit-reached', 'snmp-auth-failures', 'mqtt-brute-force', 'http-login-brute-force', 'http-login-account-attack', 'unknown-device', 'sigma', 'door-open-after-hours', 'door-open', 'rack-intrusion',
      'agent-disk-nearly-full', 'agent-cpu-saturated', 'agent-memory-exhausted', 'agent-host-down', 'agent-pc-offline',
    ]);
  });

  it('a cold-aisle 33 °C held half a minute fires both warning and critical', () => {
    const { rules, feed } = engine();
    expect(feed('th-r01-front', 'temperature', 33, 30).sort()).toEqual(['cold-aisle-hot:critical:firing', 'cold-aisle-warm:warning:firing']);
    expect(rules.alerts({ severity: 'critical' })[0]?.summary).toBe('th-r01-front inlet 33 °C above 32 °C (rack R01)');
  });

  it('a hot-aisle 40 °C fires nothing: the rear of a rack is meant to be hot', () => {
    const { rules, feed } = engine();
    expect(feed('th-r01-rear', 'temperature', 40, 120)).toEqual([]);
    expect(rules.alerts()).toEqual([]);
  });

  it('cold-aisle humidity outside 20-80 % fires after a minute', () => {
    const { feed } = engine();
    expect(feed('th-r01-front', 'humidity', 85, 60)).toEqual(['humidity-out-of-range:warning:firing']);
  });

  it('a host or VM above 90 % CPU for 10 minutes is a warning; nine minutes, or a storage array\'s controllers, are not', () => {
    expect(engine().feed('host1', 'cpu_load_pct', 95, 9 * 60)).toEqual([]);
    expect(engine().feed('san1', 'cpu_load_pct', 99, 20 * 60)).toEqual([]);
    for (const device of ['host1', 'vm1']) expect(engine().feed(device, 'cpu_load_pct', 95, 10 * 60), device).toEqual(['host-cpu-high:warning:firing']);
    const { rules, feed } = engine();
    feed('vm1', 'cpu_load_pct', 92.5, 10 * 60);
    expect(rules.alerts()[0]?.summary).toBe('vm1 CPU 92.5 % for 10m');
  });

  it('a disk or storage pool above 85 % for 5 minutes is a warning, on any kind of device', () => {
    expect(engine().feed('san1', 'storage_used_max_pct', 84.9, 30 * 60)).toEqual([]);
    for (const device of ['san1', 'host1', 'vm1']) expect(engine().feed(device, 'storage_used_max_pct', 91, 5 * 60), device).toEqual(['disk-space-low:warning:firing']);
    const { rules, feed } = engine();
    feed('san1', 'storage_used_max_pct', 91.25, 5 * 60);
    expect(rules.alerts()[0]?.summary).toBe('san1 fullest disk 91.25 % used (above 85 %)');
  });

  it('a disk or storage pool above 95 % for 2 minutes is major as well, and only the major clears when it drops to 90 %', () => {
    expect(engine().feed('vm1', 'storage_used_max_pct', 94.9, 30 * 60)).toEqual(['disk-space-low:warning:firing']);
    const { rules, feed } = engine();
    expect(feed('vm1', 'storage_used_max_pct', 96.25, 5 * 60).sort()).toEqual(['disk-space-critical:major:firing', 'disk-space-low:warning:firing']);
    expect(rules.alerts({ severity: 'major' })[0]?.summary).toBe('vm1 fullest disk 96.25 % used (above 95 %): nearly full');
    expect(feed('vm1', 'storage_used_max_pct', 90, 60)).toEqual(['disk-space-critical:major:resolved']);
  });
});
