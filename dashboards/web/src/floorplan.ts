// The room's floor plan as inline SVG in metres: racks to scale with their fronts marked, a marker
// per rack sensor position, CRACs and room sensors at their x, y. Painting is separate from
// building, so a telemetry batch only touches the markers it names.
import { aisleLabelSpot, findAisles, frontEdge, overlaps, placeAvoiding, rackFootprint, rackMiddle, sensorCell } from './geometry.ts';
import { formatAge, html, mm, svg } from './dom.ts';
import { temperatureColor, textOn } from './colors.ts';
import { renderHeat } from './heatmap.ts';
import { named, t } from './i18n.ts';
import type { Device, Rack, Room } from './page.ts';
import type { SensorReading } from './readings.ts';
import type { Rect } from './geometry.ts';
import type { HeatPoint } from './heatmap.ts';

/** Where a device is drawn on a room's plan (placement). */
export type Placement =
  | { kind: 'rack-sensor'; rack: Rack; position: string }
  | { kind: 'crac' | 'room-sensor' | 'room-device'; x: number; y: number };

/** Where a temperature marker sits on the plan, in metres. */
export interface SensorSpot {
  x: number;
  y: number;
  rack?: string;
  position?: string;
}

interface SensorMarker {
  marker: SVGElement;
  letter: SVGElement;
  where: string;
}

interface PaintedLook {
  state: SensorReading['state'];
  temp: string | undefined;
  fill: string;
  text: string;
  label: string;
}

const MARGIN = 0.6;
const TILE = 0.6; // raised-floor tiles are 600 mm, which gives the plan its scale at a glance
const ICON_LETTER: Record<string, string> = { door: 'D', smoke: 'S', 'water-leak': 'L', power: 'P', 'temperature-humidity': 'T', other: '?' };
const CRAC_SIZE = 0.9;
const ICON_SIZE = 0.36;
const ROOM_SENSOR_SIZE = 0.3;
export const STALE_FILL = 'url(#wf-stale)';

/** Where a device is drawn on a room's plan: a rack sensor position, or a point in the room; else nothing. */
export function placement(device: Device, racksById: Map<string, Rack>, roomId: string): Placement | undefined {
  const loc = device.location ?? {};
  if (loc.rack !== undefined) {
    const rack = racksById.get(loc.rack);
    if (!rack || rack.room !== roomId || !loc.position) return undefined;
    return { kind: 'rack-sensor', rack, position: loc.position };
  }
  if (loc.room === roomId && typeof loc.x === 'number' && typeof loc.y === 'number') {
    if (device.kind === 'crac') return { kind: 'crac', x: loc.x, y: loc.y };
    if (device.sensorType === 'temperature-humidity') return { kind: 'room-sensor', x: loc.x, y: loc.y };
    return { kind: 'room-device', x: loc.x, y: loc.y };
  }
  return undefined;
}

// The plan's words are in the page's language: FloorPlan.show builds them, so a language change shows the room again.
const rackLabel = (id: string, row: string | undefined, facing: string | undefined, severity?: string): string =>
  `${t('plan.rack', { id, row, facing: named('dir', facing) })}${severity ? t('plan.rackAlert', { severity: named('sev', severity) }) : ''}`;

function sensorLabel(id: string, where: string, view: SensorReading): string {
  const value = view.temperature === undefined ? '' : `${view.temperature.toFixed(1)} °C`;
  if (view.state === 'nodata') return t('plan.sensorNoData', { id, where });
  if (view.state === 'stale') return t('plan.sensorStale', { id, where, value, age: formatAge(view.age!) });
  return `${id}, ${where}: ${value}`;
}

const fitFont = (text: string, width: number, max: number): number => Math.min(max, (width * 0.92) / (0.6 * Math.max(1, text.length)));

function defs(): SVGDefsElement {
  return svg(
    'defs',
    {},
    svg(
      'pattern',
      { id: 'wf-stale', patternUnits: 'userSpaceOnUse', width: 0.07, height: 0.07, patternTransform: 'rotate(45)' },
      svg('rect', { width: 0.07, height: 0.07, fill: '#3b4048' }),
      svg('line', { x1: 0, y1: 0, x2: 0, y2: 0.07, stroke: '#9aa3ad', 'stroke-width': 0.025 }),
    ),
  );
}

/** The floor plan of one room; `show` builds it, the `paint*` and `markAlerts` calls keep it live. */
export class FloorPlan {
  #host: HTMLElement;
  #svg: SVGSVGElement | undefined;
  #sensors = new Map<string, SensorMarker>(); // device id -> {marker, letter}
  #devices = new Map<string, SVGGElement>(); // device id -> group, for CRACs and room devices
  #positions = new Map<string, SensorSpot>();
  #room: Room | undefined;
  // The heat map: a canvas under the SVG, placed over the room's rectangle by #measure.
  #heat = html('canvas', { class: 'heat-layer', 'data-layer': 'off', 'data-points': '0', 'aria-hidden': 'true' });
  #racks = new Map<string, SVGGElement>(); // rack id -> group
  #painted = new Map<string, PaintedLook>(); // device id -> what its marker shows now, so a repaint with the same look touches nothing
  #alerted = new Map<string, string>(); // rack or device id -> severity marked

  constructor(host: HTMLElement) {
    this.#host = host;
    new window.ResizeObserver(() => this.#measure()).observe(host);
  }

  /** Device ids of the temperature markers on the plan. */
  get sensorIds(): string[] {
    return [...this.#sensors.keys()];
  }

  /** Device ids of the CRACs and other room devices on the plan. */
  get deviceIds(): string[] {
    return [...this.#devices.keys()];
  }

  /** Where each sensor sits on the plan, in metres: device id -> {x, y, rack?, position?}. */
  get positions(): Map<string, SensorSpot> {
    return this.#positions;
  }

  /** Paints the interpolated heat map from [{x, y, value}] on the `temperature` or `humidity` scale; `off` hides it. */
  paintHeat(points: readonly HeatPoint[], layer: string): void {
    const canvas = this.#heat;
    if (!this.#room) return;
    canvas.dataset.layer = layer;
    canvas.dataset.points = String(layer === 'off' ? 0 : points.length);
    canvas.dataset.cells = String(renderHeat(canvas, this.#room.width, this.#room.depth, layer === 'off' ? [] : points, layer));
  }

  /** The number beside the colour: a rack's hottest current inlet, or nothing. */
  paintRackReading(rackId: string, celsius: number | undefined): void {
    const t = this.#racks.get(rackId)?.querySelector('.rack-reading');
    if (!t) return;
    const text = celsius === undefined ? '' : `${celsius.toFixed(1)}°`;
    if (t.textContent !== text) t.textContent = text;
  }

  show(room: Room, racks: readonly Rack[], devices: readonly Device[]): void {
    this.#room = room;
    this.#positions = new Map();
    this.#sensors.clear();
    this.#devices.clear();
    this.#racks.clear();
    this.#painted.clear();
    this.#alerted.clear();
    const roomRacks = racks.filter((r) => r.room === room.id);
    const racksById = new Map(roomRacks.map((r) => [r.id, r]));
    const W = room.width;
    const D = room.depth;
    const root = svg('svg', {
      class: 'plan',
      viewBox: `${-MARGIN} ${-MARGIN} ${W + 2 * MARGIN} ${D + 2 * MARGIN}`,
      preserveAspectRatio: 'xMidYMid meet',
      role: 'group',
      'aria-label': t('plan.label', { name: room.name, w: W, d: D }),
      'data-room': room.id,
    });
    root.append(defs());
    root.append(svg('rect', { class: 'room-floor', x: 0, y: 0, width: W, height: D }));
    this.paintHeat([], 'off');

    // Room devices first: CRACs, then the small ones, each kept clear of racks and of each other.
    const onPlan: [Device, Placement][] = [];
    for (const d of devices) {
      const p = placement(d, racksById, room.id);
      if (p) onPlan.push([d, p]);
    }
    const order: Record<Placement['kind'], number> = { crac: 0, 'room-sensor': 1, 'room-device': 2, 'rack-sensor': 3 };
    onPlan.sort(([a, pa], [b, pb]) => order[pa.kind] - order[pb.kind] || a.id.localeCompare(b.id));
    const taken: Rect[] = roomRacks.map(rackFootprint);
    const sensorLayer = svg('g', { class: 'sensors' });
    const deviceLayer = svg('g', { class: 'room-devices' });
    for (const [d, p] of onPlan) {
      if (p.kind === 'rack-sensor') {
        sensorLayer.append(this.#rackSensor(d, p.rack, p.position));
        continue;
      }
      const size = p.kind === 'crac' ? CRAC_SIZE : p.kind === 'room-sensor' ? ROOM_SENSOR_SIZE : ICON_SIZE;
      const box = placeAvoiding(room, p.x, p.y, size, size, taken);
      taken.push(box);
      const label = { x: box.x + box.w / 2 - d.id.length * 0.033, y: box.y + box.h + 0.02, w: d.id.length * 0.066, h: 0.14 };
      const labelFits = p.kind !== 'crac' && label.x >= 0 && label.x + label.w <= W && label.y + label.h <= D && !taken.some((t) => t !== box && overlaps(label, t));
      if (labelFits) taken.push(label);
      if (p.kind === 'room-sensor') sensorLayer.append(this.#roomSensor(d, box, labelFits));
      else deviceLayer.append(this.#roomDevice(d, p.kind === 'crac', box, labelFits));
    }

    const aisles = svg('g', { class: 'aisles' });
    for (const a of findAisles(roomRacks)) {
      const label = t(a.kind === 'cold' ? 'plan.coldAisle' : 'plan.hotAisle');
      const fs = Math.min(0.16, Math.min(a.w, a.h) * 0.45);
      const spot = aisleLabelSpot(a, label.length, fs, taken);
      aisles.append(
        svg('rect', { class: `aisle aisle-${a.kind}`, x: mm(a.x), y: mm(a.y), width: mm(a.w), height: mm(a.h), 'data-aisle': a.kind }),
        svg('text', {
          class: `aisle-label aisle-label-${a.kind}`,
          x: mm(spot.cx),
          y: mm(spot.cy),
          'font-size': mm(fs),
          transform: spot.vertical ? `rotate(-90 ${mm(spot.cx)} ${mm(spot.cy)})` : undefined,
          text: label,
        }),
      );
    }

    const rackLayer = svg('g', { class: 'racks' });
    for (const rack of roomRacks) rackLayer.append(this.#rack(rack));
    root.append(aisles, rackLayer, deviceLayer, sensorLayer, this.#scaleBar(D));
    this.#host.replaceChildren(this.#heat, root);
    this.#svg = root;
    this.#measure();
  }

  /**
   * Sizes the SVG in pixels from its host's box, and notes how many pixels a metre gets, so CSS can
   * drop details that would be noise. Why pixels and not 100 %: the page's grid measures the host at
   * trial sizes whenever anything else on the page changes (an alert card, the summary line); an SVG
   * sized by percentage follows each trial size and is laid out again whole, all of its thousands of
   * shapes, twice per frame. Sized here, it only changes when the host's real size does.
   */
  #measure() {
    const root = this.#svg;
    if (!root) return;
    const box = root.viewBox.baseVal;
    const r = { width: this.#host.clientWidth, height: this.#host.clientHeight };
    if (root.style.width !== `${r.width}px`) root.style.width = `${r.width}px`;
    if (root.style.height !== `${r.height}px`) root.style.height = `${r.height}px`;
    const pxPerMetre = Math.min(r.width / box.width, r.height / box.height);
    root.dataset.zoom = pxPerMetre < 70 ? 'small' : 'large';
    root.dataset.pxPerMetre = String(Math.round(pxPerMetre));
    // preserveAspectRatio xMidYMid meet: the viewBox is scaled by pxPerMetre and centred in the SVG's box.
    const left = (r.width - box.width * pxPerMetre) / 2 - box.x * pxPerMetre;
    const top = (r.height - box.height * pxPerMetre) / 2 - box.y * pxPerMetre;
    const room = this.#room!;
    Object.assign(this.#heat.style, {
      left: `${left}px`,
      top: `${top}px`,
      width: `${room.width * pxPerMetre}px`,
      height: `${room.depth * pxPerMetre}px`,
      // The floor tiles are the canvas's CSS background (style.css), so the SVG over it has no pattern to raster.
      backgroundSize: `${TILE * pxPerMetre}px ${TILE * pxPerMetre}px`,
    });
  }

  #rack(rack: Rack): SVGGElement {
    const f = rackFootprint(rack);
    const edge = frontEdge(rack);
    const mid = rackMiddle(rack);
    const label = rack.id;
    const fs = fitFont(label, Math.max(mid.w, 0.3), 0.16);
    const g = svg(
      'g',
      { class: 'rack', 'data-rack': rack.id, 'data-row': rack.row, 'data-facing': rack.facing, 'data-alert': 'none', tabindex: 0, 'aria-label': rackLabel(rack.id, rack.row, rack.facing) },
      svg('rect', { class: 'rack-body', x: mm(f.x), y: mm(f.y), width: mm(f.w), height: mm(f.h) }),
      svg('line', { class: 'rack-front', x1: mm(edge.x1), y1: mm(edge.y1), x2: mm(edge.x2), y2: mm(edge.y2) }),
      svg('text', { class: 'rack-label', x: mm(mid.x + mid.w / 2), y: mm(mid.y + mid.h / 2 - fs * 0.45), 'font-size': mm(fs), text: label }),
      svg('text', { class: 'rack-reading', x: mm(mid.x + mid.w / 2), y: mm(mid.y + mid.h / 2 + fs * 0.75), 'font-size': mm(fs * 0.9) }),
      svg('g', { class: 'alert-badge', transform: `translate(${mm(f.x + f.w)} ${mm(f.y)})` },
        svg('circle', { r: 0.12 }),
        svg('text', { 'font-size': 0.17, text: '!' }),
      ),
    );
    this.#racks.set(rack.id, g);
    return g;
  }

  #rackSensor(device: Device, rack: Rack, position: string): SVGGElement {
    const c = sensorCell(rack, position);
    const marker = svg('rect', {
      class: 'sensor sensor-rack',
      x: mm(c.x),
      y: mm(c.y),
      width: mm(c.w),
      height: mm(c.h),
      rx: 0.02,
      'data-device': device.id,
      'data-rack': rack.id,
      'data-position': position,
      'data-stale': 'true',
      'data-state': 'nodata',
      role: 'img',
      style: `fill: ${STALE_FILL}`,
    });
    const letter = svg('text', { class: 'sensor-letter', x: mm(c.x + c.w / 2), y: mm(c.y + c.h / 2), 'font-size': 0.1, text: named('cell', position) });
    this.#sensors.set(device.id, { marker, letter, where: t('plan.rackSensor', { rack: rack.id, position: named('posShort', position) }) });
    this.#positions.set(device.id, { x: c.x + c.w / 2, y: c.y + c.h / 2, rack: rack.id, position });
    return svg('g', { class: 'sensor-cell' }, marker, letter);
  }

  #roomSensor(device: Device, box: Rect, withLabel: boolean): SVGGElement {
    const cx = mm(box.x + box.w / 2);
    const cy = mm(box.y + box.h / 2);
    const marker = svg('circle', {
      class: 'sensor sensor-room',
      cx,
      cy,
      r: mm(box.w / 2),
      'data-device': device.id,
      'data-stale': 'true',
      'data-state': 'nodata',
      role: 'img',
      style: `fill: ${STALE_FILL}`,
    });
    const letter = svg('text', { class: 'sensor-letter', x: cx, y: cy, 'font-size': 0.12, text: 'T' });
    this.#sensors.set(device.id, { marker, letter, where: t('plan.inRoom') });
    this.#positions.set(device.id, { x: box.x + box.w / 2, y: box.y + box.h / 2 });
    return svg('g', { class: 'sensor-cell' }, marker, letter, withLabel ? svg('text', { class: 'device-label', x: cx, y: mm(box.y + box.h + 0.09), 'font-size': 0.11, text: device.id }) : undefined);
  }

  #roomDevice(device: Device, crac: boolean, b: Rect, withLabel: boolean): SVGGElement {
    const type = device.sensorType ?? device.kind;
    const g = svg('g', {
      class: `room-device device-${crac ? 'crac' : type}`,
      'data-device': device.id,
      'data-kind': device.kind,
      'data-type': type,
      'data-alert': 'none',
      'data-state': 'nodata',
      tabindex: 0,
      'aria-label': crac
        ? t('plan.crac', { id: device.id })
        : device.sensorType
          ? t('plan.sensor', { type: named('sensorType', device.sensorType), id: device.id })
          : t('plan.device', { type: named('kind', device.kind), id: device.id }),
    });
    g.append(svg('rect', { class: 'device-body', x: mm(b.x), y: mm(b.y), width: mm(b.w), height: mm(b.h), rx: crac ? 0.04 : 0.06 }));
    const cx = mm(b.x + b.w / 2);
    const cy = mm(b.y + b.h / 2);
    if (crac) {
      g.append(
        svg('circle', { class: 'crac-fan', cx, cy: mm(cy - 0.1), r: 0.22 }),
        svg('path', { class: 'crac-fan', d: `M ${mm(cx - 0.2)} ${mm(cy - 0.1)} L ${mm(cx + 0.2)} ${mm(cy - 0.1)} M ${cx} ${mm(cy - 0.3)} L ${cx} ${mm(cy + 0.1)}` }),
        svg('text', { class: 'device-name', x: cx, y: mm(b.y + b.h - 0.14), 'font-size': mm(fitFont(device.id, b.w, 0.13)), text: device.id }),
      );
    } else {
      g.append(svg('text', { class: 'device-letter', x: cx, y: cy, 'font-size': 0.2, text: ICON_LETTER[type] ?? type.slice(0, 1).toUpperCase() }));
      if (withLabel) g.append(svg('text', { class: 'device-label', x: cx, y: mm(b.y + b.h + 0.09), 'font-size': 0.11, text: device.id }));
    }
    g.append(svg('g', { class: 'alert-badge', transform: `translate(${mm(b.x + b.w)} ${mm(b.y)})` }, svg('circle', { r: 0.12 }), svg('text', { 'font-size': 0.17, text: '!' })));
    this.#devices.set(device.id, g);
    return g;
  }

  #scaleBar(depth: number): SVGGElement {
    const y = depth + 0.3;
    return svg(
      'g',
      { class: 'scale-bar', 'aria-hidden': 'true' },
      svg('path', { d: `M 0 ${y - 0.06} L 0 ${y} L 1 ${y} L 1 ${y - 0.06}` }),
      svg('text', { x: 1.1, y: mm(y), 'font-size': 0.14, text: t('plan.scale') }),
    );
  }

  /**
   * Paints a temperature marker from `Readings.sensor` output; returns whether its state or shown
   * value changed. Only what differs from the last paint is written (no layout is read).
   */
  paintSensor(id: string, view: SensorReading): boolean {
    const s = this.#sensors.get(id);
    if (!s) return false;
    const { marker, letter } = s;
    const temp = view.temperature === undefined ? undefined : view.temperature.toFixed(1);
    const label = sensorLabel(id, s.where, view);
    const was = this.#painted.get(id);
    if (was && was.state === view.state && was.temp === temp) {
      // Same look; a stale marker's label still counts its age.
      if (was.label !== label) marker.setAttribute('aria-label', (was.label = label));
      return false;
    }
    const current = view.state === 'current';
    if (was?.state !== view.state) {
      marker.dataset.state = view.state;
      marker.dataset.stale = String(!current);
    }
    if (temp === undefined) delete marker.dataset.temp;
    else marker.dataset.temp = temp;
    const fill = current ? temperatureColor(view.temperature!) : STALE_FILL;
    const text = current ? textOn(view.temperature!) : '#e6e9ee';
    if (was?.fill !== fill) marker.style.fill = fill;
    if (was?.text !== text) letter.style.fill = text;
    if (was?.label !== label) marker.setAttribute('aria-label', label);
    this.#painted.set(id, { state: view.state, temp, fill, text, label });
    return true;
  }

  /** Marks a CRAC or room device current, stale, offline or without data. */
  paintDevice(id: string, state: string): void {
    const g = this.#devices.get(id);
    if (g && g.dataset.state !== state) g.dataset.state = state;
  }

  /** Outlines racks and room devices with a firing alert: maps of id to the worst severity. */
  markAlerts(byRack: Map<string, string>, byDevice: Map<string, string>): void {
    for (const [id, g] of this.#racks) {
      const sev = byRack.get(id) ?? 'none';
      if (this.#alerted.get(`rack:${id}`) === sev) continue;
      this.#alerted.set(`rack:${id}`, sev);
      g.dataset.alert = sev;
      g.setAttribute('aria-label', rackLabel(id, g.dataset.row, g.dataset.facing, sev === 'none' ? undefined : sev));
    }
    for (const [id, g] of this.#devices) {
      const sev = byDevice.get(id) ?? 'none';
      if (this.#alerted.get(`device:${id}`) === sev) continue;
      this.#alerted.set(`device:${id}`, sev);
      g.dataset.alert = sev;
    }
  }

  /** Draws attention to a rack or device for a few seconds (after a click in the alert list). */
  flash(id: string): boolean {
    const g = this.#svg?.querySelector<SVGElement>(`.rack[data-rack="${window.CSS.escape(id)}"], .room-device[data-device="${window.CSS.escape(id)}"]`);
    if (!g) return false;
    g.classList.remove('flash');
    void g.getBoundingClientRect();
    g.classList.add('flash');
    setTimeout(() => g.classList.remove('flash'), 4000);
    g.focus({ preventScroll: false });
    return true;
  }
}
