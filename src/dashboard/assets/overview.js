// The overview: totals, slots, the experiments table, live events.
// Everything from the ledger (descriptions, reasons, diffs, logs) is written by an adversarial
// proposer: it goes into the DOM only as text (textContent / text nodes), never as HTML.
import { fillChart } from './chart.js';
import { fmtD, fmtDur, fmtV, h, usd } from './dom.js';
import { clock, main, S } from './state.js';

// ---- overview --------------------------------------------------------------------------------
export function renderOverview() {
  if (!document.getElementById('totals')) {
    const tools = h(
      'div',
      { class: 'chart-tools' },
      h('label', {}, 'x: ', xSelect()),
      h('label', {}, h('input', { type: 'checkbox', id: 'logy', onchange: (e) => setLog(e.target.checked) }), ' log y'),
      h('span', { class: 'muted' }, 'drag to zoom, double-click to reset'),
    );
    main.replaceChildren(
      h('section', { id: 'totals-box' }, h('h2', {}, 'Totals'), h('div', { class: 'totals', id: 'totals' })),
      h('section', {}, h('h2', {}, 'Progress'), tools, h('div', { id: 'chart' }), h('div', { id: 'tip' })),
      h('section', {}, h('h2', {}, 'Slots'), h('div', { id: 'slots' })),
      h(
        'section',
        {},
        h('h2', {}, 'Experiments ', filterSelect()),
        h('table', { id: 'experiments' }, h('thead'), h('tbody')),
      ),
      h(
        'section',
        { id: 'feed-box', style: { display: 'none' } },
        h('h2', {}, 'Live events'),
        h('div', { class: 'feed', id: 'feed' }),
      ),
    );
    S.plot = null;
  }
  fillTotals();
  fillChart();
  fillSlots();
  fillTable();
  fillFeed();
}
function xSelect() {
  const sel = h('select', {
    id: 'xaxis',
    onchange: (e) => {
      S.x = e.target.value;
      S.zoomed = false;
      fillChart();
    },
  });
  for (const v of ['experiment', 'time']) sel.append(h('option', { value: v, selected: S.x === v }, v));
  return sel;
}
function setLog(on) {
  S.log = on;
  fillChart();
}

function filterSelect() {
  const sel = h('select', {
    id: 'status-filter',
    onchange: (e) => {
      S.filter = e.target.value;
      fillTable();
    },
  });
  for (const v of ['all', 'keep', 'discard', 'crash', 'timeout', 'rejected', 'conflict', 'running', 'queued'])
    sel.append(h('option', { value: v, selected: S.filter === v }, v));
  return sel;
}

function fillTotals() {
  const s = S.snap;
  const t = s.totals;
  const left = t.left
    ? [
        t.left.experiments !== null ? `${t.left.experiments} experiments` : null,
        t.left.hours !== null ? `${t.left.hours.toFixed(2)} h` : null,
      ]
        .filter(Boolean)
        .join(', ') || 'no limit'
    : s.live
      ? 'unknown (set on run)'
      : 'not running';
  const items = [
    ['best', s.best ? `${fmtV(s.best.value)} (#${s.best.number})` : '-'],
    ['baseline', fmtV(s.baselineValue)],
    ['experiments', `${s.finished}`],
    ['keeps', `${t.keeps}`],
    ['experiments / hour', t.perHour === null ? '-' : t.perHour.toFixed(1)],
    ['crashes', `${s.counts.crash + s.counts.timeout}`],
    ['cost so far', usd(t.costUsd)],
    ['tokens', `${t.tokens}`],
    ['left under limits', left],
  ];
  document
    .getElementById('totals')
    .replaceChildren(...items.map(([k, v]) => h('div', { 'data-k': k }, h('b', {}, v), k)));
}

export function fillSlots() {
  const s = S.snap;
  const el = document.getElementById('slots');
  if (!el) return;
  if (s.slots.length === 0) {
    el.replaceChildren(h('p', { class: 'muted' }, 'nothing has run yet'));
    return;
  }
  const now = clock();
  const starts = s.slots.flatMap((sl) => sl.timeline.map((t) => t.start));
  const t0 = starts.length ? Math.min(...starts) : now;
  const span = Math.max(1, now - t0);
  const colour = { keep: '#2ca02c', discard: '#9e9e9e', crash: '#d62728', timeout: '#ff7f0e', running: '#1565c0' };
  el.replaceChildren(
    ...s.slots.map((sl) => {
      const cur = sl.current;
      const elapsed = cur ? now - cur.startedAt : 0;
      const frac = cur && s.timeoutS ? Math.min(1, elapsed / (s.timeoutS * 1000)) : 0;
      const spans = sl.timeline.map((t) =>
        h('span', {
          title: `#${t.number} ${t.status}`,
          style: {
            left: `${(((t.start - t0) / span) * 100).toFixed(2)}%`,
            width: `${Math.max(0.3, (((t.end ?? now) - t.start) / span) * 100).toFixed(2)}%`,
            background: colour[t.status] || '#bbb',
          },
        }),
      );
      return h(
        'div',
        { class: 'slot', 'data-slot': sl.slot },
        h(
          'div',
          {},
          h('b', {}, `slot ${sl.slot}`),
          h('div', { class: 'muted' }, `${sl.experiments} runs, busy ${(sl.busy * 100).toFixed(0)}%`),
        ),
        h('div', {}, h('div', { class: 'timeline' }, spans)),
        cur
          ? h(
              'div',
              { class: 'current' },
              h('a', { href: `#/e/${cur.number}` }, `#${cur.number}`),
              ` ${cur.description}`,
              h('div', { class: 'bar' }, h('div', { style: { width: `${(frac * 100).toFixed(1)}%` } })),
              h(
                'span',
                { class: 'muted elapsed' },
                `${fmtDur(elapsed)}${s.timeoutS ? ` / ${fmtDur(s.timeoutS * 1000)}` : ''}`,
              ),
            )
          : h('div', { class: 'muted' }, 'idle'),
      );
    }),
  );
}

const COLS = [
  ['number', '#', (e) => e.number, 'num'],
  ['status', 'status', (e) => e.status],
  ['value', 'value', (e) => fmtV(e.value), 'num'],
  ['delta', 'Δ', (e) => fmtD(e.delta), 'num'],
  ['description', 'description', (e) => e.description],
  ['slot', 'slot', (e) => (e.slot === null ? '' : e.slot), 'num'],
  ['runMs', 'run time', (e) => (e.runMs === null ? '' : fmtDur(e.runMs)), 'num'],
  ['tokens', 'tokens', (e) => (e.tokens === null ? '' : e.tokens), 'num'],
  ['costUsd', 'cost', (e) => (e.costUsd === null ? '' : usd(e.costUsd)), 'num'],
];
function fillTable() {
  const table = document.getElementById('experiments');
  if (!table) return;
  const { key, dir } = S.sort;
  const head = h(
    'tr',
    {},
    COLS.map(([k, label]) =>
      h(
        'th',
        {
          'data-k': k,
          onclick: () => {
            S.sort = { key: k, dir: S.sort.key === k ? -S.sort.dir : 1 };
            fillTable();
          },
        },
        label,
        k === key ? (dir > 0 ? ' ▲' : ' ▼') : '',
      ),
    ),
  );
  const rows = S.snap.experiments
    .filter((e) => S.filter === 'all' || e.status === S.filter)
    .sort((a, b) => {
      const x = a[key];
      const y = b[key];
      if (x === y) return a.number - b.number;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * dir;
    });
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(
    ...rows.map((e) =>
      h(
        'tr',
        { class: 'row', 'data-n': e.number, onclick: () => (location.hash = `#/e/${e.number}`) },
        COLS.map(([k, , get, cls]) => h('td', { class: k === 'status' ? `st-${e.status}` : cls }, get(e))),
      ),
    ),
  );
}

export function fillFeed() {
  const el = document.getElementById('feed');
  if (!el || S.feed.length === 0) return;
  document.getElementById('feed-box').style.display = '';
  el.replaceChildren(
    ...S.feed
      .slice(-50)
      .reverse()
      .map((e) =>
        h(
          'div',
          {},
          `${new Date(e.t).toLocaleTimeString()} ${e.type}${e.number !== undefined ? ` #${e.number}` : ''} ${e.status || e.message || e.description || ''}`,
        ),
      ),
  );
}
