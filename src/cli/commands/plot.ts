/** `autoresearch plot [dir] [--out progress.png|progress.svg]`: the progress chart of a study. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { writeProgressChart } from '../../report/index.js';
import { mustLoadConfig, mustOpenLedger, UserError } from '../common.js';
import { noStudyMessage } from './results.js';

export function registerPlot(program: Command): void {
  program
    .command('plot')
    .description('draw the progress chart: every experiment, kept ones on the running-best line, labelled')
    .argument('[dir]', 'workspace', '.')
    .option('-o, --out <file>', 'output file, .png or .svg (default: <dir>/progress.png)')
    .option('--tag <tag>', 'study tag (default: [study].tag)')
    .action(async (dir: string, flags: { out?: string; tag?: string }) => {
      const config = mustLoadConfig(dir, { tag: flags.tag });
      const out = resolve(flags.out ?? resolve(config.root, 'progress.png'));
      if (!/\.(png|svg)$/i.test(out)) throw new UserError(`--out must end in .png or .svg, got ${out}`);
      const ledger = await mustOpenLedger(config);
      try {
        const study = await ledger.getStudy(config.study.tag);
        if (!study)
          throw new UserError(
            noStudyMessage(
              config.study.tag,
              (await ledger.listStudies()).map((s) => s.tag),
            ),
          );
        await writeProgressChart(out, {
          experiments: await ledger.listExperiments(study.id),
          metric: study.metric,
          direction: study.direction,
          title: study.branch,
        });
        process.stdout.write(`${out}\n`);
      } finally {
        await ledger.close();
      }
    });
}
