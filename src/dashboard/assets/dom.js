// DOM building (text only) and number formats.
// Everything from the ledger (descriptions, reasons, diffs, logs) is written by an adversarial
// proposer: it goes into the DOM only as text (textContent / text nodes), never as HTML.

export function h(tag, attrs, ...children) {
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
export const fmtV = (v) =>
  v === null || v === undefined
    ? '-'
    : Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-4)
      ? v.toExponential(4)
      : v.toFixed(6);
export const fmtD = (v) => (v === null || v === undefined ? '' : (v > 0 ? '+' : v < 0 ? '−' : '±') + fmtV(Math.abs(v)));
export function fmtDur(ms) {
  if (ms === null || ms === undefined) return '-';
  const s = Math.max(0, Math.round(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
export const usd = (v) => (v === null || v === undefined ? '-' : `$${v.toFixed(v < 1 ? 4 : 2)}`);
export function rgba(hex, a) {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}
