import type { LatestValue, SeriesInfo, SeriesSelector } from './types.ts';

type Tags = Record<string, string>;

/** One series (a device's metric): its id on disk, its tags and its latest value. */
export interface Series {
  readonly id: number;
  readonly device: string;
  readonly metric: string;
  tags: Readonly<Tags>;
  /** The object the tags were last copied from: the ingest passes the estate's own object, so "same object" is the cheap test. */
  tagsSource: Tags | undefined;
  /** -Infinity until the series has a value. */
  ts: number;
  value: number;
}

const noTags: Readonly<Tags> = Object.freeze({});

/** Limits on tags: they come from the inventory, so a huge or endless tag set is a bug or an attack, not data. */
export const TAG_LIMITS = { keys: 32, keyLength: 64, valueLength: 256 };

/** Why a point was refused by the book. */
export type Refusal = 'tags' | 'cardinality';

function tagsFit(tags: Tags): boolean {
  let n = 0;
  for (const k in tags) {
    const v = tags[k];
    if (++n > TAG_LIMITS.keys || k.length > TAG_LIMITS.keyLength || typeof v !== 'string' || v.length > TAG_LIMITS.valueLength) return false;
  }
  return true;
}

function sameTags(a: Readonly<Tags>, b: Tags): boolean {
  let n = 0;
  for (const k in b) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  return n === Object.keys(a).length;
}

/**
 * Every series in memory, looked up device first so that `latest({ device })` does not scan the
 * estate. It answers `latest()` and tracks which series rows the disk is missing or holds stale.
 */
export class SeriesBook {
  private readonly byDevice = new Map<string, Map<string, Series>>();
  private readonly unsaved = new Set<Series>();
  private nextId = 1;
  size = 0;

  /** @param maxSeries the cardinality limit: a point that would create one more series is refused. */
  constructor(private readonly maxSeries = Infinity) {}

  /** Puts back a series read from disk, with its latest value if it has points. */
  restore(id: number, device: string, metric: string, tags: Tags, latest?: { ts: number; value: number }): void {
    const s = this.add(id, device, metric);
    s.tags = Object.freeze(tags);
    if (latest) {
      s.ts = latest.ts;
      s.value = latest.value;
    }
    this.nextId = Math.max(this.nextId, id + 1);
  }

  /** The series of a point, created if new (within the limits); takes its tags when they changed and its value when it is the newest. */
  record(device: string, metric: string, ts: number, value: number, tags: Tags | undefined): Series | Refusal {
    let s = this.byDevice.get(device)?.get(metric);
    if (!s) {
      if (this.size >= this.maxSeries) return 'cardinality';
      if (tags !== undefined && !tagsFit(tags)) return 'tags';
      s = this.add(this.nextId++, device, metric);
      this.unsaved.add(s);
    }
    // A point without tags keeps the series' tags: tags come from the inventory, not from every sender.
    if (tags !== undefined && tags !== s.tagsSource) {
      if (!tagsFit(tags)) return 'tags';
      s.tagsSource = tags;
      if (!sameTags(s.tags, tags)) {
        s.tags = Object.freeze({ ...tags });
        this.unsaved.add(s);
      }
    }
    if (ts >= s.ts) {
      s.ts = ts;
      s.value = value;
    }
    return s;
  }

  find(device: string, metric: string): Series | undefined {
    return this.byDevice.get(device)?.get(metric);
  }

  latest(selector: { device?: string; metric?: string } = {}): LatestValue[] {
    const out: LatestValue[] = [];
    const push = (s: Series | undefined): void => {
      if (s && s.ts !== -Infinity) out.push({ device: s.device, metric: s.metric, ts: s.ts, value: s.value, tags: s.tags });
    };
    const { device, metric } = selector;
    const devices = device === undefined ? this.byDevice.values() : [this.byDevice.get(device) ?? new Map<string, Series>()];
    for (const metrics of devices) {
      if (metric === undefined) for (const s of metrics.values()) push(s);
      else push(metrics.get(metric));
    }
    return out;
  }

  /** The series matching every condition of the selector. */
  list(selector: SeriesSelector = {}): SeriesInfo[] {
    const out: SeriesInfo[] = [];
    const { device, metric, tags } = selector;
    const wanted = tags ? Object.entries(tags) : [];
    const devices = device === undefined ? this.byDevice.values() : [this.byDevice.get(device) ?? new Map<string, Series>()];
    for (const metrics of devices) {
      for (const s of metric === undefined ? metrics.values() : [metrics.get(metric)]) {
        if (s && wanted.every(([k, v]) => s.tags[k] === v)) out.push({ device: s.device, metric: s.metric, tags: s.tags });
      }
    }
    return out;
  }

  /** The series whose row (device, metric, tags) must be written with the next batch; the caller gives them back if it fails. */
  takeUnsaved(): Series[] {
    const list = [...this.unsaved];
    this.unsaved.clear();
    return list;
  }

  giveBackUnsaved(list: readonly Series[]): void {
    for (const s of list) this.unsaved.add(s);
  }

  /**
   * Forgets every series of a device (its series are being deleted) and answers them. Their ids are
   * never handed out again in this process; a later point of the device starts a new series.
   */
  forgetDevice(device: string): Series[] {
    const metrics = this.byDevice.get(device);
    if (!metrics) return [];
    this.byDevice.delete(device);
    const list = [...metrics.values()];
    for (const s of list) this.unsaved.delete(s);
    this.size -= list.length;
    return list;
  }

  private add(id: number, device: string, metric: string): Series {
    let metrics = this.byDevice.get(device);
    if (!metrics) this.byDevice.set(device, (metrics = new Map()));
    const s: Series = { id, device, metric, tags: noTags, tagsSource: undefined, ts: -Infinity, value: NaN };
    metrics.set(metric, s);
    this.size++;
    return s;
  }
}
