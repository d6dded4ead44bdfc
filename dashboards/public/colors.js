// The temperature colour scale: matplotlib's "inferno" (van der Walt & Smith, CC0), sequential and
// monotonic in lightness, so it reads under every common colour-vision deficiency and in greyscale:
// brighter is hotter. Eleven stops of the 256-entry map, interpolated linearly in sRGB.
const INFERNO = [
  '#000004', '#160b39', '#420a68', '#6a176e', '#932667', '#bc3754',
  '#dd513a', '#f37819', '#fca50a', '#f6d746', '#fcffa4',
].map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));

/** The temperatures at the two ends of the scale, in °C; values beyond clamp to the ends. */
export const TEMP_MIN = 15;
export const TEMP_MAX = 45;

// Inferno's darkest tenth is black on a dark floor plan, so the scale starts past it.
const T_START = 0.12;

/** The colour of inferno at t in [0, 1], as [r, g, b]. */
export function inferno(t) {
  const x = Math.min(1, Math.max(0, t)) * (INFERNO.length - 1);
  const i = Math.min(INFERNO.length - 2, Math.floor(x));
  const f = x - i;
  const a = INFERNO[i];
  const b = INFERNO[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f));
}

const position = (celsius) => T_START + (1 - T_START) * ((celsius - TEMP_MIN) / (TEMP_MAX - TEMP_MIN));

/** The fill for a temperature, as a CSS `rgb(r, g, b)` string (what getComputedStyle answers too). */
export function temperatureColor(celsius) {
  const [r, g, b] = inferno(position(celsius));
  return `rgb(${r}, ${g}, ${b})`;
}

/** Black or white, whichever reads better on the temperature's fill. */
export function textOn(celsius) {
  const [r, g, b] = inferno(position(celsius));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 110 ? '#000' : '#fff';
}

/** A CSS linear-gradient of the scale from TEMP_MIN (left) to TEMP_MAX (right), for the legend. */
export function legendGradient() {
  const stops = [];
  for (let i = 0; i <= 20; i++) {
    const c = TEMP_MIN + ((TEMP_MAX - TEMP_MIN) * i) / 20;
    stops.push(`${temperatureColor(c)} ${i * 5}%`);
  }
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
