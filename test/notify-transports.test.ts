import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatchfloor, type Watchfloor } from '../cli/index.ts';
import { freeUdpPort } from '../collectors/index.ts';
import { Config, FakeClock, Inventory, silentLogger, systemClock, type Alert } from '../core/index.ts';
import { builtinRulesPath, loadRules, loadRulesFile, NotifyConfig, RuleEngine, startNotifier, type Notifier } from '../rules/index.ts';
import { slackSignature } from '../ops-server/routes/notify-callbacks.ts';
import { captureSmtp } from './support/smtp.ts';
import { eventually } from './support/net.ts';
import { ADMIN_PASSWORD, api, login, smallInventory, type LoggedIn } from './support/start-product.ts';

/** One request a provider's local stand-in received. */
interface Hit {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * A local HTTP server in a provider's place: records each request and answers the next status of
 * `statuses` (then 200) with `answer` (the provider's documented success body).
 */
async function provider(answer: (hit: Hit) => unknown, statuses: number[] = []): Promise<{ url: string; hits: Hit[]; server: Server }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const hit: Hit = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json };
      hits.push(hit);
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? answer(hit) : { ok: false, error_code: status, description: 'try later' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}
/** Bytes of quoted-printable text (RFC 2045 6.7) as UTF-8. */
const unQuote = (qp: string): string => new TextDecoder().decode(Buffer.from(qp.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1'));

/** The subject (RFC 2047 encoded words joined) and the text of a single-part mail as nodemailer writes it. */
function readMail(raw: string): { subject: string; text: string } {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = head.replace(/\r?\n[ \t]+/g, ' ');
  const subject = (/^Subject: (.*)$/m.exec(headers)?.[1] ?? '').replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=\s*/gi, (_m, enc: string, data: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : unQuote(data.replace(/_/g, ' ')));
  const body = rest.join('\n\n');
  const encoding = /^Content-Transfer-Encoding: (\S+)/im.exec(headers)?.[1]?.toLowerCase();
  const text = encoding === 'quoted-printable' ? unQuote(body) : encoding === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : body;
  return { subject, text: text.replace(/\r\n/g, '\n') };
}

const closeAll = (...servers: Server[]): Promise<unknown> => Promise.all(servers.map((s) => new Promise((r) => s.close(r))));

const hotRule = loadRules([{
  id: 'hot', type: 'threshold', name: 'Hot aisle', kind: 'environment', severity: 'critical', match: { metric: 'temperature' }, when: { above: 30 },
  summary: '{{device}} inlet {{value}} °C', summary_vi: '{{device}}: nhiệt độ khí vào {{value}} °C', runbook: 'https://wiki.example.vn/hot',
}], 't');

/** 2026-12-01T17:30Z is 00:30 on 2 December in Asia/Ho_Chi_Minh (UTC+7). */
const AT = Date.parse('2026-12-01T17:30:00Z');

/** A rules engine and notifier over a fake clock at AT, one receiver, sending at once. */
function notifierWith(receiver: object, clock = new FakeClock(AT), extra: object = {}): { engine: RuleEngine; notifier: Notifier; clock: FakeClock } {
  const engine = new RuleEngine({ rules: hotRule, clock });
  const config = NotifyConfig.parse({
    receivers: [{ name: 'r', ...receiver }], routes: [{ receiver: 'r', group_wait: '0s' }], timeZone: 'Asia/Ho_Chi_Minh', externalUrl: 'https://noc.example.vn/', retry: { initial: '50ms', max: '100ms' }, ...extra,
  });
  const notifier = startNotifier({ config, book: engine.book, clock, logger: silentLogger, dir: mkdtempSync(join(tmpdir(), 'wf-notify-tx-')) });
  return { engine, notifier, clock };
}

describe('each transport against a local server speaking its provider API', () => {
  it('Alertmanager webhook: version 4 with commonLabels, commonAnnotations, externalURL, generatorURL, truncatedAlerts, and Watchfloor extras', async () => {
    const am = await provider(() => ({}));
    const { engine, notifier } = notifierWith({ webhook: { url: `${am.url}/alertmanager` } });
    try {
      engine.onPoint({ device: 's1', metric: 'temperature', value: 35, ts: AT });
      engine.onPoint({ device: 's2', metric: 'temperature', value: 36, ts: AT });
      const hit = await eventually(() => am.hits[0]);
      expect(hit.method).toBe('POST');
      expect(hit.path).toBe('/alertmanager');
      expect(hit.headers['content-type']).toBe('application/json');
      const body = hit.json;
      expect(Object.keys(body).sort()).toEqual(['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'status', 'truncatedAlerts', 'version']);
      expect(body).toMatchObject({ version: '4', receiver: 'r', status: 'firing', truncatedAlerts: 0, externalURL: 'https://noc.example.vn/', groupLabels: { rule: 'hot' } });
      // Alertmanager's common*: what every alert of the group shares (the device differs, so it is not common).
      expect(body.commonLabels).toEqual({ alertname: 'hot', severity: 'critical', kind: 'environment', metric: 'temperature' });
      expect(body.commonAnnotations).toEqual({ runbook_url: 'https://wiki.example.vn/hot' });
      expect(body.alerts).toHaveLength(2);
      const [a] = body.alerts;
      expect(a).toMatchObject({ status: 'firing', labels: { alertname: 'hot', device: 's1' }, startsAt: '2026-12-01T17:30:00.000Z', endsAt: '0001-01-01T00:00:00Z', acknowledged: false, flapping: false });
      expect(a.generatorURL).toBe(`https://noc.example.vn/?alert=${encodeURIComponent(a.id)}`);
      expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
      expect(a.annotations).toMatchObject({ summary: 's1 inlet 35 °C', summary_vi: 's1: nhiệt độ khí vào 35 °C' });
    } finally {
      notifier.stop();
      await closeAll(am.server);
    }
  });

  it('Telegram sendMessage in Vietnamese and the site zone: chat_id, HTML parse mode, Acknowledge / Silence 1 h buttons of at most 64 bytes', async () => {
    const tg = await provider(() => ({ ok: true, result: { message_id: 7 } }));
    const { engine, notifier } = notifierWith({ language: 'vi', actAs: 'oncall', telegram: { botToken: '123456:ABC-def_ghi', chatId: -1001234567890, apiUrl: tg.url, secretToken: 'tg-secret-token-0123456789' } });
    try {
      engine.onPoint({ device: 's1', metric: 'temperature', value: 35, ts: AT });
      const hit = await eventually(() => tg.hits[0]);
      expect(hit.method).toBe('POST');
      expect(hit.path).toBe('/bot123456:ABC-def_ghi/sendMessage');
      expect(hit.json).toMatchObject({ chat_id: -1001234567890, parse_mode: 'HTML' });
      const text: string = hit.json.text;
      expect(text).toContain('ĐANG CẢNH BÁO');
      expect(text).toContain('s1: nhiệt độ khí vào 35 °C');
      // 17:30 UTC on 1 December is 00:30 on 2 December in Ho Chi Minh City.
      expect(text).toContain('từ 00:30 02/12/2026 (GMT+7)');
      expect(text).toContain('href="https://noc.example.vn/?alert=');
      const keyboard: { text: string; callback_data?: string; url?: string }[][] = hit.json.reply_markup.inline_keyboard;
      expect(keyboard[0]?.map((b) => b.text)).toEqual(['Xác nhận', 'Tạm ẩn 1 giờ']);
      for (const b of keyboard[0] ?? []) expect(Buffer.byteLength(b.callback_data ?? '')).toBeLessThanOrEqual(64);
      expect(keyboard[1]?.[0]?.url).toMatch(/^https:\/\/noc\.example\.vn\/\?alert=/);
    } finally {
      notifier.stop();
      await closeAll(tg.server);
    }
  });

  it('Zalo OA message v3: access_token header, recipient user_id, text; an answer with a non-zero error is retried', async () => {
    let calls = 0;
    const zalo = await provider(() => (++calls === 1 ? { error: -216, message: 'Access token is invalid' } : { error: 0, message: 'Success', data: { message_id: 'm1' } }));
    const { engine, notifier, clock } = notifierWith({ language: 'vi', zalo: { accessToken: 'oa-access-token-1', userId: '2468013579', apiUrl: zalo.url } });
    try {
      engine.onPoint({ device: 's1', metric: 'temperature', value: 35, ts: AT });
      await eventually(() => zalo.hits[0]);
      // Refused by Zalo (HTTP 200, error -216): still queued; the retry is due once the fake clock passes its wait.
      await eventually(() => (notifier.outbox.pending === 1 && calls === 1 ? true : undefined));
      clock.advance(100);
      await eventually(() => (notifier.outbox.pending === 0 ? true : undefined));
      expect(zalo.hits).toHaveLength(2);
      const hit = zalo.hits[0] as Hit;
      expect(hit.method).toBe('POST');
      expect(hit.path).toBe('/v3.0/oa/message/cs');
      expect(hit.headers.access_token).toBe('oa-access-token-1');
      expect(hit.json.recipient).toEqual({ user_id: '2468013579' });
      expect(hit.json.message.text).toContain('s1: nhiệt độ khí vào 35 °C');
      expect(hit.json.message.text).toContain('00:30 02/12/2026');
    } finally {
      notifier.stop();
      await closeAll(zalo.server);
    }
  });

  it('Slack incoming webhook: Block Kit header, a section per alert, an actions block with the buttons (value = token) and a link', async () => {
    const slack = await provider(() => 'ok');
    const { engine, notifier } = notifierWith({ actAs: 'oncall', slack: { url: `${slack.url}/services/T000/B000/XXXX`, signingSecret: 'slack-signing-secret-0123' } });
    try {
      engine.onPoint({ device: 's1', metric: 'temperature', value: 35, ts: AT });
      const hit = await eventually(() => slack.hits[0]);
      expect(hit.path).toBe('/services/T000/B000/XXXX');
      expect(hit.json.text).toBe('[FIRING:1] Hot aisle');
      const blocks: { type: string; text?: { text: string }; elements?: { type: string; action_id: string; value?: string; url?: string; text: { text: string } }[] }[] = hit.json.blocks;
      expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'actions']);
      expect(blocks[1]?.text?.text).toContain('since 2026-12-02 00:30 GMT+7');
      const buttons = blocks[2]?.elements ?? [];
      expect(buttons.map((b) => [b.action_id, b.text.text])).toEqual([['watchfloor_ack', 'Acknowledge'], ['watchfloor_silence_1h', 'Silence 1 h'], ['watchfloor_open', 'Open in Watchfloor']]);
      expect(buttons[0]?.value).toMatch(/^a\./);
      expect(buttons[1]?.value).toMatch(/^s\./);
      expect(buttons[2]?.url).toMatch(/^https:\/\/noc\.example\.vn\/\?alert=/);
    } finally {
      notifier.stop();
      await closeAll(slack.server);
    }
  });

  it('Teams incoming webhook: a MessageCard with an OpenUri action to the alert; no acting buttons', async () => {
    const teams = await provider(() => 1);
    const { engine, notifier } = notifierWith({ language: 'vi', teams: { url: `${teams.url}/webhookb2/abc` } });
    try {
      engine.onPoint({ device: 's1', metric: 'temperature', value: 35, ts: AT });
      const hit = await eventually(() => teams.hits[0]);
      expect(hit.json).toMatchObject({ '@type': 'MessageCard', '@context': 'https://schema.org/extensions', title: '[ĐANG CẢNH BÁO:1] Hot aisle', themeColor: 'D13438' });
      expect(hit.json.sections[0].text).toBe('s1: nhiệt độ khí vào 35 °C');
      expect(hit.json.sections[0].facts).toContainEqual({ name: 'Mức độ', value: 'nghiêm trọng' });
      expect(hit.json.potentialAction).toEqual([{ '@type': 'OpenUri', name: 'Mở trong Watchfloor', targets: [{ os: 'default', uri: expect.stringMatching(/^https:\/\/noc\.example\.vn\/\?alert=/) }] }]);
    } finally {
      notifier.stop();
      await closeAll(teams.server);
    }
  });

  it('e-mail in Vietnamese and the site zone reaches a real local SMTP server', async () => {
    const smtp = await captureSmtp();
    const { port, mails } = smtp;
    const { engine, notifier } = notifierWith({ language: 'vi', email: { host: '127.0.0.1', port, from: 'watchfloor@example.vn', to: ['noc@example.vn'] } });
    try {
      engine.onPoint({ device: 's1', metric: 'temperature', value: 35, ts: AT });
      const raw = await eventually(() => mails[0], 10_000);
      const parsed = readMail(raw);
      expect(parsed.subject).toBe('[ĐANG CẢNH BÁO:1] Hot aisle');
      expect(parsed.text).toContain('s1: nhiệt độ khí vào 35 °C');
      expect(parsed.text).toContain('từ 00:30 02/12/2026 (GMT+7)');
      expect(parsed.text).toContain('Mở trong Watchfloor: https://noc.example.vn/?alert=');
      expect(parsed.text).toContain('Hướng dẫn xử lý: https://wiki.example.vn/hot');
    } finally {
      notifier.stop();
      await smtp.close();
    }
  });

  it('a provider answering 429 and 503 delays the message, never loses it: the outbox retries until 200', async () => {
    const tg = await provider(() => ({ ok: true, result: {} }), [429, 503]);
    const { engine, notifier } = notifierWith({ telegram: { botToken: '123456:ABC', chatId: 42, apiUrl: tg.url } }, systemClock as unknown as FakeClock);
    try {
      engine.onPoint({ device: 's1', metric: 'temperature', value: 35, ts: Date.now() });
      await eventually(() => (tg.hits.length === 3 && notifier.outbox.pending === 0 ? true : undefined), 10_000);
      expect(notifier.outbox.delivered).toBe(1);
      // The same message each time.
      expect(new Set(tg.hits.map((h) => h.body)).size).toBe(1);
    } finally {
      notifier.stop();
      await closeAll(tg.server);
    }
  });

  it('a receiver is refused with the field named: unknown language, unknown zone, two transports, buttons without the provider secret', () => {
    expect(() => NotifyConfig.parse({ receivers: [{ name: 'm', language: 'fr', email: { host: 'h', from: 'a@b', to: ['c@d'] } }] })).toThrow(/language/);
    expect(() => NotifyConfig.parse({ receivers: [{ name: 'm', timeZone: 'Mars/Olympus', email: { host: 'h', from: 'a@b', to: ['c@d'] } }] })).toThrow(/IANA/);
    expect(() => NotifyConfig.parse({ receivers: [{ name: 'x', slack: { url: 'http://127.0.0.1:1/' }, teams: { url: 'http://127.0.0.1:1/' } }] })).toThrow(/exactly one/);
    expect(() => NotifyConfig.parse({ receivers: [{ name: 'x', actAs: 'oncall', telegram: { botToken: '1:a', chatId: 1 } }] })).toThrow(/secretToken/);
  });
});

describe('buttons: a Telegram callback_query and a Slack interaction act as the on-call user, audited', () => {
  let app: Watchfloor;
  let base: string;
  let dataDir: string;
  let admin: LoggedIn;
  let tg: Awaited<ReturnType<typeof provider>>;
  let slack: Awaited<ReturnType<typeof provider>>;
  const TG_SECRET = 'tg-secret-token-0123456789';
  const SLACK_SECRET = 'slack-signing-secret-0123';

  beforeAll(async () => {
    tg = await provider(() => ({ ok: true, result: true }));
    slack = await provider(() => 'ok');
    dataDir = mkdtempSync(join(tmpdir(), 'wf-notify-cb-'));
    const config = Config.parse({
      dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, snmp: { trapPort: await freeUdpPort() }, store: { flushIntervalMs: 50 },
      // No notify.timeZone: the site's (smallInventory's dc1, Asia/Ho_Chi_Minh) is the default.
      notify: {
        externalUrl: 'https://noc.example.vn',
        receivers: [
          { name: 'noc-telegram', language: 'vi', actAs: 'oncall', telegram: { botToken: '123456:ABC-def', chatId: -100777, apiUrl: tg.url, secretToken: TG_SECRET } },
          { name: 'noc-slack', actAs: 'oncall', slack: { url: `${slack.url}/hook`, signingSecret: SLACK_SECRET } },
        ],
        routes: [{ receiver: 'noc-telegram', group_wait: '0s', continue: true }, { receiver: 'noc-slack', group_wait: '0s' }],
      },
    });
    app = await startWatchfloor({ config, inventory: Inventory.parse(smallInventory), rules: hotRule, logger: silentLogger, adminPassword: ADMIN_PASSWORD });
    base = `http://127.0.0.1:${app.httpPort}`;
    admin = await login(base);
    expect((await api(base, admin, '/api/v1/users', { method: 'POST', body: { username: 'oncall', role: 'noc', password: 'oncall-password-1' } })).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    await closeAll(tg.server, slack.server);
  });

  const telegramClick = (data: string, secret = TG_SECRET): Promise<Response> =>
    fetch(`${base}/api/v1/notify/telegram/noc-telegram`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
      body: JSON.stringify({ update_id: 1001, callback_query: { id: 'cbq-1', from: { id: 99, username: 'an_nguyen' }, chat_instance: 'x', data } }),
    });
  const slackClick = (value: string, o: { secret?: string; ts?: number } = {}): Promise<Response> => {
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U1', username: 'an' }, response_url: `${slack.url}/response`, actions: [{ action_id: 'watchfloor_silence_1h', block_id: 'b', value, type: 'button' }] }))}`;
    const ts = String(o.ts ?? Math.floor(Date.now() / 1000));
    return fetch(`${base}/api/v1/notify/slack/noc-slack`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(o.secret ?? SLACK_SECRET, ts, body) },
      body,
    });
  };
  const auditOf = async (action: string): Promise<{ actor: string; outcome: string; target?: string; detail?: Record<string, unknown> }[]> =>
    (await api(base, admin, `/api/v1/audit?action=${action}`)).body as { actor: string; outcome: string; detail?: Record<string, unknown> }[];

  it('Acknowledge from Telegram acks the alert as oncall (alerts API, audit with via telegram) and answers the callback query; a replay is refused', async () => {
    app.rules.onPoint({ device: 's-a01-ft', metric: 'temperature', value: 35, ts: Date.now() });
    const sent = await eventually(() => tg.hits.find((h) => h.path.endsWith('/sendMessage')), 10_000);
    expect(sent.json.text).toContain('s-a01-ft: nhiệt độ khí vào 35 °C');
    expect(sent.json.text).toMatch(/từ \d\d:\d\d \d\d\/\d\d\/\d{4} \(GMT\+7\)/);
    const [ack] = sent.json.reply_markup.inline_keyboard[0] as { callback_data: string }[];
    const res = await telegramClick(ack?.callback_data ?? '');
    expect(res.status).toBe(200);
    const answered = (await res.json()) as { alert: string; by: string };
    expect(answered.by).toBe('oncall');
    const alert = (await api(base, admin, `/api/v1/alerts/${answered.alert}`)).body as Alert;
    expect(alert).toMatchObject({ acknowledged: true, ackedBy: 'oncall' });
    const acks = await auditOf('alert.ack');
    expect(acks[0]).toMatchObject({ actor: 'oncall', outcome: 'ok', target: alert.id, detail: { via: 'telegram', receiver: 'noc-telegram' } });
    const cbq = await eventually(() => tg.hits.find((h) => h.path.endsWith('/answerCallbackQuery')));
    expect(cbq.json).toEqual({ callback_query_id: 'cbq-1', text: 'oncall đã xác nhận' });
    // The same click again: spent.
    expect((await telegramClick(ack?.callback_data ?? '')).status).toBe(403);
    expect((await auditOf('notify.telegram.callback'))[0]).toMatchObject({ outcome: 'denied', detail: { reason: 'replayed' } });
  });

  it('Telegram: no or a wrong secret token is 401; tampered, expired or malformed data is 403, audited and reported to the SOC', async () => {
    const sent = await eventually(() => tg.hits.find((h) => h.path.endsWith('/sendMessage')), 10_000);
    const [, silence] = sent.json.reply_markup.inline_keyboard[0] as { callback_data: string }[];
    const data = silence?.callback_data ?? '';
    expect((await telegramClick(data, 'not-the-secret-token-000')).status).toBe(401);
    const noHeader = await fetch(`${base}/api/v1/notify/telegram/noc-telegram`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ update_id: 1, callback_query: { id: 'x', data } }) });
    expect(noHeader.status).toBe(401);
    // Another alert id, or the action flipped, under the same MAC.
    const parts = data.split('.');
    expect((await telegramClick(['a', ...parts.slice(1)].join('.'))).status).toBe(403);
    expect((await telegramClick([parts[0], parts[1], 'no-such-alert', parts[3]].join('.'))).status).toBe(403);
    expect((await telegramClick('garbage')).status).toBe(403);
    // A token issued 25 h ago, made here from the documented format and the product's key on disk: expired.
    const alerts = (await api(base, admin, '/api/v1/alerts?state=firing')).body as Alert[];
    const old = tokenOf(dataDir, 'noc-telegram', 's', (alerts[0] as Alert).id, 'oncall', Date.now() - 25 * 3_600_000);
    expect((await telegramClick(old)).status).toBe(403);
    const refused = await auditOf('notify.telegram.callback');
    expect(refused.map((e) => e.detail?.reason)).toEqual(expect.arrayContaining(['wrong secret token', 'no secret token', 'tampered', 'unknown alert', 'malformed', 'expired']));
    const events = (await api(base, admin, '/api/v1/security-events')).body as { type: string }[];
    expect(events.some((e) => e.type === 'notify_callback_refused')).toBe(true);
    // Nothing was silenced by any of these.
    expect(((await api(base, admin, '/api/v1/silences')).body as unknown[]).length).toBe(0);
  });

  it('Silence 1 h from Slack creates the UI\'s one-hour silence as oncall, audited with via slack; a bad signature or an old timestamp is 401', async () => {
    const sent = await eventually(() => slack.hits.find((h) => h.path === '/hook'), 10_000);
    const actions = (sent.json.blocks as { type: string; elements?: { action_id: string; value?: string }[] }[]).find((b) => b.type === 'actions');
    const token = actions?.elements?.find((e) => e.action_id === 'watchfloor_silence_1h')?.value ?? '';
    expect((await slackClick(token, { secret: 'another-signing-secret-00' })).status).toBe(401);
    expect((await slackClick(token, { ts: Math.floor(Date.now() / 1000) - 6 * 60 })).status).toBe(401);
    const res = await slackClick(token);
    expect(res.status).toBe(200);
    const silences = (await api(base, admin, '/api/v1/silences')).body as { id: string; createdBy: string; matchers: { name: string; value: string }[]; startsAt: number; endsAt: number }[];
    expect(silences).toHaveLength(1);
    const [s] = silences;
    expect(s?.createdBy).toBe('oncall');
    expect(s?.matchers).toEqual(expect.arrayContaining([{ name: 'alertname', value: 'hot', op: '=' }, { name: 'device', value: 's-a01-ft', op: '=' }]));
    expect((s?.endsAt ?? 0) - (s?.startsAt ?? 0)).toBeGreaterThan(3_590_000);
    expect((s?.endsAt ?? 0) - (s?.startsAt ?? 0)).toBeLessThanOrEqual(3_600_000);
    const created = await auditOf('silence.create');
    expect(created[0]).toMatchObject({ actor: 'oncall', outcome: 'ok', target: s?.id, detail: { via: 'slack', receiver: 'noc-slack' } });
    const told = await eventually(() => slack.hits.find((h) => h.path === '/response'));
    expect(told.json.text).toBe('Silenced for 1 h by oncall');
    expect((await slackClick(token)).status).toBe(403);
  });

  it('the callback routes are no open API: a session cookie is no substitute for the provider signature', async () => {
    const res = await fetch(`${base}/api/v1/notify/slack/noc-slack`, { method: 'POST', headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    const unknown = await fetch(`${base}/api/v1/notify/telegram/nobody`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG_SECRET }, body: '{}' });
    expect(unknown.status).toBe(401);
  });
});

describe('the rule pack in Vietnamese', () => {
  it('every built-in rule has a summary_vi, naming only the variables its English summary names (an unknown one would show as {{typo}})', () => {
    const rules = loadRulesFile(builtinRulesPath);
    const names = (t: string | undefined): string[] => [...(t ?? '').matchAll(/\{\{\s*([\w.-]+)\s*\}\}/g)].map((m) => m[1] as string).sort();
    expect(rules.filter((r) => !r.summary_vi).map((r) => r.id)).toEqual([]);
    const stray = rules.filter((r) => r.summary !== undefined).flatMap((r) => names(r.summary_vi).filter((v) => !names(r.summary).includes(v)).map((v) => `${r.id}: {{${v}}}`));
    expect(stray).toEqual([]);
    // And they are Vietnamese, not a copy of the English.
    expect(rules.filter((r) => r.summary_vi === r.summary).map((r) => r.id)).toEqual([]);
  });
});

/** A button token as rules/notify/callbacks.ts documents it, computed here with the key from the data directory. */
function tokenOf(dataDir: string, receiver: string, code: 'a' | 's', alertId: string, user: string, at: number): string {
  const key = Buffer.from(readFileSync(join(dataDir, 'alerts', 'notify-callback.key'), 'utf8').trim(), 'hex');
  const issued = Math.floor(at / 1000);
  const mac = createHmac('sha256', key).update(['wf-notify-v1', receiver, code, String(issued), alertId, user].join('\n')).digest('base64url').slice(0, 16);
  return `${code}.${issued.toString(36)}.${alertId}.${mac}`;
}
