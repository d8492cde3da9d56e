/** `autoresearch run [dir]`: baseline, then experiments until a limit; resumes a stopped study. */
import type { Command } from 'commander';
import { createJudge } from '../../judge/create.js';
import type { StudyEvent } from '../../loop/events.js';
import { runEnv } from '../../loop/run-env.js';
import { runStudy } from '../../loop/study.js';
import { createProposer } from '../../proposer/create.js';
import { ProcessRunner } from '../../runner/index.js';
import { checkCommand, mustLoadConfig, mustOpenLedger, mustOpenWorkspace, numberFlag, UserError } from '../common.js';
import { createTerminalView } from '../terminal-view.js';

interface RunFlags {
  maxExperiments?: number;
  maxHours?: number;
  tag?: string;
  seed?: number;
  command?: string;
  timeout?: number;
  timeBudget?: number;
  proposer?: string;
  agent?: string;
  model?: string;
  minDelta?: number;
  judge?: string;
  slots?: number;
  json?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the study: the baseline first, then experiments (resumes a stopped or killed study)')
    .argument('[dir]', 'workspace: a git repository with autoresearch.toml', '.')
    .option('-n, --max-experiments <n>', 'stop when the study has N finished experiments (baseline not counted)', numberFlag('--max-experiments', true))
    .option('--max-hours <h>', 'stop starting experiments after H hours', numberFlag('--max-hours'))
    .option('--tag <tag>', 'study tag; the branch is autoresearch/<tag> (overrides [study].tag)')
    .option('--seed <n>', 'proposer seed (overrides [study].seed)', numberFlag('--seed', true))
    .option('--command <cmd>', 'run command (overrides [run].command)')
    .option('--timeout <s>', 'hard timeout per run in seconds (overrides [run].timeout_s)', numberFlag('--timeout'))
    .option('--time-budget <s>', 'training budget passed as AUTORESEARCH_TIME_BUDGET (overrides [run].time_budget_s)', numberFlag('--time-budget'))
    .option('--agent <kind>', 'who proposes changes (overrides [proposer].kind): search | anthropic | openai | claude | codex | pi | gemini | opencode | aider')
    .option('--proposer <kind>', 'same as --agent')
    .option('--model <name>', 'model for the LLM agents and CLIs (overrides [proposer].model)')
    .option('--min-delta <x>', 'keep only gains larger than this (overrides [judge].min_delta)', numberFlag('--min-delta'))
    .option('--judge <kind>', 'noise (default: gains must clear the measured noise) or greedy (the original rule)')
    .option('--slots <n>', 'experiments at once (one per GPU at most; CPU slots when there is no GPU)', numberFlag('--slots', true))
    .option('--json', 'print one JSON event per line instead of the live view')
    .addHelpText(
      'after',
      `
Examples:
  autoresearch run                       # run the study in this directory until Ctrl-C
  autoresearch run myproj -n 20          # baseline, then 20 experiments
  autoresearch run --max-hours 8 --json  # overnight, machine-readable events
  autoresearch run --agent anthropic     # an LLM agent (ANTHROPIC_API_KEY); --model to choose
  OPENAI_BASE_URL=http://localhost:11434/v1 autoresearch run --agent openai --model qwen3:8b
  autoresearch run --agent claude        # Claude Code headless as the proposer

Ctrl-C stops cleanly (the running experiment is killed and re-run on resume).
Running the same command again resumes the study where it stopped.`,
    )
    .action(async (dir: string, flags: RunFlags) => {
      process.exitCode = await runCommand(dir, flags);
    });
}

async function runCommand(dir: string, flags: RunFlags): Promise<number> {
  const config = mustLoadConfig(dir, {
    tag: flags.tag,
    seed: flags.seed,
    command: flags.command,
    timeoutS: flags.timeout,
    timeBudgetS: flags.timeBudget,
    proposer: flags.agent ?? flags.proposer,
    model: flags.model,
    minDelta: flags.minDelta,
    judge: flags.judge,
    slots: flags.slots,
  });
  const workspace = await mustOpenWorkspace(config.root);
  const made = createProposer(config);
  if (!made.ok) throw new UserError(made.message);
  const notFound = checkCommand(config.run.command, config.root, runEnv(config, { number: 0, worktree: config.root }).PATH ?? '');
  if (notFound) throw new UserError(notFound);
  const ledger = await mustOpenLedger(config);

  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\n${sig}: stopping after killing the running experiment (press Ctrl-C again to force)\n`);
      controller.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const view = flags.json ? null : createTerminalView(process.stdout, process.stdout.isTTY === true);
  const emit = (e: StudyEvent) => (view ? view.onEvent(e) : process.stdout.write(JSON.stringify(e) + '\n'));
  if (made.note) emit({ type: 'notice', t: Date.now(), level: 'info', message: made.note });
  try {
    const outcome = await runStudy(
      {
        config,
        workspace,
        ledger,
        proposer: made.proposer,
        runner: new ProcessRunner(),
        judge: createJudge(config),
        emit,
      },
      { maxExperiments: flags.maxExperiments ?? null, maxHours: flags.maxHours ?? null },
      controller.signal,
    );
    if (outcome.reason === 'error' || outcome.reason === 'baseline-failed') return 1;
    if (outcome.reason === 'interrupted') return 130;
    return 0;
  } finally {
    view?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await ledger.close();
  }
}
