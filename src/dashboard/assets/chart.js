// The progress chart (uPlot, loaded as a global from /assets/uplot.js).
// Everything from the ledger (descriptions, reasons, diffs, logs) is written by an adversarial
// proposer: it goes into the DOM only as text (textContent / text nodes), never as HTML.
import { fmtD, fmtV, h, rgba } from './dom.js';
import { S } from './state.js';

/** uPlot's browser build sets this global (/assets/uplot.js, loaded before the modules). */
const uPlot = window.uPlot;

function chartData() {
  const s = S.snap;
  const done = s.experiments.filter((e) => e.status !== 'running' && e.status !== 'queued');
  const t0 = s.experiments.length ? Math.min(...s.experiments.map((e) => e.startedAt)) : 0;
  const xOf = (e) => (S.x === 'time' ? ((e.endedAt || e.startedAt) - t0) / 3.6e6 : e.number);
  const rows = done.map((e) => ({ e, x: xOf(e) })).sort((a, b) => a.x - b.x || a.e.number - b.e.number);
  const ok = rows.filter((r) => r.e.value !== null && (r.e.status === 'keep' || r.e.status === 'discard'));
  const vals = ok.map((r) => r.e.value);
  const lo = vals.length ? Math.min(...vals) : 0;
  const hi = vals.length ? Math.max(...vals) : 1;
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
  const edge = s.direction === 'minimize' ? hi + pad : Math.max(lo - pad, S.log ? lo / 1.1 : -Infinity);
  const better = (a, b) => (s.direction === 'minimize' ? a < b : a > b);
  const xs = [];
  const cols = [[], [], [], [], [], []]; // discarded, kept, failed, best, noise hi, noise lo
  let best = null;
  const sigma = s.noise ? s.noise.sigma : null;
  for (const r of rows) {
    const e = r.e;
    xs.push(r.x);
    const isOk = e.value !== null && (e.status === 'keep' || e.status === 'discard');
    cols[0].push(isOk && e.status === 'discard' ? e.value : null);
    cols[1].push(isOk && e.status === 'keep' ? e.value : null);
    cols[2].push(isOk ? null : edge);
    if (isOk && e.status === 'keep' && (best === null || better(e.value, best))) best = e.value;
    cols[3].push(best);
    cols[4].push(best !== null && sigma ? best + sigma : null);
    cols[5].push(best !== null && sigma ? best - sigma : null);
  }
  S.rows = rows.map((r) => r.e);
  return [xs, ...cols];
}

export function fillChart() {
  const el = document.getElementById('chart');
  if (!el || !uPlot) return;
  const data = chartData();
  const key = `${S.x}|${S.log}|${!!S.snap.noise}`;
  if (S.plot && S.plotKey === key) {
    S.plot.setData(data, !S.zoomed);
    return;
  }
  if (S.plot) S.plot.destroy();
  S.plotKey = key;
  const st = S.style;
  const K = st.kinds;
  const pts = (k, size) => ({
    label: K[k].label,
    stroke: rgba(K[k].color, K[k].opacity),
    fill: rgba(K[k].color, K[k].opacity),
    paths: () => null,
    points: { show: true, size, fill: rgba(K[k].color, K[k].opacity), stroke: rgba(K[k].color, K[k].opacity) },
  });
  const opts = {
    width: Math.max(400, el.clientWidth || 900),
    height: 360,
    scales: {
      // One point (or a flat line) gets a readable range instead of uPlot's 0..100.
      x: { time: false, range: (_u, min, max) => (min === max ? [min - 1, max + 1] : [min, max]) },
      y: S.log
        ? { distr: 3 }
        : {
            range: (_u, min, max) =>
              min === max
                ? [min - (Math.abs(min) * 0.05 || 1), max + (Math.abs(max) * 0.05 || 1)]
                : [min - (max - min) * 0.05, max + (max - min) * 0.05],
          },
    },
    axes: [
      S.x === 'time'
        ? { label: 'hours since the study started' }
        : { label: 'experiment #', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] },
      { label: S.snap.metric, size: 70 },
    ],
    cursor: { drag: { x: true, y: false }, points: { size: 9 } },
    legend: { show: true, live: false },
    series: [
      {},
      pts('discarded', 6),
      pts('kept', 9),
      { ...pts('crash', 8), label: 'crash / timeout / rejected' },
      {
        label: 'best',
        stroke: st.line.bestColor,
        width: st.line.bestWidth,
        spanGaps: true,
        paths: uPlot.paths.stepped({ align: 1 }),
        points: { show: false },
      },
      { label: 'noise +σ', stroke: 'transparent', points: { show: false }, spanGaps: true },
      { label: 'noise −σ', stroke: 'transparent', points: { show: false }, spanGaps: true },
    ],
    bands: [{ series: [5, 6], fill: st.line.noiseFill }],
    hooks: {
      setSelect: [() => (S.zoomed = true)],
      setCursor: [showTip],
    },
  };
  el.replaceChildren();
  S.plot = new uPlot(opts, data, el);
  // The noise band's two edge series need no legend entry.
  for (const row of el.querySelectorAll('.u-legend .u-series'))
    if (/noise/.test(row.textContent)) row.style.display = 'none';
  el.addEventListener('dblclick', () => (S.zoomed = false));
}

function showTip(u) {
  const tip = document.getElementById('tip');
  const i = u.cursor.idx;
  const e = i === null || i === undefined ? null : S.rows[i];
  if (!e || u.cursor.left < 0) {
    tip.style.display = 'none';
    return;
  }
  tip.replaceChildren(
    h('b', {}, `#${e.number} ${e.status}`),
    ` ${fmtV(e.value)} `,
    e.delta !== null ? h('span', { class: 'muted' }, `(Δ ${fmtD(e.delta)})`) : '',
    h('br'),
    e.description,
  );
  const box = u.over.getBoundingClientRect();
  tip.style.display = 'block';
  tip.style.left = `${window.scrollX + box.left + u.cursor.left + 12}px`;
  tip.style.top = `${window.scrollY + box.top + u.cursor.top + 12}px`;
}
