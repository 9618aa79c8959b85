// Load page: ops/s and latency percentiles per operation over the last minutes, from this node's own
// per-second samples (GET /stats/load). Operations are the ones this node served (follower reads are
// served locally; writes sent to a follower are counted there and again on the leader).
import { request } from '../api.js';
import { h, num, ms, table, poll, pageHeader } from '../format.js';
import { lineChart } from '../charts.js';

export const title = 'Load';

const windows = [[60, '1 minute'], [300, '5 minutes'], [600 - 1, '10 minutes']];

function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

function maxOf(values) {
  const v = values.filter((x) => x !== null);
  return v.length ? Math.max(...v) : null;
}

export function mount(main, params) {
  let seconds = Number(params.get('seconds')) || 300;
  const head = pageHeader('Load', 'Operations this node served, per second, with latency percentiles (p50, p90, p99). Refreshes every 2 seconds.');
  const picker = h('select', { id: 'load-window' }, windows.map(([v, label]) => h('option', { value: v, selected: v === seconds }, label)));
  picker.addEventListener('change', () => { seconds = Number(picker.value); refresh(); });
  const controls = h('div', { class: 'controls' }, h('label', { for: 'load-window' }, 'Window'), picker);
  const totals = h('section', { 'aria-label': 'Totals' });
  const charts = h('section', { class: 'chart-grid', 'aria-label': 'Charts' });
  main.append(head.header, controls, totals, charts);

  async function refresh(signal) {
    try {
      const load = await request(`/stats/load?seconds=${seconds}`, { signal });
      const ops = load.operations.filter((o) => o.points.some((p) => p.count > 0));
      const xs = [];
      for (let t = load.from; t <= load.to; t++) xs.push(t);
      const rows = ops.map((o) => {
        const counts = o.points.map((p) => p.count);
        const last10 = sum(counts.slice(-10)) / Math.min(10, counts.length);
        return h('tr', {},
          h('th', { scope: 'row' }, `${o.api} ${o.op}`),
          h('td', { class: 'num' }, num(sum(counts))),
          h('td', { class: 'num' }, last10.toFixed(1)),
          h('td', { class: 'num' }, num(sum(o.points.map((p) => p.errors)))),
          h('td', { class: 'num' }, ms(maxOf(o.points.map((p) => p.p99_ms)))));
      });
      totals.replaceChildren(ops.length === 0
        ? h('p', { id: 'load-empty' }, 'No operations in this window yet. Write or read some keys (Keys page, kvctl, etcdctl) and watch them appear.')
        : table('Operations in the window', ['Operation', 'Total', 'ops/s (last 10 s)', 'Errors', 'Worst p99'], rows, { id: 'load-table' }));
      const all = ops.length === 0 ? [] : [lineChart({
        title: 'Throughput (ops/s)',
        summary: `${ops.length} operation types over the last ${Math.round(seconds / 60)} minutes.`,
        xs,
        series: ops.map((o) => ({ name: `${o.api} ${o.op}`, values: o.points.map((p) => p.count) })),
        format: (y) => num(y),
      })];
      charts.replaceChildren(...all, ...ops.map((o) => lineChart({
        title: `Latency of ${o.api} ${o.op}`,
        summary: `worst p99 ${ms(maxOf(o.points.map((p) => p.p99_ms)))}.`,
        xs,
        series: [
          { name: 'p50', values: o.points.map((p) => p.p50_ms) },
          { name: 'p90', values: o.points.map((p) => p.p90_ms) },
          { name: 'p99', values: o.points.map((p) => p.p99_ms) },
        ],
        format: (y) => (y === 0 ? '0' : ms(y)),
      })));
      head.ok();
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      head.fail(e);
    }
  }

  return poll(refresh, 2000);
}
