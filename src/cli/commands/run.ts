/** `autoresearch run [dir]`: baseline, then experiments until a limit; resumes a stopped study. */
import type { Command } from 'commander';
import { adoptOriginalLayout } from '../../config/detect.js';
import { mustLoadConfig, numberFlag } from '../common.js';
import { executeStudy } from '../execute.js';
import { DEFAULT_DASHBOARD_PORT } from './dashboard.js';

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
  slots?: number | 'auto';
  json?: boolean;
  maxCostUsd?: number;
  maxTokens?: number;
  dashboard?: boolean | number;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the study: the baseline first, then experiments (resumes a stopped or killed study)')
    .argument('[dir]', 'workspace: a git repository with autoresearch.toml', '.')
    .option(
      '-n, --max-experiments <n>',
      'stop when the study has N finished experiments (baseline not counted)',
      numberFlag('--max-experiments', true),
    )
    .option('--max-hours <h>', 'stop starting experiments after H hours', numberFlag('--max-hours'))
    .option(
      '--max-cost-usd <usd>',
      'stop proposing when the proposer has spent this much over the study',
      numberFlag('--max-cost-usd'),
    )
    .option(
      '--max-tokens <n>',
      'stop proposing when the proposer has used this many tokens over the study',
      numberFlag('--max-tokens', true),
    )
    .option('--tag <tag>', 'study tag; the branch is autoresearch/<tag> (overrides [study].tag)')
    .option('--seed <n>', 'proposer seed (overrides [study].seed)', numberFlag('--seed', true))
    .option('--command <cmd>', 'run command (overrides [run].command)')
    .option('--timeout <s>', 'hard timeout per run in seconds (overrides [run].timeout_s)', numberFlag('--timeout'))
    .option(
      '--time-budget <s>',
      'training budget passed as AUTORESEARCH_TIME_BUDGET (overrides [run].time_budget_s)',
      numberFlag('--time-budget'),
    )
    .option(
      '--agent <kind>',
      'who proposes changes (overrides [proposer].kind): search | anthropic | openai | claude | codex | pi | gemini | opencode | aider',
    )
    .option('--proposer <kind>', 'same as --agent')
    .option('--model <name>', 'model for the LLM agents and CLIs (overrides [proposer].model)')
    .option(
      '--min-delta <x>',
      'keep only gains larger than this (overrides [judge].min_delta)',
      numberFlag('--min-delta'),
    )
    .option(
      '--judge <kind>',
      'sequential (default: a bounded sequential test against the learnt noise), noise (gains must clear z x the baseline spread) or greedy (the original rule)',
    )
    .option(
      '--slots <n|auto>',
      'experiments at once: a number, or auto = one per GPU (one CPU slot without GPUs)',
      (v: string) => (v === 'auto' ? 'auto' : numberFlag('--slots', true)(v)),
    )
    .option('--json', 'print one JSON event per line instead of the live view')
    .option(
      '--dashboard [port]',
      'serve the live dashboard from this run on 127.0.0.1 (default port 8686; 0 = any free port)',
      numberFlag('--dashboard', true),
    )
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
  autoresearch run --dashboard           # and watch it on http://127.0.0.1:8686/

Ctrl-C stops cleanly (the running experiment is killed and re-run on resume).
Running the same command again resumes the study where it stopped.
In a workspace made by \`autoresearch join\` (a [hub] section; token in AUTORESEARCH_HUB_TOKEN),
run also posts every decided experiment to the hub study, runs verification work for it between
experiments ([hub] verify), and takes the hub's verified best for this platform as its base.`,
    )
    .action(async (dir: string, flags: RunFlags) => {
      process.exitCode = await runCommand(dir, flags);
    });
}

async function runCommand(dir: string, flags: RunFlags): Promise<number> {
  const adopted = adoptOriginalLayout(dir, flags.tag);
  if (adopted) process.stderr.write(`${adopted}\n`);
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
  const { exitCode } = await executeStudy(
    config,
    {
      maxExperiments: flags.maxExperiments ?? null,
      maxHours: flags.maxHours ?? null,
      maxCostUsd: flags.maxCostUsd ?? null,
      maxTokens: flags.maxTokens ?? null,
    },
    {
      json: flags.json,
      dashboardPort:
        flags.dashboard === true
          ? DEFAULT_DASHBOARD_PORT
          : typeof flags.dashboard === 'number'
            ? flags.dashboard
            : null,
    },
  );
  return exitCode;
}
