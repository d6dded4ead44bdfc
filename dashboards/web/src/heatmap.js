// The heat map under the floor plan: values at sensor positions spread over the room by inverse
// distance weighting (Shepard, 1968), drawn on a small canvas and shown as one SVG <image> in room
// metres. Only current readings count: a stale sensor leaves a hole, never an old colour.
import { layerRgb } from './colors.js';

/** Metres per heat-map cell: 0.2 m gives a 10 × 12 m room 3,000 cells, cheap to redo every second. */
const CELL = 0.2;
/** Beyond this distance from every current sensor the map is left empty (no guessing in the dark). */
const REACH = 3;
const ALPHA = 150;

/**
 * Fills a canvas with the interpolated layer for a room of `width` × `depth` metres from
 * `points` ([{x, y, value}]) and returns it as a data URL, or undefined with no points.
 */
export function renderHeat(canvas, width, depth, points, layer) {
  if (points.length === 0) return undefined;
  const cols = Math.max(1, Math.ceil(width / CELL));
  const rows = Math.max(1, Math.ceil(depth / CELL));
  canvas.width = cols;
  canvas.height = rows;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(cols, rows);
  const n = points.length;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const vs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = points[i].x;
    ys[i] = points[i].y;
    vs[i] = points[i].value;
  }
  const reach2 = REACH * REACH;
  for (let r = 0; r < rows; r++) {
    const y = (r + 0.5) * CELL;
    for (let c = 0; c < cols; c++) {
      const x = (c + 0.5) * CELL;
      let wsum = 0;
      let vsum = 0;
      let nearest = Infinity;
      for (let i = 0; i < n; i++) {
        const dx = x - xs[i];
        const dy = y - ys[i];
        const d2 = dx * dx + dy * dy + 0.01;
        if (d2 < nearest) nearest = d2;
        if (d2 > reach2) continue;
        const w = 1 / (d2 * d2); // power 4 on distance: local, so one hot rack stays a hot spot
        wsum += w;
        vsum += w * vs[i];
      }
      const o = (r * cols + c) * 4;
      if (wsum === 0) continue;
      const [R, G, B] = layerRgb(layer, vsum / wsum);
      img.data[o] = R;
      img.data[o + 1] = G;
      img.data[o + 2] = B;
      // Fade out towards the edge of what the sensors can say.
      img.data[o + 3] = Math.round(ALPHA * Math.max(0, 1 - Math.sqrt(nearest) / REACH));
    }
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL();
}
