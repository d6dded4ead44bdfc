import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FakeClock, silentLogger, systemClock, type Alert } from '../core/index.ts';
import { Grouper, loadRules, NotifyConfig, RuleEngine, signature, startNotifier } from '../rules/index.ts';
import { captureSmtp } from './support/smtp.ts';
import { eventually } from './support/net.ts';

const hotRule = loadRules([{ id: 'hot', type: 'threshold', name: 'Hot', kind: 'environment', severity: 'critical', match: { metric: 'temperature' }, when: { above: 30 } }], 't');

const alert = (fp: string, state: 'firing' | 'resolved', extra: Partial<Alert> = {}): Alert => ({
  id: fp, fingerprint: fp, rule: 'hot', name: 'Hot', kind: 'environment', severity: 'critical', state, labels: { rack: 'A01', device: fp },
  summary: `${fp} hot`, value: 31, startsAt: 0, endsAt: null, updatedAt: 0, ...extra,
});

describe('grouping (Alertmanager semantics)', () => {
  const route = NotifyConfig.parse({ receivers: [{ name: 'ops', webhook: { url: 'http://127.0.0.1:1/' } }], routes: [{ receiver: 'ops', group_by: ['rack'], group_wait: '30s', group_interval: '5m', repeat_interval: '4h' }] }).routes;
  it('waits group_wait to batch, then group_interval between updates, then repeats after repeat_interval; silenced alerts are not sent', () => {
    const g = new Grouper(route);
    g.onChange(alert('a', 'firing'), 0);
    g.onChange(alert('b', 'firing'), 10_000);
    g.onChange(alert('c', 'firing', { silencedBy: ['s1'] }), 12_000);
    expect(g.due(29_999)).toEqual([]);
    const [first, ...none] = g.due(30_000);
    expect(none).toEqual([]);
    expect(first?.alerts.map((a) => a.fingerprint)).toEqual(['a', 'b']);
    expect(first?.groupLabels).toEqual({ rack: 'A01' });
    g.onChange(alert('a', 'resolved'), 60_000);
    expect(g.due(329_999)).toEqual([]);
    const [second] = g.due(330_000);
    expect(second?.alerts.map((a) => `${a.fingerprint}:${a.state}`)).toEqual(['a:resolved', 'b:firing']);
    expect(g.due(330_000 + 4 * 3_600_000 - 1)).toEqual([]);
    expect(g.due(330_000 + 4 * 3_600_000)[0]?.alerts.map((a) => a.fingerprint)).toEqual(['b']);
  });
});

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

describe('receivers', () => {
  it('a webhook receiver that is down delays, never loses: delivered signed once it is up', async () => {
    const probe = createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r));
    const secret = 'a-shared-secret-of-some-length';
    const engine = new RuleEngine({ rules: hotRule, clock: systemClock });
    const config = NotifyConfig.parse({
      receivers: [{ name: 'hook', webhook: { url: `http://127.0.0.1:${port}/hook`, secret } }],
      routes: [{ receiver: 'hook', group_wait: '100ms' }],
      retry: { initial: '100ms', max: '400ms' },
    });
    const notifier = startNotifier({ config, book: engine.book, clock: systemClock, logger: silentLogger, dir: mkdtempSync(join(tmpdir(), 'wf-notify-')) });
    const got: { body: string; sig: string | undefined }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push({ body, sig: req.headers['x-watchfloor-signature'] as string | undefined });
        res.end('ok');
      });
    });
    try {
      engine.onPoint({ device: 's1', metric: 'temperature', value: 35, ts: 0 });
      // Down: connection refused, retried with backoff, still queued.
      await eventually(() => (notifier.outbox.pending === 1 ? true : undefined), 5000);
      await new Promise((r) => setTimeout(r, 700));
      expect(notifier.outbox.pending).toBe(1);
      expect(got).toEqual([]);
      await listen(server, port);
      await eventually(() => (got.length === 1 ? true : undefined), 10_000);
      const [hit] = got;
      expect(hit?.sig).toBe(signature(secret, hit?.body ?? ''));
      const body = JSON.parse(hit?.body ?? '{}') as { status: string; alerts: { labels: Record<string, string>; annotations: { summary: string } }[] };
      expect(body.status).toBe('firing');
      expect(body.alerts[0]?.labels).toMatchObject({ alertname: 'hot', device: 's1', severity: 'critical' });
      await eventually(() => (notifier.outbox.pending === 0 ? true : undefined), 5000);
    } finally {
      notifier.stop();
      await new Promise((r) => server.close(r));
    }
  });

  it('email over SMTP reaches a real local SMTP server; an unacknowledged critical escalates', async () => {
    const smtp = await captureSmtp();
    const { port, mails } = smtp;
    const clock = new FakeClock(Date.now());
    const engine = new RuleEngine({ rules: hotRule, clock });
    const email = { host: '127.0.0.1', port, from: 'watchfloor@example.test', to: ['noc@example.test'] };
    const config = NotifyConfig.parse({
      receivers: [{ name: 'noc-mail', email }, { name: 'duty-manager', email: { ...email, to: ['duty@example.test'] } }],
      routes: [{ receiver: 'noc-mail', group_wait: '0s' }],
      escalation: { after: '15m', receiver: 'duty-manager' },
    });
    const notifier = startNotifier({ config, book: engine.book, clock, logger: silentLogger, dir: mkdtempSync(join(tmpdir(), 'wf-notify-')) });
    try {
      engine.onPoint({ device: 's7', metric: 'temperature', value: 36, ts: 0 });
      await eventually(() => (mails.length === 1 ? true : undefined), 10_000);
      expect(mails[0]).toMatch(/Subject: \[FIRING:1\] Hot/);
      expect(mails[0]).toContain('noc@example.test');
      expect(mails[0]).toContain('s7 temperature 36, above 30');
      clock.advance(15 * 60_000);
      await eventually(() => (mails.length === 2 ? true : undefined), 10_000);
      expect(mails[1]).toMatch(/Subject: \[ESCALATED\] Hot/);
      expect(mails[1]).toContain('duty@example.test');
    } finally {
      notifier.stop();
      await smtp.close();
    }
  });
});
