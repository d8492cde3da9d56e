/**
 * The study report as one self-contained HTML file: inline CSS, the progress chart as inline SVG,
 * no script, nothing loaded from elsewhere. Every text from the ledger is escaped (descriptions
 * are written by the proposer, an adversary); tables carry `data-*` ids so tests can read them.
 */
import type { ReportModel } from './report-model.js';

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Numbers as the report prints them (6 significant digits, exact enough to check against the ledger). */
export function fmtNum(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-4)) return v.toExponential(5);
  return String(Number(v.toPrecision(7)));
}

/** The kept-chain table (HTML and Markdown alike): header and rows, as text. */
/** Whether the kept table gets the periodic held-out check's column. */
const withHeldout = (m: ReportModel) => m.kept.some((k) => k.heldout);

export function keptHeader(m: ReportModel): string[] {
  return [
    '#',
    'commit',
    m.metric,
    'gain',
    'runs',
    'mean',
    'threshold',
    ...(withHeldout(m) ? ['validation / held-out (gap)'] : []),
    'description',
  ];
}

/** "0.9912 / 1.0031 (+0.0119; baseline +0.0101)": one check's run on both splits. */
function heldoutCell(m: ReportModel, h: { validation: number; heldout: number; gap: number } | undefined): string {
  if (!h) return '';
  const ref = m.heldoutBase ? `; baseline ${fmtGain(m.heldoutBase.gap)}` : '';
  return `${fmtNum(h.validation)} / ${fmtNum(h.heldout)} (${fmtGain(h.gap)}${ref})`;
}

export function keptRows(m: ReportModel): string[][] {
  return m.kept.map((k) => [
    String(k.number),
    k.commit ? k.commit.slice(0, 7) : '',
    fmtNum(k.value),
    fmtGain(k.gain),
    k.runs.map(fmtNum).join(', '),
    fmtNum(k.mean),
    fmtNum(k.threshold),
    ...(withHeldout(m) ? [heldoutCell(m, k.heldout)] : []),
    k.description,
  ]);
}

export function fmtGain(v: number | null): string {
  return v === null ? '' : `${v > 0 ? '+' : ''}${fmtNum(v)}`;
}

function table(id: string, head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table data-table="${escapeHtml(id)}"><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;max-width:1100px;margin:2em auto;padding:0 1em}
h1{font-size:22px}h2{font-size:17px;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.chart svg{max-width:100%;height:auto}.muted{color:#666}.head b{font-size:18px}`;

/** Renders the report; `chartSvg` is the progress chart (progressChartSvg) embedded as is. */
export function reportHtml(m: ReportModel, chartSvg: string): string {
  const headline = [
    `best ${escapeHtml(m.metric)} <b>${m.best ? fmtNum(m.best.value) : '-'}</b>${m.best ? ` (#${m.best.number})` : ''}`,
    `baseline ${fmtNum(m.baseline) || '-'}`,
    m.improvementPct !== null ? `change ${m.improvementPct >= 0 ? '+' : ''}${m.improvementPct.toFixed(2)}%` : '',
    `${m.finished} experiments, ${m.counts.keep} kept`,
  ]
    .filter(Boolean)
    .join(' · ');
  const parts = [
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`autoresearch report: ${m.tag}`)}</title>`,
    `<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head><body>`,
    `<h1>Study ${escapeHtml(m.tag)}</h1>`,
    `<p class="head" data-headline>${headline}</p>`,
    '<h2>Settings</h2>',
    table(
      'settings',
      ['setting', 'value'],
      m.settings.map(([k, v]) => [k, v]),
    ),
    '<h2>Progress</h2>',
    `<div class="chart">${chartSvg}</div>`,
    '<h2>Kept changes</h2>',
    m.kept.length ? table('kept', keptHeader(m), keptRows(m)) : '<p class="muted">No change was kept.</p>',
    '<h2>Outcomes</h2>',
    table(
      'counts',
      ['status', 'count'],
      Object.entries(m.counts).map(([k, v]) => [k, String(v)]),
    ),
    m.byKind.length
      ? table(
          'by-kind',
          ['status', 'kind', 'count'],
          m.byKind.map((r) => [r.status, r.kind, String(r.count)]),
        )
      : '',
    '<h2>Cost</h2>',
    table(
      'cost',
      ['item', 'value'],
      [
        ['proposer cost (USD)', m.cost.usd.toFixed(4)],
        ['input tokens', String(m.cost.inputTokens)],
        ['output tokens', String(m.cost.outputTokens)],
        ['run time (hours)', m.cost.runHours.toFixed(3)],
      ],
    ),
    ...m.records.flatMap((r) => [`<h2>${escapeHtml(title(r.kind))}</h2>`, table(r.kind, r.columns, r.rows)]),
    `<p class="muted">Generated by autoresearch on ${escapeHtml(new Date().toISOString())}.</p>`,
    '</body></html>\n',
  ];
  return parts.join('\n');
}

export function title(kind: string): string {
  return kind === 'ablation'
    ? 'Ablation'
    : kind === 'transfer'
      ? 'Transfer'
      : kind.charAt(0).toUpperCase() + kind.slice(1);
}
