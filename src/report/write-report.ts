/**
 * Writes the study report: HTML (one self-contained file) or Markdown plus `<name>-progress.png`
 * next to it. Reads the ledger only.
 */
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Ledger, Study, StudyRecord } from '../ledger/types.js';
import { progressChartPng, progressChartSvg } from './progress-chart.js';
import { reportHtml } from './report-html.js';
import { reportMarkdown } from './report-md.js';
import { buildReportModel, HELDOUT_CHECK_KIND, REPORT_RECORD_KINDS, type ReportModel } from './report-model.js';

export async function loadReportModel(ledger: Ledger, study: Study): Promise<ReportModel> {
  const experiments = await ledger.listExperiments(study.id);
  const records: Record<string, StudyRecord[]> = {};
  for (const kind of [...REPORT_RECORD_KINDS, HELDOUT_CHECK_KIND])
    records[kind] = await ledger.listRecords(study.id, kind);
  return buildReportModel(study, experiments, records);
}

/** Writes the report to `out`; returns every file written. */
export async function writeReport(ledger: Ledger, study: Study, out: string, format: 'html' | 'md'): Promise<string[]> {
  const model = await loadReportModel(ledger, study);
  const svg = await progressChartSvg({
    experiments: await ledger.listExperiments(study.id),
    metric: study.metric,
    direction: study.direction,
    title: study.branch,
  });
  if (format === 'html') {
    await writeFile(out, reportHtml(model, svg.replace(/^<\?xml[^>]*>\s*/, '')));
    return [out];
  }
  const png = `${basename(out).replace(/\.md$/i, '')}-progress.png`;
  const pngPath = join(dirname(out), png);
  await writeFile(pngPath, progressChartPng(svg));
  await writeFile(out, reportMarkdown(model, png));
  return [out, pngPath];
}
