/**
 * Points waiting for the disk, kept as three parallel columns (series id, ts, value) rather than
 * Point objects: the ingest's objects can be collected at once, and a flush copies the columns
 * straight into the engine's column vectors.
 */
export class PendingPoints {
  series: number[] = [];
  ts: number[] = [];
  value: number[] = [];

  get length(): number {
    return this.series.length;
  }

  push(series: number, ts: number, value: number): void {
    this.series.push(series);
    this.ts.push(ts);
    this.value.push(value);
  }

  /** Hands over everything queued and starts an empty queue, so writes go on while the batch is written. */
  take(): PendingPoints {
    const batch = new PendingPoints();
    [batch.series, batch.ts, batch.value] = [this.series, this.ts, this.value];
    this.series = [];
    this.ts = [];
    this.value = [];
    return batch;
  }

  /** Requeues a batch that could not be written; order on disk does not matter, so it goes at the end. */
  giveBack(batch: PendingPoints): void {
    for (let i = 0; i < batch.length; i++) this.push(batch.series[i] as number, batch.ts[i] as number, batch.value[i] as number);
  }
}
