import { summaryIn, titleOf, whenLine, wordsOf } from '../messages.ts';
import type { Receiver } from '../schema.ts';
import { alertUrl, postJson, type Site, type Transport } from './site.ts';

const COLOR = { firing: 'D13438', resolved: '2EB886', escalated: '8B0000' } as const;

/**
 * A Microsoft Teams incoming webhook message as a MessageCard (connector card): title, a section
 * per alert with its facts, and an OpenUri action to each alert. Teams cannot call back without an
 * app, so it carries links, no buttons that act.
 */
export function teamsTransport(t: NonNullable<Receiver['teams']>, site: Site): Transport {
  return async (n) => {
    const w = wordsOf(site.locale.language);
    const title = titleOf(n, site.locale.language);
    const card = {
      '@type': 'MessageCard',
      '@context': 'https://schema.org/extensions',
      summary: title,
      title,
      themeColor: COLOR[n.status],
      sections: n.alerts.slice(0, 10).map((a) => ({
        activityTitle: `${a.state === 'firing' ? w.firing : w.resolved} · ${a.name}`,
        text: summaryIn(a, site.locale.language),
        facts: [
          { name: w.severityWord, value: w.severity[a.severity] },
          ...(a.labels.device ? [{ name: w.deviceWord, value: a.labels.device }] : []),
          { name: '', value: whenLine(a, site.locale) },
        ],
      })),
      potentialAction: n.alerts.slice(0, 5).flatMap((a) => {
        const uri = alertUrl(site, a);
        return uri ? [{ '@type': 'OpenUri', name: n.alerts.length > 1 ? `${w.open} · ${a.labels.device ?? a.name}` : w.open, targets: [{ os: 'default', uri }] }] : [];
      }),
    };
    await postJson(t.url, card);
  };
}
