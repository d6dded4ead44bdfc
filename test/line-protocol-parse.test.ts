import { describe, expect, it } from 'vitest';
import { FieldTypeBook, hostMatcher, LineProtocolCollector, metricOf, parseLineProtocol, parsePrecision, DEFAULT_INSTANCE_TAGS, type FieldValue } from '../collectors/index.ts';
import { Estate, Inventory, silentLogger, systemClock } from '../core/index.ts';

const NOW = 1_700_000_000_000;
const f = (value: number): FieldValue => ({ type: 'float', value });

/** The InfluxDB line protocol reference's cases (v1.8 "Line protocol reference", "Special characters"): line -> point or reason. */
const CASES: { line: string; measurement?: string; tags?: Record<string, string>; fields?: Record<string, FieldValue>; ts?: number; reason?: string }[] = [
  { line: 'weather,location=us-midwest temperature=82 1465839830100400200', measurement: 'weather', tags: { location: 'us-midwest' }, fields: { temperature: f(82) }, ts: 1465839830100 },
  { line: 'weather temperature=82', measurement: 'weather', tags: {}, fields: { temperature: f(82) }, ts: NOW },
  { line: 'weather temperature=82i 1', fields: { temperature: { type: 'integer', value: 82 } }, ts: 0 },
  { line: 'weather temperature=82u', fields: { temperature: { type: 'unsigned', value: 82 } } },
  { line: 'weather a=t,b=T,c=true,d=True,e=TRUE,g=f,h=F,i=false,j=False,k=FALSE', fields: Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'g', 'h', 'i', 'j', 'k'].map((k, i) => [k, { type: 'boolean', value: i < 5 }])) },
  { line: 'weather,location=us-midwest temperature="too warm"', fields: { temperature: { type: 'string', value: 'too warm' } } },
  { line: 'weather temperature="too\\"hot\\"",x="a\\\\b"', fields: { temperature: { type: 'string', value: 'too"hot"' }, x: { type: 'string', value: 'a\\b' } } },
  { line: 'wea\\,ther,loc\\ ation=us\\,mid\\=west temp\\=rature=82', measurement: 'wea,ther', tags: { 'loc ation': 'us,mid=west' }, fields: { 'temp=rature': f(82) } },
  { line: 'wea\\ ther temp=-1.5e3', measurement: 'wea ther', fields: { temp: f(-1500) } },
  // A backslash before anything else is kept as it is (the spec: "all other special characters need no escaping").
  { line: 'we\\ather,t=a\\b v=1', measurement: 'we\\ather', tags: { t: 'a\\b' } },
  { line: 'cpu v=1 -1', ts: -1 },
  { line: 'cpu v=1 1465839830100400200', ts: 1465839830100 },
  // Errors, in InfluxDB 1.x's words.
  { line: 'cpu', reason: 'missing fields' },
  { line: 'cpu ', reason: 'missing fields' },
  { line: 'cpu v=', reason: 'missing field value' },
  { line: 'cpu v', reason: 'invalid field format' },
  { line: 'cpu,host v=1', reason: 'missing tag value' },
  { line: 'cpu,host= v=1', reason: 'missing tag value' },
  { line: ',host=a v=1', reason: 'missing measurement' },
  { line: 'cpu v=tru', reason: 'invalid boolean' },
  { line: 'cpu v=1.2.3', reason: 'invalid number' },
  { line: 'cpu v="open', reason: 'unbalanced quotes' },
  { line: 'cpu v=1 12x', reason: 'bad timestamp' },
  { line: 'cpu v=1 1 2', reason: 'invalid timestamp' },
  { line: 'cpu v=1 99999999999999999999', reason: 'strconv.ParseInt: parsing "99999999999999999999": value out of range' },
  { line: 'cpu v=99999999999999999999i', reason: 'unable to parse integer 99999999999999999999: strconv.ParseInt: parsing "99999999999999999999": value out of range' },
  { line: 'cpu v=-1u', reason: 'invalid number' },
];

describe('line protocol parser: the spec cases', () => {
  for (const c of CASES) {
    it(JSON.stringify(c.line), () => {
      const { points, errors } = parseLineProtocol(c.line, 'ns', NOW);
      if (c.reason !== undefined) {
        expect(points).toEqual([]);
        expect(errors).toEqual([{ line: 1, text: c.line.trimStart(), reason: c.reason }]);
        return;
      }
      expect(errors).toEqual([]);
      expect(points).toHaveLength(1);
      const p = points[0];
      if (c.measurement !== undefined) expect(p?.measurement).toBe(c.measurement);
      if (c.tags !== undefined) expect(p?.tags).toEqual(c.tags);
      if (c.fields !== undefined) expect(p?.fields).toEqual(c.fields);
      if (c.ts !== undefined) expect(p?.ts).toBe(c.ts);
    });
  }

  it('keeps the good lines of a body and names each bad one by its line number; comments and blank lines count as lines', () => {
    const body = '# a comment\ncpu,host=a v=1 1000000\n\ncpu,host=a v= 2000000\r\ncpu,host=b v=3 3000000\nbad\n';
    const { points, errors } = parseLineProtocol(body, 'ns', NOW);
    expect(points.map((p) => [p.line, p.tags.host, p.ts])).toEqual([[2, 'a', 1], [5, 'b', 3]]);
    expect(errors).toEqual([{ line: 4, text: 'cpu,host=a v= 2000000', reason: 'missing field value' }, { line: 6, text: 'bad', reason: 'missing fields' }]);
  });

  it('reads timestamps in every precision, and refuses one out of the int64 nanosecond range', () => {
    const at = (p: 'ns' | 'us' | 'ms' | 's' | 'm' | 'h', t: string) => parseLineProtocol(`c v=1 ${t}`, p, NOW);
    expect(at('ns', '1700000000123456789').points[0]?.ts).toBe(1700000000123);
    expect(at('us', '1700000000123456').points[0]?.ts).toBe(1700000000123);
    expect(at('ms', '1700000000123').points[0]?.ts).toBe(1700000000123);
    expect(at('s', '1700000000').points[0]?.ts).toBe(1700000000000);
    expect(at('m', '28333333').points[0]?.ts).toBe(28333333 * 60_000);
    expect(at('h', '472222').points[0]?.ts).toBe(472222 * 3_600_000);
    expect(at('s', '9300000000').errors[0]?.reason).toBe('time outside range');
  });

  it('knows each API precision names', () => {
    expect(['n', 'ns', 'u', 'us', 'µ', 'ms', 's', 'm', 'h', ''].map((p) => parsePrecision(p, 'v1'))).toEqual(['ns', 'ns', 'us', 'us', 'us', 'ms', 's', 'm', 'h', 'ns']);
    expect(['ns', 'us', 'ms', 's', 'm', 'h', 'u'].map((p) => parsePrecision(p, 'v2'))).toEqual(['ns', 'us', 'ms', 's', undefined, undefined, undefined]);
  });
});

describe('line protocol to Watchfloor metrics', () => {
  const m = (measurement: string, field: string, tags: Record<string, string> = {}) => metricOf(measurement, field, tags, DEFAULT_INSTANCE_TAGS[measurement]);
  it('names metrics <measurement>.<field>, with the instance of Telegraf inputs that have one', () => {
    expect(m('cpu', 'usage_idle', { cpu: 'cpu-total', host: 'pc1' })).toBe('cpu.usage_idle');
    expect(m('cpu', 'usage_idle', { cpu: 'cpu3' })).toBe('cpu.cpu3.usage_idle');
    expect(m('mem', 'used_percent')).toBe('mem.used_percent');
    expect(m('disk', 'used_percent', { path: '/' })).toBe('disk.root.used_percent');
    expect(m('disk', 'used_percent', { path: '/var/lib' })).toBe('disk.var_lib.used_percent');
    expect(m('disk', 'used_percent', { path: 'C:' })).toBe('disk.C.used_percent');
    expect(m('net', 'bytes_recv', { interface: 'eth0' })).toBe('net.eth0.bytes_recv');
    expect(m('system', 'uptime')).toBe('system.uptime');
    expect(m('my measurement', 'temp-°C')).toBe('my_measurement.temp_C');
    expect(m('1wire', 'temp')).toBe('_1wire.temp');
    expect(m('x'.repeat(60), 'field')).toBeUndefined();
  });

  it('keeps a field the type it was first written with, as InfluxDB does', () => {
    const book = new FieldTypeBook();
    expect(book.check('cpu', 'v', 'float')).toBeUndefined();
    expect(book.check('cpu', 'v', 'float')).toBeUndefined();
    expect(book.check('cpu', 'v', 'integer')).toBe('field type conflict: input field "v" on measurement "cpu" is type integer, already exists as type float');
    expect(book.check('mem', 'v', 'integer')).toBeUndefined();
  });
});

describe('line protocol config', () => {
  it('refuses a bad lineProtocol section naming the field', () => {
    const make = () => new LineProtocolCollector({ config: { autoRegister: [{ hosts: 'pc-*', layer: 'office' }], maxBodyBytes: 5 } as never, estate: new Estate(Inventory.parse({ sites: [{ id: 'hq', name: 'HQ' }] })), publishTo: { external: { url: 'mqtt://127.0.0.1:9' } }, logger: silentLogger, clock: systemClock });
    expect(make).toThrow(/config: lineProtocol.*lineProtocol\.maxBodyBytes: .*lineProtocol\.autoRegister\.0\.layer: .*lineProtocol\.autoRegister\.0\.site: /s);
  });

  it('matches host patterns whole, * and ? as globs, case-insensitively, the rest literally', () => {
    const m = hostMatcher('pc-??.office.*');
    expect(['pc-01.office.local', 'PC-02.Office.lan'].map(m)).toEqual([true, true]);
    expect(['pc-001.office.local', 'xpc-01.office.local', 'pc-01xoffice.local'].map(m)).toEqual([false, false, false]);
  });
});
