/* The InfluxQL lexer (InfluxDB 1.x "InfluxQL reference", tokens): identifiers, quoted identifiers and strings, numbers, durations, operators, and /regex/ literals read on the grammar's demand. */
import { compileSafeRegex, RegexSyntaxError, type SafeRegex } from '../../core/index.ts';

/** An InfluxQL syntax error; the message is InfluxDB's wording. */
export class InfluxQLSyntaxError extends Error {}

const UNIT_MS: Record<string, number> = { ns: 1e-6, u: 1e-3, µ: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export type Tok = { t: 'ident' | 'qident' | 'str' | 'num' | 'dur' | 'op' | 'eof'; v: string; n?: number; pos: number };

export class Lexer {
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
  regex(): SafeRegex {
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
      return compileSafeRegex(body);
    } catch (err) {
      // InfluxDB's words: "error parsing regexp: missing closing ): `(` at line 1, char N".
      const reason = err instanceof RegexSyntaxError ? err.reason : String(err);
      throw new InfluxQLSyntaxError(`error parsing regexp: ${reason} at line 1, char ${pos + 1}`);
    }
  }
}
