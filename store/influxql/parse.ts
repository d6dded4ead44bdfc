/*
 * The InfluxQL subset that Grafana's InfluxDB data source sends (InfluxDB 1.x "InfluxQL reference"):
 * SELECT with aggregates, derivatives and arithmetic, WHERE on tags and time, GROUP BY time() and
 * tags, fill(), LIMIT, ORDER BY time; SHOW MEASUREMENTS / TAG KEYS / TAG VALUES / FIELD KEYS /
 * DATABASES / RETENTION POLICIES. A parse error reads as InfluxDB's: "found X, expected Y at line 1, char N".
 */

export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'str'; value: string }
  | { kind: 'duration'; ms: number }
  | { kind: 'regex'; re: RegExp }
  | { kind: 'ref'; name: string }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'binary'; op: string; left: Expr; right: Expr }
  | { kind: 'wildcard' };

export interface Field {
  expr: Expr;
  alias?: string;
}

export type Fill = { kind: 'null' } | { kind: 'none' } | { kind: 'previous' } | { kind: 'linear' } | { kind: 'value'; value: number };

export interface SelectStatement {
  type: 'select';
  fields: Field[];
  measurement: { name: string } | { regex: RegExp };
  where?: Expr;
  groupByTime?: { ms: number; offsetMs: number };
  groupByTags: string[] | '*';
  fill: Fill;
  limit?: number;
  descending: boolean;
}

export type ShowStatement =
  | { type: 'show-measurements'; match?: Expr; where?: Expr; limit?: number }
  | { type: 'show-tag-keys'; from?: string; where?: Expr; limit?: number }
  | { type: 'show-tag-values'; from?: string; key: { op: string; value: string | RegExp | string[] }; where?: Expr; limit?: number }
  | { type: 'show-field-keys'; from?: string }
  | { type: 'show-databases' }
  | { type: 'show-retention-policies' };

export type Statement = SelectStatement | ShowStatement;

/** An InfluxQL syntax error; the message is InfluxDB's wording. */
export class InfluxQLSyntaxError extends Error {}

const UNIT_MS: Record<string, number> = { ns: 1e-6, u: 1e-3, µ: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

type Tok = { t: 'ident' | 'qident' | 'str' | 'num' | 'dur' | 'op' | 'eof'; v: string; n?: number; pos: number };

class Lexer {
  private i = 0;
  constructor(private readonly src: string) {}

  get position(): number {
    return this.i;
  }

  next(): Tok {
    const s = this.src;
    while (this.i < s.length && /\s/.test(s[this.i] as string)) this.i++;
    const pos = this.i;
    if (this.i >= s.length) return { t: 'eof', v: 'EOF', pos };
    const c = s[this.i] as string;
    if (c === '"' || c === "'") {
      let out = '';
      this.i++;
      while (this.i < s.length && s[this.i] !== c) {
        if (s[this.i] === '\\' && this.i + 1 < s.length) this.i++;
        out += s[this.i++];
      }
      if (this.i >= s.length) throw new InfluxQLSyntaxError(`found ${s.slice(pos)}, expected closing ${c} at line 1, char ${pos + 1}`);
      this.i++;
      return { t: c === '"' ? 'qident' : 'str', v: out, pos };
    }
    const num = /^(\d+(?:\.\d+)?|\.\d+)(ns|ms|u|µ|s|m|h|d|w)?(?![A-Za-z_0-9])/.exec(s.slice(this.i));
    if (num) {
      this.i += num[0].length;
      const n = Number(num[1]);
      if (num[2]) return { t: 'dur', v: num[0], n: n * (UNIT_MS[num[2]] as number), pos };
      return { t: 'num', v: num[0], n, pos };
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.i));
    if (id) {
      this.i += id[0].length;
      return { t: 'ident', v: id[0], pos };
    }
    const op = /^(=~|!~|!=|<>|<=|>=|[=<>+\-*/(),;.:])/.exec(s.slice(this.i));
    if (op) {
      this.i += op[0].length;
      return { t: 'op', v: op[0], pos };
    }
    throw new InfluxQLSyntaxError(`found ${c}, expected identifier, string, number, bool at line 1, char ${pos + 1}`);
  }

  /** A /regex/ literal, read when the grammar expects one (a slash is division elsewhere). */
  regex(): RegExp {
    const s = this.src;
    while (this.i < s.length && /\s/.test(s[this.i] as string)) this.i++;
    const pos = this.i;
    if (s[this.i] !== '/') throw new InfluxQLSyntaxError(`found ${s[this.i] ?? 'EOF'}, expected regex at line 1, char ${pos + 1}`);
    let body = '';
    this.i++;
    while (this.i < s.length && s[this.i] !== '/') {
      if (s[this.i] === '\\' && s[this.i + 1] === '/') this.i++;
      body += s[this.i++];
    }
    if (this.i >= s.length) throw new InfluxQLSyntaxError(`found ${s.slice(pos)}, expected closing / at line 1, char ${pos + 1}`);
    this.i++;
    try {
      return new RegExp(body);
    } catch {
      throw new InfluxQLSyntaxError(`invalid regular expression /${body}/ at line 1, char ${pos + 1}`);
    }
  }
}

class Parser {
  private tok: Tok;
  private readonly lex: Lexer;

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
    const measurement = this.measurementRef();
    const st: SelectStatement = { type: 'select', fields, measurement, groupByTags: [], fill: { kind: 'null' }, descending: false };
    if (this.acceptKw('WHERE')) st.where = this.condition();
    if (this.acceptKw('GROUP')) {
      this.expectKw('BY');
      const tags: string[] = [];
      do {
        if (this.isKw('time') && this.peekCall()) {
          this.advance();
          this.expectOp('(');
          const d = this.duration();
          const offset = this.acceptOp(',') ? this.duration() : 0;
          this.expectOp(')');
          st.groupByTime = { ms: d, offsetMs: offset };
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
      else if (this.acceptKw('SLIMIT') || this.acceptKw('OFFSET') || this.acceptKw('SOFFSET')) this.integer();
      else if (this.isKw('tz')) {
        // Buckets are aligned to UTC here; tz() only shifts day-sized buckets, which Grafana rarely asks for.
        this.advance();
        this.expectOp('(');
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
      let key: { op: string; value: string | RegExp | string[] };
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

  /** "db"."rp"."m", "m", or a /regex/; a subquery is refused plainly. */
  private measurementRef(): { name: string } | { regex: RegExp } {
    if (this.isOp('/')) {
      const re = this.lexAt().regex();
      this.tok = this.lex.next();
      return { regex: re };
    }
    if (this.isOp('(')) throw new InfluxQLSyntaxError('subqueries are not supported by Watchfloor\'s /query');
    return { name: this.measurementName() };
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
    let left = this.conjunction();
    while (this.acceptKw('OR')) left = { kind: 'binary', op: 'OR', left, right: this.conjunction() };
    return left;
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
    let left = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.tok.v;
      this.advance();
      left = { kind: 'binary', op, left, right: this.term() };
    }
    return left;
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
      return { kind: 'binary', op: '*', left: { kind: 'num', value: -1 }, right: this.factor() };
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
