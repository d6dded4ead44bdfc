import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AlertKind, type Alert } from '../core/index.ts';

/** Alertmanager's matcher: a label, an operator and a value (`=~` is a regex anchored at both ends). */
export const Matcher = z.strictObject({
  name: z.string().min(1),
  value: z.string(),
  op: z.enum(['=', '!=', '=~', '!~']).default('='),
});
export type Matcher = z.output<typeof Matcher>;

/** A silence or maintenance window: alerts it matches in [startsAt, endsAt) are marked and not notified. */
export const SilenceInput = z
  .strictObject({
    matchers: z.array(Matcher).default([]),
    /** Only alerts of these kinds (silence door alarms, keep temperature). */
    kinds: z.array(AlertKind).optional(),
    startsAt: z.number().int().nonnegative().optional(),
    endsAt: z.number().int().positive(),
    comment: z.string().max(1000).default(''),
  })
  .refine((s) => s.matchers.length > 0 || (s.kinds?.length ?? 0) > 0, { message: 'give at least one matcher or kind', path: ['matchers'] });
export type SilenceInput = z.input<typeof SilenceInput>;

export interface Silence {
  id: string;
  matchers: Matcher[];
  kinds?: AlertKind[];
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
}

/** The labels a matcher sees: the alert's labels plus `alertname` (the rule id), `kind` and `severity`. */
function labelOf(alert: Pick<Alert, 'labels' | 'rule' | 'kind' | 'severity'>, name: string): string {
  if (name === 'alertname' || name === 'rule') return alert.rule;
  if (name === 'kind' && alert.labels.kind === undefined) return alert.kind;
  if (name === 'severity') return alert.severity;
  return alert.labels[name] ?? '';
}

/** True when every matcher holds; a missing label reads as "" as in Alertmanager. */
export function matchesAll(matchers: readonly Matcher[], alert: Pick<Alert, 'labels' | 'rule' | 'kind' | 'severity'>): boolean {
  for (const m of matchers) {
    const have = labelOf(alert, m.name);
    const ok = m.op === '=' ? have === m.value : m.op === '!=' ? have !== m.value : new RegExp(`^(?:${m.value})$`).test(have) === (m.op === '=~');
    if (!ok) return false;
  }
  return true;
}

/** True when the silence is active at `now` and covers the alert. */
export function silences(s: Silence, alert: Pick<Alert, 'labels' | 'rule' | 'kind' | 'severity'>, now: number): boolean {
  if (now < s.startsAt || now >= s.endsAt) return false;
  if (s.kinds && !s.kinds.includes(alert.kind)) return false;
  return matchesAll(s.matchers, alert);
}

/** The silences, kept in memory; the journal persists them. */
export class SilenceBook {
  private readonly items = new Map<string, Silence>();
  /** Bumped on every change, so the engine knows to look at its alerts again. */
  version = 0;

  constructor(initial: Iterable<Silence> = []) {
    for (const s of initial) this.items.set(s.id, s);
  }

  add(input: z.output<typeof SilenceInput>, createdBy: string, now: number): Silence {
    const s: Silence = { id: randomUUID(), matchers: input.matchers, ...(input.kinds ? { kinds: input.kinds } : {}), startsAt: input.startsAt ?? now, endsAt: input.endsAt, comment: input.comment, createdBy };
    this.items.set(s.id, s);
    this.version++;
    return s;
  }

  /** Ends a silence now (Alertmanager's expire); false when unknown. */
  remove(id: string): boolean {
    const had = this.items.delete(id);
    if (had) this.version++;
    return had;
  }

  list(): Silence[] {
    return [...this.items.values()].sort((a, b) => a.startsAt - b.startsAt);
  }

  get size(): number {
    return this.items.size;
  }

  /** Ids of the silences covering the alert at `now`. */
  covering(alert: Pick<Alert, 'labels' | 'rule' | 'kind' | 'severity'>, now: number): string[] {
    const out: string[] = [];
    for (const s of this.items.values()) if (silences(s, alert, now)) out.push(s.id);
    return out;
  }

  /** A key that changes when the set of active silences changes: start and end times crossing `now`. */
  activeKey(now: number): string {
    let key = `${this.version}:`;
    for (const s of this.items.values()) if (now >= s.startsAt && now < s.endsAt) key += `${s.id},`;
    return key;
  }
}
