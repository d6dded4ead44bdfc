// The temperature colour scale: matplotlib's "inferno" (van der Walt & Smith, CC0), sequential and
// monotonic in lightness, so it reads under every common colour-vision deficiency and in greyscale:
// brighter is hotter. Eleven stops of the 256-entry map, interpolated linearly in sRGB.
/** A colour as [r, g, b], each 0-255. */
export type Rgb = [number, number, number];
/** A heat map layer. */
export type HeatLayer = 'temperature' | 'humidity';

const INFERNO = [
  '#000004', '#160b39', '#420a68', '#6a176e', '#932667', '#bc3754',
  '#dd513a', '#f37819', '#fca50a', '#f6d746', '#fcffa4',
].map((hex): Rgb => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb);

/** The temperatures at the two ends of the scale, in °C; values beyond clamp to the ends. */
export const TEMP_MIN = 15;
export const TEMP_MAX = 45;

// Inferno's darkest tenth is black on a dark floor plan, so the scale starts past it.
const T_START = 0.12;

/** The colour of a palette (stops as [r, g, b]) at t in [0, 1], interpolated linearly between stops. */
function along(palette: readonly Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, t)) * (palette.length - 1);
  const i = Math.min(palette.length - 2, Math.floor(x));
  const f = x - i;
  const a = palette[i]!;
  const b = palette[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as Rgb;
}

/** The colour of inferno at t in [0, 1], as [r, g, b]. */
export const inferno = (t: number): Rgb => along(INFERNO, t);

const position = (celsius: number): number => T_START + (1 - T_START) * ((celsius - TEMP_MIN) / (TEMP_MAX - TEMP_MIN));

/** The fill for a temperature, as a CSS `rgb(r, g, b)` string (what getComputedStyle answers too). */
export function temperatureColor(celsius: number): string {
  const [r, g, b] = inferno(position(celsius));
  return `rgb(${r}, ${g}, ${b})`;
}

/** Black or white, whichever reads better on the temperature's fill. */
export function textOn(celsius: number): string {
  const [r, g, b] = inferno(position(celsius));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 110 ? '#000' : '#fff';
}

/** A CSS linear-gradient of the scale from TEMP_MIN (left) to TEMP_MAX (right), for the legend. */
export function legendGradient(): string {
  const stops: string[] = [];
  for (let i = 0; i <= 20; i++) {
    const c = TEMP_MIN + ((TEMP_MAX - TEMP_MIN) * i) / 20;
    stops.push(`${temperatureColor(c)} ${i * 5}%`);
  }
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

// The humidity layer: matplotlib's "viridis" (CC0), also sequential in lightness and safe for
// colour-blind eyes, and unlike inferno in hue, so the two layers are never confused.
const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725']
  .map((hex): Rgb => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb);

/** Relative humidity at the two ends of the humidity scale, in %RH (ASHRAE's envelope is 8-70 %). */
export const RH_MIN = 20;
export const RH_MAX = 80;

/** The colour of viridis at t in [0, 1], as [r, g, b]. */
export const viridis = (t: number): Rgb => along(VIRIDIS, t);

/** [r, g, b] of a value on a layer's scale: `temperature` (°C, inferno) or `humidity` (%RH, viridis). */
export function layerRgb(layer: string, v: number): Rgb {
  if (layer === 'humidity') return viridis((v - RH_MIN) / (RH_MAX - RH_MIN));
  return inferno(position(v));
}

/** A CSS gradient for a layer's legend. */
export function layerGradient(layer: string): string {
  if (layer !== 'humidity') return legendGradient();
  const stops: string[] = [];
  for (let i = 0; i <= 10; i++) {
    const [r, g, b] = viridis(i / 10);
    stops.push(`rgb(${r}, ${g}, ${b}) ${i * 10}%`);
  }
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
