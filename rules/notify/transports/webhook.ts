import { createHmac } from 'node:crypto';
import type { Alert } from '../../../core/index.ts';
import type { Notification } from '../grouping.ts';
import type { Receiver } from '../schema.ts';
import { alertUrl, postJson, type Site, type Transport } from './site.ts';

/** Go's zero time: what Alertmanager sends as `endsAt` of an alert that has not ended. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

const labelsOf = (a: Alert): Record<string, string> => ({ alertname: a.rule, severity: a.severity, kind: a.kind, ...a.labels });
const annotationsOf = (a: Alert): Record<string, string> => ({
  summary: a.summary,
  ...(a.summaryVi ? { summary_vi: a.summaryVi } : {}),
  ...(a.description ? { description: a.description } : {}),
  ...(a.runbook ? { runbook_url: a.runbook } : {}),
});

/** The pairs every map holds with the same value (Alertmanager's commonLabels / commonAnnotations). */
function common(maps: Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = maps;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first ?? {})) if (rest.every((m) => m[k] === v)) out[k] = v;
  return out;
}

/**
 * The JSON body: Alertmanager's webhook message, version 4 (notify/webhook Message over template.Data:
 * receiver, status, alerts, groupLabels, commonLabels, commonAnnotations, externalURL, version,
 * groupKey, truncatedAlerts; each alert status, labels, annotations, startsAt, endsAt, generatorURL,
 * fingerprint), so what consumes Alertmanager consumes this. Watchfloor's own fields sit beside them:
 * `id`, `acknowledged`, `flapping` on each alert, and `escalated` on an escalation (whose status stays
 * `firing`, the only words Alertmanager's consumers know besides `resolved`).
 */
export function webhookBody(n: Notification, site: Pick<Site, 'externalUrl'> = {}): string {
  const labels = n.alerts.map(labelsOf);
  const annotations = n.alerts.map(annotationsOf);
  return JSON.stringify({
    version: '4',
    receiver: n.receiver,
    status: n.status === 'resolved' ? 'resolved' : 'firing',
    groupKey: n.groupKey,
    truncatedAlerts: 0,
    groupLabels: n.groupLabels,
    commonLabels: common(labels),
    commonAnnotations: common(annotations),
    externalURL: site.externalUrl ?? '',
    ...(n.status === 'escalated' ? { escalated: true } : {}),
    alerts: n.alerts.map((a, i) => ({
      status: a.state,
      labels: labels[i],
      annotations: annotations[i],
      startsAt: new Date(a.startsAt).toISOString(),
      endsAt: a.endsAt === null ? ZERO_TIME : new Date(a.endsAt).toISOString(),
      generatorURL: alertUrl({ locale: { language: 'en', timeZone: 'UTC' }, ...site }, a) ?? '',
      fingerprint: a.fingerprint,
      id: a.id,
      acknowledged: a.acknowledged ?? false,
      flapping: a.flapping ?? false,
    })),
  });
}

/** `sha256=<hex>` of the body with the receiver's secret, as GitHub signs its webhooks. */
export const signature = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Posts the Alertmanager-shaped body, signed in `X-Watchfloor-Signature` when the receiver has a secret. */
export function webhookTransport(r: NonNullable<Receiver['webhook']>, site: Site): Transport {
  return async (n) => {
    const body = webhookBody(n, site);
    await postJson(r.url, body, r.secret ? { 'x-watchfloor-signature': signature(r.secret, body) } : {});
  };
}
