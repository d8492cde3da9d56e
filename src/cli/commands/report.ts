/** `autoresearch report [dir] [--out report.html] [--md]`: one file to attach to a message. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { writeReport } from '../../report/write-report.js';
import { mustGetStudy, mustLoadConfig, mustOpenLedger, UserError } from '../common.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a study report: settings, progress chart, kept changes with their evidence, failures, cost')
    .argument('[dir]', 'workspace', '.')
    .option('-o, --out <file>', 'output file (default: <dir>/report.html, or report.md with --md)')
    .option('--md', 'Markdown, with the chart as a PNG next to it (default: one self-contained HTML file)')
    .option('--tag <tag>', 'study tag (default: [study].tag)')
    .addHelpText(
      'after',
      `
Examples:
  autoresearch report                    # report.html: open it, or attach it to a message
  autoresearch report myproj --md        # report.md + report-progress.png
  autoresearch report -o /tmp/nov27.html

Ablation and transfer results (autoresearch ablate / transfer) appear as tables when present.`,
    )
    .action(async (dir: string, flags: { out?: string; md?: boolean; tag?: string }) => {
      const config = mustLoadConfig(dir, { tag: flags.tag });
      const md = flags.md === true || /\.md$/i.test(flags.out ?? '');
      const out = resolve(flags.out ?? resolve(config.root, md ? 'report.md' : 'report.html'));
      if (md && !/\.md$/i.test(out)) throw new UserError(`--md writes Markdown: --out must end in .md, got ${out}`);
      if (!md && !/\.html?$/i.test(out)) throw new UserError(`--out must end in .html (or .md with --md), got ${out}`);
      const ledger = await mustOpenLedger(config);
      try {
        const study = await mustGetStudy(ledger, config.study.tag);
        const files = await writeReport(ledger, study, out, md ? 'md' : 'html');
        process.stdout.write(`${files.join('\n')}\n`);
      } finally {
        await ledger.close();
      }
    });
}
