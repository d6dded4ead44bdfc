// Small DOM builders: every text goes in through textContent, never through innerHTML.
import { t } from './i18n.ts';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Attributes of a built element: `text` is its textContent, `on<event>` a listener, false/null/undefined leave it out. */
export type Attrs = Record<string, unknown>;
/** A child of a built element: a node, a text, or nothing. */
export type Child = Node | string | false | null | undefined;

function fill<E extends Element>(node: E, attrs: Attrs | null | undefined, children: Child[]): E {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = String(v);
    else if (k === 'class') node.setAttribute('class', String(v));
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v as EventListener);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

/** An HTML element: `html('li', {class: 'x', 'data-id': 1}, child, 'text')`. */
export function html<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element, same shape as `html`. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): SVGElementTagNameMap[K] {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Rounds a plan coordinate (metres) to millimetres, so the SVG source stays short. */
export const mm = (v: number): number => Math.round(v * 1000) / 1000;

/** "4 s", "3 min", "2 h 5 min", "3 d" (in the page's language): a duration as a person reads it on a wall screen. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return t('age.s', { n: s });
  const m = Math.round(s / 60);
  if (m < 90) return t('age.min', { n: m });
  const h = Math.floor(m / 60);
  if (h < 48) return t('age.hmin', { h, m: m % 60 });
  return t('age.d', { n: Math.floor(h / 24) });
}

/** Clock time of an epoch-ms instant in the browser's zone, 24-hour. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
