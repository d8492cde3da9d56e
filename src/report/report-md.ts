/**
 * The study report as Markdown, the chart as a PNG next to it (referenced by file name). Table
 * cells are escaped: `|` and line breaks would break the table, `<` `>` `&` would let a
 * description inject HTML into renderers that pass HTML through, `[` `]` would make links and
 * images (a tracking pixel, a `javascript:` link).
 */
import { fmtNum, keptHeader, keptRows, title } from './report-html.js';
import type { ReportModel } from './report-model.js';

export function mdCell(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/([[\]])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

function table(head: string[], rows: string[][]): string {
  const line = (r: string[]) => `| ${r.map(mdCell).join(' | ')} |`;
  return [line(head), `|${head.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}

export function reportMarkdown(m: ReportModel, chartFile: string): string {
  const out = [
    `# Study ${mdCell(m.tag)}`,
    '',
    `best ${mdCell(m.metric)} **${m.best ? fmtNum(m.best.value) : '-'}**${m.best ? ` (#${m.best.number})` : ''} · baseline ${fmtNum(m.baseline) || '-'}` +
      `${m.improvementPct !== null ? ` · change ${m.improvementPct >= 0 ? '+' : ''}${m.improvementPct.toFixed(2)}%` : ''} · ${m.finished} experiments, ${m.counts.keep} kept`,
    '',
    '## Settings',
    '',
    table(['setting', 'value'], m.settings),
    '',
    '## Progress',
    '',
    `![progress chart](${encodeURI(chartFile)})`,
    '',
    '## Kept changes',
    '',
    m.kept.length ? table(keptHeader(m), keptRows(m)) : 'No change was kept.',
    '',
    '## Outcomes',
    '',
    table(
      ['status', 'count'],
      Object.entries(m.counts).map(([k, v]) => [k, String(v)]),
    ),
    '',
    ...(m.byKind.length
      ? [
          table(
            ['status', 'kind', 'count'],
            m.byKind.map((r) => [r.status, r.kind, String(r.count)]),
          ),
          '',
        ]
      : []),
    '## Cost',
    '',
    table(
      ['item', 'value'],
      [
        ['proposer cost (USD)', m.cost.usd.toFixed(4)],
        ['input tokens', String(m.cost.inputTokens)],
        ['output tokens', String(m.cost.outputTokens)],
        ['run time (hours)', m.cost.runHours.toFixed(3)],
      ],
    ),
    '',
    ...m.records.flatMap((r) => [`## ${title(r.kind)}`, '', table(r.columns, r.rows), '']),
  ];
  return out.join('\n');
}
