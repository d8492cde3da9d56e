/** `autoresearch heldout [dir]`: the kept chain scored on the held-out split (src/analysis/heldout.ts). */
import type { Command } from 'commander';
import { heldoutCheck, renderHeldout } from '../../analysis/heldout.js';
import { mustLoadConfig, UserError } from '../common.js';
import { EXIT_INTERRUPTED, interruptedMessage, runAnalysis, runsFlag, slotsFlag } from './analysis-common.js';

export function registerHeldout(program: Command): void {
  program
    .command('heldout')
    .description(
      'score every kept change on the held-out split (never used for a decision): the validation-vs-held-out gap',
    )
    .argument('[dir]', 'workspace', '.')
    .option('--runs <k>', 'runs per step of the chain, each on its own seed', runsFlag, 1)
    .option('--tag <tag>', 'study tag (default: [study].tag)')
    .option('--slots <n|auto>', 'runs at once (default: [slots], as for run)', slotsFlag)
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
The templates keep a third split of their data that no decision ever sees: training cannot read it
(the sandbox hides it like [files].validation) and the study's evaluate steps never score it. This
re-runs the baseline and each kept step on fresh seeds and has the evaluate step score both splits
(AUTORESEARCH_SPLIT=heldout, given by the harness to analysis runs only). A kept change whose
validation gain is well above its held-out gain was fitted to the validation split. Steps measured
before are reused: run it again after more keeps (e.g. every morning) and only the new ones run.
\`autoresearch status\` shows the last check.

Examples:
  autoresearch heldout
  autoresearch heldout myproj --runs 2 --json`,
    )
    .action(async (dir: string, flags: { runs: number; tag?: string; slots?: number | 'auto'; json?: boolean }) => {
      const config = mustLoadConfig(dir, { tag: flags.tag, slots: flags.slots });
      if (config.run.evaluate === undefined)
        throw new UserError(
          'the held-out check needs an evaluate step ([run].evaluate) that scores the held-out split when AUTORESEARCH_SPLIT=heldout; the templates have one',
        );
      const r = await runAnalysis(config, 'heldout', (s, chain) =>
        heldoutCheck(s, chain, { runs: flags.runs, metric: s.study.metric, direction: s.study.direction }),
      );
      if (r === 'interrupted') {
        process.stderr.write(`${interruptedMessage('heldout')}\n`);
        process.exitCode = EXIT_INTERRUPTED;
        return;
      }
      process.stdout.write(flags.json ? `${JSON.stringify(r, null, 2)}\n` : renderHeldout(r));
    });
}
