// Plan geometry in metres: racks in their own frame (front edge at y = 0, width along x), turned to
// the way they face on the room's plan (x across, y down, north up).
import type { Rack, Room } from './page.ts';

/** A rectangle on the plan, in metres. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** An aisle between two rows: cold (fronts face each other) or hot (rears). */
export interface Aisle extends Rect {
  kind: 'cold' | 'hot';
}

/** The rack fields the geometry needs. */
export type RackShape = Pick<Rack, 'x' | 'y' | 'width' | 'depth' | 'facing'>;

/** A rack's rectangle on the plan: a rack facing east or west lies turned, its depth across x. */
export function rackFootprint(rack: RackShape): Rect {
  const sideways = rack.facing === 'east' || rack.facing === 'west';
  return { x: rack.x, y: rack.y, w: sideways ? rack.depth : rack.width, h: sideways ? rack.width : rack.depth };
}

/** A point in the rack's frame (lx along the front from its left corner, ly back from the front) on the plan. */
export function toPlan(rack: RackShape, lx: number, ly: number): [number, number] {
  const f = rackFootprint(rack);
  switch (rack.facing) {
    case 'south':
      return [f.x + rack.width - lx, f.y + rack.depth - ly];
    case 'east':
      return [f.x + f.w - ly, f.y + lx];
    case 'west':
      return [f.x + ly, f.y + f.h - lx];
    default:
      return [f.x + lx, f.y + ly];
  }
}

/** A rectangle in the rack's frame as a rectangle on the plan (racks turn by right angles only). */
export function rectToPlan(rack: RackShape, lx: number, ly: number, lw: number, lh: number): Rect {
  const [x1, y1] = toPlan(rack, lx, ly);
  const [x2, y2] = toPlan(rack, lx + lw, ly + lh);
  return { x: Math.min(x1, x2), y: Math.min(y1, y2), w: Math.abs(x2 - x1), h: Math.abs(y2 - y1) };
}

/** The front edge of a rack on the plan, as a segment. */
export function frontEdge(rack: RackShape): { x1: number; y1: number; x2: number; y2: number } {
  const [x1, y1] = toPlan(rack, 0, 0);
  const [x2, y2] = toPlan(rack, rack.width, 0);
  return { x1, y1, x2, y2 };
}

const FRONT_CELL_ORDER: readonly (string | undefined)[] = ['front-top', 'front-middle', 'front-bottom'];
const CELL_PAD = 0.04;
const CELL_GAP = 0.02;
const FRONT_DEPTH = 0.26;
const REAR_DEPTH = 0.22;
const EDGE_INSET = 0.05;

/**
 * Where a sensor position is drawn: the three front heights side by side along the front edge, the
 * rear across the rear edge. Top, middle, bottom read left to right (top to bottom on a sideways
 * rack) on every rack, whichever way it faces, so rows facing each other read alike.
 */
export function sensorCell(rack: RackShape, position: string | undefined): Rect {
  if (position === 'rear') {
    return rectToPlan(rack, CELL_PAD, rack.depth - EDGE_INSET - REAR_DEPTH, rack.width - 2 * CELL_PAD, REAR_DEPTH);
  }
  let i = Math.max(0, FRONT_CELL_ORDER.indexOf(position));
  // These two turn the rack's own left-to-right against the plan's.
  if (rack.facing === 'south' || rack.facing === 'west') i = 2 - i;
  const w = (rack.width - 2 * CELL_PAD - 2 * CELL_GAP) / 3;
  return rectToPlan(rack, CELL_PAD + i * (w + CELL_GAP), EDGE_INSET, w, FRONT_DEPTH);
}

/** The part of the rack between the front and rear cells, where its label goes. */
export function rackMiddle(rack: RackShape): Rect {
  const top = EDGE_INSET + FRONT_DEPTH;
  const bottom = EDGE_INSET + REAR_DEPTH;
  return rectToPlan(rack, 0, top, rack.width, rack.depth - top - bottom);
}

const overlap = (a0: number, a1: number, b0: number, b1: number): [number, number] => [Math.max(a0, b0), Math.min(a1, b1)];

/**
 * Aisles between rows facing each other: fronts facing across a gap make a cold aisle, rears a hot
 * one. Each row is the union of its racks' footprints; rows must share a facing to count.
 */
export function findAisles(racks: readonly (RackShape & Pick<Rack, 'row'>)[], maxGap = 4): Aisle[] {
  const rows = new Map<string, { facing: Rack['facing']; x0: number; y0: number; x1: number; y1: number }>();
  for (const r of racks) {
    const f = rackFootprint(r);
    const key = `${r.row}\u0000${r.facing}`;
    const row = rows.get(key);
    if (!row) rows.set(key, { facing: r.facing, x0: f.x, y0: f.y, x1: f.x + f.w, y1: f.y + f.h });
    else Object.assign(row, { x0: Math.min(row.x0, f.x), y0: Math.min(row.y0, f.y), x1: Math.max(row.x1, f.x + f.w), y1: Math.max(row.y1, f.y + f.h) });
  }
  const list = [...rows.values()];
  const aisles: Aisle[] = [];
  for (const a of list) {
    for (const b of list) {
      let rect: Rect | undefined;
      let kind: Aisle['kind'] | undefined;
      if (a.y1 <= b.y0 && ['north', 'south'].includes(a.facing) && ['north', 'south'].includes(b.facing)) {
        const [x0, x1] = overlap(a.x0, a.x1, b.x0, b.x1);
        if (x1 - x0 <= 0 || b.y0 - a.y1 > maxGap || b.y0 - a.y1 <= 0.1) continue;
        if (a.facing === 'south' && b.facing === 'north') kind = 'cold';
        else if (a.facing === 'north' && b.facing === 'south') kind = 'hot';
        rect = { x: x0, y: a.y1, w: x1 - x0, h: b.y0 - a.y1 };
      } else if (a.x1 <= b.x0 && ['east', 'west'].includes(a.facing) && ['east', 'west'].includes(b.facing)) {
        const [y0, y1] = overlap(a.y0, a.y1, b.y0, b.y1);
        if (y1 - y0 <= 0 || b.x0 - a.x1 > maxGap || b.x0 - a.x1 <= 0.1) continue;
        if (a.facing === 'east' && b.facing === 'west') kind = 'cold';
        else if (a.facing === 'west' && b.facing === 'east') kind = 'hot';
        rect = { x: a.x1, y: y0, w: b.x0 - a.x1, h: y1 - y0 };
      }
      if (!rect || !kind) continue;
      // Another row standing in the gap means these two do not face each other.
      const r = rect; // narrowed, for the closure below
      const blocked = list.some((c) => c !== a && c !== b && c.x0 < r.x + r.w && c.x1 > r.x && c.y0 < r.y + r.h && c.y1 > r.y);
      if (!blocked) aisles.push({ kind, ...rect });
    }
  }
  return aisles;
}

/** A box of size w × h centred on (x, y) but kept inside the room. */
export function boxInRoom(room: Pick<Room, 'width' | 'depth'>, x: number, y: number, w: number, h: number): Rect {
  return {
    x: Math.min(Math.max(0, x - w / 2), Math.max(0, room.width - w)),
    y: Math.min(Math.max(0, y - h / 2), Math.max(0, room.depth - h)),
    w,
    h,
  };
}

/** Whether two plan rectangles overlap. */
export const overlaps = (a: Rect, b: Rect): boolean => a.x < b.x + b.w && a.x + a.w > b.x && a.y < b.y + b.h && a.y + a.h > b.y;

/**
 * A box of size w × h as near (x, y) as it can be without covering anything in `taken` (devices
 * that share a point, like a leak sensor under its CRAC, end up side by side). Centred on the
 * point when nothing better is free.
 */
export function placeAvoiding(room: Pick<Room, 'width' | 'depth'>, x: number, y: number, w: number, h: number, taken: readonly Rect[]): Rect {
  const first = boxInRoom(room, x, y, w, h);
  if (!taken.some((t) => overlaps(first, t))) return first;
  for (const d of [0.5, 0.75, 1, 1.25, 1.5]) {
    for (const [dx, dy] of [[0, 1], [0, -1], [1, 0], [-1, 0], [1, 1], [-1, 1], [1, -1], [-1, -1]] as [number, number][]) {
      const b = boxInRoom(room, x + dx * d, y + dy * d, w, h);
      if (!taken.some((t) => overlaps(b, t))) return b;
    }
  }
  return first;
}

/** Where along an aisle its label goes: the first of a few spots that no device covers. */
export function aisleLabelSpot(aisle: Rect, labelLength: number, fontSize: number, taken: readonly Rect[]): { cx: number; cy: number; vertical: boolean } {
  const vertical = aisle.h > aisle.w;
  const along = labelLength * 0.62 * fontSize;
  for (const f of [0.5, 0.25, 0.75, 0.12, 0.88]) {
    const cx = vertical ? aisle.x + aisle.w / 2 : aisle.x + aisle.w * f;
    const cy = vertical ? aisle.y + aisle.h * f : aisle.y + aisle.h / 2;
    const box = vertical ? { x: cx - fontSize / 2, y: cy - along / 2, w: fontSize, h: along } : { x: cx - along / 2, y: cy - fontSize / 2, w: along, h: fontSize };
    if (!taken.some((t) => overlaps(box, t))) return { cx, cy, vertical };
  }
  return { cx: aisle.x + aisle.w / 2, cy: aisle.y + aisle.h / 2, vertical };
}
