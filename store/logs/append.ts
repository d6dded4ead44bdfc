/*
 * One batch of lines into `logs` and their postings into `log_postings_fresh`, through DuckDB's
 * appender in data chunks, yielding to the event loop between slices (the habit of store/embedded/writer.ts).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BIGINT, DuckDBDataChunk, UTINYINT, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import type { LogLine } from '../../core/index.ts';
import { FACILITY_CODE, SEVERITY_CODE } from './schema.ts';
import { addTokens, tokenHash } from './tokens.ts';

/** DuckDB's vector size: a data chunk holds at most 2048 rows. */
const CHUNK_ROWS = 2048;
/** Lines tokenized and appended between two yields to the event loop. */
const SLICE_LINES = 2 * CHUNK_ROWS;

/** The data chunks a store reuses for every batch (writes take turns, so one pair suffices). */
export interface AppendChunks {
  lines: DuckDBDataChunk;
  postings: DuckDBDataChunk;
}

export function appendChunks(): AppendChunks {
  return {
    lines: DuckDBDataChunk.create([BIGINT, BIGINT, BIGINT, VARCHAR, VARCHAR, UTINYINT, UTINYINT, VARCHAR, VARCHAR, VARCHAR, VARCHAR]),
    postings: DuckDBDataChunk.create([BIGINT, BIGINT]),
  };
}

/** Appends the lines and their postings (in the caller's transaction); returns the postings written. */
export async function appendLines(writer: DuckDBConnection, chunks: AppendChunks, batch: readonly LogLine[], firstId: number): Promise<number> {
  const lines = await writer.createAppender('logs');
  const post = await writer.createAppender('log_postings_fresh');
  // Postings of the whole batch, as two columns; written once the lines are (a chunk's size is set before its vectors are filled).
  const ptok: number[] = [];
  const pid: number[] = [];
  const tokens = new Set<string>();
  try {
    for (let start = 0; start < batch.length; start += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, batch.length - start);
      const c = chunks.lines;
      if (c.rowCount !== rows) c.rowCount = rows;
      const v = Array.from({ length: 11 }, (_, i) => c.getColumnVector(i));
      for (let i = 0; i < rows; i++) {
        const l = batch[start + i] as LogLine;
        const id = firstId + start + i;
        v[0]?.setItem(i, BigInt(id));
        v[1]?.setItem(i, BigInt(Math.trunc(l.ts)));
        v[2]?.setItem(i, l.claimedTs === undefined ? null : BigInt(Math.trunc(l.claimedTs)));
        v[3]?.setItem(i, l.host);
        v[4]?.setItem(i, l.device ?? null);
        v[5]?.setItem(i, FACILITY_CODE.get(l.facility) as number);
        v[6]?.setItem(i, SEVERITY_CODE.get(l.severity) as number);
        v[7]?.setItem(i, l.program);
        v[8]?.setItem(i, l.pid === undefined ? null : String(l.pid));
        v[9]?.setItem(i, l.message);
        v[10]?.setItem(i, JSON.stringify(l.fields));
        tokens.clear();
        addTokens(l.message, tokens);
        for (const value of Object.values(l.fields)) addTokens(typeof value === 'string' ? value : String(value), tokens);
        for (const t of tokens) {
          ptok.push(tokenHash(t));
          pid.push(id);
        }
      }
      for (const vec of v) vec?.flush();
      lines.appendDataChunk(c);
      if ((start + rows) % SLICE_LINES === 0) {
        lines.flushSync();
        await nextTurn();
      }
    }
    lines.flushSync();
    const pc = chunks.postings;
    for (let start = 0; start < ptok.length; start += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, ptok.length - start);
      if (pc.rowCount !== rows) pc.rowCount = rows;
      const tv = pc.getColumnVector(0);
      const iv = pc.getColumnVector(1);
      for (let i = 0; i < rows; i++) {
        tv.setItem(i, BigInt(ptok[start + i] as number));
        iv.setItem(i, BigInt(pid[start + i] as number));
      }
      tv.flush();
      iv.flush();
      post.appendDataChunk(pc);
      if ((start + rows) % (8 * CHUNK_ROWS) === 0) {
        post.flushSync();
        await nextTurn();
      }
    }
    post.flushSync();
    return ptok.length;
  } catch (err) {
    for (const a of [lines, post]) {
      try {
        a.clear();
      } catch {
        // The transaction is rolled back anyway; the first error is the one worth reporting.
      }
    }
    throw err;
  } finally {
    lines.closeSync();
    post.closeSync();
  }
}
