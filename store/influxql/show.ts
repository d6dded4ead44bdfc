/* SHOW statements over the store's series book, in InfluxDB 1.x's answer shapes (SHOW MEASUREMENTS, SERIES, TAG KEYS, TAG VALUES, FIELD KEYS, ... CARDINALITY). */
import type { SafeRegex } from '../../core/index.ts';
import type { SeriesInfo, TimeSeriesStore } from '../types.ts';
import { DATABASE, influxTags, measurementOf, tagFilter, tagsOf, type InfluxSeries } from './mapping.ts';
import type { ShowStatement } from './parse.ts';

export function show(store: TimeSeriesStore, st: ShowStatement, _opts?: unknown): InfluxSeries[] {
  const all = store.series();
  switch (st.type) {
    case 'show-databases':
      return [{ name: 'databases', columns: ['name'], values: [[DATABASE]] }];
    case 'show-retention-policies':
      return [{ name: '', columns: ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'], values: [['autogen', '0s', '168h0m0s', 1, true]] }];
    case 'show-series': {
      const pass = tagFilter(st.where, new Set());
      let keys = [...new Set(all.filter((s) => (st.from === undefined || measurementOf(s) === st.from) && pass(tagsOf(s))).map(seriesKey))].sort();
      keys = keys.slice(st.offset ?? 0, st.limit !== undefined && st.limit > 0 ? (st.offset ?? 0) + st.limit : undefined);
      return keys.length ? [{ name: '', columns: ['key'], values: keys.map((k) => [k]) }] : [];
    }
    case 'show-cardinality':
      return cardinality(all, st);
    case 'show-measurements': {
      const pass = tagFilter(st.where, new Set());
      let names = [...new Set(all.filter((s) => pass(tagsOf(s))).map(measurementOf))].sort();
      const m = st.match;
      if (m?.kind === 'regex') names = names.filter((n) => m.re.test(n));
      else if (m?.kind === 'str') names = names.filter((n) => n === m.value);
      if (st.limit !== undefined) names = names.slice(0, st.limit);
      return names.length ? [{ name: 'measurements', columns: ['name'], values: names.map((n) => [n]) }] : [];
    }
    case 'show-field-keys':
      return perMeasurement(all, st.from, (list) => [...new Set(list.map((s) => s.metric))].sort().map((f) => [f, 'float']), ['fieldKey', 'fieldType']);
    case 'show-tag-keys': {
      const pass = tagFilter(st.where, new Set());
      return perMeasurement(
        all.filter((s) => pass(tagsOf(s))),
        st.from,
        (list) => [...new Set(list.flatMap((s) => Object.keys(influxTags(s))))].sort().slice(0, st.limit).map((k) => [k]),
        ['tagKey'],
      );
    }
    case 'show-tag-values': {
      const pass = tagFilter(st.where, new Set(all.map((s) => s.metric)));
      const { op, value } = st.key;
      const keyOk = (k: string): boolean =>
        op === 'in' ? (value as string[]).includes(k) : op === '=' ? k === value : op === '!=' ? k !== value : op === '=~' ? (value as SafeRegex).test(k) : !(value as SafeRegex).test(k);
      return perMeasurement(
        all,
        st.from,
        (list) => {
          const pairs = new Set<string>();
          for (const s of list) {
            const tags = tagsOf(s);
            if (!pass(tags)) continue;
            for (const [k, v] of Object.entries(influxTags(s))) if (keyOk(k) && v !== '') pairs.add(JSON.stringify([k, v]));
          }
          return [...pairs].sort().slice(0, st.limit).map((p) => JSON.parse(p) as string[]);
        },
        ['key', 'value'],
      );
    }
  }
}

function perMeasurement(all: SeriesInfo[], from: string | undefined, rows: (list: SeriesInfo[]) => unknown[][], columns: string[]): InfluxSeries[] {
  const byName = new Map<string, SeriesInfo[]>();
  for (const s of all) {
    const m = measurementOf(s);
    if (from !== undefined && m !== from) continue;
    const list = byName.get(m) ?? [];
    list.push(s);
    byName.set(m, list);
  }
  return [...byName.keys()]
    .sort()
    .map((name) => ({ name, columns, values: rows(byName.get(name) as SeriesInfo[]) }))
    .filter((s) => s.values.length > 0);
}

/** The series key InfluxDB shows: measurement and sorted tags, escaped as in line protocol. */
function seriesKey(s: SeriesInfo): string {
  const esc = (x: string): string => x.replace(/[,= ]/g, (c) => `\\${c}`);
  const tags = influxTags(s);
  return [measurementOf(s).replace(/[, ]/g, (c) => `\\${c}`), ...Object.keys(tags).sort().filter((k) => tags[k] !== '').map((k) => `${esc(k)}=${esc(tags[k] as string)}`)].join(',');
}

/**
 * SHOW ... CARDINALITY (InfluxDB 1.6): series and measurements without FROM are one "cardinality
 * estimation" (exact here: the series book is in memory); the rest are counted per measurement.
 */
function cardinality(all: SeriesInfo[], st: Extract<ShowStatement, { type: 'show-cardinality' }>): InfluxSeries[] {
  const pass = tagFilter(st.where, new Set());
  const list = all.filter((s) => (st.from === undefined || measurementOf(s) === st.from) && pass(tagsOf(s)));
  const total = (n: number, exact: boolean): InfluxSeries[] => [{ name: '', columns: [exact ? 'count' : 'cardinality estimation'], values: [[n]] }];
  const per = (count: (l: SeriesInfo[]) => number): InfluxSeries[] =>
    perMeasurement(list, st.from, (l) => (count(l) > 0 ? [[count(l)]] : []), ['count']);
  switch (st.of) {
    case 'series':
      return st.from === undefined && !st.exact ? total(new Set(list.map(seriesKey)).size, false) : per((l) => new Set(l.map(seriesKey)).size);
    case 'measurement':
      return total(new Set(list.map(measurementOf)).size, st.exact);
    case 'tag-key':
      return per((l) => new Set(l.flatMap((s) => Object.keys(influxTags(s)))).size);
    case 'field-key':
      return per((l) => new Set(l.map((s) => s.metric)).size);
    case 'tag-values':
      return per((l) => new Set(l.map((s) => influxTags(s)[st.key as string]).filter((v) => v !== undefined && v !== '')).size);
  }
}
