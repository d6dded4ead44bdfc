import { SigmaRuleError } from './values.ts';

/**
 * The condition language of a Sigma detection (rules specification v2, "Condition"):
 *
 *   expr    := and ('or' and)*
 *   and     := unary ('and' unary)*
 *   unary   := 'not' unary | primary
 *   primary := '(' expr ')' | quant 'of' target | IDENT
 *   quant   := '1' | 'any' | 'all' | NUMBER
 *   target  := 'them' | IDENT-with-wildcards
 *
 * Keywords are case-insensitive; `not` binds tightest, then `and`, then `or`. The deprecated
 * aggregation pipe (`| count() by x > 5`) is refused with a pointer to correlation rules.
 */
export type Condition =
  | { kind: 'and' | 'or'; args: Condition[] }
  | { kind: 'not'; arg: Condition }
  | { kind: 'ref'; name: string }
  | { kind: 'of'; quant: 'all' | number; names: string[] };

type Tok = { t: 'word'; v: string } | { t: '(' } | { t: ')' };

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:(\()|(\))|(\|)|([A-Za-z0-9_*.-]+)|(\S))/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src)) && m[0].trim() !== '') {
    if (m[1]) out.push({ t: '(' });
    else if (m[2]) out.push({ t: ')' });
    else if (m[3]) throw new SigmaRuleError('aggregation in the condition (|) is Sigma 1 and removed in v2: write a correlation rule');
    else if (m[4]) out.push({ t: 'word', v: m[4] });
    else throw new SigmaRuleError(`unexpected "${m[5]}" in condition`);
    if (re.lastIndex >= src.length) break;
  }
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them']);

function wildcardRe(p: string): RegExp {
  return new RegExp(`^${p.replace(/[.+?^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

/** Parses `src` against the names of the rule's selections; unknown names and stray tokens are errors. */
export function parseCondition(src: string, selections: string[]): Condition {
  const toks = lex(src);
  let i = 0;
  const peekWord = (): string | undefined => {
    const t = toks[i];
    return t?.t === 'word' ? t.v.toLowerCase() : undefined;
  };
  const expr = (): Condition => {
    const args = [and()];
    while (peekWord() === 'or') {
      i++;
      args.push(and());
    }
    return args.length === 1 ? (args[0] as Condition) : { kind: 'or', args };
  };
  const and = (): Condition => {
    const args = [unary()];
    while (peekWord() === 'and') {
      i++;
      args.push(unary());
    }
    return args.length === 1 ? (args[0] as Condition) : { kind: 'and', args };
  };
  const unary = (): Condition => {
    if (peekWord() === 'not') {
      i++;
      return { kind: 'not', arg: unary() };
    }
    return primary();
  };
  const primary = (): Condition => {
    const t = toks[i++];
    if (!t) throw new SigmaRuleError('condition ends too early');
    if (t.t === '(') {
      const e = expr();
      if (toks[i++]?.t !== ')') throw new SigmaRuleError('missing ")" in condition');
      return e;
    }
    if (t.t === ')') throw new SigmaRuleError('unexpected ")" in condition');
    const w = t.v.toLowerCase();
    if (peekWord() === 'of') {
      i++;
      const quant = w === 'all' ? 'all' : w === 'any' ? 1 : /^[1-9][0-9]*$/.test(w) ? Number(w) : undefined;
      if (quant === undefined) throw new SigmaRuleError(`"${t.v} of": expected 1, any, all or a number`);
      const target = toks[i++];
      if (target?.t !== 'word') throw new SigmaRuleError(`"${t.v} of" needs a selection pattern or them`);
      // `them` leaves out selections whose name starts with `_` (pySigma).
      const names = target.v.toLowerCase() === 'them' ? selections.filter((s) => !s.startsWith('_')) : selections.filter((s) => wildcardRe(target.v).test(s));
      if (names.length === 0) throw new SigmaRuleError(`"${t.v} of ${target.v}" matches no selection`);
      return { kind: 'of', quant, names };
    }
    if (KEYWORDS.has(w)) throw new SigmaRuleError(`unexpected "${t.v}" in condition`);
    if (!selections.includes(t.v)) throw new SigmaRuleError(`condition names "${t.v}", which is not a selection`);
    return { kind: 'ref', name: t.v };
  };
  if (toks.length === 0) throw new SigmaRuleError('empty condition');
  const c = expr();
  if (i < toks.length) throw new SigmaRuleError(`unexpected "${(toks[i] as { v?: string }).v ?? (toks[i] as Tok).t}" in condition`);
  return c;
}

/** Evaluates a parsed condition, asking `sel` for each selection it needs (short-circuit). */
export function evalCondition(c: Condition, sel: (name: string) => boolean): boolean {
  switch (c.kind) {
    case 'and':
      return c.args.every((a) => evalCondition(a, sel));
    case 'or':
      return c.args.some((a) => evalCondition(a, sel));
    case 'not':
      return !evalCondition(c.arg, sel);
    case 'ref':
      return sel(c.name);
    case 'of': {
      if (c.quant === 'all') return c.names.every(sel);
      let n = 0;
      for (const name of c.names) if (sel(name) && ++n >= (c.quant as number)) return true;
      return false;
    }
  }
}
