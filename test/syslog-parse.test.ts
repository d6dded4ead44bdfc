import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FrameDecoder, decodeFrame, parseCef, parseLeef, parseSyslogLine, syslogPortsFromEnv, type Frame, type ParseContext } from '../collectors/syslog/index.ts';

const received = Date.UTC(2026, 11, 1, 23, 0, 0);
const ctx: ParseContext = { receivedAt: received, source: '10.0.0.9' };
const parse = (line: string, c: ParseContext = ctx) => parseSyslogLine(line, c);
const reference = (name: string): string => fileURLToPath(new URL(`../../shared/reference/logs/${name}`, import.meta.url));

describe('RFC 3164', () => {
  it('reads PRI, BSD timestamp, host, tag and pid', () => {
    const l = parse('<156>Dec  1 22:59:07 vm myprog[4242]: hello 3164');
    expect(l).toMatchObject({ facility: 'local3', severity: 'warning', host: 'vm', program: 'myprog', pid: 4242, message: 'hello 3164', ts: received });
    expect(l.claimedTs).toBe(Date.UTC(2026, 11, 1, 22, 59, 7));
  });

  it('a line without PRI is user.notice (RFC 3164 §4.3.3)', () => {
    expect(parse('Jun 14 15:16:01 combo su(pam_unix)[21416]: session opened for user cyrus by (uid=0)')).toMatchObject({ facility: 'user', severity: 'notice', program: 'su(pam_unix)', pid: 21416 });
  });

  it('infers the year from the receive time, the year before for a line from the future (December read in January)', () => {
    expect(parse('<13>Jun 14 15:16:01 h p: m').claimedTs).toBe(Date.UTC(2026, 5, 14, 15, 16, 1));
    const jan = { receivedAt: Date.UTC(2027, 0, 1, 0, 5), source: 'x' };
    expect(parse('<13>Dec 31 23:59:50 h p: m', jan).claimedTs).toBe(Date.UTC(2026, 11, 31, 23, 59, 50));
    expect(parse('<13>Jan  1 00:04:00 h p: m', jan).claimedTs).toBe(Date.UTC(2027, 0, 1, 0, 4));
  });

  it('reads a BSD timestamp in a configured zone', () => {
    const l = parse('<13>Dec  1 08:00:00 h p: m', { ...ctx, timezone: 'Asia/Ho_Chi_Minh' });
    expect(l.claimedTs).toBe(Date.UTC(2026, 11, 1, 1, 0, 0));
  });

  it('takes the sender address as host when the line names none, and no tag as an empty program', () => {
    expect(parse('<13>Dec  1 22:00:00 prog[7]: no host here')).toMatchObject({ host: '10.0.0.9', program: 'prog', pid: 7, message: 'no host here' });
    expect(parse('just some words')).toMatchObject({ host: '10.0.0.9', program: '', message: 'just some words', facility: 'user', severity: 'notice' });
  });

  it('reads Cisco IOS lines: sequence number, * clock, %FAC-SEV-MNEMONIC kept in the message and as fields', () => {
    const l = parse('<189>52: *Mar  1 00:11:22.123: %SYS-5-CONFIG_I: Configured from console by vty0 (10.1.1.1)');
    expect(l).toMatchObject({ facility: 'local7', severity: 'notice', program: 'cisco', message: '%SYS-5-CONFIG_I: Configured from console by vty0 (10.1.1.1)' });
    expect(l.fields).toMatchObject({ 'cisco.facility': 'SYS', 'cisco.severity': 5, 'cisco.mnemonic': 'CONFIG_I' });
    expect(l.claimedTs).toBe(Date.UTC(2026, 2, 1, 0, 11, 22, 123));
    const o = parse('<187>sw-core-1: 1043: Dec  1 2026 10:11:22.123 UTC: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down');
    expect(o).toMatchObject({ host: 'sw-core-1', program: 'cisco', severity: 'err' });
    expect(o.fields['cisco.mnemonic']).toBe('UPDOWN');
  });

  it('takes key=value pairs of free text as fields (quoted values too), message unchanged', () => {
    const l = parse('<189>date=2026-12-01 time=23:55:00 devname="FGT 1" logid="0100044547" user="admin" action="Add" cfgpath="system.admin"');
    expect(l.fields).toMatchObject({ devname: 'FGT 1', user: 'admin', action: 'Add', cfgpath: 'system.admin' });
  });

  it('parses every line of the reference Linux syslog (2,000), sshd(pam_unix) failures keeping rhost', () => {
    const lines = readFileSync(reference('linux-syslog-2k.log'), 'utf8').split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(2000);
    const parsed = lines.map((l) => parse(l));
    for (const [i, p] of parsed.entries()) {
      expect(p.host, lines[i]).toBe('combo');
      expect(p.claimedTs, lines[i]).toBeGreaterThan(Date.UTC(2026, 0, 1));
      expect(p.message.length, lines[i]).toBeGreaterThan(0);
    }
    const sshd = parsed.filter((p) => p.program === 'sshd(pam_unix)');
    expect(sshd.length).toBeGreaterThan(100);
    const failures = sshd.filter((p) => p.message.startsWith('authentication failure'));
    expect(failures.length).toBeGreaterThan(100);
    for (const f of failures) expect(f.message).toMatch(/rhost=\S+/);
    expect(failures[0]?.fields.rhost).toBe('218.188.2.4');
    const programs = new Set(parsed.map((p) => p.program));
    for (const p of ['sshd(pam_unix)', 'su(pam_unix)', 'ftpd', 'kernel', 'syslogd', 'logrotate']) expect(programs, p).toContain(p);
    // No line loses its tag into the message: a message never opens with `name[pid]:`.
    for (const p of parsed) expect(p.message).not.toMatch(/^[\w()]+\[\d+\]: /);
  });
});

describe('RFC 5424', () => {
  it('reads the header, structured data as sd.<id>.<param> with escapes, and drops the BOM', () => {
    const l = parse('<165>1 2026-12-01T22:14:15.003+07:00 mymachine.example.com evntslog 8710 ID47 [exampleSDID@32473 iut="3" eventSource="Appl\\"ic\\]ation" eventID="1011"][examplePriority@32473 class="high"] \uFEFFAn application event log entry...');
    expect(l).toMatchObject({ facility: 'local4', severity: 'notice', host: 'mymachine.example.com', program: 'evntslog', pid: 8710, message: 'An application event log entry...' });
    expect(l.claimedTs).toBe(Date.UTC(2026, 11, 1, 15, 14, 15, 3));
    expect(l.fields).toEqual({ msgid: 'ID47', 'sd.exampleSDID@32473.iut': '3', 'sd.exampleSDID@32473.eventSource': 'Appl"ic]ation', 'sd.exampleSDID@32473.eventID': '1011', 'sd.examplePriority@32473.class': 'high' });
  });

  it('NILVALUEs leave fields out; no MSG is an empty message', () => {
    const l = parse('<34>1 - - - - - -');
    expect(l).toMatchObject({ facility: 'auth', severity: 'crit', host: '10.0.0.9', program: '', message: '' });
    expect(l.claimedTs).toBeUndefined();
    expect(l.pid).toBeUndefined();
  });

  it('keeps malformed structured data as message text, never throws', () => {
    const l = parse('<13>1 2026-12-01T22:00:00Z h app - - [broken x="unterminated] rest');
    expect(l.message).toBe('[broken x="unterminated] rest');
    expect(l.fields['syslog.error']).toMatch(/unterminated/);
  });
});

describe('CEF', () => {
  it('reads header fields (escaped pipe) and extensions with escaped =, | and \\, values with spaces', () => {
    const l = parse('<134>CEF:0|Security|threat\\|manager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 msg=a\\=b c\\|d \\\\ e act=blocked');
    expect(l.fields).toMatchObject({
      'cef.version': '0',
      'cef.deviceVendor': 'Security',
      'cef.deviceProduct': 'threat|manager',
      'cef.signatureId': '100',
      'cef.name': 'worm successfully stopped',
      'cef.severity': '10',
      src: '10.0.0.1',
      dst: '2.1.2.2',
      spt: '1232',
      msg: 'a=b c|d \\ e',
      act: 'blocked',
    });
    expect(l.program).toBe('threat|manager');
    expect(l).toMatchObject({ facility: 'local0', severity: 'info' });
  });

  it('behind a BSD header, and the CEF severity stands in when there is no PRI', () => {
    const l = parse('Dec  1 22:59:00 fw1 CEF:0|Fortinet|FortiGate|7.0|13|deny|9|src=1.2.3.4 dst=10.0.0.1 dpt=22');
    expect(l).toMatchObject({ host: 'fw1', program: 'FortiGate', severity: 'crit' });
    expect(l.fields).toMatchObject({ src: '1.2.3.4', dpt: '22' });
  });

  it('a header short of seven fields is no CEF', () => {
    expect(parseCef('CEF:0|a|b|c')).toBeUndefined();
  });
});

describe('LEEF', () => {
  it('1.0 with tab-separated attributes', () => {
    const l = parse('<13>Dec  1 22:00:00 exch1 LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\tsev=5\tcat=anomaly\tmsg=this is a message');
    expect(l).toMatchObject({ host: 'exch1', program: 'MSExchange' });
    expect(l.fields).toMatchObject({ 'leef.version': '1.0', 'leef.vendor': 'Microsoft', 'leef.eventId': '15345', src: '192.0.2.0', dst: '172.50.123.1', msg: 'this is a message' });
  });

  it('2.0 with a custom delimiter, as a character or as hex', () => {
    for (const d of ['^', 'x5E', '0x5e']) {
      const e = parseLeef(`LEEF:2.0|Lancope|StealthWatch|1.0|41|${d}|src=10.0.1.8^dst=10.0.0.5^url=http://x/?a=b`);
      expect(e?.attributes, d).toEqual({ src: '10.0.1.8', dst: '10.0.0.5', url: 'http://x/?a=b' });
    }
    expect(parseLeef('LEEF:2.0|V|P|1|7||src=1.1.1.1\tdst=2.2.2.2')?.attributes).toEqual({ src: '1.1.1.1', dst: '2.2.2.2' });
  });
});

describe('JSON payloads', () => {
  const eve = readFileSync(fileURLToPath(new URL('./fixtures/syslog/suricata-eve.ndjson', import.meta.url)), 'utf8').trim().split('\n');

  it('Suricata EVE JSON: fields flattened with dots, timestamp claimed, program suricata', () => {
    const [alert, dns, http, flow] = eve.map((l) => parse(`<14>Dec  1 23:40:11 ids1 ${l}`));
    expect(alert).toMatchObject({ host: 'ids1', program: 'suricata' });
    expect(alert?.fields).toMatchObject({ event_type: 'alert', src_ip: '203.0.113.77', dest_port: 22, 'alert.signature_id': 2001219, 'alert.signature': 'ET SCAN Potential SSH Scan', 'alert.metadata.created_at.0': '2010_07_30' });
    // The syslog header's time is the claim; without a header, EVE's own timestamp is.
    expect(alert?.claimedTs).toBe(Date.UTC(2026, 11, 1, 23, 40, 11));
    expect(dns?.fields['dns.rrname']).toBe('updates.example.org');
    expect(http?.fields).toMatchObject({ 'http.hostname': 'www.example.com', 'http.status': 200 });
    expect(flow?.fields).toMatchObject({ 'flow.alerted': 'false', 'tcp.syn': 'true' });
    // Bare EVE (no syslog header), as a file relay sends it.
    expect(parse(eve[0] as string)).toMatchObject({ program: 'suricata', host: '10.0.0.9', claimedTs: Date.UTC(2026, 11, 1, 23, 40, 11, 18) });
  });

  it("an application's JSON log line: tag kept, level as severity when there is no PRI, nulls left out", () => {
    const l = parse('Dec  1 22:00:00 app1 api[77]: {"level":50,"time":1796166000123,"msg":"payment failed","req":{"id":"r1","ip":"10.1.2.3"},"err":null}');
    expect(l).toMatchObject({ host: 'app1', program: 'api', pid: 77, severity: 'err' });
    expect(l.fields).toEqual({ level: 50, time: 1796166000123, msg: 'payment failed', 'req.id': 'r1', 'req.ip': '10.1.2.3' });
  });

  it('text that only looks like JSON stays text', () => {
    expect(parse('<13>Dec  1 22:00:00 h p: {not json').message).toBe('{not json');
  });
});

describe('framing (RFC 6587), pure', () => {
  const decode = (chunks: (string | Buffer)[], maxFrame = 64 * 1024): Frame[] => {
    const frames: Frame[] = [];
    const d = new FrameDecoder({ maxFrame, onFrame: (f) => frames.push(f) });
    for (const c of chunks) d.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
    d.end();
    return frames;
  };
  const texts = (f: Frame[]) => f.map((x) => x.data.toString());

  it('octet counting and newline framing, mixed, split anywhere', () => {
    const stream = '11 <13>hello 1\n<13>line two\n<13>nul three\u000013 <13>a\nb c d e\n';
    const whole = texts(decode([stream]));
    expect(whole).toEqual(['<13>hello 1', '<13>line two', '<13>nul three', '<13>a\nb c d e']);
    // byte by byte
    expect(texts(decode([...Buffer.from(stream)].map((b) => Buffer.from([b]))))).toEqual(whole);
  });

  it('CRLF loses its CR at parse time; empty frames are skipped; digits without a space are a line', () => {
    expect(texts(decode(['\n\n\r\n123abc\n']))).toEqual(['123abc']);
  });

  it('cuts a 100 KiB line at the limit, marks it, and goes on with the next line', () => {
    const big = 'x'.repeat(100 * 1024);
    const f = decode([`<13>${big}\n<13>after\n`]);
    expect(f).toHaveLength(2);
    expect(f[0]?.truncated).toBe(true);
    expect(f[0]?.data.length).toBe(64 * 1024);
    expect(texts([f[1] as Frame])).toEqual(['<13>after']);
    const o = decode([`${4 + big.length} <13>${big}11 <13>after 2`]);
    expect(o.map((x) => [x.data.length, x.truncated])).toEqual([[64 * 1024, true], [11, false]]);
  });

  it('never cuts inside a UTF-8 sequence', () => {
    const f = decode(['<13>' + 'é'.repeat(10) + '\n'], 9);
    expect(f[0]?.data.toString()).toBe('<13>éé');
    expect(decodeFrame(f[0]!.data).invalidUtf8).toBe(false);
  });

  it('reports an octet count never filled as pending, and its bytes lost at the end', () => {
    const d = new FrameDecoder({ onFrame: () => undefined });
    d.push(Buffer.from('500 <13>only a little'));
    expect(d.pending).toBe(true);
    expect(d.end().lostBytes).toBe(17);
  });
});

describe('decoding bytes', () => {
  it('replaces invalid UTF-8 and counts it; binary noise is garbage', () => {
    const latin1 = Buffer.concat([Buffer.from('<13>Dec  1 22:00:00 h p: caf'), Buffer.from([0xe9]), Buffer.from(' ok')]);
    const d = decodeFrame(latin1);
    expect(d).toMatchObject({ invalidUtf8: true, garbage: false });
    expect(d.text).toContain('caf\uFFFD ok');
    const noise = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37 + 11) % 256));
    expect(decodeFrame(noise).garbage).toBe(true);
    expect(decodeFrame(Buffer.from('<13>ordinary\tline')).garbage).toBe(false);
  });
});

describe('hostile input', () => {
  it('SD-IDs, params and keys named __proto__ or constructor stay names; Object.prototype untouched', () => {
    const l = parse('<13>1 - h a - - [__proto__ polluted="yes"][constructor polluted="yes"] x __proto__=1 level=constructor');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(l.fields['sd.__proto__.polluted']).toBe('yes');
    expect(l.fields['sd.constructor.polluted']).toBe('yes');
    const j = parse('{"level":"constructor","__proto__":{"polluted":"yes"}}');
    expect(j.severity).toBe('notice');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('64 KiB pathological lines parse in linear time, never throw', () => {
    const n = 64 * 1024;
    const lines = [
      '<13>1 - h a - - ' + '[x]'.repeat(n / 3),
      '<13>Dec  1 22:00:00 h p: ' + 'k="'.repeat(n / 3),
      '<13>' + 'CEF:0|a|b|c|d|e|f|' + 'a=' + ' '.repeat(n) + 'b',
      '\r'.repeat(n) + 'x',
      'LEEF:2.0|a|b|c|d|^|' + ' a'.repeat(n / 2),
      '{' + '"a":{'.repeat(5000),
      '<' + '1'.repeat(n),
    ];
    const started = performance.now();
    for (const l of lines) expect(() => parse(l)).not.toThrow();
    // Generous: quadratic behaviour on these takes minutes, linear well under a second.
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('random bytes never make the parser throw', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = '<>[]|=\\" :0123456789-TZ.{}CEFLEF\t\nabcxyz@';
    for (let i = 0; i < 3000; i++) {
      const s = Array.from({ length: Math.floor(rnd() * 120) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
      const l = parse(s);
      expect(typeof l.message).toBe('string');
    }
  });
});

describe('ports from the environment', () => {
  it('WATCHFLOOR_SYSLOG_PORT (UDP and TCP, 1514) and WATCHFLOOR_SYSLOG_TLS_PORT (6514); a bad value names the variable', () => {
    expect(syslogPortsFromEnv({})).toEqual({ port: 1514, tlsPort: 6514 });
    expect(syslogPortsFromEnv({ WATCHFLOOR_SYSLOG_PORT: '5514', WATCHFLOOR_SYSLOG_TLS_PORT: '0' })).toEqual({ port: 5514, tlsPort: 0 });
    expect(() => syslogPortsFromEnv({ WATCHFLOOR_SYSLOG_PORT: '70000' })).toThrow(/WATCHFLOOR_SYSLOG_PORT/);
  });
});
