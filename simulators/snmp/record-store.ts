import { compareOids } from '../../collectors/index.ts';
import type { RecordValue, SnmpRecord } from './snmprec.ts';

interface Entry {
  oid: string;
  arcs: number[];
  type: number;
  value: RecordValue;
}

function cmp(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** An agent's MIB view: records in OID order, exact look-up and "next after" (RFC 3416 §4.2.2) by binary search. */
export class RecordStore {
  private entries: Entry[] = [];
  private readonly byOid = new Map<string, Entry>();

  constructor(records: SnmpRecord[] = []) {
    for (const r of records) this.set(r.oid, r.type, r.value, false);
    this.reindex();
  }

  get size(): number {
    return this.entries.length;
  }

  /** Sets (adds or replaces) a record; values may be functions, read at each request. */
  set(oid: string, type: number, value: RecordValue, resort = true): void {
    const existing = this.byOid.get(oid);
    if (existing) {
      existing.type = type;
      existing.value = value;
      return;
    }
    const e = { oid, arcs: oid.split('.').map(Number), type, value };
    this.byOid.set(oid, e);
    this.entries.push(e);
    if (resort) this.reindex();
  }

  delete(oid: string): void {
    if (!this.byOid.delete(oid)) return;
    this.entries = this.entries.filter((e) => e.oid !== oid);
  }

  get(oid: string): { oid: string; type: number; value: unknown } | undefined {
    const e = this.byOid.get(oid);
    return e && { oid: e.oid, type: e.type, value: read(e.value) };
  }

  /** The first record strictly after `oid`, or undefined at the end of the view. */
  next(oid: string): { oid: string; type: number; value: unknown } | undefined {
    const arcs = oid.split('.').map(Number);
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp((this.entries[mid] as Entry).arcs, arcs) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const e = this.entries[lo];
    return e && { oid: e.oid, type: e.type, value: read(e.value) };
  }

  /** Re-sorts after many `set(..., false)` calls. */
  reindex(): void {
    this.entries.sort((a, b) => cmp(a.arcs, b.arcs));
  }
}

const read = (v: RecordValue): unknown => (typeof v === 'function' ? (v as () => unknown)() : v);

export { compareOids };
