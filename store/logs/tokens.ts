/*
 * The words of a log line, for the full-text index (store/logs/README.md says why our own index).
 *
 * A token is a maximal run of letters, digits and `_` that may hold `.`, `:`, `@`, `/` and `-`
 * inside it (never at its ends), lowercased: `218.188.2.4`, `fe80::1`, `root@combo`,
 * `220-135-151-1.hinet-ip.hinet.net`, `link-3-updown`. A line is indexed under each such run,
 * under its parts split at `:`, `@` and `/` (so `10.0.0.1:22` is found by `10.0.0.1`, `user@host`
 * by `host`, `10.0.0.0/8` by `10.0.0.0`), and under its plain words (so `hinet` finds the host name).
 * A query term is looked up only by its maximal runs: the parts of a run are implied by the run,
 * and a lookup of `2` or `4` (the words of an address) would read half the index.
 */

/** A line is indexed by its first this many distinct tokens: a 64 KiB line of random words must not cost 10,000 postings. */
export const MAX_TOKENS_PER_LINE = 1000;

/** Longer runs are not tokens (a base64 blob, a hash): their parts still are. */
export const MAX_TOKEN_LENGTH = 128;

const RUN = /[\p{L}\p{N}_](?:[\p{L}\p{N}_.:@/-]*[\p{L}\p{N}_])?/gu;
const PART_SEPARATORS = /[:@/]+/;
const WORD = /[\p{L}\p{N}_]+/gu;
const HAS_SEPARATOR = /[.:@/-]/;

/** Adds the tokens of `text` (lowercased runs, their parts and words) to `into`. */
export function addTokens(text: string, into: Set<string>): void {
  if (text === '') return;
  const lower = text.toLowerCase();
  for (const m of lower.matchAll(RUN)) {
    if (into.size >= MAX_TOKENS_PER_LINE) return;
    const run = m[0];
    if (run.length <= MAX_TOKEN_LENGTH) into.add(run);
    if (!HAS_SEPARATOR.test(run)) continue;
    for (const part of run.split(PART_SEPARATORS)) {
      const trimmed = trimSeparators(part);
      if (trimmed !== '' && trimmed.length <= MAX_TOKEN_LENGTH) into.add(trimmed);
    }
    for (const w of run.matchAll(WORD)) if (w[0].length <= MAX_TOKEN_LENGTH) into.add(w[0]);
  }
}

function trimSeparators(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSeparator(s.charCodeAt(a))) a++;
  while (b > a && isSeparator(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/** `.` and `-`, the separators a part split at `:@/` may still start or end with. */
const isSeparator = (c: number): boolean => c === 0x2e || c === 0x2d;

/** The maximal runs of a query term: what the index is looked up by. */
export function queryTokens(term: string): string[] {
  const out = new Set<string>();
  for (const m of term.toLowerCase().matchAll(RUN)) {
    const run = m[0];
    if (run.length <= MAX_TOKEN_LENGTH) {
      out.add(run);
      continue;
    }
    // A run too long to be a token was indexed by its words only.
    for (const w of run.matchAll(WORD)) if (w[0].length <= MAX_TOKEN_LENGTH) out.add(w[0]);
  }
  return [...out];
}

/**
 * A 53-bit hash of a token (FNV-1a and a multiply-xorshift over the UTF-16 code units, 21 + 32 bits):
 * the index keeps numbers, not strings, so a posting is two integers and DuckDB's zone maps on a
 * sorted integer column prune exactly. 53 bits are exact in a JS number; among ten million distinct
 * tokens the chance that another token shares the one asked for is about 1 in 10^9, so a lookup is
 * taken as exact (a quoted phrase is still checked against the text).
 */
export function tokenHash(token: string): number {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b ^= b >>> 16;
  return (a >>> 11) * 0x1_0000_0000 + (b >>> 0);
}

/** One parsed `q`: each entry is a word or phrase every matching line holds (AND), case-insensitive. */
export interface TextQuery {
  /** Token hashes to look up in the index: a matching line holds every one. */
  lookups: number[];
  /** Quoted phrases, lowercased: a matching line's message or fields contain each as written. */
  phrases: string[];
}

/**
 * Parses `q`: terms separated by spaces, all required; `"a quoted phrase"` must appear as written
 * (case aside). Returns undefined when `q` holds no word at all (only punctuation).
 */
export function parseTextQuery(q: string): TextQuery | undefined {
  const lookups = new Set<number>();
  const phrases = new Set<string>();
  const phrase = /"([^"]*)"|(\S+)/g;
  for (const m of q.matchAll(phrase)) {
    const quoted = m[1];
    const tokens = queryTokens(quoted ?? (m[2] as string));
    for (const t of tokens) lookups.add(tokenHash(t));
    // A phrase of one token is that token: the index answers it alone.
    if (quoted !== undefined && tokens.length > 1) phrases.add(quoted.toLowerCase().trim());
  }
  if (lookups.size === 0) return undefined;
  return { lookups: [...lookups], phrases: [...phrases] };
}
