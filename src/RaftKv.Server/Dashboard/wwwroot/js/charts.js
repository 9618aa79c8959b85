// Inline SVG line charts (no library). Colours come from app.css classes (.series-0 …).
import { h } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 480, H = 200, L = 64, R = 10, T = 10, B = 26;

function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * A line chart of one or more series over the same x values (unix seconds).
 * series: [{ name, values: [number|null, …] }]; a null is a gap. format(y) labels the y axis.
 * Returns a <figure> with the SVG (role img, labelled by title and a summary) and a legend.
 */
export function lineChart({ title, summary, xs, series, format = String }) {
  const all = series.flatMap((x) => x.values).filter((v) => v !== null && v !== undefined);
  const max = niceMax(all.length ? Math.max(...all) : 0);
  const x0 = xs[0], x1 = xs[xs.length - 1];
  const px = (x) => L + ((x - x0) / Math.max(1, x1 - x0)) * (W - L - R);
  const py = (y) => T + (1 - y / max) * (H - T - B);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}. ${summary || ''}`, class: 'chart' });
  for (let i = 0; i <= 4; i++) {
    const y = (max * i) / 4;
    svg.append(s('line', { x1: L, x2: W - R, y1: py(y), y2: py(y), class: 'grid' }));
    svg.append(s('text', { x: L - 6, y: py(y) + 4, class: 'tick', 'text-anchor': 'end' }, format(y)));
  }
  const span = x1 - x0;
  for (let i = 0; i <= 4; i++) {
    const x = x0 + (span * i) / 4;
    const ago = Math.round(x1 - x);
    const label = ago === 0 ? 'now' : ago >= 60 ? `-${Math.round(ago / 60)} min` : `-${ago} s`;
    svg.append(s('text', { x: px(x), y: H - 8, class: 'tick', 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, label));
  }
  series.forEach((ser, i) => {
    let d = '';
    let pen = false;
    ser.values.forEach((v, j) => {
      if (v === null || v === undefined) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${px(xs[j]).toFixed(1)},${py(v).toFixed(1)}`;
      pen = true;
    });
    if (d) svg.append(s('path', { d, class: `line series-${i}` }));
    ser.values.forEach((v, j) => { // a sample with no neighbour draws no line: mark it with a dot
      const alone = v !== null && v !== undefined && (ser.values[j - 1] ?? null) === null && (ser.values[j + 1] ?? null) === null;
      if (alone) svg.append(s('circle', { cx: px(xs[j]).toFixed(1), cy: py(v).toFixed(1), r: 3, class: `dot series-${i}` }));
    });
  });
  const legend = h('ul', { class: 'legend' }, series.map((ser, i) => h('li', {}, h('span', { class: `swatch series-${i}`, 'aria-hidden': 'true' }), ser.name)));
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, title), svg, legend);
}
