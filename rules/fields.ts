import type { FieldCondition } from './schema.ts';

/** The value at a dotted path (`attributes.ifIndex`) of an event, or undefined. */
export function fieldOf(event: object, path: string): unknown {
  let at: unknown = event;
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

const same = (have: unknown, want: string | number | boolean): boolean =>
  have === want || (have !== undefined && have !== null && String(have) === String(want));

/** True when a field's value meets the condition: equal, one of a list, or {regex, above, below, not, exists}. */
export function meets(have: unknown, cond: FieldCondition): boolean {
  if (Array.isArray(cond)) return cond.some((c) => same(have, c));
  if (typeof cond !== 'object') return same(have, cond);
  if (cond.exists !== undefined && (have !== undefined) !== cond.exists) return false;
  if (cond.regex !== undefined && (have === undefined || !new RegExp(cond.regex).test(String(have)))) return false;
  if (cond.above !== undefined && !(Number(have) > cond.above)) return false;
  if (cond.below !== undefined && !(Number(have) < cond.below)) return false;
  if (cond.not !== undefined && (Array.isArray(cond.not) ? cond.not.some((c) => same(have, c)) : same(have, cond.not))) return false;
  return true;
}

/** True when every `where` condition holds for the event. */
export function matchesFields(event: object, where: Record<string, FieldCondition> | undefined): boolean {
  if (!where) return true;
  for (const path in where) {
    const cond = where[path];
    if (cond !== undefined && !meets(fieldOf(event, path), cond)) return false;
  }
  return true;
}
