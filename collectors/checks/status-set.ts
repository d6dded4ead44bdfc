import { z } from 'zod';

/** Accepted HTTP statuses as inclusive ranges: 200 is [[200, 200]], "2xx" is [[200, 299]]. */
export type StatusSet = Array<[number, number]>;

const code = z.number().int().min(100, 'an HTTP status is 100–599').max(599, 'an HTTP status is 100–599');
const RANGE = /^([1-5])xx$|^(\d{3})-(\d{3})$/;
const member = z.union([
  code.transform((n): [number, number] => [n, n]),
  z
    .string()
    .regex(RANGE, 'expected a status, "2xx" or "200-299"')
    .transform((s): [number, number] => {
      const m = RANGE.exec(s) as RegExpExecArray;
      if (m[1]) return [Number(m[1]) * 100, Number(m[1]) * 100 + 99];
      return [Number(m[2]), Number(m[3])];
    }),
]);

/** `200`, `"2xx"`, `"200-299"` or a list of them (Uptime Kuma's "accepted status codes"). */
export const statusSet = z.union([member.transform((r) => [r]), z.array(member).min(1)]) as unknown as z.ZodType<StatusSet, unknown>;

/** "200", "200–299", "200 or 301". */
export function describeStatusSet(set: StatusSet): string {
  return set.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}–${hi}`)).join(' or ');
}
