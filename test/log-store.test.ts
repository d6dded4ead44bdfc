import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSyslogLine } from '../collectors/syslog/index.ts';
import { LOG_SEVERITIES, silentLogger, type Clock, type LogLine } from '../core/index.ts';
import { LogsConfig, openLogStore, type LogStore, type StoredLog } from '../store/index.ts';
import { addTokens, csvCell, parseTextQuery } from '../store/logs/index.ts';

const REFERENCE = join(import.meta.dirname, '..', '..', 'shared', 'reference', 'logs', 'linux-syslog-2k.log');
const RECEIVED = Date.UTC(2026, 11, 1);
const raw = readFileSync(REFERENCE, 'utf8')
  .split(/\r?\n/)
  .filter((l) => l !== '');

/** The reference lines as if each arrived when it was written (its claimed time), so time windows mean something. */
function referenceLines(): LogLine[] {
  return raw.map((text) => {
    const l = parseSyslogLine(text, { receivedAt: RECEIVED, source: '10.1.2.3' });
    return { ...l, ts: l.claimedTs ?? l.ts };
  });
}

/** Lines with PRI (the reference log has none: every line is user.notice), commas, quotes, newlines and a formula. */
function extraLines(at: number): LogLine[] {
  const base = { host: 'edge-sw1', device: 'sw-1', facility: 'local7', program: 'cisco', fields: {} } as const;
  return [
    { ...base, ts: at, severity: 'err', message: '%LINK-3-UPDOWN: Interface Gi0/1, changed state to down', fields: { 'cisco.mnemonic': 'UPDOWN' } },
    { ...base, ts: at + 1, severity: 'crit', message: 'power supply "B" failed, on 10.9.8.7:161\nsecond line', pid: 77 },
    { ...base, ts: at + 2, severity: 'info', message: '=HYPERLINK("http://evil.example","click")', fields: { user: 'mallory', note: 'a,b "c"' } },
    { ...base, ts: at + 3, severity: 'debug', message: 'keepalive from 218.188.2.45', device: undefined, host: 'fw-1' },
  ];
}

const clockAt = (t: number): Clock & { set(t: number): void } => {
  let now = t;
  return { now: () => now, set: (v: number) => (now = v) };
};

/** What a plain scan of the input says `q` (one token) should find: the line holds it as a whole token. */
const holds = (l: LogLine, token: string): boolean => {
  const set = new Set<string>();
  addTokens(l.message, set);
  for (const v of Object.values(l.fields)) addTokens(String(v), set);
  return set.has(token);
};

const ids = (logs: readonly StoredLog[]): number[] => logs.map((l) => l.id).sort((a, b) => a - b);
const idsWhere = (lines: readonly LogLine[], pred: (l: LogLine) => boolean): number[] => lines.flatMap((l, i) => (pred(l) ? [i + 1] : []));

describe('log store: the 2,000 reference syslog lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wf-logs-'));
  const lines = referenceLines();
  const newest = Math.max(...lines.map((l) => l.ts));
  const clock = clockAt(newest + 60_000);
  let store: LogStore;
  let all: LogLine[];

  beforeAll(async () => {
    // Runs sealed every ~5,000 postings: the searches below read sealed runs and the fresh table together.
    store = await openLogStore({ dir, clock, logger: silentLogger, retentionDays: 365, maintenanceIntervalMs: 0, runPostings: 5_000, flushIntervalMs: 10_000 });
    for (let i = 0; i < lines.length; i += 300) {
      store.append(lines.slice(i, i + 300));
      await store.flush();
    }
    store.append(extraLines(newest));
    await store.flush();
    all = [...lines, ...extraLines(newest)];
  }, 30_000);
  afterAll(() => store?.close());

  it('keeps every line with its received and claimed time, host, facility, severity, program, pid, message and fields', async () => {
    expect(store.stats()).toMatchObject({ written: all.length, pending: 0, dropped: { invalid: 0, queue_full: 0 } });
    const r = await store.search({ limit: 10_000 });
    expect(r.total).toBe(all.length);
    const first = r.logs.find((l) => l.id === 1) as StoredLog;
    const l0 = lines[0] as LogLine;
    expect(first).toEqual({ id: 1, ts: l0.ts, claimedTs: l0.claimedTs, host: 'combo', facility: 'user', severity: 'notice', program: 'sshd(pam_unix)', pid: 19939, message: l0.message, fields: l0.fields });
    expect(first.fields).toMatchObject({ rhost: '218.188.2.4' });
    const crit = r.logs.find((l) => l.severity === 'crit') as StoredLog;
    expect(crit).toMatchObject({ device: 'sw-1', facility: 'local7', pid: 77, message: 'power supply "B" failed, on 10.9.8.7:161\nsecond line' });
    // Newest first.
    expect(r.logs.map((l) => l.ts)).toEqual([...r.logs.map((l) => l.ts)].sort((a, b) => b - a));
  });

  it('q=218.188.2.4 finds exactly the lines holding that address (not 218.188.2.45), from sealed runs and fresh postings', async () => {
    const expected = idsWhere(all, (l) => holds(l, '218.188.2.4'));
    expect(expected.length).toBe(14);
    expect(expected).toEqual(idsWhere(lines, (l) => l.message.includes('218.188.2.4')));
    const r = await store.search({ q: '218.188.2.4', limit: 1000 });
    expect(r.total).toBe(14);
    expect(ids(r.logs)).toEqual(expected);
    expect((await store.search({ q: '218.188.2.45' })).logs.map((l) => l.message)).toEqual(['keepalive from 218.188.2.45']);
    // An address inside ip:port is found by the address.
    expect((await store.search({ q: '10.9.8.7' })).total).toBe(1);
    // Sealed runs were written (the store's fresh postings are below the run size).
    expect(store.stats().freshPostings).toBeLessThan(5_000);
  });

  it('q of several words finds the lines holding all of them, case-insensitive; a quoted phrase as written', async () => {
    const both = idsWhere(all, (l) => holds(l, 'authentication') && holds(l, 'failure') && holds(l, 'root'));
    expect(both.length).toBeGreaterThan(10);
    const r = await store.search({ q: 'Authentication FAILURE root', limit: 10_000 });
    expect(r.total).toBe(both.length);
    expect(ids(r.logs)).toEqual(both);
    const phrase = idsWhere(all, (l) => l.message.toLowerCase().includes('session opened for user cyrus'));
    expect(phrase.length).toBeGreaterThan(0);
    const p = await store.search({ q: '"session opened for user cyrus"', limit: 10_000 });
    expect(ids(p.logs)).toEqual(phrase);
    // A common pair (over the store's point-fetch bound): answered by a scan joined to the postings, same result.
    const common = idsWhere(all, (l) => holds(l, 'connection') && holds(l, 'from'));
    expect(common.length).toBeGreaterThan(300);
    const c = await store.search({ q: 'connection from', limit: 10_000 });
    expect([c.total, ids(c.logs)]).toEqual([common.length, common]);
    expect((await store.search({ q: 'connection from', limit: 10 })).total).toBe(common.length);
    // Field values are searched too.
    expect((await store.search({ q: 'mallory' })).total).toBe(1);
    expect((await store.search({ q: 'no-such-word-anywhere' })).total).toBe(0);
  });

  it('filters by program, host, device and severity (at or above, in syslog order)', async () => {
    const su = await store.search({ program: 'su(pam_unix)', limit: 10_000 });
    expect(ids(su.logs)).toEqual(idsWhere(all, (l) => l.program === 'su(pam_unix)'));
    expect(su.total).toBe(172);
    expect((await store.search({ host: 'EDGE-SW1' })).total).toBe(3);
    expect((await store.search({ device: 'sw-1' })).total).toBe(3);
    const rank = (s: string) => LOG_SEVERITIES.indexOf(s as never);
    for (const sev of ['crit', 'err', 'notice', 'debug'] as const) {
      const r = await store.search({ severity: sev, limit: 10_000 });
      expect(r.total, sev).toBe(all.filter((l) => rank(l.severity) <= rank(sev)).length);
    }
    expect((await store.search({ severity: 'err' })).logs.map((l) => l.severity).sort()).toEqual(['crit', 'err']);
    // Filters combine with q.
    expect((await store.search({ q: '218.188.2.4', program: 'su(pam_unix)' })).total).toBe(0);
  });

  it('filters by a time window on the received time, and the histogram counts the same lines', async () => {
    const since = Date.parse(`${new Date(RECEIVED).getUTCFullYear()}-06-15T00:00:00Z`);
    const until = since + 7 * 86_400_000;
    const expected = idsWhere(all, (l) => l.ts >= since && l.ts <= until);
    expect(expected.length).toBeGreaterThan(20);
    const r = await store.search({ since, until, limit: 10_000 });
    expect(ids(r.logs)).toEqual(expected);
    const h = await store.histogram({ since, until, bucketMs: 86_400_000 });
    expect(h.buckets).toHaveLength(8);
    expect(h.buckets.reduce((n, b) => n + b.count, 0)).toBe(expected.length);
    expect(h.buckets[0]).toEqual({ ts: since, count: all.filter((l) => l.ts >= since && l.ts < since + 86_400_000).length });
    const ip = await store.histogram({ q: '218.188.2.4', bucketMs: 3_600_000 });
    expect(ip.buckets.reduce((n, b) => n + b.count, 0)).toBe(14);
    await expect(store.histogram({ since: 0, until: 1e12, bucketMs: 1000 })).rejects.toMatchObject({ status: 400, field: 'step' });
  });

  it('refuses bad search input with a 400 naming the field', async () => {
    await expect(store.search({ q: '!!! ;;' })).rejects.toMatchObject({ status: 400, field: 'q' });
    await expect(store.search({ limit: 0 })).rejects.toMatchObject({ status: 400, field: 'limit' });
    await expect(store.search({ severity: 'loud' as never })).rejects.toMatchObject({ status: 400, field: 'severity' });
    expect(() => store.export({}, 'xml' as never)).toThrow(expect.objectContaining({ field: 'format' }));
  });

  it('exports a search as NDJSON and as CSV, streamed in chunks, and both read back to the same lines', async () => {
    const expected = (await store.search({ limit: 10_000 })).logs;
    const chunks: string[] = [];
    for await (const c of store.export({}, 'ndjson')) chunks.push(c);
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(expected.length / 2048));
    const nd = chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as StoredLog);
    expect(nd).toEqual(expected);

    let csv = '';
    for await (const c of store.export({}, 'csv')) csv += c;
    const records = parseCsv(csv);
    expect(records[0]).toEqual(['id', 'ts', 'claimedTs', 'host', 'device', 'facility', 'severity', 'program', 'pid', 'message', 'fields']);
    expect(records).toHaveLength(expected.length + 1);
    const back = records.slice(1).map((c) => ({ id: Number(c[0]), ts: Date.parse(c[1] as string), message: unguard(c[9] as string), fields: JSON.parse(unguard(c[10] as string)) }));
    expect(back).toEqual(expected.map((l) => ({ id: l.id, ts: l.ts, message: l.message, fields: l.fields })));
    // The quoting that had to happen, and the formula neutralized.
    expect(csv).toContain('"power supply ""B"" failed, on 10.9.8.7:161\nsecond line"');
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(csvCell('-1+1')).toBe("'-1+1");

    // An export filtered and limited.
    let n = 0;
    for await (const c of store.export({ q: '218.188.2.4', limit: 5 }, 'ndjson')) n += c.split('\n').filter(Boolean).length;
    expect(n).toBe(5);
  });
});

describe('log store: drops, retention and restart', () => {
  it('counts every line it does not keep, by reason, and never throws on append', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-logs-'));
    const clock = clockAt(Date.UTC(2026, 11, 1));
    const store = await openLogStore({ dir, clock, logger: silentLogger, retentionDays: 1, maxPendingLines: 3, maintenanceIntervalMs: 0, flushIntervalMs: 10_000 });
    const line = (ts: number, message = 'x'): LogLine => ({ ts, host: 'h', facility: 'user', severity: 'notice', program: 'p', message, fields: {} });
    store.append([line(clock.now()), line(clock.now() - 2 * 86_400_000), { ...line(clock.now()), severity: 'loud' } as never, null as never, line(clock.now()), line(clock.now()), line(clock.now())]);
    expect(store.stats()).toMatchObject({ pending: 3, dropped: { too_old: 1, invalid: 2, queue_full: 1 } });
    await store.close();
    store.append([line(clock.now())]);
    expect(store.stats().dropped.closed).toBe(1);
  });

  it('deletes lines past retentionDays, with their postings, and keeps lines across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-logs-'));
    const day = 86_400_000;
    const t0 = Date.UTC(2026, 10, 1);
    const clock = clockAt(t0);
    const opts = { dir, clock, logger: silentLogger, retentionDays: LogsConfig.parse({ retentionDays: 2 }).retentionDays, maintenanceIntervalMs: 0, runPostings: 50 };
    let store = await openLogStore(opts);
    const line = (ts: number, message: string): LogLine => ({ ts, host: 'srv', facility: 'auth', severity: 'warning', program: 'sshd', pid: 'x1', message, fields: message.includes('192.0.2.7') ? { rhost: '192.0.2.7' } : {} });
    store.append([line(t0, 'old failure from 192.0.2.7'), line(t0 + 1, 'old login ok')]);
    await store.flush();
    clock.set(t0 + 3 * day);
    store.append([line(t0 + 3 * day, 'new failure from 192.0.2.7')]);
    await store.close();

    // Reopened: the lines and the index are still there, and new ids follow the old ones.
    store = await openLogStore(opts);
    expect((await store.search({ q: '192.0.2.7' })).total).toBe(2);
    store.append([line(t0 + 3 * day + 5, 'after restart')]);
    await store.flush();
    const r = await store.search({});
    expect(r.logs.map((l) => [l.id, l.message])).toEqual([
      [4, 'after restart'],
      [3, 'new failure from 192.0.2.7'],
      [2, 'old login ok'],
      [1, 'old failure from 192.0.2.7'],
    ]);
    expect(r.logs[0]?.pid).toBe('x1');

    expect(await store.maintain()).toEqual({ deleted: 2 });
    expect((await store.search({})).total).toBe(2);
    expect((await store.search({ q: '192.0.2.7' })).logs.map((l) => l.message)).toEqual(['new failure from 192.0.2.7']);
    expect((await store.search({ q: 'old' })).total).toBe(0);
    await store.close();
  });

  it('tokenizes addresses, host names and words, and parses q into lookups and phrases', () => {
    const t = new Set<string>();
    addTokens('Failed password for root from 10.0.0.1:22 user@Host.example fe80::1 220-135-151-1.hinet-ip.hinet.net', t);
    for (const w of ['failed', 'root', '10.0.0.1:22', '10.0.0.1', '22', 'user@host.example', 'host.example', 'fe80::1', '220-135-151-1.hinet-ip.hinet.net', 'hinet']) expect(t, w).toContain(w);
    expect(parseTextQuery('10.0.0.1')?.lookups).toHaveLength(1);
    const many = new Set<string>();
    addTokens(Array.from({ length: 5000 }, (_, i) => `w${i}`).join(' '), many);
    expect(many.size).toBeLessThanOrEqual(1000 + 2);
    expect(parseTextQuery('"a b" c')).toMatchObject({ phrases: ['a b'] });
    expect(parseTextQuery('...')).toBeUndefined();
  });
});

/** RFC 4180 records (CRLF between records, quoted fields with doubled quotes). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      records.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) records.push([...row, cell]);
  return records;
}

/** The export's formula guard undone: a `'` put before a leading = + - @ tab or CR. */
const unguard = (s: string): string => (/^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s);
