// The dashboard page: renders the JSON from /api and follows /api/events (Server-Sent Events).
// Everything from the ledger (descriptions, reasons, diffs, logs) is written by an adversarial
// proposer: it goes into the DOM only as text (textContent / text nodes), never as HTML.

(() => {
  const S = {
    snap: null,
    waiting: null,
    style: null,
    sort: { key: 'number', dir: -1 },
    filter: 'all',
    x: 'experiment',
    log: false,
    zoomed: false,
    plot: null,
    plotKey: '',
    rows: [],
    feed: [],
    detail: null,
  };
  const main = document.getElementById('main');

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'style') Object.assign(el.style, v);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const fmtV = (v) =>
    v === null || v === undefined
      ? '-'
      : Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-4)
        ? v.toExponential(4)
        : v.toFixed(6);
  const fmtD = (v) => (v === null || v === undefined ? '' : (v > 0 ? '+' : v < 0 ? '−' : '±') + fmtV(Math.abs(v)));
  function fmtDur(ms) {
    if (ms === null || ms === undefined) return '-';
    const s = Math.max(0, Math.round(ms / 1000));
    const hh = Math.floor(s / 3600);
    const mm = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0');
    return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
  }
  const usd = (v) => (v === null || v === undefined ? '-' : `$${v.toFixed(v < 1 ? 4 : 2)}`);
  const clock = () => Date.now() - (S.snap ? S.snap.skew : 0);
  function rgba(hex, a) {
    const n = Number.parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
  }

  // ---- live connection -------------------------------------------------------------------------
  function connect() {
    const es = new EventSource('/api/events');
    es.addEventListener('snapshot', (ev) => {
      const snap = JSON.parse(ev.data);
      snap.skew = Date.now() - snap.now;
      S.snap = snap;
      S.waiting = null;
      render();
    });
    es.addEventListener('waiting', (ev) => {
      S.waiting = JSON.parse(ev.data).message;
      render();
    });
    es.addEventListener('study-event', (ev) => {
      const e = JSON.parse(ev.data);
      S.feed.push(e);
      if (S.feed.length > 200) S.feed.shift();
      fillFeed();
    });
    es.onerror = () => badge('reconnecting…', 'stopped');
  }
  function badge(text, cls) {
    const b = document.getElementById('live');
    b.textContent = text;
    b.className = `badge ${cls}`;
  }

  // ---- routing ---------------------------------------------------------------------------------
  const route = () => {
    const m = /^#\/e\/(\d+)$/.exec(location.hash);
    return m ? { page: 'experiment', n: Number(m[1]) } : { page: 'overview' };
  };
  window.addEventListener('hashchange', () => {
    S.detail = null;
    main.replaceChildren();
    S.plot = null;
    render();
  });

  function render() {
    if (S.waiting && !S.snap) {
      badge('waiting', 'stopped');
      main.replaceChildren(h('p', { class: 'muted', id: 'waiting' }, S.waiting));
      return;
    }
    const s = S.snap;
    if (!s) return;
    document.getElementById('title').textContent = `${s.tag} — ${s.metric} (${s.direction})`;
    document.title = `${s.tag} · autoresearch`;
    if (s.live) badge(`running (pid ${s.live.pid})`, 'running');
    else badge('not running', 'stopped');
    const r = route();
    if (r.page === 'experiment') renderDetail(r.n);
    else renderOverview();
  }

  // ---- overview --------------------------------------------------------------------------------
  function renderOverview() {
    if (!document.getElementById('totals')) {
      const tools = h(
        'div',
        { class: 'chart-tools' },
        h('label', {}, 'x: ', xSelect()),
        h(
          'label',
          {},
          h('input', { type: 'checkbox', id: 'logy', onchange: (e) => setLog(e.target.checked) }),
          ' log y',
        ),
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

  function fillChart() {
    const el = document.getElementById('chart');
    if (!el || !window.uPlot) return;
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

  function fillSlots() {
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

  function fillFeed() {
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

  // ---- one experiment --------------------------------------------------------------------------
  async function renderDetail(n) {
    const row = S.snap.experiments.find((e) => e.number === n);
    const stale = !S.detail || S.detail.number !== n || (row && row.status !== S.detail.status);
    if (stale) {
      const res = await fetch(`/api/experiments/${n}`);
      S.detail = res.ok ? await res.json() : { number: n, error: (await res.json()).error };
    }
    const d = S.detail;
    if (d.error) {
      main.replaceChildren(h('p', {}, d.error));
      return;
    }
    const ev = d.evidence;
    const u = d.usage || {};
    const kv = (pairs) =>
      h(
        'dl',
        { class: 'kv' },
        pairs
          .filter((p) => p[1] !== null && p[1] !== undefined && p[1] !== '')
          .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      );
    main.replaceChildren(
      h('p', {}, h('a', { href: '#/' }, '← all experiments')),
      h(
        'section',
        {},
        h(
          'h2',
          { id: 'exp-title' },
          `#${d.number} `,
          h('span', { class: `st-${d.status}` }, d.status),
          ' — ',
          d.description,
        ),
      ),
      h(
        'section',
        { id: 'decision' },
        h('h2', {}, 'Decision'),
        kv([
          ['status', d.status],
          [S.snap.metric, fmtV(d.value)],
          ['reason', d.reason],
          ['commit', d.commit],
          ['parent', d.parentCommit],
          ['slot', d.slot],
          ['run time', d.runMs === null ? null : fmtDur(d.runMs)],
          ['attempts', d.attempts],
        ]),
        ev
          ? h(
              'div',
              { id: 'evidence' },
              h('h2', {}, 'Evidence'),
              kv([
                ['runs', ev.runs.map(fmtV).join(', ')],
                ['mean', fmtV(ev.mean)],
                ['spread (σ)', fmtV(ev.spread)],
                [
                  'best it was compared with',
                  ev.bestMean === undefined ? null : `${fmtV(ev.bestMean)} over ${ev.bestRuns} run(s)`,
                ],
                ['threshold (gain to clear)', ev.threshold === undefined ? null : fmtV(ev.threshold)],
                [
                  'rebased from',
                  ev.rebased
                    ? `${ev.rebased.fromParent.slice(0, 7)} (runs ${ev.rebased.runs.map(fmtV).join(', ')})`
                    : null,
                ],
              ]),
            )
          : null,
      ),
      h(
        'section',
        { id: 'proposer' },
        h('h2', {}, 'Proposer'),
        kv([
          ['proposer', d.proposer],
          ['time to propose', d.proposeMs === null ? null : fmtDur(d.proposeMs)],
          ['input tokens', u.inputTokens],
          ['output tokens', u.outputTokens],
          ['cost', u.costUsd === undefined ? null : usd(u.costUsd)],
          ['change', d.change === null ? null : JSON.stringify(d.change)],
          [
            'repairs',
            d.repairs.length
              ? d.repairs.map((r) => `${r.attempt}: ${r.description} (${r.crashReason})`).join('; ')
              : null,
          ],
        ]),
      ),
      h('section', {}, h('h2', {}, 'Diff'), diffView(d.diff)),
      h('section', {}, h('h2', {}, 'Log head'), h('pre', { id: 'log-head' }, d.logHead || '(no log file)')),
      h('section', {}, h('h2', {}, 'Log tail'), h('pre', { id: 'log-tail' }, d.logTail || '(empty)')),
    );
  }
  function diffView(diff) {
    if (!diff) return h('p', { class: 'muted' }, 'no diff (the baseline, or nothing changed)');
    const lines = diff.split('\n').map((l) => {
      const cls = /^(diff |index |--- |\+\+\+ )/.test(l)
        ? 'meta'
        : l.startsWith('@@')
          ? 'hunk'
          : l.startsWith('+')
            ? 'add'
            : l.startsWith('-')
              ? 'del'
              : 'ctx';
      return h('span', { class: cls }, l || ' ');
    });
    return h('pre', { class: 'diff', id: 'diff' }, lines);
  }

  setInterval(() => {
    if (S.snap && route().page === 'overview') fillSlots();
  }, 1000);
  fetch('/api/style')
    .then((r) => r.json())
    .then((st) => {
      S.style = st;
      connect();
    });
})();
