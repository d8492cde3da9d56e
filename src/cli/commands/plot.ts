/**
 * `autoresearch plot [dir] [--out progress.png|progress.svg] [--x experiment|time] [--log]`: the
 * progress chart of a study (the same style as `report` and the dashboard).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { logScaleProblem, writeProgressChart, type XAxis } from '../../report/index.js';
import { mustGetStudy, mustLoadConfig, mustOpenLedger, UserError } from '../common.js';

export function registerPlot(program: Command): void {
  program
    .command('plot')
    .description('draw the progress chart: every experiment, kept ones on the running-best line, labelled')
    .argument('[dir]', 'workspace', '.')
    .option('-o, --out <file>', 'output file, .png or .svg (default: <dir>/progress.png)')
    .option('--tag <tag>', 'study tag (default: [study].tag)')
    .option('--x <axis>', 'x axis: experiment (number) or time (hours since the study started)', 'experiment')
    .option('--log', 'log-scale y axis (every value must be > 0)')
    .addHelpText(
      'after',
      `
Examples:
  autoresearch plot                          # progress.png in the workspace
  autoresearch plot myproj -o chart.svg      # SVG instead of PNG
  autoresearch plot --x time --log           # hours on x, log-scale y`,
    )
    .action(async (dir: string, flags: { out?: string; tag?: string; x: string; log?: boolean }) => {
      if (flags.x !== 'experiment' && flags.x !== 'time')
        throw new UserError(`--x must be "experiment" or "time", got "${flags.x}"`);
      const config = mustLoadConfig(dir, { tag: flags.tag });
      const out = resolve(flags.out ?? resolve(config.root, 'progress.png'));
      if (!/\.(png|svg)$/i.test(out)) throw new UserError(`--out must end in .png or .svg, got ${out}`);
      const ledger = await mustOpenLedger(config);
      try {
        const study = await mustGetStudy(ledger, config.study.tag);
        const experiments = await ledger.listExperiments(study.id);
        const problem = flags.log ? logScaleProblem(experiments) : null;
        if (problem) throw new UserError(`--log: ${problem}; plot without --log`);
        await writeProgressChart(out, {
          experiments,
          x: flags.x as XAxis,
          logY: flags.log === true,
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
