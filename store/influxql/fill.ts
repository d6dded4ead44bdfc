/* fill(): what an empty GROUP BY time() bucket answers (InfluxQL reference, GROUP BY time intervals and fill()). */
import type { Fill } from './parse.ts';

export type Column = (number | null)[];

export function fillColumn(col: Column, f: Fill): Column {
  if (f.kind === 'value') return col.map((v) => v ?? f.value);
  if (f.kind === 'previous') {
    let last: number | null = null;
    return col.map((v) => (v === null ? last : (last = v)));
  }
  return col;
}

export function fillRows(rows: unknown[][], f: Fill): unknown[][] {
  const nulls = (r: unknown[]): boolean => r.slice(1).every((v) => v === null);
  if (f.kind === 'none') return rows.filter((r) => !nulls(r));
  if (f.kind === 'value') return rows.map((r) => r.map((v, i) => (i > 0 && v === null ? f.value : v)));
  if (f.kind === 'previous') {
    const last: unknown[] = [];
    return rows.map((r) => r.map((v, i) => (i === 0 ? v : v === null ? (last[i] ?? null) : (last[i] = v))));
  }
  if (f.kind === 'linear') {
    const width = rows[0]?.length ?? 0;
    for (let c = 1; c < width; c++) {
      let prev = -1;
      rows.forEach((r, i) => {
        if (r[c] === null) return;
        if (prev >= 0 && i - prev > 1) {
          const a = rows[prev]?.[c] as number;
          const b = r[c] as number;
          for (let k = prev + 1; k < i; k++) (rows[k] as unknown[])[c] = a + ((b - a) * (k - prev)) / (i - prev);
        }
        prev = i;
      });
    }
  }
  return rows;
}
