import type { LogLine } from '../../core/index.ts';
import { evalCondition, parseCondition } from './condition.ts';
import { compileKeyword, compileValues, SigmaRuleError, type FieldValue } from './values.ts';

/** One line being matched, with what was derived from it so far (extracted fields), shared by all rules. */
export interface LineContext {
  line: LogLine;
  cache: Map<string, FieldValue>;
  lookup?: (field: string) => FieldValue;
}

/** Reads one field of a line; how a Sigma field name becomes one is the mapping's business. */
export type Accessor = (ctx: LineContext) => FieldValue;
export type Predicate = (ctx: LineContext) => boolean;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Compiles one selection (a named entry of `detection`): a map is the AND of its fields, a list
 * of maps the OR of them, a list of plain values (or a lone value) keywords searched in the
 * message. A key `|mod` with no field name is a keyword with modifiers (e.g. `'|all'`).
 */
export function compileSelection(value: unknown, field: (name: string) => Accessor): Predicate {
  if (isMap(value)) {
    const parts = Object.entries(value).map(([key, v]): Predicate => {
      const [name = '', ...mods] = key.split('|');
      if (name === '') {
        const kw = compileKeyword(mods, v);
        return (ctx) => kw(ctx.line.message);
      }
      const get = field(name);
      const test = compileValues(mods, v);
      // fieldref reads another field of the same line; the reader is made once per line, not per test.
      const lookup = (ctx: LineContext) => ctx.lookup ?? (ctx.lookup = (f: string) => field(f)(ctx));
      return (ctx) => test(get(ctx), lookup(ctx));
    });
    if (parts.length === 0) throw new SigmaRuleError('empty selection');
    return (ctx) => parts.every((p) => p(ctx));
  }
  if (Array.isArray(value)) {
    if (value.length === 0) throw new SigmaRuleError('empty selection');
    if (value.every(isMap)) {
      const alts = value.map((v) => compileSelection(v, field));
      return (ctx) => alts.some((a) => a(ctx));
    }
    if (value.some((v) => isMap(v) || Array.isArray(v))) throw new SigmaRuleError('a selection list mixes maps and plain values');
    const kw = compileKeyword([], value);
    return (ctx) => kw(ctx.line.message);
  }
  if (value === undefined) throw new SigmaRuleError('empty selection');
  const kw = compileKeyword([], value);
  return (ctx) => kw(ctx.line.message);
}

/** Compiles a whole `detection` section: its selections and its condition (a list of conditions is their OR, as in Sigma 1). */
export function compileDetection(detection: unknown, field: (name: string) => Accessor): Predicate {
  if (!isMap(detection)) throw new SigmaRuleError('detection must be a map of selections and a condition');
  const { condition, timeframe, ...rest } = detection;
  if (timeframe !== undefined) throw new SigmaRuleError('detection.timeframe is Sigma 1: write a correlation rule with timespan');
  if (condition === undefined) throw new SigmaRuleError('detection has no condition');
  const names = Object.keys(rest);
  const compiled = new Map<string, Predicate>();
  for (const n of names) {
    try {
      compiled.set(n, compileSelection(rest[n], field));
    } catch (err) {
      throw new SigmaRuleError(`selection ${n}: ${(err as Error).message}`);
    }
  }
  const sources = Array.isArray(condition) ? condition : [condition];
  if (sources.length === 0 || !sources.every((c) => typeof c === 'string')) throw new SigmaRuleError('condition must be a string');
  const conds = sources.map((c) => parseCondition(c as string, names));
  return (ctx) => conds.some((c) => evalCondition(c, (n) => (compiled.get(n) as Predicate)(ctx)));
}
