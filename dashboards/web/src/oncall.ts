// "On call now" in the top bar (issue 18): who is on call per schedule of notify.oncall, from
// GET /api/v1/oncall, with the next hand-over and today's holiday in the tooltip. Hidden for a viewer
// (the API tells a wall screen nothing of who to phone) and when no schedule is configured.
import { http } from './api.ts';
import { currentLang, t } from './i18n.ts';

interface OnCallAnswer {
  schedules: {
    schedule: string;
    person: string;
    timeZone: string;
    source: 'rotation' | 'override' | 'holiday';
    today: { holiday: { name: string; name_en?: string } | null };
    next: { at: string; person: string } | null;
  }[];
}

let last: OnCallAnswer | null = null;

/** Asks the server again and shows the answer; a failure hides the badge rather than showing stale names. */
export async function refreshOnCall(el: HTMLElement, role: string): Promise<void> {
  if (role === 'viewer') {
    last = null;
  } else {
    try {
      last = await http.get<OnCallAnswer>('/oncall');
    } catch {
      last = null;
    }
  }
  showOnCall(el);
}

/** Writes the last answer in the page's language (called again when the language changes). */
export function showOnCall(el: HTMLElement): void {
  const list = last?.schedules ?? [];
  el.hidden = list.length === 0;
  if (list.length === 0) {
    el.textContent = '';
    el.title = '';
    return;
  }
  el.textContent = t('oncall.now', { list: list.map((s) => t('oncall.one', { person: s.person, schedule: s.schedule })).join(', ') });
  const locale = currentLang() === 'vi' ? 'vi-VN' : 'en-GB';
  el.title = list
    .map((s) => {
      const parts = [`${s.schedule}: ${s.person}${s.source === 'rotation' ? '' : ` (${t(`oncall.source.${s.source}`)})`}`];
      if (s.next) {
        const when = new Intl.DateTimeFormat(locale, { timeZone: s.timeZone, weekday: 'short', day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(Date.parse(s.next.at));
        parts.push(t('oncall.next', { person: s.next.person, when }));
      }
      const h = s.today.holiday;
      if (h) parts.push(t('oncall.holiday', { name: currentLang() === 'en' && h.name_en ? h.name_en : h.name }));
      return parts.join(' · ');
    })
    .join('\n');
}
