import { z } from 'zod';
import { badRequest } from '../core/index.ts';

/** Parses request input or throws a 400 naming the first field at fault. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, where: 'body' | 'query'): z.infer<T> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : `(${where})`;
  throw badRequest(field, `${field}: ${issue?.message ?? 'invalid'}`);
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s", "5m", "1h" or a number of milliseconds. */
export const DurationMs = z.union([
  z.coerce.number().int().positive(),
  z.string().regex(DURATION, 'expected a duration like "30s", "5m" or milliseconds').transform((s) => {
    const [, n, unit] = DURATION.exec(s) as RegExpExecArray;
    return Math.round(Number(n) * (UNIT_MS[unit as string] as number));
  }),
]);

/** Epoch milliseconds or an ISO 8601 date-time. */
export const TimeMs = z.union([
  z.coerce.number().int().nonnegative(),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
]);
