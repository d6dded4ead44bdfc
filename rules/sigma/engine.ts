import type { LogLine } from '../../core/index.ts';
import type { SigmaCorrelationRule, SigmaDetectionRule, SigmaLevel, SigmaRule } from './compile.ts';
import { CorrelationState, type CorrelationLimits, type Hit } from './correlation.ts';
import type { LineContext } from './detection.ts';
import { loadMapping, type Entities, type SigmaMapping } from './mapping.ts';

/** What a Sigma rule reports: which rule, about whom, and the log lines that are its evidence. */
export interface Detection {
  /** The rule's Sigma id (its name, or file#n, when it has none). */
  ruleId: string;
  title: string;
  level: SigmaLevel;
  tags: string[];
  /** ATT&CK technique ids from the tags (attack.t1110 -> T1110). */
  attack: string[];
  kind: 'detection' | 'correlation';
  /** The `now` the line was matched at. */
  ts: number;
  /** Evidence: the matched lines themselves (references, not copies), oldest first. */
  lines: LogLine[];
  /** A correlation's group-by field values. */
  groupBy: Record<string, string>;
  /** Source, user and host the detection is about, where the mapping can tell. */
  entities: Entities;
  /** A correlation's count (events, distinct values or rules) when it fired. */
  count?: number;
}

export interface SigmaEngineOptions extends Partial<CorrelationLimits> {
  mapping?: SigmaMapping;
}

/**
 * Runs compiled Sigma rules over a stream of log lines: `onLine(line, now)` returns the
 * detections that line completes. Pure apart from the bounded correlation state; the time is
 * always the `now` given (STYLE: time is an argument).
 */
export class SigmaEngine {
  private readonly detections: SigmaDetectionRule[];
  private readonly byKey = new Map<string, SigmaRule>();
  private readonly states = new Map<string, CorrelationState>();
  /** correlations keyed by the rule key they listen to */
  private readonly listeners = new Map<string, CorrelationState[]>();
  private readonly mapping: SigmaMapping;
  /** Detection rules grouped by their logsource condition, in rule order within a group. */
  private readonly bySource: { inLogsource: SigmaDetectionRule['inLogsource']; rules: SigmaDetectionRule[] }[] = [];
  /** Correlations whose windows must be closed by the clock (upper-bound conditions). */
  private readonly windowed: CorrelationState[] = [];

  constructor(rules: SigmaRule[], opts: SigmaEngineOptions = {}) {
    this.mapping = opts.mapping ?? loadMapping();
    const limits: CorrelationLimits = { maxGroups: opts.maxGroups ?? 10_000, maxEvidence: opts.maxEvidence ?? 50 };
    this.detections = rules.filter((r): r is SigmaDetectionRule => r.kind === 'detection');
    for (const r of rules) this.byKey.set(r.key, r);
    for (const r of this.detections) {
      const g = this.bySource.find((x) => x.inLogsource === r.inLogsource);
      if (g) g.rules.push(r);
      else this.bySource.push({ inLogsource: r.inLogsource, rules: [r] });
    }
    for (const c of rules.filter((r): r is SigmaCorrelationRule => r.kind === 'correlation')) {
      const st = new CorrelationState(c, limits);
      this.states.set(c.key, st);
      if (st.windowed) this.windowed.push(st);
      for (const k of new Set(c.rules)) this.listeners.set(k, [...(this.listeners.get(k) ?? []), st]);
    }
  }

  /** Correlation groups dropped at the cap, per rule id; for /metrics. */
  evictedGroups(): Record<string, number> {
    return Object.fromEntries([...this.states].map(([k, s]) => [k, s.evicted]));
  }

  /** Matches one line at time `now`; returns the detections it completes (standalone rules and correlations). */
  onLine(line: LogLine, now: number): Detection[] {
    const ctx: LineContext = { line, cache: new Map() };
    const out: Detection[] = this.windowed.length > 0 ? this.tick(now) : [];
    // One logsource predicate is shared by many rules: judge it once per line.
    for (const { inLogsource, rules } of this.bySource) {
      if (!inLogsource(ctx)) continue;
      for (const r of rules) {
        if (!r.matches(ctx)) continue;
        if (r.standalone) out.push(this.report(r, now, [line], {}, this.mapping.entities(ctx)));
        this.propagate({ rule: r.key, ts: now, lines: [line], value: (f) => str(this.mapping.field(f)(ctx)) }, now, out, ctx);
      }
    }
    return out;
  }

  /** Closes the fixed windows that ended by `now` (correlations with lt/lte/eq); call it on a timer too. */
  tick(now: number): Detection[] {
    const out: Detection[] = [];
    for (const st of this.windowed) {
      for (const f of st.close(now)) this.fired(st.rule, f.ts, f.lines, f.groupBy, f.count, out);
    }
    return out;
  }

  private propagate(hit: Hit, now: number, out: Detection[], ctx?: LineContext): void {
    for (const st of this.listeners.get(hit.rule) ?? []) {
      for (const f of st.onHit(hit, now)) this.fired(st.rule, f.ts, f.lines, f.groupBy, f.count, out, ctx);
    }
  }

  private fired(rule: SigmaCorrelationRule, ts: number, lines: LogLine[], groupBy: Record<string, string>, count: number, out: Detection[], ctx?: LineContext): void {
    const last = lines.at(-1);
    const fromLine = last ? this.mapping.entities(ctx?.line === last ? ctx : { line: last, cache: new Map() }) : {};
    // A group-by value names the entity when its field is the entity's (group-by SourceIp: the source).
    const entities: Entities = { ...fromLine };
    for (const [f, v] of Object.entries(groupBy)) {
      const e = this.mapping.entityOf(f);
      if (e) entities[e] = v;
    }
    if (rule.standalone) out.push({ ...this.report(rule, ts, lines, groupBy, entities), count });
    this.propagate({ rule: rule.key, ts, lines, value: (f) => groupBy[f] }, ts, out);
  }

  private report(r: SigmaRule, ts: number, lines: LogLine[], groupBy: Record<string, string>, entities: Entities): Detection {
    for (const k of Object.keys(entities) as (keyof Entities)[]) if (entities[k] === undefined) delete entities[k];
    return { ruleId: r.id ?? r.key, title: r.title, level: r.level, tags: r.tags, attack: r.attack, kind: r.kind, ts, lines, groupBy, entities };
  }
}

const str = (v: string | number | undefined): string | undefined => (v === undefined || v === '' ? undefined : String(v));
