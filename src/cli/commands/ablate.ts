/** `autoresearch ablate [dir]`: what each kept change is worth, alone and in context (src/analysis/ablate.ts). */
import type { Command } from 'commander';
import { ablate, renderAblation } from '../../analysis/ablate.js';
import { mustLoadConfig } from '../common.js';
import { EXIT_INTERRUPTED, interruptedMessage, runAnalysis, runsFlag, slotsFlag } from './analysis-common.js';

interface AblateFlags {
  runs: number;
  tag?: string;
  slots?: number | 'auto';
  json?: boolean;
}

export function registerAblate(program: Command): void {
  program
    .command('ablate')
    .description("measure each kept change's contribution: leave-one-out from the best and add-one onto the baseline")
    .argument('[dir]', 'workspace', '.')
    .option('--runs <k>', 'runs per variant, each on its own seed (drawn by the harness)', runsFlag, 3)
    .option('--tag <tag>', 'study tag (default: [study].tag)')
    .option('--slots <n|auto>', 'runs at once (default: [slots], as for run)', slotsFlag)
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
For a study with kept changes c1..cn it runs, k times each on free slots: the baseline, the best,
the baseline plus each change alone (add-one) and the best minus each change (leave-one-out),
through the same runner, sandbox and evaluate step as the study. Per change it reports:
  gain alone       baseline - (baseline + change)       (positive = better, for either direction)
  gain in context  (best - change) - best; "removal does not hurt" when not clearly above zero
  spread           the run-to-run standard deviation of its variants
  held-out         the gain on the held-out split, when the evaluate step scores one
and whether the chain is additive: the sum of the gains alone against the whole gain, with its
95% interval. A change that no longer applies without its predecessors is reported as a conflict.
Stopped or killed, it continues where it stopped when run again (runs are in the ledger).

Examples:
  autoresearch ablate                   # 3 runs per variant
  autoresearch ablate myproj --runs 5 --json`,
    )
    .action(async (dir: string, flags: AblateFlags) => {
      const config = mustLoadConfig(dir, { tag: flags.tag, slots: flags.slots });
      const summary = await runAnalysis(config, 'ablation', async (s, chain) => {
        const r = await ablate(s, chain, {
          runs: flags.runs,
          heldout: config.run.evaluate !== undefined,
          metric: s.study.metric,
          direction: s.study.direction,
        });
        if (r !== 'interrupted') await s.ledger.putRecord(s.study.id, 'ablation', 'summary', r);
        return r;
      });
      if (summary === 'interrupted') {
        process.stderr.write(`${interruptedMessage('ablate')}\n`);
        process.exitCode = EXIT_INTERRUPTED;
        return;
      }
      process.stdout.write(
        flags.json ? `${JSON.stringify(summary, null, 2)}\n` : renderAblation(summary, config.study.tag),
      );
    });
}
