// The hub page: a hub study across contributors (`dashboard --hub`): counts, the verified best per
// platform over time (one stepped line each), the kept changes and whether they held on other
// platforms, recent results and contributors. The dashboard server polls the hub and pushes `hub`
// messages over SSE; this page never talks to the hub (and never sees its token).
// Everything here was posted by untrusted contributors: it goes into the DOM only as text.
import { fmtDur, fmtV, h } from './dom.js';
import { main, S } from './state.js';

const uPlot = window.uPlot;
const COLOURS = ['#1565c0', '#d62728', '#2ca02c', '#ff7f0e', '#6a1b9a', '#00838f', '#8d6e63', '#c2185b'];

const short = (sha) => (sha ? sha.slice(0, 7) : '');
const ago = (t) => `${fmtDur(Math.max(0, hubNow() - t))} ago`;
/** The hub's clock now, from the summary's `now` and the time it arrived here. */
const hubNow = () => (S.hub?.summary ? S.hub.summary.now + (Date.now() - S.hub.receivedAt) : Date.now());

/** A value as people should read it: hidden while its claim waits for verification. */
const shown = (r) => (r.value !== null ? fmtV(r.value) : r.verification === 'provisional' ? 'hidden' : '-');

function table(id, head, rows) {
  return h('table', { id }, h('thead', {}, h('tr', {}, ...head.map((x) => h('th', {}, x)))), h('tbody', {}, ...rows));
}

export function renderHub() {
  const m = S.hub;
  if (!m) {
    main.replaceChildren(h('p', { class: 'muted', id: 'waiting' }, 'reading the hub…'));
    return;
  }
  const s = m.summary;
  const errorBox = m.error ? h('p', { class: 'hub-error', id: 'hub-error' }, m.error) : null;
  if (!s) {
    main.replaceChildren(errorBox ?? h('p', { class: 'muted' }, 'no summary from the hub yet'));
    return;
  }
  const tag = new Map(s.platforms.map((p, i) => [p.platformKey, `P${i + 1}`]));
  const plat = (key) => tag.get(key) ?? key.slice(0, 8);
  const c = s.counts;
  const w = s.work;
  const items = [
    ['platforms', `${s.platforms.length}`],
    ['results', `${c.experiments}`],
    ['verification runs', `${c.verifications}`],
    ['claims waiting', `${c.provisional}`],
    ['verifications queued', `${w.verificationsQueued} (+${w.verificationsLeased} running)`],
    ['experiments queued', `${w.experimentsQueued} (+${w.experimentsLeased} running)`],
    ['contributors', `${s.contributors.length}`],
    ['notes', `${c.notes}`],
  ];
  const platforms = s.platforms.map((p, i) =>
    h(
      'tr',
      { 'data-key': p.platformKey },
      h('td', {}, h('span', { class: 'swatch', style: { background: COLOURS[i % COLOURS.length] } }), `P${i + 1}`),
      h('td', {}, p.label),
      h('td', { class: 'num best' }, fmtV(p.best.value)),
      h('td', { class: 'mono' }, short(p.best.commit)),
      h('td', { class: 'num' }, `${p.chainLength}`),
      h('td', { class: 'num' }, `${p.moves}`),
      h('td', {}, ago(p.updatedAt)),
    ),
  );
  const kept = s.platforms.flatMap((p) =>
    p.chain
      .filter((k) => k.status !== 'baseline')
      .map((k) =>
        h(
          'tr',
          { 'data-commit': k.commit },
          h('td', {}, plat(p.platformKey)),
          h('td', { class: 'mono' }, short(k.commit)),
          h('td', { class: 'num' }, fmtV(k.value)),
          h('td', {}, k.contributor),
          h('td', {}, k.description),
          h(
            'td',
            { class: 'held' },
            k.elsewhere.length
              ? k.elsewhere.map((e) =>
                  h(
                    'span',
                    { class: `held-${e.held.replace(' ', '-')}` },
                    `${e.held} on ${plat(e.platformKey)}${e.value !== null ? ` (${fmtV(e.value)})` : ''}`,
                  ),
                )
              : h('span', { class: 'muted' }, 'not tried elsewhere'),
          ),
        ),
      ),
  );
  const recent = s.recent.map((r) =>
    h(
      'tr',
      { 'data-id': r.id, class: r.verification === 'provisional' ? 'provisional' : null },
      h('td', {}, ago(r.createdAt)),
      h('td', {}, r.contributor),
      h('td', {}, plat(r.platformKey)),
      h('td', {}, r.kind === 'verification' ? 'verify' : r.status),
      h(
        'td',
        {},
        r.kind === 'verification'
          ? r.verification === 'verified'
            ? 'agreed'
            : r.verification === 'failed'
              ? 'disagreed'
              : ''
          : (r.verification ?? ''),
      ),
      h('td', { class: 'num' }, shown(r)),
      h('td', {}, r.kind === 'verification' ? `re-run of ${short(r.commit)}` : r.description),
    ),
  );
  const people = s.contributors.map((p) =>
    h(
      'tr',
      { 'data-name': p.name, class: p.flagged ? 'flagged' : null },
      h('td', {}, p.name),
      h('td', { class: 'num' }, `${p.results}`),
      h('td', { class: 'num' }, `${p.verifiedKeeps}`),
      h('td', { class: 'num' }, `${p.verifications}`),
      h('td', {}, p.flagged ? `flagged: ${p.flagReason ?? ''}` : 'no'),
    ),
  );
  const y = window.scrollY;
  main.replaceChildren(
    ...[
      errorBox,
      h(
        'section',
        {},
        h('h2', {}, 'Hub study ', h('span', { class: 'muted mono', id: 'hub-url' }, m.url)),
        h(
          'div',
          { class: 'totals', id: 'hub-counts' },
          ...items.map(([k, v]) => h('div', { 'data-k': k }, h('b', {}, v), k)),
        ),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Verified best per platform'),
        h('div', { id: 'hub-chart' }),
        s.platforms.length
          ? table(
              'hub-platforms',
              ['', 'platform', 'verified best', 'commit', 'chain', 'moves', 'last move'],
              platforms,
            )
          : h('p', { class: 'muted' }, 'no verified best yet (a baseline needs a second contributor to verify it)'),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Kept changes (verified) and whether they held on other platforms'),
        kept.length
          ? table('hub-kept', ['platform', 'commit', 'value', 'by', 'description', 'on other platforms'], kept)
          : h('p', { class: 'muted' }, 'no verified kept change yet'),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Recent results'),
        table('hub-recent', ['when', 'who', 'platform', 'status', 'verification', 'value', 'description'], recent),
        h('p', { class: 'muted' }, 'a claim waiting for verification shows no value (verification is blind)'),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Contributors'),
        table('hub-contributors', ['name', 'results', 'verified keeps', 'verifications', 'flagged'], people),
      ),
    ].filter(Boolean),
  );
  window.scrollTo(0, y);
  drawChart(s);
}

/** One stepped line per platform: its verified best over time (x: time, from the chain's verifications). */
function drawChart(s) {
  const el = document.getElementById('hub-chart');
  if (!el || !uPlot || s.platforms.length === 0) return;
  const now = hubNow() / 1000;
  const times = [...new Set([...s.platforms.flatMap((p) => p.chain.map((k) => k.verifiedAt / 1000)), now])].sort(
    (a, b) => a - b,
  );
  const cols = s.platforms.map((p) => {
    const pts = p.chain.map((k) => [k.verifiedAt / 1000, k.value]);
    let i = 0;
    let cur = null;
    return times.map((t) => {
      while (i < pts.length && pts[i][0] <= t) cur = pts[i++][1];
      return cur;
    });
  });
  const opts = {
    width: Math.max(400, el.clientWidth || 900),
    height: 300,
    scales: { x: { time: true } },
    axes: [{}, { label: s.study.metric, size: 70 }],
    legend: { show: true, live: false },
    cursor: { drag: { x: true, y: false } },
    series: [
      {},
      ...s.platforms.map((p, i) => ({
        label: `P${i + 1} ${p.label}`,
        stroke: COLOURS[i % COLOURS.length],
        width: 2,
        spanGaps: false,
        paths: uPlot.paths.stepped({ align: 1 }),
        points: { show: false },
      })),
    ],
  };
  if (S.hubPlot) S.hubPlot.destroy();
  el.replaceChildren();
  S.hubPlot = new uPlot(opts, [times, ...cols], el);
}
