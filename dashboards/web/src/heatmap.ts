// The heat map under the floor plan: values at sensor positions spread over the room by inverse
// distance weighting (Shepard, 1968), drawn straight into a canvas that sits under the plan's SVG
// (one pixel a cell, scaled up by CSS), so a redraw never touches the SVG. Only current readings
// count: a stale sensor leaves a hole, never an old colour.
import { RH_MAX, RH_MIN, TEMP_MAX, TEMP_MIN, layerRgb } from './colors.ts';

/** A current value at a point of the plan, in metres. */
export interface HeatPoint {
  x: number;
  y: number;
  value: number;
}

interface Lut {
  lo: number;
  scale: number;
  rgb: Uint8ClampedArray;
}

/** Metres per heat-map cell: 0.4 m (under a raised-floor tile) gives a 40 × 30 m hall 7,500 cells. */
export const HEAT_CELL = 0.4;
/** Beyond this distance from every current sensor the map is left empty (no guessing in the dark). */
const REACH = 3;
const ALPHA = 150;

/** A layer's colours for LUT_STEPS values over a range wider than the legend, so clamping matches layerRgb's own. */
const LUT_STEPS = 1024;
const LUT_RANGE: Record<string, [number, number]> = { temperature: [TEMP_MIN - 10, TEMP_MAX + 5], humidity: [RH_MIN - 20, RH_MAX + 20] };
const luts = new Map<string, Lut>();
function lutOf(layer: string): Lut {
  let lut = luts.get(layer);
  if (lut) return lut;
  const [lo, hi] = LUT_RANGE[layer] ?? LUT_RANGE.temperature!;
  const rgb = new Uint8ClampedArray(LUT_STEPS * 3);
  for (let i = 0; i < LUT_STEPS; i++) rgb.set(layerRgb(layer, lo + ((hi - lo) * i) / (LUT_STEPS - 1)), i * 3);
  lut = { lo, scale: (LUT_STEPS - 1) / (hi - lo), rgb };
  luts.set(layer, lut);
  return lut;
}

/**
 * Fills `canvas` (resized to the cell grid) with the interpolated layer for a room of `width` ×
 * `depth` metres from `points` ([{x, y, value}]); with no points it is cleared. Returns the number of cells coloured.
 */
export function renderHeat(canvas: HTMLCanvasElement, width: number, depth: number, points: readonly HeatPoint[], layer: string): number {
  const cols = Math.max(1, Math.ceil(width / HEAT_CELL));
  const rows = Math.max(1, Math.ceil(depth / HEAT_CELL));
  if (canvas.width !== cols) canvas.width = cols;
  if (canvas.height !== rows) canvas.height = rows;
  const ctx = canvas.getContext('2d')!;
  if (points.length === 0) {
    ctx.clearRect(0, 0, cols, rows);
    return 0;
  }
  // Points binned in REACH-sized buckets: a cell only looks at the 3 × 3 buckets around it, which
  // hold every point within REACH, so the result is the same as looking at all of them.
  const bcols = Math.max(1, Math.ceil(width / REACH));
  const brows = Math.max(1, Math.ceil(depth / REACH));
  const buckets = Array.from({ length: bcols * brows }, (): HeatPoint[] => []);
  for (const p of points) {
    const bc = Math.min(bcols - 1, Math.max(0, Math.floor(p.x / REACH)));
    const br = Math.min(brows - 1, Math.max(0, Math.floor(p.y / REACH)));
    buckets[br * bcols + bc]!.push(p);
  }
  const lut = lutOf(layer);
  const img = ctx.createImageData(cols, rows);
  const data = img.data;
  const reach2 = REACH * REACH;
  for (let r = 0; r < rows; r++) {
    const y = (r + 0.5) * HEAT_CELL;
    const br = Math.min(brows - 1, Math.floor(y / REACH));
    for (let c = 0; c < cols; c++) {
      const x = (c + 0.5) * HEAT_CELL;
      const bc = Math.min(bcols - 1, Math.floor(x / REACH));
      let wsum = 0;
      let vsum = 0;
      let nearest = Infinity;
      for (let j = Math.max(0, br - 1); j <= Math.min(brows - 1, br + 1); j++) {
        for (let i = Math.max(0, bc - 1); i <= Math.min(bcols - 1, bc + 1); i++) {
          for (const p of buckets[j * bcols + i]!) {
            const dx = x - p.x;
            const dy = y - p.y;
            const d2 = dx * dx + dy * dy + 0.01;
            if (d2 > reach2) continue;
            if (d2 < nearest) nearest = d2;
            const w = 1 / (d2 * d2); // power 4 on distance: local, so one hot rack stays a hot spot
            wsum += w;
            vsum += w * p.value;
          }
        }
      }
      if (wsum === 0) continue;
      const k = Math.min(LUT_STEPS - 1, Math.max(0, Math.round((vsum / wsum - lut.lo) * lut.scale))) * 3;
      const o = (r * cols + c) * 4;
      data[o] = lut.rgb[k]!;
      data[o + 1] = lut.rgb[k + 1]!;
      data[o + 2] = lut.rgb[k + 2]!;
      // Fade out towards the edge of what the sensors can say.
      data[o + 3] = Math.round(ALPHA * Math.max(0, 1 - Math.sqrt(nearest) / REACH));
    }
  }
  ctx.putImageData(img, 0, 0);
  let coloured = 0;
  for (let o = 3; o < data.length; o += 4) if (data[o]! > 0) coloured++;
  return coloured;
}
