/**
 * Deleting a device's series (DELETE /api/v1/devices/{id}?dropSeries=true): its rows in the raw points
 * and in every rollup tier, and its series rows, in one transaction on the writer connection.
 *
 * Order matters because the writer queues points by series id. The book forgets the device first, so
 * no point taken after that carries an old id (a later point starts a new series); then the queue is
 * flushed (PointWriter.flush takes the whole queue, in its turn on the writer connection), so every
 * point that does carry one is on disk; then, in the next turn, the rows go. Were
 * a queued point written after the delete, its row would outlive its series, and after a restart a
 * new series given the same id (ids restart above the highest series row) would inherit it.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { wfError } from '../../core/index.ts';
import type { Series, SeriesBook } from '../series.ts';
import { ROLLUPS } from '../tiers.ts';
import type { SeriesDeletion } from '../types.ts';
import { closedError, type Lifecycle } from './options.ts';
import type { PointWriter } from './writer.ts';

export async function deleteDeviceSeries(
  writer: DuckDBConnection,
  turns: Pick<PointWriter, 'inTurn' | 'flush'>,
  book: SeriesBook,
  life: Lifecycle,
  device: string,
): Promise<SeriesDeletion> {
  if (life.closing) throw closedError();
  const gone = book.forgetDevice(device);
  // Both queued now, one after the other: nothing else takes the writer connection in between.
  const flushed = turns.flush().then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  return turns.inTurn(async () => {
    const failed = await flushed;
    if (failed) {
      putBack(book, gone);
      throw wfError('STORE_WRITE', `the series of "${device}" were not deleted: its queued points could not be written first (${failed.message})`);
    }
    if (gone.length === 0) return { device, series: 0, points: 0, rollupRows: 0 };
    const ids = gone.map((s) => s.id).join(', ');
    await writer.run('BEGIN TRANSACTION');
    try {
      const points = Number((await writer.run(`DELETE FROM points WHERE series IN (${ids})`)).rowsChanged);
      let rollupRows = 0;
      for (const r of ROLLUPS) rollupRows += Number((await writer.run(`DELETE FROM ${r.table} WHERE series IN (${ids})`)).rowsChanged);
      await writer.run(`DELETE FROM series WHERE id IN (${ids})`);
      await writer.run('COMMIT');
      return { device, series: gone.length, points, rollupRows };
    } catch (err) {
      await writer.run('ROLLBACK').catch(() => undefined);
      putBack(book, gone);
      throw wfError('STORE_WRITE', `deleting the series of "${device}": ${(err as Error).message}`);
    }
  });
}

/** A delete that did not happen: the series go back into the book (those not started again meanwhile), their rows to be saved again. */
function putBack(book: SeriesBook, list: readonly Series[]): void {
  const back: Series[] = [];
  for (const s of list) {
    if (book.find(s.device, s.metric)) continue;
    book.restore(s.id, s.device, s.metric, { ...s.tags }, s.ts === -Infinity ? undefined : { ts: s.ts, value: s.value });
    const restored = book.find(s.device, s.metric);
    if (restored) back.push(restored);
  }
  book.giveBackUnsaved(back);
}
