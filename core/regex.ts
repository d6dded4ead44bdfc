import { RE2JS } from 're2js';

/**
 * Regular expressions that match in linear time (RE2 semantics, as Go's regexp, which both
 * InfluxDB and Alertmanager use), so a pattern typed by a user can never stall the event loop
 * the way a backtracking `/^((.+)+)+X$/` does in JavaScript's own engine.
 */
export interface SafeRegex {
  /** The pattern as written. */
  readonly source: string;
  /** Whether the pattern matches anywhere in `s` (use `^…$` to anchor). */
  test(s: string): boolean;
}

/** Longest pattern accepted: a user-typed matcher or tag filter is a few dozen characters. */
export const MAX_REGEX_LENGTH = 1024;

/** A pattern that does not compile, or is over the length cap; `reason` is the engine's own words. */
export class RegexSyntaxError extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`invalid regular expression /${pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern}/: ${reason}`);
    this.name = 'RegexSyntaxError';
  }
}

/** Compiles `pattern` with RE2 semantics; throws RegexSyntaxError when it does not compile. */
export function compileSafeRegex(pattern: string, opts: { caseInsensitive?: boolean } = {}): SafeRegex {
  if (pattern.length > MAX_REGEX_LENGTH) throw new RegexSyntaxError(pattern, `longer than ${MAX_REGEX_LENGTH} characters`);
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, opts.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (err) {
    throw new RegexSyntaxError(pattern, err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err));
  }
  return { source: pattern, test: (s: string) => re.matcher(s).find() };
}
