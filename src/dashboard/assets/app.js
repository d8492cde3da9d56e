// The dashboard page: renders the JSON from /api and follows /api/events (Server-Sent Events).
// Everything from the ledger (descriptions, reasons, diffs, logs) is written by an adversarial
// proposer: it goes into the DOM only as text (textContent / text nodes), never as HTML.
import { renderDetail } from './detail.js';
import { renderHub } from './hub.js';
import { h } from './dom.js';
import { fillFeed, fillSlots, renderOverview } from './overview.js';
import { main, S } from './state.js';

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
  es.addEventListener('hub', (ev) => {
    S.hub = { ...JSON.parse(ev.data), receivedAt: Date.now() };
    if (route().page === 'hub') render();
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
  if (location.hash === '#/hub' || !S.mode.local) return { page: 'hub' };
  const m = /^#\/e\/(\d+)$/.exec(location.hash);
  return m ? { page: 'experiment', n: Number(m[1]) } : { page: 'overview' };
};
window.addEventListener('hashchange', () => {
  S.detail = null;
  main.replaceChildren();
  S.plot = null;
  S.hubPlot = null;
  render();
});

function renderHubPage() {
  const m = S.hub;
  const s = m?.summary;
  if (s) {
    document.getElementById('title').textContent = `hub: ${s.study.name} — ${s.study.metric} (${s.study.direction})`;
    document.title = `${s.study.name} · hub · autoresearch`;
  }
  if (!m) badge('connecting…', 'stopped');
  else if (m.error) badge('hub unreachable', 'stopped');
  else badge('hub live', 'running');
  renderHub();
}

function render() {
  if (route().page === 'hub') return renderHubPage();
  if (S.waiting && !S.snap) {
    document.getElementById('title').textContent = 'autoresearch'; // not the hub tab's title
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

setInterval(() => {
  if (S.snap && route().page === 'overview') fillSlots();
}, 1000);
Promise.all([fetch('/api/style').then((r) => r.json()), fetch('/api/mode').then((r) => r.json())]).then(
  ([st, mode]) => {
    S.style = st;
    S.mode = mode;
    const nav = document.querySelector('header nav');
    if (!mode.local) nav.replaceChildren();
    if (mode.hub)
      nav.append(' ', Object.assign(document.createElement('a'), { href: '#/hub', id: 'hub-tab', textContent: 'hub' }));
    connect();
  },
);
