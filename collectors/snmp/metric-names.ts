/** Metric names carry a dimension after a dot (`if_in_bps.Gi0_1`); core/telemetry's MetricName allows [A-Za-z0-9_.], 64 long. */
export const MAX_METRIC = 64;

/**
 * Turns an interface, sensor or disk name into a metric-name suffix: `GigabitEthernet0/1` ->
 * `GigabitEthernet0_1`, `/var/lib/libvirt` -> `var_lib_libvirt`. The root filesystem, which
 * HOST-RESOURCES names `/`, would leave nothing: it is `root`.
 */
export function dimension(label: string): string {
  if (label === '/') return 'root';
  return label.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
}

/** `base.dimension`, cut to the length limit. */
export function metricName(base: string, dim: string): string {
  const room = MAX_METRIC - base.length - 1;
  return `${base}.${dim.slice(0, Math.max(1, room))}`;
}

/**
 * Suffixes for a set of rows: their labels made safe, falling back to the index when a label is
 * empty or two rows would share one (e.g. two interfaces both named "Vlan1").
 */
export function rowSuffixes(rows: { index: string; label?: string }[]): Map<string, string> {
  const count = new Map<string, number>();
  const cand = rows.map((r) => ({ index: r.index, d: r.label ? dimension(r.label) : '' }));
  for (const c of cand) count.set(c.d, (count.get(c.d) ?? 0) + 1);
  return new Map(cand.map((c) => [c.index, c.d && count.get(c.d) === 1 ? c.d : c.d ? `${c.d}_${dimension(c.index)}` : dimension(c.index)]));
}
