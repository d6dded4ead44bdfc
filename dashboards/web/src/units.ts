// Values with their units as a person reads them: Grafana's unit ids (fieldConfig.defaults.unit) and
// the product's own metric units, SI prefixes for bits per second.

const SUFFIX: Record<string, string> = { celsius: ' °C', humidity: ' %RH', percent: ' %', kwatt: ' kW', watt: ' W', amp: ' A', volt: ' V', m: ' min', s: ' s', ms: ' ms' };
const FIXED_DIGITS: Record<string, number> = { celsius: 1, humidity: 1, kwatt: 1 };
const SI: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];

/** `v` in `unit` (a Grafana unit id, or text like "°C"), with `digits` decimals; '—' for no value. */
export function formatValue(v: number | null | undefined, unit?: string, digits?: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (unit === 'bps') {
    const [scale, prefix] = SI.find(([s]) => Math.abs(v) >= s) ?? [1, ''];
    return `${(v / scale).toFixed(digits ?? (v / scale >= 100 ? 0 : 1))} ${prefix}bit/s`;
  }
  // Temperatures always with one decimal, as on the floor plan: "36.0 °C" beside "35.9 °C", never "36 °C".
  const d = digits ?? FIXED_DIGITS[unit ?? ''] ?? (Number.isInteger(v) && Math.abs(v) < 1e6 ? 0 : Math.abs(v) >= 100 ? 0 : 1);
  const suffix = SUFFIX[unit ?? ''] ?? (unit ? ` ${unit}` : '');
  return `${v.toFixed(d)}${suffix}`;
}

/** The colour name of the last Grafana threshold step at or below `v` (steps sorted, the first one's value null). */
/** One Grafana threshold step: its colour from `value` up (null: from minus infinity). */
export interface ThresholdStep {
  color: string;
  value: number | null;
}

export function thresholdColor(steps: readonly ThresholdStep[] | undefined, v: number | null | undefined): string | undefined {
  if (!steps?.length || v === null || v === undefined) return undefined;
  let color = steps[0]!.color;
  for (const s of steps) if (s.value === null || v >= s.value) color = s.color;
  return color;
}
