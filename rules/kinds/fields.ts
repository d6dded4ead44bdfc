import { z } from 'zod';
import { Finite } from './base.ts';

/** A field condition: a value (equal), a list (any of), or {regex, above, below, not}. */
const Scalar = z.union([z.string(), z.number(), z.boolean()]);
export const FieldCondition = z.union([
  Scalar,
  z.array(Scalar).min(1),
  z.strictObject({
    regex: z.string().refine((r) => {
      try {
        new RegExp(r);
        return true;
      } catch {
        return false;
      }
    }, 'not a regular expression').optional(),
    above: Finite.optional(),
    below: Finite.optional(),
    not: z.union([Scalar, z.array(Scalar).min(1)]).optional(),
    exists: z.boolean().optional(),
  }),
]);
export type FieldCondition = z.infer<typeof FieldCondition>;

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
