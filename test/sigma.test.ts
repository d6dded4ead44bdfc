import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { LogLine } from '../core/index.ts';
import { builtinSigmaPath, compileSigma, loadMapping, parseCondition, readSigmaSources, SigmaEngine, type Detection } from '../rules/sigma/index.ts';
import { sampleLine } from '../cli/sigma-command.ts';

const REFERENCE_RULES = fileURLToPath(new URL('../../shared/reference/sigma', import.meta.url));
const REFERENCE_LOG = fileURLToPath(new URL('../../shared/reference/logs/linux-syslog-2k.log', import.meta.url));
const NETWORK_LOG = fileURLToPath(new URL('./fixtures/sigma/network.log', import.meta.url));

const line = (over: Partial<LogLine> = {}): LogLine => ({ ts: 0, host: 'web1', facility: 'auth', severity: 'info', program: 'sshd', message: '', fields: {}, ...over });

/** Compiles one rule from an object; fails the test with the reason when it does not load. */
function engineOf(rules: object[], opts: { maxGroups?: number } = {}): SigmaEngine {
  const { rules: compiled, errors } = compileSigma(rules.map((r, i) => ({ file: `case${i}.yml`, text: stringify(r) })));
  expect(errors).toEqual([]);
  return new SigmaEngine(compiled, opts);
}

const rule = (detection: object, extra: object = {}) => ({ title: 'case', id: 'c0ffee00-0000-4000-8000-000000000000', logsource: { product: 'linux' }, detection, level: 'low', ...extra });
const hits = (detection: object, l: Partial<LogLine>): boolean => engineOf([rule(detection)]).onLine(line(l), 0).length > 0;
const b64 = (s: string, enc: BufferEncoding = 'utf8') => Buffer.from(s, enc).toString('base64');

describe('Sigma rules from SigmaHQ', () => {
  it('every rule in the reference folder loads (none cannot)', () => {
    const { rules, errors, total } = compileSigma(readSigmaSources([REFERENCE_RULES]));
    expect(errors).toEqual([]);
    expect(total).toBe(22);
    expect(rules).toHaveLength(22);
  });
});

describe('Sigma values and modifiers', () => {
  const cases: [string, object, Partial<LogLine>, boolean][] = [
    ['equality is case-insensitive', { sel: { program: 'SSHD' }, condition: 'sel' }, { program: 'sshd' }, true],
    ['equality is not a substring', { sel: { program: 'ssh' }, condition: 'sel' }, { program: 'sshd' }, false],
    ['* wildcard', { sel: { program: 's*d' }, condition: 'sel' }, { program: 'sshd' }, true],
    ['* wildcard, no match', { sel: { program: 'x*' }, condition: 'sel' }, { program: 'sshd' }, false],
    ['? wildcard', { sel: { program: 'ss?d' }, condition: 'sel' }, { program: 'sshd' }, true],
    ['? is exactly one character', { sel: { program: 'ss?' }, condition: 'sel' }, { program: 'sshd' }, false],
    ['escaped \\* is a literal star', { sel: { user: 'a\\*b' }, condition: 'sel' }, { fields: { user: 'a*b' } }, true],
    ['escaped \\* does not match other text', { sel: { user: 'a\\*b' }, condition: 'sel' }, { fields: { user: 'axb' } }, false],
    ['a lone backslash is itself', { sel: { path: 'C:\\Windows' }, condition: 'sel' }, { fields: { path: 'c:\\windows' } }, true],
    ['contains', { sel: { 'message|contains': 'FAILED' }, condition: 'sel' }, { message: 'login failed now' }, true],
    ['startswith', { sel: { 'message|startswith': 'login' }, condition: 'sel' }, { message: 'login failed' }, true],
    ['startswith, not at the start', { sel: { 'message|startswith': 'failed' }, condition: 'sel' }, { message: 'login failed' }, false],
    ['endswith', { sel: { 'message|endswith': 'NOW' }, condition: 'sel' }, { message: 'login failed now' }, true],
    ['cased', { sel: { 'message|cased|contains': 'Failed' }, condition: 'sel' }, { message: 'login failed' }, false],
    ['cased, same case', { sel: { 'message|contains|cased': 'Failed' }, condition: 'sel' }, { message: 'login Failed' }, true],
    ['a list of values is OR', { sel: { program: ['su', 'sshd'] }, condition: 'sel' }, { program: 'sshd' }, true],
    ['all: every value', { sel: { 'message|contains|all': ['alpha', 'beta'] }, condition: 'sel' }, { message: 'beta then alpha' }, true],
    ['all: one missing', { sel: { 'message|contains|all': ['alpha', 'beta'] }, condition: 'sel' }, { message: 'alpha only' }, false],
    ['re is unanchored', { sel: { 'message|re': 'pass(word)? for \\w+' }, condition: 'sel' }, { message: 'Failed password for root' }, true],
    ['re is case-sensitive', { sel: { 'message|re': '^failed' }, condition: 'sel' }, { message: 'Failed password' }, false],
    ['re|i', { sel: { 'message|re|i': '^failed' }, condition: 'sel' }, { message: 'Failed password' }, true],
    ['re without s: dot stops at newline', { sel: { 'message|re': 'a.b' }, condition: 'sel' }, { message: 'a\nb' }, false],
    ['re|s: dot matches newline', { sel: { 'message|re|s': 'a.b' }, condition: 'sel' }, { message: 'a\nb' }, true],
    ['re|m: ^ at each line', { sel: { 'message|re|m': '^second' }, condition: 'sel' }, { message: 'first\nsecond' }, true],
    ['cidr v4 inside', { sel: { 'SourceIp|cidr': '10.0.0.0/8' }, condition: 'sel' }, { fields: { rhost: '10.1.2.3' } }, true],
    ['cidr v4 outside', { sel: { 'SourceIp|cidr': '10.0.0.0/8' }, condition: 'sel' }, { fields: { rhost: '11.0.0.1' } }, false],
    ['cidr v6', { sel: { 'SourceIp|cidr': ['192.168.0.0/16', '2001:db8::/32'] }, condition: 'sel' }, { fields: { rhost: '2001:db8::7' } }, true],
    ['cidr on a hostname', { sel: { 'SourceIp|cidr': '10.0.0.0/8' }, condition: 'sel' }, { fields: { rhost: 'host.example' } }, false],
    ['windash: slash for dash', { sel: { 'message|windash|contains': ' -exec' }, condition: 'sel' }, { message: 'find . /exec rm' }, true],
    ['windash: en dash for dash', { sel: { 'message|windash|contains': ' -exec' }, condition: 'sel' }, { message: 'find . \u2013exec rm' }, true],
    ['windash: not inside a word', { sel: { 'message|windash|contains': 'a-b' }, condition: 'sel' }, { message: 'a/b' }, false],
    ['base64', { sel: { 'message|base64|contains': 'whoami' }, condition: 'sel' }, { message: `echo ${b64('whoami')} | base64 -d` }, true],
    ['base64offset, offset 0', { sel: { 'message|base64offset|contains': 'http://' }, condition: 'sel' }, { message: b64('http://evil/x') }, true],
    ['base64offset, offset 1', { sel: { 'message|base64offset|contains': 'http://' }, condition: 'sel' }, { message: b64('ahttp://evil/x') }, true],
    ['base64offset, offset 2', { sel: { 'message|base64offset|contains': 'http://' }, condition: 'sel' }, { message: b64('abhttp://evil/x') }, true],
    // pySigma's documented expansion of http:// : aHR0cDovL, h0dHA6Ly, odHRwOi8v (case-sensitive, as base64 is).
    ['base64offset: pySigma variant 1', { sel: { 'message|base64offset|contains': 'http://' }, condition: 'sel' }, { message: 'x aHR0cDovL y' }, true],
    ['base64offset: pySigma variant 2', { sel: { 'message|base64offset|contains': 'http://' }, condition: 'sel' }, { message: 'x h0dHA6Ly y' }, true],
    ['base64offset: pySigma variant 3', { sel: { 'message|base64offset|contains': 'http://' }, condition: 'sel' }, { message: 'x odHRwOi8v y' }, true],
    ['base64offset is case-sensitive', { sel: { 'message|base64offset|contains': 'http://' }, condition: 'sel' }, { message: 'x AHR0CDOVL y' }, false],
    ['base64offset, absent', { sel: { 'message|base64offset|contains': 'http://' }, condition: 'sel' }, { message: b64('ftp://evil/x') }, false],
    ['wide|base64offset', { sel: { 'message|wide|base64offset|contains': 'ping' }, condition: 'sel' }, { message: b64('x ping 1.1.1.1', 'utf16le') }, true],
    ['exists: true', { sel: { 'token|exists': true }, condition: 'sel' }, { fields: { token: 'x' } }, true],
    ['exists: false', { sel: { 'token|exists': false }, condition: 'sel' }, { fields: { token: 'x' } }, false],
    ['gt', { sel: { 'bytes|gt': 1000 }, condition: 'sel' }, { fields: { bytes: 1001 } }, true],
    ['gt on the bound', { sel: { 'bytes|gt': 1000 }, condition: 'sel' }, { fields: { bytes: '1000' } }, false],
    ['gte', { sel: { 'bytes|gte': 1000 }, condition: 'sel' }, { fields: { bytes: '1000' } }, true],
    ['lt', { sel: { 'bytes|lt': 10 }, condition: 'sel' }, { fields: { bytes: 9 } }, true],
    ['lte, not a number', { sel: { 'bytes|lte': 10 }, condition: 'sel' }, { fields: { bytes: 'many' } }, false],
    ['null: field absent', { sel: { user: null }, condition: 'sel' }, { fields: {} }, true],
    ['null: field set', { sel: { user: null }, condition: 'sel' }, { fields: { user: 'bob' } }, false],
    ['number equals its text', { sel: { port: 22 }, condition: 'sel' }, { fields: { port: '22' } }, true],
    ['neq', { sel: { 'user|neq': ['root', 'admin'] }, condition: 'sel' }, { fields: { user: 'bob' } }, true],
    ['neq, one of them', { sel: { 'user|neq': ['root', 'admin'] }, condition: 'sel' }, { fields: { user: 'ROOT' } }, false],
    ['fieldref', { sel: { 'src|fieldref': 'dst' }, condition: 'sel' }, { fields: { src: '1.1.1.1', dst: '1.1.1.1' } }, true],
    ['fieldref, different', { sel: { 'src|fieldref': 'dst' }, condition: 'sel' }, { fields: { src: '1.1.1.1', dst: '2.2.2.2' } }, false],
    ['a map is AND', { sel: { program: 'sshd', 'message|contains': 'root' }, condition: 'sel' }, { program: 'sshd', message: 'user bob' }, false],
    ['a list of maps is OR', { sel: [{ program: 'su' }, { 'message|contains': 'root' }], condition: 'sel' }, { program: 'sshd', message: 'user root' }, true],
    ['keywords search the message', { kw: ['nothing', 'ROOT LOGIN'], condition: 'kw' }, { message: 'ROOT login on tty2' }, true],
    ['keywords do not search other fields', { kw: ['bob'], condition: 'kw' }, { message: 'x', fields: { user: 'bob' } }, false],
    ['keyword with a wildcard', { kw: ['accepted * for root'], condition: 'kw' }, { message: 'Accepted password for root from 1.2.3.4' }, true],
    ['keywords with |all', { kw: { '|all': ['new user', 'UID=0,'] }, condition: 'kw' }, { message: 'new user: name=x, UID=0, GID=0' }, true],
    ['mapped field: Hostname is the host', { sel: { Hostname: 'WEB1' }, condition: 'sel' }, { host: 'web1' }, true],
    ['mapped field: SourceIp extracted from the message', { sel: { SourceIp: '203.0.113.9' }, condition: 'sel' }, { message: 'Failed password for root from 203.0.113.9 port 22 ssh2' }, true],
  ];
  it.each(cases)('%s', (_name, detection, l, expected) => {
    expect(hits(detection, l)).toBe(expected);
  });

  it('refuses what it cannot run, with the reason', () => {
    const bad = (detection: object, extra: object = {}) => compileSigma([{ file: 'bad.yml', text: stringify(rule(detection, extra)) }]).errors.map((e) => e.reason);
    expect(bad({ sel: { 'message|soundex': 'x' }, condition: 'sel' })).toEqual(['selection sel: unsupported modifier "soundex"']);
    expect(bad({ sel: { 'message|expand': '%admins%' }, condition: 'sel' })[0]).toMatch(/^selection sel: unsupported modifier "expand"/);
    expect(bad({ sel: { 'message|i': 'x' }, condition: 'sel' })).toEqual(['selection sel: modifier "i" is a flag of re and needs it']);
    expect(bad({ sel: { 'message|re': '(unclosed' }, condition: 'sel' })[0]).toMatch(/^selection sel: invalid regular expression/);
    expect(bad({ sel: { 'message|re': '(a)\\1' }, condition: 'sel' })[0]).toMatch(/invalid regular expression/); // backreferences: RE2 refuses them
    expect(bad({ sel: { 'src|cidr': '10.0.0.0/40' }, condition: 'sel' })).toEqual(['selection sel: not a CIDR network: 10.0.0.0/40']);
    expect(bad({ sel: { 'n|gt': 'many' }, condition: 'sel' })).toEqual(['selection sel: gt needs a number, got many']);
    expect(bad({ sel: { program: 'x' }, condition: 'sel | count() > 5' })[0]).toMatch(/correlation rule/);
    expect(bad({ sel: { program: 'x' }, condition: 'sel' }, { logsource: { product: 'windows' } })[0]).toMatch(/^no mapping for logsource product: windows/);
    expect(bad({ sel: { program: 'x' }, condition: 'sel' }, { level: 'severe' })[0]).toMatch(/^level "severe"/);
    expect(bad({ sel: { program: 'x' } })).toEqual(['detection has no condition']);
    const twice = compileSigma(['a.yml', 'b.yml'].map((file) => ({ file, text: stringify(rule({ sel: { program: 'x' }, condition: 'sel' })) })));
    expect([twice.rules.length, twice.errors]).toEqual([1, [{ file: 'b.yml', rule: 'case', reason: 'duplicate id c0ffee00-0000-4000-8000-000000000000 (first in a.yml)' }]]);
    expect(compileSigma([{ file: 'x.yml', text: 'title: [unclosed' }]).errors[0]?.reason).toMatch(/^not YAML/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    expect(compileSigma([{ file: 'bomb.yml', text: bomb }]).errors[0]?.reason).toMatch(/^not YAML/);
  });
});

describe('Sigma conditions', () => {
  const sel = (word: string) => ({ 'message|contains': word });
  const detection = { sel_a: sel('alpha'), sel_b: sel('beta'), other: sel('gamma'), _hidden: sel('delta') };
  const cases: [string, string, boolean][] = [
    ['sel_a and sel_b', 'alpha beta', true],
    ['sel_a and sel_b', 'alpha', false],
    ['sel_a or sel_b', 'beta', true],
    ['not sel_a', 'beta', true],
    ['not sel_a', 'alpha', false],
    ['sel_a and not sel_b', 'alpha beta', false],
    ['(sel_a or sel_b) and other', 'beta gamma', true],
    ['(sel_a or sel_b) and other', 'gamma', false],
    ['not (sel_a or sel_b)', 'gamma', true],
    ['sel_a or sel_b and other', 'alpha', true], // and binds tighter than or
    ['not sel_a and sel_b', 'beta', true], // not binds tighter than and
    ['NOT sel_a AND sel_b', 'alpha beta', false], // keywords in any case
    ['1 of sel_*', 'beta', true],
    ['1 of sel_*', 'gamma', false],
    ['all of sel_*', 'alpha beta', true],
    ['all of sel_*', 'alpha gamma', false],
    ['any of sel_*', 'alpha', true],
    ['2 of them', 'alpha gamma', true],
    ['1 of them', 'delta', false], // them leaves out _-names
    ['all of them', 'alpha beta gamma', true],
    ['all of them and not _hidden', 'alpha beta gamma delta', false],
  ];
  it.each(cases)('%s on "%s"', (condition, message, expected) => {
    expect(hits({ ...detection, condition }, { message })).toBe(expected);
  });

  it('a list of conditions is their OR (Sigma 1)', () => {
    expect(hits({ ...detection, condition: ['sel_a and sel_b', 'other'] }, { message: 'gamma' })).toBe(true);
  });

  it.each([
    ['sel_a and', 'condition ends too early'],
    ['sel_a sel_b', 'unexpected "sel_b" in condition'],
    ['(sel_a or sel_b', 'missing ")" in condition'],
    ['sel_c', 'condition names "sel_c", which is not a selection'],
    ['1 of nothing_*', '"1 of nothing_*" matches no selection'],
    ['three of them', '"three of": expected 1, any, all or a number'],
    ['sel_a | count() by src > 3', 'aggregation in the condition (|) is Sigma 1 and removed in v2: write a correlation rule'],
  ])('rejects "%s"', (condition, reason) => {
    expect(() => parseCondition(condition, Object.keys(detection))).toThrow(reason);
  });
});

const failure = { title: 'ssh failure', id: 'aaaaaaaa-0000-4000-8000-000000000001', name: 'fail', logsource: { product: 'linux', service: 'sshd' }, detection: { kw: ['Failed password'], condition: 'kw' }, level: 'low' };
const success = { title: 'ssh success', id: 'aaaaaaaa-0000-4000-8000-000000000002', name: 'ok', logsource: { product: 'linux', service: 'sshd' }, detection: { kw: ['Accepted password'], condition: 'kw' }, level: 'low' };
const corr = (correlation: object) => ({ title: 'corr', id: 'bbbbbbbb-0000-4000-8000-000000000001', correlation, level: 'high', tags: ['attack.credential_access', 'attack.t1110.001'] });
const failed = (ip: string, user = 'root') => line({ message: `Failed password for ${user} from ${ip} port 22 ssh2` });
const accepted = (ip: string) => line({ message: `Accepted password for root from ${ip} port 22 ssh2` });

/** Feeds lines at the given seconds on a fake clock; returns the detections of the correlation. */
function feed(engine: SigmaEngine, events: [number, LogLine][]): Detection[] {
  return events.flatMap(([s, l]) => engine.onLine({ ...l, ts: s * 1000 }, s * 1000)).filter((d) => d.kind === 'correlation');
}

describe('Sigma correlations over a stream, with the clock passed in', () => {
  const countRule = corr({ type: 'event_count', rules: ['fail'], 'group-by': ['SourceIp'], timespan: '1m', condition: { gte: 3 } });

  it('event_count fires on the third failure within the timespan, naming the source, with the lines as evidence', () => {
    const e = engineOf([failure, countRule]);
    const out = feed(e, [[0, failed('198.51.100.7')], [20, failed('198.51.100.7')], [40, failed('198.51.100.7')]]);
    expect(out).toHaveLength(1);
    const d = out[0] as Detection;
    expect(d).toMatchObject({ ruleId: 'bbbbbbbb-0000-4000-8000-000000000001', level: 'high', attack: ['T1110.001'], groupBy: { SourceIp: '198.51.100.7' }, entities: { source: '198.51.100.7', user: 'root', host: 'web1' }, ts: 40_000, count: 3 });
    expect(d.lines.map((l) => l.ts)).toEqual([0, 20_000, 40_000]);
  });

  it('event_count does not fire when the same failures are spread beyond the timespan', () => {
    const e = engineOf([failure, countRule]);
    expect(feed(e, [[0, failed('198.51.100.7')], [35, failed('198.51.100.7')], [70, failed('198.51.100.7')], [105, failed('198.51.100.7')]])).toEqual([]);
  });

  it('event_count counts each source apart, and the base rule alone reports nothing', () => {
    const e = engineOf([failure, countRule]);
    const all = [[0, failed('198.51.100.1')], [1, failed('198.51.100.2')], [2, failed('198.51.100.1')], [3, failed('198.51.100.2')]] as [number, LogLine][];
    expect(all.flatMap(([s, l]) => e.onLine(l, s * 1000))).toEqual([]);
  });

  it('after firing, a group stays quiet for one timespan (one alert per burst)', () => {
    const e = engineOf([failure, countRule]);
    const burst = Array.from({ length: 9 }, (_, i) => [i, failed('198.51.100.7')] as [number, LogLine]);
    expect(feed(e, burst)).toHaveLength(1);
    expect(feed(e, [[70, failed('198.51.100.7')], [71, failed('198.51.100.7')], [72, failed('198.51.100.7')]])).toHaveLength(1);
  });

  it('value_count fires on the third distinct user from one source', () => {
    const e = engineOf([failure, corr({ type: 'value_count', rules: ['fail'], 'group-by': ['SourceIp'], timespan: '5m', condition: { field: 'User', gt: 2 } })]);
    expect(feed(e, [[0, failed('198.51.100.7', 'root')], [1, failed('198.51.100.7', 'root')], [2, failed('198.51.100.7', 'admin')]])).toEqual([]);
    const out = feed(e, [[3, failed('198.51.100.7', 'oracle')]]);
    expect(out).toHaveLength(1);
    expect(out[0]?.count).toBe(3);
  });

  it('temporal: both rules from one source within the timespan, in any order', () => {
    const rule = corr({ type: 'temporal', rules: ['fail', 'ok'], 'group-by': ['SourceIp'], timespan: '10m' });
    expect(feed(engineOf([failure, success, rule]), [[0, accepted('198.51.100.7')], [60, failed('198.51.100.7')]])).toHaveLength(1);
    expect(feed(engineOf([failure, success, rule]), [[0, accepted('198.51.100.7')], [601, failed('198.51.100.7')]])).toEqual([]);
    expect(feed(engineOf([failure, success, rule]), [[0, accepted('198.51.100.7')], [60, failed('198.51.100.8')]])).toEqual([]);
  });

  it('temporal_ordered: a failure then a success fires, a success then a failure does not', () => {
    const rule = corr({ type: 'temporal_ordered', rules: ['fail', 'ok'], 'group-by': ['SourceIp'], timespan: '10m' });
    expect(feed(engineOf([failure, success, rule]), [[0, failed('198.51.100.7')], [60, accepted('198.51.100.7')]])).toHaveLength(1);
    expect(feed(engineOf([failure, success, rule]), [[0, accepted('198.51.100.7')], [60, failed('198.51.100.7')]])).toEqual([]);
  });

  it('a correlation over a correlation: brute force, then a success from the same source', () => {
    const brute = { ...corr({ type: 'event_count', rules: ['fail'], 'group-by': ['SourceIp'], timespan: '1m', condition: { gte: 3 } }), name: 'brute' };
    const chain = { title: 'chain', id: 'bbbbbbbb-0000-4000-8000-000000000002', correlation: { type: 'temporal_ordered', rules: ['brute', 'ok'], 'group-by': ['SourceIp'], timespan: '1h' }, level: 'critical' };
    const out = feed(engineOf([failure, success, brute, chain]), [[0, failed('198.51.100.7')], [1, failed('198.51.100.7')], [2, failed('198.51.100.7')], [300, accepted('198.51.100.7')]]);
    expect(out.map((d) => d.title)).toEqual(['chain']); // brute is only a step of chain (no generate)
    expect(out[0]?.groupBy).toEqual({ SourceIp: '198.51.100.7' });
  });

  it('an upper bound (lte) is judged when the window closes, on tick', () => {
    const e = engineOf([failure, corr({ type: 'event_count', rules: ['fail'], 'group-by': ['SourceIp'], timespan: '1m', condition: { gte: 1, lte: 2 } })]);
    expect(feed(e, [[0, failed('198.51.100.7')], [10, failed('198.51.100.7')]])).toEqual([]);
    expect(e.tick(59_000)).toEqual([]);
    expect(e.tick(60_000).map((d) => d.count)).toEqual([2]);
  });

  it('keeps at most maxGroups groups and counts what it dropped', () => {
    const e = engineOf([failure, countRule], { maxGroups: 10 });
    feed(e, Array.from({ length: 100 }, (_, i) => [i / 100, failed(`198.51.100.${i}`)] as [number, LogLine]));
    expect(e.evictedGroups()).toEqual({ 'bbbbbbbb-0000-4000-8000-000000000001': 90 });
  });
});

describe('the field-mapping pipeline', () => {
  it('refuses a pipeline file that names a path a log line does not have, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-sigma-map-'));
    const file = join(dir, 'mapping.yaml');
    writeFileSync(file, 'logsources:\n  - logsource: { product: x }\n    when: { nosuch: 1 }\n');
    expect(() => loadMapping(file)).toThrow(/mapping\.yaml.*unknown log line path nosuch/s);
    writeFileSync(file, 'logsources: []\nfields: [{ sigma: [], log: [host] }]\n');
    expect(() => loadMapping(file)).toThrow(/mapping\.yaml/);
  });

  it('a custom pipeline changes what a rule sees', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-sigma-map-'));
    const file = join(dir, 'mapping.yaml');
    writeFileSync(file, 'logsources:\n  - logsource: { product: acme }\n    when: { program: acmed }\nfields:\n  - sigma: [Who]\n    log: [fields.operator]\n');
    const mapping = loadMapping(file);
    const { rules, errors } = compileSigma([{ file: 'r.yml', text: stringify({ title: 'acme', logsource: { product: 'acme' }, detection: { sel: { Who: 'eve' }, condition: 'sel' } }) }], { mapping });
    expect(errors).toEqual([]);
    const engine = new SigmaEngine(rules, { mapping });
    expect(engine.onLine(line({ program: 'acmed', fields: { operator: 'Eve' } }), 0)).toHaveLength(1);
    expect(engine.onLine(line({ program: 'sshd', fields: { operator: 'Eve' } }), 0)).toEqual([]);
  });
});

describe('sample lines for rules test --sigma', () => {
  it('reads NDJSON of the LogLine shape, and raw syslog through the syslog parser', () => {
    expect(sampleLine('{"ts":5,"host":"fw1","program":"sshd","message":"Failed password for root from 192.0.2.1 port 1 ssh2","fields":{"a":1}}')).toEqual({ ts: 5, host: 'fw1', facility: 'user', severity: 'notice', program: 'sshd', message: 'Failed password for root from 192.0.2.1 port 1 ssh2', fields: { a: 1 } });
    expect(sampleLine('<38>Dec  1 22:21:00 web1 sshd[4242]: Accepted password for root from 203.0.113.9 port 51022 ssh2')).toMatchObject({ host: 'web1', program: 'sshd', pid: 4242, facility: 'auth', severity: 'info' });
    expect(() => sampleLine('{"host":"x"}')).toThrow('a JSON sample line needs at least "message"');
  });
});

describe('the built-in Sigma pack', () => {
  const builtin = () => {
    const { rules, errors } = compileSigma(readSigmaSources([builtinSigmaPath]));
    expect(errors).toEqual([]);
    return new SigmaEngine(rules);
  };
  const replay = (engine: SigmaEngine, raw: string[]) => raw.filter((r) => r.trim()).flatMap((r) => {
    const l = sampleLine(r);
    return engine.onLine(l, l.claimedTs ?? l.ts);
  });
  const BRUTE = 'b5e9633b-1771-4533-a52b-002a235078d9';

  it('finds the sshd brute force in the real Linux log and names the source address', () => {
    const raw = readFileSync(REFERENCE_LOG, 'utf8').split('\n');
    const found = replay(builtin(), raw).filter((d) => d.ruleId === BRUTE);
    const first = found[0] as Detection;
    expect(first.entities).toMatchObject({ source: '220-135-151-1.hinet-ip.hinet.net', host: 'combo' });
    expect(first.groupBy).toEqual({ SourceIp: '220-135-151-1.hinet-ip.hinet.net' });
    expect(first.lines).toHaveLength(5);
    // The evidence is the real lines of the log, not a summary of them.
    for (const l of first.lines) expect(raw.some((r) => r.startsWith(`Jun 15 02:04:59 combo sshd(pam_unix)[${l.pid}]: `) && r.includes(l.message.trim()))).toBe(true);
    expect(first.attack).toEqual(['T1110', 'T1110.001']);
    expect(new Set(found.map((d) => d.entities.source))).toContain('150.183.249.110');
  });

  it('does not fire on a single failure, nor on two', () => {
    const raw = readFileSync(REFERENCE_LOG, 'utf8').split('\n');
    expect(replay(builtin(), [raw[0] as string])).toEqual([]);
    expect(replay(builtin(), raw.slice(0, 3))).toEqual([]); // two failures from 218.188.2.4 and a "check pass"
  });

  it('password spraying against one host, and a success after a brute force from the same source', () => {
    const engine = builtin();
    const at = (s: number, host: string, msg: string) => engine.onLine(line({ ts: s * 1000, host, program: 'sshd', message: msg }), s * 1000);
    const spray = [1, 2, 3, 4, 5].flatMap((i) => at(i * 10, 'db1', `Failed password for invalid user test from 192.0.2.${i} port 4022 ssh2`));
    expect(spray.map((d) => [d.title, d.groupBy])).toEqual([['SSH Password Spraying Against One Host', { Hostname: 'db1' }]]);
    const brute = [100, 101, 102, 103, 104].flatMap((s) => at(s, 'web2', 'Failed password for root from 198.51.100.23 port 5000 ssh2'));
    expect(brute.map((d) => d.title)).toEqual(['SSH Brute Force From One Source']);
    const success = at(400, 'web2', 'Accepted password for root from 198.51.100.23 port 5001 ssh2').map((d) => [d.level, d.title]);
    expect(success).toContainEqual(['critical', 'SSH Login Succeeds After Brute Force From The Same Source']);
    expect(at(500, 'web2', 'Accepted password for alice from 203.0.113.50 port 5001 ssh2').map((d) => d.level)).not.toContain('critical');
  });

  it('a firewall deny storm from one source fires at the fiftieth deny within a minute, not before', () => {
    const engine = builtin();
    const deny = (i: number) =>
      sampleLine(`<189>date=2026-12-01 time=22:30:${String(i % 60).padStart(2, '0')} devname="FGT60E-EDGE" devid="FGT60ETK19000001" logid="0000000013" type="traffic" subtype="forward" srcip=203.0.113.66 srcport=${40000 + i} dstip=10.20.0.9 dstport=${i + 1} proto=6 action="deny" policyid=0`);
    const out = Array.from({ length: 50 }, (_, i) => engine.onLine(deny(i), i * 1000));
    expect(out.slice(0, 49).flat()).toEqual([]);
    expect(out[49]?.map((d) => [d.title, d.entities.source, d.lines.length])).toEqual([['Firewall Deny Storm From One Source', '203.0.113.66', 50]]);
  });

  it('fires each network and host rule on its sample line', () => {
    const found = replay(builtin(), readFileSync(NETWORK_LOG, 'utf8').split('\n'));
    const by = (title: string) => found.find((d) => d.title === title);
    expect(by('Cisco Configuration Changed')?.entities).toEqual({ host: 'core-sw1', user: 'admin', source: '10.20.0.5' });
    expect(by('Cisco Port Security Violation')?.level).toBe('high');
    expect(by('Cisco Link Flapping')?.groupBy).toEqual({ Hostname: 'core-sw1', Interface: 'GigabitEthernet1/0/24' });
    expect(by('FortiGate Administrator Account Created')?.entities.user).toBe('admin');
    expect(by('Root Login Over SSH')?.entities).toMatchObject({ source: '203.0.113.9', user: 'root' });
    expect(by('New Local User Or Group Created')?.entities.user).toBe('svc-update');
    expect(by('Su Or Sudo Authentication Failure')?.entities.user).toBe('root');
    expect(by('System Log Cleared Or Logging Stopped')?.attack).toContain('T1070.002');
    expect(found.filter((d) => d.title === 'Cisco Link Flapping')).toHaveLength(1); // Gi1/0/3 went down once: no flap
  });
});
