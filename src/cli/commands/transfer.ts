/** `autoresearch transfer [dir] --set NAME=VALUE`: do the gains hold at a larger scale? (src/analysis/transfer.ts) */
import type { Command } from 'commander';
import { parseSets } from '../../analysis/overrides.js';
import { renderTransfer, transfer } from '../../analysis/transfer.js';
import { mustLoadConfig, numberFlag, UserError } from '../common.js';
import { EXIT_INTERRUPTED, interruptedMessage, runAnalysis, runsFlag, slotsFlag } from './analysis-common.js';

interface TransferFlags {
  set: string[];
  timeBudget?: number;
  timeout?: number;
  runs: number;
  chain?: boolean;
  tag?: string;
  slots?: number | 'auto';
  json?: boolean;
}

export function registerTransfer(program: Command): void {
  program
    .command('transfer')
    .description(
      're-run the baseline and the best with constants overridden (e.g. DEPTH=24): which gains held, grew or vanished',
    )
    .argument('[dir]', 'workspace', '.')
    .option(
      '--set <NAME=VALUE>',
      'override a constant of the editable file (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option(
      '--time-budget <s>',
      'training budget of these runs (AUTORESEARCH_TIME_BUDGET)',
      numberFlag('--time-budget'),
    )
    .option(
      '--timeout <s>',
      'hard timeout per run (default: [run].timeout_s, plus the extra budget)',
      numberFlag('--timeout'),
    )
    .option('--runs <k>', 'runs per variant, each on its own seed (drawn by the harness)', runsFlag, 2)
    .option('--chain', 'every step of the kept chain, not just the baseline and the best')
    .option('--tag <tag>', 'study tag (default: [study].tag)')
    .option('--slots <n|auto>', 'runs at once (default: [slots], as for run)', slotsFlag)
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
The overrides are applied to the editable file that defines each constant, in a scratch worktree
(a commit of its own on top of each step); nothing on the study branch changes. Each step's gain
at the new scale is set against its gain in the study:
  grew / held / shrank   still clearly positive; larger, the same or smaller than in the study
  vanished               no longer clearly above zero
  reversed               clearly negative now
A string value is passed with its quotes: --set ACTIVATION='"gelu"'.

Examples:
  autoresearch transfer --set DEPTH=24 --time-budget 600        # the seed's depth 12 -> 24 check
  autoresearch transfer myproj --set DEPTH=2 --set N_EMBD=96 --chain --runs 3 --json`,
    )
    .action(async (dir: string, flags: TransferFlags) => {
      if (!flags.set.length) throw new UserError('transfer needs at least one --set NAME=VALUE (e.g. --set DEPTH=24)');
      const sets = parseSets(flags.set);
      if (!sets.ok) throw new UserError(sets.message);
      const base = mustLoadConfig(dir, { tag: flags.tag });
      // a longer budget needs a longer hard timeout: the extra budget is added unless --timeout is given
      const extra = flags.timeBudget !== undefined ? Math.max(0, flags.timeBudget - (base.run.time_budget_s ?? 0)) : 0;
      const config = mustLoadConfig(dir, {
        tag: flags.tag,
        slots: flags.slots,
        timeBudgetS: flags.timeBudget,
        timeoutS: flags.timeout ?? base.run.timeout_s + extra,
      });
      const r = await runAnalysis(config, 'transfer', (s, chain) =>
        transfer(s, chain, {
          sets: sets.sets,
          timeBudgetS: flags.timeBudget ?? null,
          runs: flags.runs,
          chain: flags.chain === true,
          heldout: config.run.evaluate !== undefined,
          editable: config.files.editable,
          metric: s.study.metric,
          direction: s.study.direction,
          studyNoise: s.study.noise,
        }),
      );
      if (r.kind === 'unknown-constant') throw new UserError(r.message);
      if (r.kind === 'interrupted') {
        process.stderr.write(`${interruptedMessage('transfer')}\n`);
        process.exitCode = EXIT_INTERRUPTED;
        return;
      }
      process.stdout.write(
        flags.json ? `${JSON.stringify(r.summary, null, 2)}\n` : renderTransfer(r.summary, config.study.tag),
      );
    });
}
