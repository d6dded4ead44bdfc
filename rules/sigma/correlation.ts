import type { LogLine } from '../../core/index.ts';
import type { CountBounds, SigmaCorrelationRule } from './compile.ts';

/** A rule's hit as a correlation sees it: when, the evidence, and how to read a group-by field. */
export interface Hit {
  rule: string;
  ts: number;
  lines: LogLine[];
  value(field: string): string | undefined;
}

/** What a correlation reports when its condition holds. */
export interface CorrelationFire {
  ts: number;
  lines: LogLine[];
  groupBy: Record<string, string>;
  count: number;
}

export interface CorrelationLimits {
  /** Groups kept per correlation; the oldest is dropped (and counted) past it. */
  maxGroups: number;
  /** Evidence lines kept per group. */
  maxEvidence: number;
}

interface Group {
  values: Record<string, string>;
  first: number;
  /** event_count: hit times and lines, oldest first (at most what the bound needs). */
  events: { ts: number; lines: LogLine[] }[];
  /** value_count: value -> last time seen (Map order = last seen); temporal: rule -> last hit. */
  seen: Map<string, { ts: number; lines: LogLine[] }>;
  count: number;
  /** temporal_ordered: start time of the latest chain through rules[0..i]. */
  chain: (number | undefined)[];
  evidence: LogLine[];
  /** After a firing the group stays quiet for one timespan: one alert per burst, not one per threshold crossed. */
  quietUntil?: number;
}

const holds = (b: CountBounds, n: number): boolean =>
  (b.gt === undefined || n > b.gt) && (b.gte === undefined || n >= b.gte) && (b.lt === undefined || n < b.lt) && (b.lte === undefined || n <= b.lte) && (b.eq === undefined || n === b.eq);

/**
 * The state of one correlation rule over a stream (correlation specification v2): groups by the
 * group-by values, each with what the type needs inside the timespan. A condition with only lower
 * bounds (gt, gte) fires as soon as it holds over a sliding window, then the group is quiet for one
 * timespan and starts over; a
 * condition with an upper bound (lt, lte, eq) can only be known when the window closes, so the
 * window is fixed from the group's first hit and judged at its end (`close`). Time is the `now`
 * passed in; nothing here reads a clock.
 */
export class CorrelationState {
  private readonly groups = new Map<string, Group>();
  /** Whether the condition has an upper bound, so windows are fixed and judged when they close. */
  readonly windowed: boolean;
  /** Groups dropped because the cap was reached. */
  evicted = 0;

  constructor(
    readonly rule: SigmaCorrelationRule,
    private readonly limits: CorrelationLimits,
  ) {
    const b = rule.condition;
    this.windowed = b.lt !== undefined || b.lte !== undefined || b.eq !== undefined;
  }

  /** Groups currently kept. */
  get size(): number {
    return this.groups.size;
  }

  /** Takes one hit of a referenced rule at `now`; returns a firing when the condition now holds. */
  onHit(hit: Hit, now: number): CorrelationFire[] {
    const out = this.close(now);
    const values: Record<string, string> = {};
    for (const f of this.rule.groupBy) {
      const v = hit.value(this.rule.aliases.get(f)?.get(hit.rule) ?? f);
      // Like `stats count by src`, a hit without a group-by value is not counted.
      if (v === undefined || v === '') return out;
      values[f] = v;
    }
    const key = JSON.stringify(this.rule.groupBy.map((f) => values[f]));
    let g = this.groups.get(key);
    if (!g) {
      if (this.groups.size >= this.limits.maxGroups) {
        const oldest = this.groups.keys().next().value as string;
        this.groups.delete(oldest);
        this.evicted++;
      }
      g = { values, first: now, events: [], seen: new Map(), count: 0, chain: [], evidence: [] };
      this.groups.set(key, g);
    }
    const span = this.rule.timespanMs;
    if (g.quietUntil !== undefined) {
      if (now < g.quietUntil) return out;
      g.quietUntil = undefined;
    }
    const keep = (lines: LogLine[]) => {
      g.evidence.push(...lines);
      if (g.evidence.length > this.limits.maxEvidence) g.evidence.splice(0, g.evidence.length - this.limits.maxEvidence);
    };
    if (this.windowed) {
      // Fixed window from the first hit; counted now, judged in close().
      g.count += this.rule.type === 'event_count' ? 1 : 0;
      if (this.rule.type === 'value_count') this.markValue(g, hit);
      if (this.rule.type === 'temporal' || this.rule.type === 'temporal_ordered') g.seen.set(hit.rule, { ts: now, lines: hit.lines });
      keep(hit.lines);
      return out;
    }
    const cutoff = now - span;
    let n = 0;
    switch (this.rule.type) {
      case 'event_count': {
        g.events.push({ ts: now, lines: hit.lines });
        while ((g.events[0]?.ts ?? Infinity) < cutoff) g.events.shift();
        // Only as many hits as the lower bound needs are kept: the state stays bounded.
        const need = Math.max(this.rule.condition.gte ?? 0, (this.rule.condition.gt ?? -1) + 1, 1);
        if (g.events.length > need) g.events.splice(0, g.events.length - need);
        n = g.events.length;
        break;
      }
      case 'value_count': {
        this.markValue(g, hit, now);
        for (const [v, s] of g.seen) {
          if (s.ts >= cutoff) break;
          g.seen.delete(v);
        }
        n = g.seen.size;
        break;
      }
      case 'temporal': {
        g.seen.set(hit.rule, { ts: now, lines: hit.lines });
        for (const [r, s] of g.seen) if (s.ts < cutoff) g.seen.delete(r);
        n = g.seen.size;
        break;
      }
      case 'temporal_ordered': {
        const rules = this.rule.rules;
        // Walk the rule positions backwards so one hit does not extend a chain it started.
        for (let i = rules.length - 1; i >= 0; i--) {
          if (rules[i] !== hit.rule) continue;
          if (i === 0) g.chain[0] = now;
          else {
            const start = g.chain[i - 1];
            if (start !== undefined && start >= cutoff) g.chain[i] = start;
          }
        }
        g.seen.set(hit.rule, { ts: now, lines: hit.lines });
        const done = g.chain[rules.length - 1];
        n = done !== undefined && done >= cutoff ? rules.length : 0;
        break;
      }
    }
    const bounds = this.temporalBounds();
    if (!holds(bounds, n)) return out;
    const lines = this.evidenceOf(g, hit);
    Object.assign(g, { events: [], seen: new Map(), chain: [], evidence: [], count: 0, quietUntil: now + span });
    out.push({ ts: now, lines, groupBy: g.values, count: n });
    return out;
  }

  /** Judges the fixed windows that have ended by `now` (upper-bound conditions); call on each line and on a timer. */
  close(now: number): CorrelationFire[] {
    if (!this.windowed) return [];
    const out: CorrelationFire[] = [];
    for (const [key, g] of this.groups) {
      if (g.first + this.rule.timespanMs > now) break; // insertion order is first-hit order
      this.groups.delete(key);
      const n = this.rule.type === 'event_count' ? g.count : g.seen.size;
      if (holds(this.temporalBounds(), n)) out.push({ ts: now, lines: g.evidence, groupBy: g.values, count: n });
    }
    return out;
  }

  private temporalBounds(): CountBounds {
    const b = this.rule.condition;
    // temporal without a condition: every referenced rule must have hit.
    if ((this.rule.type === 'temporal' || this.rule.type === 'temporal_ordered') && Object.keys(b).length === 0) return { gte: this.rule.rules.length };
    return b;
  }

  private markValue(g: Group, hit: Hit, now = hit.ts): void {
    const v = hit.value(this.rule.aliases.get(this.rule.field as string)?.get(hit.rule) ?? (this.rule.field as string));
    if (v === undefined || v === '') return;
    g.seen.delete(v);
    g.seen.set(v, { ts: now, lines: hit.lines });
    // Bounded: past the cap the least recently seen value goes (a lower bound above the cap could never be met).
    if (g.seen.size > this.limits.maxGroups) g.seen.delete(g.seen.keys().next().value as string);
  }

  private evidenceOf(g: Group, hit: Hit): LogLine[] {
    const lines = this.rule.type === 'event_count' ? g.events.flatMap((e) => e.lines) : [...g.seen.values()].sort((a, b) => a.ts - b.ts).flatMap((s) => s.lines);
    if (lines.length === 0) lines.push(...hit.lines);
    return lines.slice(-this.limits.maxEvidence);
  }
}
