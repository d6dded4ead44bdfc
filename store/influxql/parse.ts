/*
 * The InfluxQL subset that Grafana's InfluxDB data source sends (InfluxDB 1.x "InfluxQL reference"):
 * SELECT with aggregates, derivatives and arithmetic, WHERE on tags and time, GROUP BY time() and
 * tags, fill(), LIMIT, ORDER BY time; SHOW MEASUREMENTS / TAG KEYS / TAG VALUES / FIELD KEYS /
 * DATABASES / RETENTION POLICIES. A parse error reads as InfluxDB's: "found X, expected Y at line 1, char N".
 * Regex literals compile with RE2 (linear time, and Go's regexp syntax, which InfluxDB uses), so a
 * viewer's `/^((.+)+)+X$/` cannot stall the event loop; nesting is capped so a deep query is a 400.
 */
import type { SafeRegex } from '../../core/index.ts';
import { InfluxQLSyntaxError, Lexer, type Tok } from './lexer.ts';

export { InfluxQLSyntaxError } from './lexer.ts';

export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'str'; value: string }
  | { kind: 'duration'; ms: number }
  | { kind: 'regex'; re: SafeRegex }
  | { kind: 'ref'; name: string }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'binary'; op: string; left: Expr; right: Expr }
  | { kind: 'wildcard' };

export interface Field {
  expr: Expr;
  alias?: string;
}

export type Fill = { kind: 'null' } | { kind: 'none' } | { kind: 'previous' } | { kind: 'linear' } | { kind: 'value'; value: number };

/** A FROM source: a measurement by name or regex, or a subquery (InfluxDB 1.2+). */
export type Source = { name: string } | { regex: SafeRegex } | { subquery: SelectStatement };

export interface SelectStatement {
  type: 'select';
  fields: Field[];
  /** The first FROM source; `sources` holds them all (FROM "a", "b"). */
  measurement: Source;
  sources: Source[];
  where?: Expr;
  groupByTime?: { ms: number; offsetMs: number };
  groupByTags: string[] | '*';
  fill: Fill;
  limit?: number;
  offset?: number;
  slimit?: number;
  soffset?: number;
  descending: boolean;
  /** tz('...'): the IANA zone GROUP BY time() buckets align to. */
  tz?: string;
}

export type ShowStatement =
  | { type: 'show-measurements'; match?: Expr; where?: Expr; limit?: number }
  | { type: 'show-tag-keys'; from?: string; where?: Expr; limit?: number }
  | { type: 'show-tag-values'; from?: string; key: { op: string; value: string | SafeRegex | string[] }; where?: Expr; limit?: number }
  | { type: 'show-field-keys'; from?: string }
  | { type: 'show-databases' }
  | { type: 'show-retention-policies' }
  | { type: 'show-series'; from?: string; where?: Expr; limit?: number; offset?: number }
  /** SHOW SERIES|MEASUREMENT|TAG KEY|FIELD KEY|TAG VALUES [EXACT] CARDINALITY. */
  | { type: 'show-cardinality'; of: 'series' | 'measurement' | 'tag-key' | 'field-key' | 'tag-values'; exact: boolean; from?: string; where?: Expr; key?: string };

export type Statement = SelectStatement | ShowStatement;


/**
 * Deepest nesting of parentheses, unary minus and call arguments. InfluxDB has no such cap (Go's stack
 * grows); JavaScript's does not, and past a few thousand levels the parser would throw RangeError (a
 * 500). Grafana's queries nest a handful of levels.
 */
export const MAX_NESTING = 64;

class Parser {
  private tok: Tok;
  private readonly lex: Lexer;
  private depth = 0;

  constructor(src: string) {
    this.lex = new Lexer(src);
    this.tok = this.lex.next();
  }

  statements(): Statement[] {
    const out: Statement[] = [];
    for (;;) {
      while (this.isOp(';')) this.advance();
      if (this.atEnd()) break;
      out.push(this.statement());
      if (!this.atEnd() && !this.isOp(';')) this.fail(';');
    }
    if (out.length === 0) this.fail('SELECT, SHOW');
    return out;
  }

  private statement(): Statement {
    if (this.isKw('SELECT')) return this.select();
    if (this.isKw('SHOW')) return this.show();
    return this.fail('SELECT, SHOW');
  }

  private select(): SelectStatement {
    this.advance();
    const fields: Field[] = [];
    do {
      const expr = this.expr();
      let alias: string | undefined;
      if (this.acceptKw('AS')) alias = this.ident();
      fields.push({ expr, alias });
    } while (this.acceptOp(','));
    this.expectKw('FROM');
    const sources = [this.measurementRef()];
    while (this.acceptOp(',')) sources.push(this.measurementRef());
    const st: SelectStatement = { type: 'select', fields, measurement: sources[0] as Source, sources, groupByTags: [], fill: { kind: 'null' }, descending: false };
    if (this.acceptKw('WHERE')) st.where = this.condition();
    if (this.acceptKw('GROUP')) {
      this.expectKw('BY');
      const tags: string[] = [];
      do {
        if (this.isKw('time') && this.peekCall()) {
          this.advance();
          this.expectOp('(');
          const d = this.duration();
          const offset = this.acceptOp(',') ? (this.acceptOp('-') ? -this.duration() : this.duration()) : 0;
          this.expectOp(')');
          // time(0s) is no time grouping in InfluxDB (its compiler leaves a zero interval unset; influxd
          // 1.6 answers one row over the range), not a bucket per millisecond.
          if (d > 0) st.groupByTime = { ms: d, offsetMs: offset };
        } else if (this.acceptOp('*')) st.groupByTags = '*';
        else tags.push(this.ident());
      } while (this.acceptOp(','));
      if (st.groupByTags !== '*') st.groupByTags = tags;
    }
    if (this.isKw('fill')) {
      this.advance();
      this.expectOp('(');
      if (this.acceptKw('null')) st.fill = { kind: 'null' };
      else if (this.acceptKw('none')) st.fill = { kind: 'none' };
      else if (this.acceptKw('previous')) st.fill = { kind: 'previous' };
      else if (this.acceptKw('linear')) st.fill = { kind: 'linear' };
      else {
        const neg = this.acceptOp('-');
        if (this.tok.t !== 'num') this.fail('null, none, previous, linear or a number');
        st.fill = { kind: 'value', value: (neg ? -1 : 1) * (this.tok.n as number) };
        this.advance();
      }
      this.expectOp(')');
    }
    if (this.acceptKw('ORDER')) {
      this.expectKw('BY');
      this.expectKw('time');
      if (this.acceptKw('DESC')) st.descending = true;
      else this.acceptKw('ASC');
    }
    for (;;) {
      if (this.acceptKw('LIMIT')) st.limit = this.integer();
      else if (this.acceptKw('OFFSET')) st.offset = this.integer();
      else if (this.acceptKw('SLIMIT')) st.slimit = this.integer();
      else if (this.acceptKw('SOFFSET')) st.soffset = this.integer();
      else if (this.isKw('tz')) {
        // tz('Area/City'): GROUP BY time() buckets start at the zone's local boundaries.
        this.advance();
        this.expectOp('(');
        if (this.tok.t !== 'str') this.fail('string');
        st.tz = this.tok.v;
        this.advance();
        this.expectOp(')');
      } else break;
    }
    return st;
  }

  private show(): ShowStatement {
    this.advance();
    if (this.acceptKw('DATABASES')) return { type: 'show-databases' };
    if (this.acceptKw('RETENTION')) {
      this.expectKw('POLICIES');
      if (this.acceptKw('ON')) this.ident();
      return { type: 'show-retention-policies' };
    }
    const cardinality = this.cardinality();
    if (cardinality) return cardinality;
    if (this.acceptKw('SERIES')) {
      if (this.acceptKw('ON')) this.ident();
      const from = this.acceptKw('FROM') ? this.measurementName() : undefined;
      const where = this.acceptKw('WHERE') ? this.condition() : undefined;
      const limit = this.acceptKw('LIMIT') ? this.integer() : undefined;
      const offset = this.acceptKw('OFFSET') ? this.integer() : undefined;
      return { type: 'show-series', from, where, limit, offset };
    }
    if (this.acceptKw('MEASUREMENTS')) {
      if (this.acceptKw('ON')) this.ident();
      const st: { type: 'show-measurements'; match?: Expr; where?: Expr; limit?: number } = { type: 'show-measurements' };
      if (this.acceptKw('WITH')) {
        this.expectKw('MEASUREMENT');
        if (this.isOp('=~')) {
          st.match = { kind: 'regex', re: this.lex.regex() };
          this.tok = this.lex.next();
        } else {
          this.expectOp('=');
          st.match = { kind: 'str', value: this.ident() };
        }
      }
      if (this.acceptKw('WHERE')) st.where = this.condition();
      if (this.acceptKw('LIMIT')) st.limit = this.integer();
      return st;
    }
    if (this.acceptKw('FIELD')) {
      this.expectKw('KEYS');
      if (this.acceptKw('ON')) this.ident();
      return { type: 'show-field-keys', from: this.acceptKw('FROM') ? this.measurementName() : undefined };
    }
    if (this.acceptKw('TAG')) {
      if (this.acceptKw('KEYS')) {
        if (this.acceptKw('ON')) this.ident();
        const from = this.acceptKw('FROM') ? this.measurementName() : undefined;
        const where = this.acceptKw('WHERE') ? this.condition() : undefined;
        const limit = this.acceptKw('LIMIT') ? this.integer() : undefined;
        return { type: 'show-tag-keys', from, where, limit };
      }
      this.expectKw('VALUES');
      if (this.acceptKw('ON')) this.ident();
      const from = this.acceptKw('FROM') ? this.measurementName() : undefined;
      this.expectKw('WITH');
      this.expectKw('KEY');
      let key: { op: string; value: string | SafeRegex | string[] };
      if (this.acceptKw('IN')) {
        this.expectOp('(');
        const keys: string[] = [];
        do keys.push(this.ident());
        while (this.acceptOp(','));
        this.expectOp(')');
        key = { op: 'in', value: keys };
      } else {
        const op = this.tok.v;
        if (!['=', '!=', '=~', '!~'].includes(op)) this.fail('=, !=, =~, !~, IN');
        if (op.endsWith('~')) {
          key = { op, value: this.lex.regex() };
          this.tok = this.lex.next();
        } else {
          this.advance();
          key = { op, value: this.ident() };
        }
      }
      const where = this.acceptKw('WHERE') ? this.condition() : undefined;
      const limit = this.acceptKw('LIMIT') ? this.integer() : undefined;
      return { type: 'show-tag-values', from, key, where, limit };
    }
    return this.fail('DATABASES, MEASUREMENTS, TAG KEYS, TAG VALUES, FIELD KEYS, RETENTION POLICIES');
  }

  /** "db"."rp"."m", "m", a /regex/, or a (subquery). */
  private measurementRef(): Source {
    if (this.isOp('/')) {
      const re = this.lexAt().regex();
      this.tok = this.lex.next();
      return { regex: re };
    }
    if (this.isOp('(')) {
      this.advance();
      if (!this.isKw('SELECT')) this.fail('SELECT');
      const subquery = this.nested(() => this.select());
      this.expectOp(')');
      return { subquery };
    }
    return { name: this.measurementName() };
  }

  /** SHOW <SERIES|MEASUREMENT|TAG KEY|FIELD KEY|TAG VALUES> [EXACT] CARDINALITY [ON db] [FROM m] [WITH KEY = k] [WHERE ...], or undefined (nothing read). */
  private cardinality(): ShowStatement | undefined {
    const words: Record<string, ['series' | 'measurement' | 'tag-key' | 'field-key' | 'tag-values', string | undefined]> = {
      SERIES: ['series', undefined], MEASUREMENT: ['measurement', undefined], TAG: ['tag-key', 'KEY'], FIELD: ['field-key', 'KEY'],
    };
    const save = { i: (this.lex as unknown as { i: number }).i, tok: this.tok };
    const first = this.tok.v.toUpperCase();
    const entry = this.tok.t === 'ident' ? words[first] : undefined;
    if (!entry) return undefined;
    this.advance();
    let of = entry[0];
    if (first === 'TAG' && this.acceptKw('VALUES')) of = 'tag-values';
    else if (entry[1] && !this.acceptKw(entry[1])) return this.rewind(save);
    const exact = this.acceptKw('EXACT');
    if (!this.acceptKw('CARDINALITY')) return this.rewind(save);
    if (this.acceptKw('ON')) this.ident();
    const from = this.acceptKw('FROM') ? this.measurementName() : undefined;
    let key: string | undefined;
    if (of === 'tag-values') {
      this.expectKw('WITH');
      this.expectKw('KEY');
      this.expectOp('=');
      key = this.ident();
    }
    const where = this.acceptKw('WHERE') ? this.condition() : undefined;
    return { type: 'show-cardinality', of, exact, from, where, key };
  }

  private rewind(save: { i: number; tok: Tok }): undefined {
    (this.lex as unknown as { i: number }).i = save.i;
    this.tok = save.tok;
    return undefined;
  }

  /** Rewinds the lexer to the current token so regex() reads it from its slash. */
  private lexAt(): Lexer {
    (this.lex as unknown as { i: number }).i = this.tok.pos;
    return this.lex;
  }

  private measurementName(): string {
    let name = this.ident();
    while (this.acceptOp('.')) name = this.isOp('.') ? name : this.ident();
    return name;
  }

  private condition(): Expr {
    return this.nested(() => {
      let left = this.conjunction();
      while (this.acceptKw('OR')) left = { kind: 'binary', op: 'OR', left, right: this.conjunction() };
      return left;
    });
  }

  /** Counts one level of nesting around `parse`; past MAX_NESTING the query is a syntax error (400). */
  private nested<T>(parse: () => T): T {
    if (this.depth >= MAX_NESTING) {
      throw new InfluxQLSyntaxError(`expression nested deeper than ${MAX_NESTING} levels at line 1, char ${this.tok.pos + 1}`);
    }
    this.depth++;
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private conjunction(): Expr {
    let left = this.predicate();
    while (this.acceptKw('AND')) left = { kind: 'binary', op: 'AND', left, right: this.predicate() };
    return left;
  }

  private predicate(): Expr {
    if (this.isOp('(')) {
      // A parenthesised condition, or an arithmetic operand like (now() - 1h): try the condition first.
      this.advance();
      const inner = this.condition();
      this.expectOp(')');
      return inner;
    }
    const left = this.expr();
    const op = this.tok.v;
    if (this.tok.t !== 'op' || !['=', '!=', '<>', '=~', '!~', '<', '<=', '>', '>='].includes(op)) {
      if (left.kind === 'binary' || left.kind === 'ref') this.fail('=, !=, =~, !~, <, <=, >, >=');
      return left;
    }
    if (op === '=~' || op === '!~') {
      const re = this.lex.regex();
      this.tok = this.lex.next();
      return { kind: 'binary', op, left, right: { kind: 'regex', re } };
    }
    this.advance();
    return { kind: 'binary', op: op === '<>' ? '!=' : op, left, right: this.expr() };
  }

  private expr(): Expr {
    return this.nested(() => {
      let left = this.term();
      while (this.isOp('+') || this.isOp('-')) {
        const op = this.tok.v;
        this.advance();
        left = { kind: 'binary', op, left, right: this.term() };
      }
      return left;
    });
  }

  private term(): Expr {
    let left = this.factor();
    while (this.isOp('*') || this.isOp('/')) {
      const op = this.tok.v;
      this.advance();
      left = { kind: 'binary', op, left, right: this.factor() };
    }
    return left;
  }

  private factor(): Expr {
    const t = this.tok;
    if (t.t === 'num') return this.advance(), { kind: 'num', value: t.n as number };
    if (t.t === 'dur') return this.advance(), { kind: 'duration', ms: t.n as number };
    if (t.t === 'str') return this.advance(), { kind: 'str', value: t.v };
    if (this.isOp('-')) {
      this.advance();
      return { kind: 'binary', op: '*', left: { kind: 'num', value: -1 }, right: this.nested(() => this.factor()) };
    }
    if (this.isOp('*')) return this.advance(), { kind: 'wildcard' };
    if (this.isOp('(')) {
      this.advance();
      const e = this.expr();
      this.expectOp(')');
      return e;
    }
    if (t.t === 'ident' || t.t === 'qident') {
      this.advance();
      let name = t.v;
      if (this.acceptOp(':')) this.advance(); // "field"::float: the type cast is ignored
      if (t.t === 'ident' && this.isOp('(')) {
        this.advance();
        const args: Expr[] = [];
        if (!this.isOp(')')) {
          do args.push(this.expr());
          while (this.acceptOp(','));
        }
        this.expectOp(')');
        return { kind: 'call', name: name.toLowerCase(), args };
      }
      if (this.isOp('.')) while (this.acceptOp('.')) name = this.ident();
      return { kind: 'ref', name };
    }
    return this.fail('identifier, string, number, bool');
  }

  private duration(): number {
    if (this.tok.t !== 'dur') this.fail('duration');
    const ms = this.tok.n as number;
    this.advance();
    return ms;
  }

  private integer(): number {
    if (this.tok.t !== 'num' || !Number.isInteger(this.tok.n)) this.fail('integer');
    const n = this.tok.n as number;
    this.advance();
    return n;
  }

  private ident(): string {
    if (this.tok.t !== 'ident' && this.tok.t !== 'qident') this.fail('identifier');
    const v = this.tok.v;
    this.advance();
    return v;
  }

  private peekCall(): boolean {
    const save = (this.lex as unknown as { i: number }).i;
    const t = this.lex.next();
    (this.lex as unknown as { i: number }).i = save;
    return t.v === '(';
  }

  private atEnd(): boolean {
    return this.tok.t === 'eof';
  }
  private advance(): void {
    this.tok = this.lex.next();
  }
  private isOp(v: string): boolean {
    return this.tok.t === 'op' && this.tok.v === v;
  }
  private isKw(v: string): boolean {
    return this.tok.t === 'ident' && this.tok.v.toUpperCase() === v.toUpperCase();
  }
  private acceptOp(v: string): boolean {
    if (!this.isOp(v)) return false;
    this.advance();
    return true;
  }
  private acceptKw(v: string): boolean {
    if (!this.isKw(v)) return false;
    this.advance();
    return true;
  }
  private expectOp(v: string): void {
    if (!this.acceptOp(v)) this.fail(v);
  }
  private expectKw(v: string): void {
    if (!this.acceptKw(v)) this.fail(v);
  }
  private fail(expected: string): never {
    const found = this.tok.t === 'eof' ? 'EOF' : this.tok.v;
    throw new InfluxQLSyntaxError(`found ${found}, expected ${expected} at line 1, char ${this.tok.pos + 1}`);
  }
}

/** Parses one or more `;`-separated statements, or throws InfluxQLSyntaxError. */
export function parseInfluxQL(query: string): Statement[] {
  return new Parser(query).statements();
}
