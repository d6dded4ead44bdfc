import type { Alert } from '../../../core/index.ts';
import type { ButtonAction } from '../callbacks.ts';
import type { Notification } from '../grouping.ts';
import { summaryIn, titleOf, whenLine, wordsOf, type Locale } from '../messages.ts';

/** Sends one notification; rejects when the receiver did not take it (the outbox retries). */
export type Transport = (n: Notification) => Promise<void>;

/** What every transport is given besides its receiver: where the UI is, how people read, the button tokens. */
export interface Site {
  /** The UI's address, for the link back to each alert; no links without it. */
  externalUrl?: string;
  locale: Locale;
  /** A signed token for the alert's button, or undefined: no button (the receiver acts as nobody). */
  button?: (alert: Alert, action: ButtonAction) => string | undefined;
}

/** At most this many alerts are written out in one chat message; the rest are counted ("and 3 more"). */
export const MAX_ALERTS_SHOWN = 10;

/** A summary cut to what a chat line holds (a correlation's summary lists its evidence). */
export const shortText = (s: string, max = 300): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** The link to one alert in the UI. */
export function alertUrl(site: Site, alert: Alert): string | undefined {
  if (!site.externalUrl) return undefined;
  return `${site.externalUrl.replace(/\/+$/, '')}/?alert=${encodeURIComponent(alert.id)}`;
}

/** One alert as plain lines: state, severity, name; its summary; since when; its link and runbook. */
export function alertLines(a: Alert, site: Site): string[] {
  const w = wordsOf(site.locale.language);
  const state = a.state === 'firing' ? w.firing : w.resolved;
  const url = alertUrl(site, a);
  return [
    `${state} ${w.severity[a.severity]} ${a.name}`,
    `  ${summaryIn(a, site.locale.language)}`,
    `  ${whenLine(a, site.locale)}`,
    ...(url ? [`  ${w.open}: ${url}`] : []),
    ...(a.runbook ? [`  ${w.runbook}: ${a.runbook}`] : []),
  ];
}

/** The whole notification as plain text (e-mail body, Zalo message). */
export function plainText(n: Notification, site: Site): string {
  return [titleOf(n, site.locale.language), ...n.alerts.map((a) => alertLines(a, site).join('\n'))].join('\n\n');
}

/** Posts JSON; rejects on a network error or a non-2xx answer (the outbox retries); answers the parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'watchfloor', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text().catch(() => '');
  if (!res.ok) throw new Error(`${new URL(url).origin} answered ${res.status}`);
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return text;
  }
}
