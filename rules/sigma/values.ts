import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { compileSafeRegex } from '../../core/index.ts';
import { sharedLiterals } from './literals.ts';

/**
 * Sigma values and their modifiers (Sigma rules specification v2 §"Detection", modifiers appendix
 * v2.1), following pySigma where the specification is silent. A value becomes a `ValueTest`: a
 * function of the field's value (undefined when the field is absent).
 */
export type FieldValue = string | number | undefined;
export type ValueTest = (v: FieldValue, lookup: (field: string) => FieldValue) => boolean;

/** Thrown while compiling a rule; the message is the reason `rules lint` prints. */
export class SigmaRuleError extends Error {}

// A Sigma string as tokens: a literal character, `*` (any sequence), `?` (any one character),
// or a set of characters (what `windash` makes of a dash).
const STAR = 1;
const ONE = 2;
type Token = string | typeof STAR | typeof ONE | { set: string };

interface Pattern {
  tokens: Token[];
  cased: boolean;
}

/** Parses Sigma wildcards: `*`, `?`; `\*`, `\?`, `\\` are literal; any other backslash is itself (pySigma). */
export function parsePattern(s: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '\\' && i + 1 < s.length && '*?\\'.includes(s[i + 1] as string)) out.push(s[++i] as string);
    else if (c === '*') out.push(STAR);
    else if (c === '?') out.push(ONE);
    else out.push(c);
  }
  return out;
}

const isPlain = (t: Token[]): t is string[] => t.every((x) => typeof x === 'string');

// The modifiers appendix's windash: `-`, `/`, en dash, em dash, horizontal bar.
const DASHES = '-/\u2013\u2014\u2015';
const WORD = /[A-Za-z0-9_]/;

/** windash: a dash or slash that starts a word (pySigma's `\B[-/]\b`) matches any of the five dashes. */
function windash(tokens: Token[]): Token[] {
  return tokens.map((t, i) => {
    if (typeof t !== 'string' || !DASHES.includes(t)) return t;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    const prevWord = typeof prev === 'string' && WORD.test(prev);
    const nextWord = typeof next === 'string' && WORD.test(next);
    return !prevWord && nextWord ? { set: DASHES } : t;
  });
}

/** Classic wildcard matching with a single backtrack point: O(n·m) worst case, never exponential. */
function glob(tokens: Token[], s: string): boolean {
  let i = 0;
  let p = 0;
  let starP = -1;
  let starI = 0;
  const n = tokens.length;
  while (i < s.length) {
    const t = tokens[p];
    if (p < n && t !== STAR && (t === ONE || t === s[i] || (typeof t === 'object' && t.set.includes(s[i] as string)))) {
      i++;
      p++;
    } else if (p < n && t === STAR) {
      starP = p++;
      starI = i;
    } else if (starP >= 0) {
      p = starP + 1;
      i = ++starI;
    } else return false;
  }
  while (p < n && tokens[p] === STAR) p++;
  return p === n;
}

const lower = (t: Token[]): Token[] => t.map((x) => (typeof x === 'string' ? x.toLowerCase() : typeof x === 'object' ? { set: x.set.toLowerCase() } : x));

// Many values are tested against the same message in a row: fold its case once.
const foldIn: string[] = ['', '', '', ''];
const foldOut: string[] = ['', '', '', ''];
let foldNext = 0;
let foldLast = 0;
function foldCase(s: string): string {
  if (s === foldIn[foldLast]) return foldOut[foldLast] as string;
  const i = foldIn.indexOf(s);
  if (i >= 0) return foldOut[(foldLast = i)] as string;
  const k = foldNext;
  foldNext = (k + 1) & 3;
  foldLast = k;
  foldIn[k] = s;
  return (foldOut[k] = s.toLowerCase());
}

/** `*a*b*` without `?` or sets: the segments in order, leftmost first (greedy is exact for `*`-only patterns). */
function segmentsTest(tokens: Token[]): ((s: string) => boolean) | undefined {
  if (!tokens.every((t) => typeof t === 'string' || t === STAR)) return undefined;
  const segs: string[] = [''];
  for (const t of tokens) {
    if (t === STAR) segs.push('');
    else segs[segs.length - 1] += t as string;
  }
  const first = segs[0] as string;
  const last = segs.at(-1) as string;
  const middle = segs.slice(1, -1).filter((x) => x !== '');
  const min = segs.reduce((n, x) => n + x.length, 0);
  return (s) => {
    if (s.length < min || !s.startsWith(first) || !s.endsWith(last)) return false;
    let at = first.length;
    for (const m of middle) {
      const i = s.indexOf(m, at);
      if (i < 0) return false;
      at = i + m.length;
    }
    return at <= s.length - last.length;
  };
}

/** The fastest matcher for a pattern: equality, includes, startsWith, endsWith, segments, or the glob. */
function patternTest(p: Pattern): (s: string) => boolean {
  const tokens = p.cased ? p.tokens : lower(p.tokens);
  const fold = p.cased ? (s: string) => s : foldCase;
  const inner = tokens.slice(tokens[0] === STAR ? 1 : 0, tokens.at(-1) === STAR && tokens.length > 1 ? -1 : undefined);
  const lead = tokens[0] === STAR;
  const trail = tokens.length > 1 && tokens.at(-1) === STAR;
  if (isPlain(inner)) {
    const lit = inner.join('');
    if (lead && trail && !p.cased && lit.length > 0) {
      const id = sharedLiterals.add(lit);
      return (s) => sharedLiterals.has(id, fold(s));
    }
    if (lead && trail) return (s) => fold(s).includes(lit);
    if (lead) return (s) => fold(s).endsWith(lit);
    if (trail) return (s) => fold(s).startsWith(lit);
    return (s) => fold(s) === lit;
  }
  const segs = segmentsTest(tokens);
  if (segs) return (s) => segs(fold(s));
  return (s) => glob(tokens, fold(s));
}

const str = (v: FieldValue): string | undefined => (v === undefined ? undefined : String(v));

function toBytes(p: Pattern, encoding: string | undefined): Buffer {
  if (!isPlain(p.tokens)) throw new SigmaRuleError('base64/utf16 modifiers need a value without wildcards');
  const s = p.tokens.join('');
  if (encoding === 'utf16le' || encoding === 'wide') return Buffer.from(s, 'utf16le');
  if (encoding === 'utf16be') return Buffer.from(s, 'utf16le').swap16();
  if (encoding === 'utf16') return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
  return Buffer.from(s, 'utf8');
}

const literal = (s: string): Token[] => [...s];
const lead = (t: Token[]): Token[] => (t[0] === STAR ? [] : [STAR]);
const trail = (t: Token[]): Token[] => (t.length > 0 && t.at(-1) === STAR ? [] : [STAR]);

// pySigma's base64offset: the value shifted by 0, 1, 2 bytes, without the characters that depend on its neighbours.
const START = [0, 2, 3];
const END = [undefined, -3, -2];
function base64offset(b: Buffer): string[] {
  return [0, 1, 2].map((i) => Buffer.concat([Buffer.alloc(i, ' '), b]).toString('base64').slice(START[i], END[(b.length + i) % 3]));
}

const NUMERIC = new Set(['gt', 'gte', 'lt', 'lte']);
const REGEX_FLAGS = new Set(['i', 'm', 's']);
/** Modifiers this engine knows; anything else makes the rule fail to load with the modifier named. */
export const SUPPORTED_MODIFIERS = [
  'contains', 'startswith', 'endswith', 'all', 'cased', 'windash', 're', 'i', 'm', 's', 'cidr', 'exists',
  'base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'gt', 'gte', 'lt', 'lte', 'neq', 'fieldref',
] as const;
const KNOWN = new Set<string>(SUPPORTED_MODIFIERS);

function cidrTest(value: string): (v: string) => boolean {
  const [net, bits] = value.split('/');
  const list = new BlockList();
  const family = net && isIPv4(net) ? 'ipv4' : net && isIPv6(net) ? 'ipv6' : undefined;
  const prefix = bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits);
  if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 'ipv4' ? 32 : 128)) throw new SigmaRuleError(`not a CIDR network: ${value}`);
  list.addSubnet(net as string, prefix, family);
  return (v) => (isIPv4(v) ? list.check(v, 'ipv4') : isIPv6(v) ? list.check(v, 'ipv6') : false);
}

/**
 * Compiles one field's values with its modifier chain into a test. A list of values is OR
 * (AND with `all`); `null` means the field is absent or empty; numbers and booleans compare as
 * their text, as pySigma does for string fields.
 */
export function compileValues(modifiers: string[], raw: unknown): ValueTest {
  if (modifiers.includes('expand')) throw new SigmaRuleError('unsupported modifier "expand": its placeholders need a pipeline that defines them');
  for (const m of modifiers) if (!KNOWN.has(m)) throw new SigmaRuleError(`unsupported modifier "${m}"`);
  const flag = modifiers.find((m) => REGEX_FLAGS.has(m));
  if (flag && !modifiers.includes('re')) throw new SigmaRuleError(`modifier "${flag}" is a flag of re and needs it`);
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) throw new SigmaRuleError('empty list of values');
  const all = modifiers.includes('all');
  const mods = modifiers.filter((m) => m !== 'all');
  // A list of plain case-insensitive `contains` values (the usual keyword list): one lookup in the shared scan.
  const lits = all || mods.includes('neq') ? undefined : plainContains(mods, values);
  if (lits && lits.length > 1) {
    const g = sharedLiterals.addGroup(lits);
    return (v) => v !== undefined && sharedLiterals.hasAny(g, foldCase(typeof v === 'string' ? v : String(v)));
  }
  const required: (string | undefined)[] = [];
  const tests = values.map((v) => compileOne(mods, v, required));
  if (modifiers.includes('neq')) return (v, l) => tests.every((t) => t(v, l));
  const inner: ValueTest = all ? (v, l) => tests.every((t) => t(v, l)) : tests.length === 1 ? (tests[0] as ValueTest) : (v, l) => tests.some((t) => t(v, l));
  // Prefilter: when every value needs some literal text, a line holding none of them is rejected by one lookup.
  if (all || required.length !== values.length || !required.every((r) => r !== undefined && r.length >= 2)) return inner;
  const g = sharedLiterals.addGroup(required as string[]);
  return (v, l) => v !== undefined && sharedLiterals.hasAny(g, foldCase(typeof v === 'string' ? v : String(v))) && inner(v, l);
}

/** The longest run of literal characters of a pattern (what any text it matches must contain). */
function requiredLiteral(tokens: Token[]): string {
  let best = '';
  let run = '';
  for (const t of tokens) {
    if (typeof t === 'string') run += t;
    else run = '';
    if (run.length > best.length) best = run;
  }
  return best;
}

const STRING_ONLY = new Set(['contains', 'startswith', 'endswith', 'windash', 'cased']);
/** The lower-cased literals of values that are each `*literal*` and nothing else, or undefined. */
function plainContains(mods: string[], values: unknown[]): string[] | undefined {
  if (!mods.includes('contains') || mods.some((m) => m !== 'contains' && STRING_ONLY.has(m)) || mods.some((m) => !STRING_ONLY.has(m))) return undefined;
  const out: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string' && typeof v !== 'number') return undefined;
    const t = typeof v === 'string' ? parsePattern(v) : literal(String(v));
    if (!isPlain(t) || t.length === 0) return undefined;
    out.push(t.join('').toLowerCase());
  }
  return out;
}

function compileOne(mods: string[], value: unknown, required: (string | undefined)[] = []): ValueTest {
  if (mods.includes('exists')) {
    if (typeof value !== 'boolean') throw new SigmaRuleError('exists takes true or false');
    return (v) => (v !== undefined) === value;
  }
  if (value === null) return (v) => v === undefined || v === '';
  if (typeof value === 'object') throw new SigmaRuleError('a value must be a string, number, boolean or null');
  const text = String(value);
  const numeric = mods.find((m) => NUMERIC.has(m));
  if (numeric) {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new SigmaRuleError(`${numeric} needs a number, got ${text}`);
    const cmp = { gt: (x: number) => x > n, gte: (x: number) => x >= n, lt: (x: number) => x < n, lte: (x: number) => x <= n }[numeric as 'gt'];
    return (v) => v !== undefined && v !== '' && Number.isFinite(Number(v)) && cmp(Number(v));
  }
  if (mods.includes('cidr')) {
    const t = cidrTest(text);
    return (v) => v !== undefined && t(String(v));
  }
  if (mods.includes('re')) {
    // Sigma's re flags i, m, s become RE2 inline flags; matching is unanchored, case-sensitive unless `i`.
    const flags = mods.filter((m) => REGEX_FLAGS.has(m)).join('');
    let re;
    try {
      re = compileSafeRegex(flags ? `(?${flags})${text}` : text);
    } catch (err) {
      throw new SigmaRuleError((err as Error).message);
    }
    return (v) => v !== undefined && re.test(String(v));
  }
  if (mods.includes('fieldref')) {
    const cased = mods.includes('cased');
    const eq = (a: FieldValue, b: FieldValue) => a !== undefined && b !== undefined && (cased ? String(a) === String(b) : String(a).toLowerCase() === String(b).toLowerCase());
    return mods.includes('neq') ? (v, l) => !eq(v, l(text)) : (v, l) => eq(v, l(text));
  }
  // String pipeline, in the order written: encodings, then position, then windash.
  let patterns: Pattern[] = [{ tokens: typeof value === 'string' ? parsePattern(value) : literal(text), cased: mods.includes('cased') }];
  let encoding: string | undefined;
  for (const m of mods) {
    if (m === 'utf16le' || m === 'utf16be' || m === 'utf16' || m === 'wide') encoding = m;
    else if (m === 'base64') patterns = patterns.map((p) => ({ tokens: literal(toBytes(p, encoding).toString('base64')), cased: true }));
    else if (m === 'base64offset') patterns = patterns.flatMap((p) => base64offset(toBytes(p, encoding)).map((s) => ({ tokens: literal(s), cased: true })));
    else if (m === 'contains') patterns = patterns.map((p) => ({ ...p, tokens: [...lead(p.tokens), ...p.tokens, ...trail(p.tokens)] }));
    else if (m === 'startswith') patterns = patterns.map((p) => ({ ...p, tokens: [...p.tokens, ...trail(p.tokens)] }));
    else if (m === 'endswith') patterns = patterns.map((p) => ({ ...p, tokens: [...lead(p.tokens), ...p.tokens] }));
    else if (m === 'windash') patterns = patterns.map((p) => ({ ...p, tokens: windash(p.tokens) }));
  }
  const tests = patterns.map(patternTest);
  if (patterns.length === 1 && !patterns[0]?.cased) required.push(requiredLiteral((patterns[0] as Pattern).tokens).toLowerCase());
  const any = tests.length === 1 ? (tests[0] as (s: string) => boolean) : (s: string) => tests.some((t) => t(s));
  if (mods.includes('neq')) return (v) => v === undefined || !any(String(v));
  return (v) => {
    const s = str(v);
    return s !== undefined && any(s);
  };
}

/** Keyword search (a value without a field): the value anywhere in the message, wildcards allowed. */
export function compileKeyword(modifiers: string[], raw: unknown): (message: string) => boolean {
  const mods = modifiers.includes('re') || modifiers.includes('contains') ? modifiers : [...modifiers, 'contains'];
  const t = compileValues(mods, raw);
  const none = () => undefined;
  return (message) => t(message, none);
}
