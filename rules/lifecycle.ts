import { conflict, type Alert, type Disposition, type TriageStatus } from '../core/index.ts';

/** What a person may do to an alert (REST `POST /alerts/{id}/{action}`). */
export type AlertAction =
  | { action: 'ack' }
  | { action: 'unack' }
  | { action: 'assign'; assignee: string | null }
  | { action: 'comment'; text: string }
  | { action: 'resolve' }
  | { action: 'reopen' }
  | { action: 'triage'; status: TriageStatus; disposition?: Disposition };

/** One line of an alert's history: who did what, when. Machine changes are by "system". */
export interface HistoryEntry {
  ts: number;
  alert: string;
  who: string;
  action: string;
  detail?: Record<string, unknown>;
}

/** Triage moves forward, or back to in_progress from closed (a case reopened); new -> closed skips the work. */
const TRIAGE_NEXT: Record<TriageStatus, readonly TriageStatus[]> = {
  new: ['in_progress'],
  in_progress: ['closed'],
  closed: ['in_progress'],
};

/**
 * The alert after an action, or a 409 for an illegal transition (acknowledging twice, resolving a
 * resolved alert, closing a triage that was never started). Pure: the caller stores and records it.
 */
export function applyAction(alert: Alert, a: AlertAction, now: number, who: string): Alert {
  const illegal = (why: string): never => {
    throw conflict(`cannot ${a.action} alert ${alert.id}: ${why}`);
  };
  switch (a.action) {
    case 'ack':
      if (alert.state !== 'firing') illegal('it is resolved');
      if (alert.acknowledged) illegal(`already acknowledged by ${alert.ackedBy ?? 'someone'}`);
      return { ...alert, acknowledged: true, ackedBy: who, updatedAt: now };
    case 'unack':
      if (!alert.acknowledged) illegal('it is not acknowledged');
      return { ...alert, acknowledged: false, ackedBy: null, updatedAt: now };
    case 'assign':
      if ((alert.assignee ?? null) === a.assignee) illegal(a.assignee ? `already assigned to ${a.assignee}` : 'it is not assigned');
      return { ...alert, assignee: a.assignee, updatedAt: now };
    case 'comment':
      return { ...alert, comments: (alert.comments ?? 0) + 1, updatedAt: now };
    case 'resolve':
      if (alert.state !== 'firing') illegal('it is already resolved');
      return { ...alert, state: 'resolved', endsAt: now, updatedAt: now };
    case 'reopen':
      if (alert.state !== 'resolved') illegal('it is firing');
      return { ...alert, state: 'firing', endsAt: null, acknowledged: false, ackedBy: null, updatedAt: now };
    case 'triage': {
      const from = alert.triage ?? 'new';
      if (!TRIAGE_NEXT[from].includes(a.status)) illegal(`triage goes ${from} -> ${TRIAGE_NEXT[from].join(' or ')}, not ${a.status}`);
      if (a.status === 'closed' && !a.disposition) illegal('closing a triage needs a disposition');
      return { ...alert, triage: a.status, disposition: a.status === 'closed' ? (a.disposition ?? null) : null, updatedAt: now };
    }
  }
}

/** The history detail an action records (the comment's text, the assignee, the disposition). */
export function actionDetail(a: AlertAction): Record<string, unknown> | undefined {
  const { action: _action, ...rest } = a;
  return Object.keys(rest).length > 0 ? rest : undefined;
}
