/*
 * `chunked=true` answers as InfluxDB 1.x streams them (services/httpd/handler.go): one JSON object a
 * line, each holding one statement's result with one series, or `chunk_size` rows of it (default
 * 10,000). A series cut in pieces says `partial: true` on every piece but its last; a statement's
 * result says `partial: true` on every chunk but its last.
 */
import type { StatementResult } from './execute.ts';

export const DEFAULT_CHUNK_SIZE = 10_000;

/** The chunks of an answer, in order; a statement without series (or with an error) is one chunk as it is. */
export function chunkResults(results: readonly StatementResult[], chunkSize = DEFAULT_CHUNK_SIZE): { results: StatementResult[] }[] {
  const size = chunkSize > 0 ? chunkSize : DEFAULT_CHUNK_SIZE;
  const out: { results: StatementResult[] }[] = [];
  for (const r of results) {
    if (!r.series || r.series.length === 0) {
      out.push({ results: [r] });
      continue;
    }
    const pieces: StatementResult[] = [];
    for (const s of r.series) {
      const rows = s.values;
      for (let i = 0; i < Math.max(rows.length, 1); i += size) {
        const more = i + size < rows.length;
        pieces.push({ statement_id: r.statement_id, series: [{ ...s, values: rows.slice(i, i + size), ...(more ? { partial: true } : {}) }] });
      }
    }
    pieces.forEach((p, i) => out.push({ results: [i < pieces.length - 1 ? { ...p, partial: true } : p] }));
  }
  return out;
}
