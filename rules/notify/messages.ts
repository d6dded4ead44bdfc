import type { Alert } from '../../core/index.ts';
import type { Notification } from './grouping.ts';

/** The languages a receiver may ask for. */
export const LANGUAGES = ['vi', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Every word a notification uses, per language: titles, states, "since", the buttons. */
interface Catalogue {
  firing: string;
  resolved: string;
  escalated: string;
  severity: Record<Alert['severity'], string>;
  severityWord: string;
  deviceWord: string;
  since: string;
  ended: string;
  andMore: (n: number) => string;
  open: string;
  runbook: string;
  ack: string;
  silence1h: string;
  acknowledged: string;
  silenced: string;
  refused: string;
  ackedBy: (who: string) => string;
  silencedBy: (who: string) => string;
}

const CATALOGUE: Record<Language, Catalogue> = {
  en: {
    firing: 'FIRING',
    resolved: 'RESOLVED',
    escalated: 'ESCALATED',
    severity: { critical: 'critical', major: 'major', minor: 'minor', warning: 'warning', info: 'info' },
    severityWord: 'Severity',
    deviceWord: 'Device',
    since: 'since',
    ended: 'ended',
    andMore: (n) => `and ${n} more`,
    open: 'Open in Watchfloor',
    runbook: 'Runbook',
    ack: 'Acknowledge',
    silence1h: 'Silence 1 h',
    acknowledged: 'Acknowledged',
    silenced: 'Silenced for 1 h',
    refused: 'This button has expired or is not valid; open the alert in Watchfloor',
    ackedBy: (who) => `Acknowledged by ${who}`,
    silencedBy: (who) => `Silenced for 1 h by ${who}`,
  },
  vi: {
    firing: 'ĐANG CẢNH BÁO',
    resolved: 'ĐÃ KHẮC PHỤC',
    escalated: 'CHUYỂN CẤP',
    severity: { critical: 'nghiêm trọng', major: 'cao', minor: 'thấp', warning: 'cảnh báo', info: 'thông tin' },
    severityWord: 'Mức độ',
    deviceWord: 'Thiết bị',
    since: 'từ',
    ended: 'kết thúc',
    andMore: (n) => `và ${n} cảnh báo khác`,
    open: 'Mở trong Watchfloor',
    runbook: 'Hướng dẫn xử lý',
    ack: 'Xác nhận',
    silence1h: 'Tạm ẩn 1 giờ',
    acknowledged: 'Đã xác nhận',
    silenced: 'Đã tạm ẩn 1 giờ',
    refused: 'Nút này đã hết hạn hoặc không hợp lệ; hãy mở cảnh báo trong Watchfloor',
    ackedBy: (who) => `${who} đã xác nhận`,
    silencedBy: (who) => `${who} đã tạm ẩn 1 giờ`,
  },
};

/** The words of a language. */
export const wordsOf = (language: Language): Catalogue => CATALOGUE[language];

/** True when Intl knows the IANA zone name (`Asia/Ho_Chi_Minh`): one check, the on-call clock's. */
export { isTimeZone } from './oncall/local-time.ts';

/**
 * A moment as the recipient reads it, in the site's zone: `00:30 02/12/2026 (GMT+7)` in Vietnamese
 * (day before month, 24 h), `2026-12-02 00:30 GMT+7` in English. Intl does the zone arithmetic.
 */
export function formatTime(ms: number, language: Language, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short',
  }).formatToParts(new Date(ms));
  const p = (type: Intl.DateTimeFormatPartTypes): string => parts.find((x) => x.type === type)?.value ?? '';
  const zone = p('timeZoneName');
  return language === 'vi'
    ? `${p('hour')}:${p('minute')} ${p('day')}/${p('month')}/${p('year')} (${zone})`
    : `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')} ${zone}`;
}

/** What a receiver's message is written in. */
export interface Locale {
  language: Language;
  timeZone: string;
}

/** The alert's one-line summary in the language: the rule pack's `summary_vi` for Vietnamese, when the rule has one. */
export const summaryIn = (a: Alert, language: Language): string => (language === 'vi' && a.summaryVi ? a.summaryVi : a.summary);

/** The state word of one alert. */
export const stateWord = (a: Alert, language: Language): string => (a.state === 'firing' ? wordsOf(language).firing : wordsOf(language).resolved);

/** `[FIRING:2] Hot and 1 more`: the title every transport starts with (e-mail subject, chat heading). */
export function titleOf(n: Notification, language: Language): string {
  const w = wordsOf(language);
  const firing = n.alerts.filter((a) => a.state === 'firing').length;
  const tag = n.status === 'escalated' ? w.escalated : n.status === 'firing' ? `${w.firing}:${firing}` : w.resolved;
  const first = n.alerts[0];
  return `[${tag}] ${first ? first.name : 'alerts'}${n.alerts.length > 1 ? ` ${w.andMore(n.alerts.length - 1)}` : ''}`;
}

/** "since 00:30 02/12/2026 (GMT+7)" or, resolved, "ended ...". */
export function whenLine(a: Alert, locale: Locale): string {
  const w = wordsOf(locale.language);
  const since = `${w.since} ${formatTime(a.startsAt, locale.language, locale.timeZone)}`;
  return a.endsAt === null ? since : `${since}, ${w.ended} ${formatTime(a.endsAt, locale.language, locale.timeZone)}`;
}
