/*
 * The /query answer as JSON text, written a slice of rows at a time: JSON.stringify of the largest
 * answer the bucket cap allows (~6 MB) holds the event loop ~150-200 ms in one go on this machine,
 * longer than the broker and /healthz may wait. Same text as JSON.stringify({results}).
 */
import type { QueryBudget } from './limits.ts';

/** Rows stringified between two turns of the event loop. */
const ROWS_PER_SLICE = 1_000;

/** `{"results": [...]}` as JSON.stringify would write it. */
export async function stringifyResults(results: readonly object[], budget: QueryBudget): Promise<string> {
  const out: string[] = [];
  for (const r of results) {
    out.push(
      await objectWith(r, 'series', async (series) => {
        const parts: string[] = [];
        for (const s of series) parts.push(await objectWith(s as object, 'values', (rows) => rowsJson(rows, budget)));
        return `[${parts.join(',')}]`;
      }),
    );
  }
  return `{"results":[${out.join(',')}]}`;
}

/** An object's JSON with the array under `key` written by `inner`. */
async function objectWith(o: object, key: string, inner: (v: unknown[]) => Promise<string>): Promise<string> {
  const fields: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || typeof v === 'function') continue;
    fields.push(`${JSON.stringify(k)}:${k === key && Array.isArray(v) ? await inner(v) : JSON.stringify(v)}`);
  }
  return `{${fields.join(',')}}`;
}

async function rowsJson(rows: unknown[], budget: QueryBudget): Promise<string> {
  const parts: string[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_SLICE) {
    const slice = rows.slice(i, i + ROWS_PER_SLICE);
    parts.push(JSON.stringify(slice).slice(1, -1));
    await budget.breathe(slice.length * 2);
  }
  return `[${parts.join(',')}]`;
}
