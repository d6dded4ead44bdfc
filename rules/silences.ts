import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AlertKind, compileSafeRegex, RegexSyntaxError, type Alert, type SafeRegex } from '../core/index.ts';

/** Longest label name and value a matcher takes: label values are ids and tags, a few dozen characters. */
const MAX_LABEL_LENGTH = 1024;

/**
 * Alertmanager's matcher: a label, an operator and a value (`=~` is a regex anchored at both ends).
 * A regex is compiled here, when the matcher is read (API body, config, saved state), so a pattern
 * that does not compile is a 400 naming `matchers[i].value`, never a throw at evaluation time.
 */
export const Matcher = z
  .strictObject({
    name: z.string().min(1).max(256),
    value: z.string().max(MAX_LABEL_LENGTH),
    op: z.enum(['=', '!=', '=~', '!~']).default('='),
  })
  .superRefine((m, ctx) => {
    if (m.op !== '=~' && m.op !== '!~') return;
    try {
      compileMatcherRegex(m.value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: err instanceof RegexSyntaxError ? err.message : String(err) });
    }
  });
export type Matcher = z.output<typeof Matcher>;

/**
 * The value compiled alone first (so `a)|(b` cannot break out of the anchors), then anchored as
 * Alertmanager does, `^(?:value)$`, with RE2 semantics: linear time whatever the pattern
 * (core/regex.ts), so `^((.+)+)+X$` against a long label cannot stall the event loop.
 */
function compileMatcherRegex(value: string): SafeRegex {
  compileSafeRegex(value);
  return compileSafeRegex(`^(?:${value})$`);
}

/** Each regex matcher compiled once (per silence or route object), not per evaluation; null: does not compile. */
const compiled = new WeakMap<Matcher, SafeRegex | null>();

function regexOf(m: Matcher): SafeRegex | null {
  let re = compiled.get(m);
  if (re === undefined) {
    try {
      re = compileMatcherRegex(m.value);
    } catch {
      // Validated on the way in; one that slipped through (built in code) matches nothing rather than throwing.
      re = null;
    }
    compiled.set(m, re);
  }
  return re;
}

/** A silence or maintenance window: alerts it matches in [startsAt, endsAt) are marked and not notified. */
export const SilenceInput = z
  .strictObject({
    matchers: z.array(Matcher).max(64).default([]),
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

/** A silence as saved in `alerts/state.json`; read back through this, so a bad one from an older version is caught. */
const StoredSilence = z.object({
  id: z.string().min(1),
  matchers: z.array(Matcher),
  kinds: z.array(AlertKind).optional(),
  startsAt: z.number(),
  endsAt: z.number(),
  comment: z.string().default(''),
  createdBy: z.string(),
});

/** A saved silence that did not validate (a regex that does not compile, a missing field), and why. */
export interface RejectedSilence {
  silence: unknown;
  reason: string;
}

/** Splits saved silences into those that validate and those set aside: one bad silence must not stop a start. */
export function admitSilences(saved: readonly unknown[]): { kept: Silence[]; rejected: RejectedSilence[] } {
  const kept: Silence[] = [];
  const rejected: RejectedSilence[] = [];
  for (const raw of saved) {
    const r = StoredSilence.safeParse(raw);
    if (r.success) kept.push(r.data as Silence);
    else {
      const issue = r.error.issues[0];
      rejected.push({ silence: raw, reason: `${fieldOf(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}` });
    }
  }
  return { kept, rejected };
}

/** A zod issue path as a person writes it: `matchers[0].value`. */
export function fieldOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(body)';
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
    let ok: boolean;
    if (m.op === '=') ok = have === m.value;
    else if (m.op === '!=') ok = have !== m.value;
    else {
      const re = regexOf(m);
      ok = re !== null && re.test(have) === (m.op === '=~');
    }
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

  get(id: string): Silence | undefined {
    return this.items.get(id);
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
