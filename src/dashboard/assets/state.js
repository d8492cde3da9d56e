// The page state, shared by the modules of the dashboard page.
// Everything from the ledger (descriptions, reasons, diffs, logs) is written by an adversarial
// proposer: it goes into the DOM only as text (textContent / text nodes), never as HTML.

export const S = {
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
  // `dashboard --hub`: which views exist ({local, hub}), the latest hub message, its chart
  mode: { local: true, hub: false },
  hub: null,
  hubPlot: null,
};

export const clock = () => Date.now() - (S.snap ? S.snap.skew : 0);
export const main = document.getElementById('main');
