/**
 * One pass over a (lower-cased) text finds every registered literal it contains, so a hundred
 * rules with a thousand `contains` keywords cost one scan per line instead of a thousand
 * `includes` (the literal prefilter that Hyperscan-style matchers use). Literals are indexed by
 * their first two characters; the scan looks each position up once. The results of the last
 * few texts are kept: the rules of one line ask about the same message, program and host in turn.
 */
export class LiteralIndex {
  private readonly ids = new Map<string, number>();
  private readonly byBigram = new Map<number, { id: number; lit: string }[]>();
  private readonly short: { id: number; lit: string }[] = [];
  /** literal id -> the groups it belongs to */
  private readonly groupsOf: number[][] = [];
  private groupCount = 0;
  // The last few texts scanned (a line's message, program, host... are asked about in turn).
  private readonly texts: (string | undefined)[] = [undefined, undefined, undefined, undefined];
  private readonly seens: Uint8Array[] = [];
  private readonly groupss: Uint8Array[] = [];
  private next = 0;

  /** Registers a literal (already case-folded as the caller wants); returns its id. */
  add(lit: string): number {
    const known = this.ids.get(lit);
    if (known !== undefined) return known;
    const id = this.ids.size;
    this.ids.set(lit, id);
    this.groupsOf.push([]);
    if (lit.length < 2) this.short.push({ id, lit });
    else {
      const k = lit.charCodeAt(0) * 65536 + lit.charCodeAt(1);
      const list = this.byBigram.get(k);
      if (list) list.push({ id, lit });
      else this.byBigram.set(k, [{ id, lit }]);
    }
    this.texts.fill(undefined);
    return id;
  }

  /** Registers a set of literals whose test is "any of them occurs" (a keyword list); returns the group's id. */
  addGroup(lits: string[]): number {
    const g = this.groupCount++;
    for (const l of lits) (this.groupsOf[this.add(l)] as number[]).push(g);
    this.texts.fill(undefined);
    return g;
  }

  /** Whether literal `id` occurs in `text`. */
  has(id: number, text: string): boolean {
    return (this.seens[this.slot(text)] as Uint8Array)[id] === 1;
  }

  /** Whether any literal of group `g` occurs in `text`. */
  hasAny(g: number, text: string): boolean {
    return (this.groupss[this.slot(text)] as Uint8Array)[g] === 1;
  }

  private slot(text: string): number {
    const i = this.texts.indexOf(text);
    if (i >= 0) return i;
    const k = this.next;
    this.next = (k + 1) % this.texts.length;
    this.scan(text, k);
    return k;
  }

  private scan(text: string, k: number): void {
    const seen = new Uint8Array(this.ids.size);
    const groups = new Uint8Array(this.groupCount);
    const mark = (id: number) => {
      seen[id] = 1;
      for (const g of this.groupsOf[id] as number[]) groups[g] = 1;
    };
    for (const s of this.short) if (text.includes(s.lit)) mark(s.id);
    const n = text.length - 1;
    for (let i = 0; i < n; i++) {
      const list = this.byBigram.get(text.charCodeAt(i) * 65536 + text.charCodeAt(i + 1));
      if (!list) continue;
      for (const c of list) if (seen[c.id] === 0 && text.startsWith(c.lit, i)) mark(c.id);
    }
    this.texts[k] = text;
    this.seens[k] = seen;
    this.groupss[k] = groups;
  }
}

/** The index shared by every compiled rule of the process (it only grows with the literals of the rules compiled). */
export const sharedLiterals = new LiteralIndex();
