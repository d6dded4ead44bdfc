// Small DOM builders: every text goes in through textContent, never through innerHTML.
import { t } from './i18n.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

function fill(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = String(v);
    else if (k === 'class') node.setAttribute('class', String(v));
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

/** An HTML element: `html('li', {class: 'x', 'data-id': 1}, child, 'text')`. */
export function html(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element, same shape as `html`. */
export function svg(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Rounds a plan coordinate (metres) to millimetres, so the SVG source stays short. */
export const mm = (v) => Math.round(v * 1000) / 1000;

/** "4 s", "3 min", "2 h 5 min", "3 d" (in the page's language): a duration as a person reads it on a wall screen. */
export function formatAge(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return t('age.s', { n: s });
  const m = Math.round(s / 60);
  if (m < 90) return t('age.min', { n: m });
  const h = Math.floor(m / 60);
  if (h < 48) return t('age.hmin', { h, m: m % 60 });
  return t('age.d', { n: Math.floor(h / 24) });
}

/** Clock time of an epoch-ms instant in the browser's zone, 24-hour. */
export function formatClock(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
