import { createHmac } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { Receiver } from './schema.ts';
import type { Notification } from './grouping.ts';

/** Sends one notification; rejects when the receiver did not take it (the outbox retries). */
export type Transport = (n: Notification) => Promise<void>;

/** The JSON body: Alertmanager's webhook shape (version 4), with Watchfloor's own fields on each alert. */
export function webhookBody(n: Notification): string {
  return JSON.stringify({
    version: '4',
    receiver: n.receiver,
    status: n.status,
    groupKey: n.groupKey,
    groupLabels: n.groupLabels,
    alerts: n.alerts.map((a) => ({
      status: a.state,
      labels: { alertname: a.rule, severity: a.severity, kind: a.kind, ...a.labels },
      annotations: { summary: a.summary, ...(a.description ? { description: a.description } : {}), ...(a.runbook ? { runbook_url: a.runbook } : {}) },
      startsAt: new Date(a.startsAt).toISOString(),
      endsAt: a.endsAt === null ? null : new Date(a.endsAt).toISOString(),
      fingerprint: a.fingerprint,
      id: a.id,
      acknowledged: a.acknowledged ?? false,
      flapping: a.flapping ?? false,
    })),
  });
}

/** `sha256=<hex>` of the body with the receiver's secret, as GitHub signs its webhooks. */
export const signature = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** The transport for a receiver. */
export function transportFor(r: Receiver): Transport {
  if (r.webhook) {
    const { url, secret } = r.webhook;
    return async (n) => {
      const body = webhookBody(n);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'watchfloor' };
      if (secret) headers['x-watchfloor-signature'] = signature(secret, body);
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`webhook ${url} answered ${res.status}`);
    };
  }
  const e = r.email as NonNullable<Receiver['email']>;
  const mailer = createTransport({ host: e.host, port: e.port, secure: e.secure, ...(e.user ? { auth: { user: e.user, pass: e.pass ?? '' } } : {}) });
  return async (n) => {
    const firing = n.alerts.filter((a) => a.state === 'firing').length;
    const tag = n.status === 'escalated' ? 'ESCALATED' : n.status === 'firing' ? `FIRING:${firing}` : 'RESOLVED';
    const first = n.alerts[0];
    const subject = `[${tag}] ${first ? first.name : 'alerts'}${n.alerts.length > 1 ? ` and ${n.alerts.length - 1} more` : ''}`;
    const text = n.alerts
      .map((a) => `${a.state.toUpperCase()} ${a.severity} ${a.name}\n  ${a.summary}\n  since ${new Date(a.startsAt).toISOString()}${a.runbook ? `\n  runbook: ${a.runbook}` : ''}`)
      .join('\n\n');
    await mailer.sendMail({ from: e.from, to: e.to, subject, text });
  };
}
