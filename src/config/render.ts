/** Writes a commented autoresearch.toml for `init` (values escaped by smol-toml). */
import { stringify } from 'smol-toml';

export interface InitAnswers {
  tag: string;
  command: string;
  metric: string;
  direction: 'minimize' | 'maximize';
  editable: string[];
  protected: string[];
  timeoutS: number;
  timeBudgetS?: number;
  /** [run].evaluate: the protected evaluation command (reads the checkpoint training left). */
  evaluate?: string;
  /** [files].link and [files].validation (e.g. the tiny template's data/ and data/val.bin). */
  link?: string[];
  validation?: string[];
  env?: Record<string, string>;
  /** Metric shown as memory_gb in results.tsv (default peak_vram_mb). */
  memoryMetric?: string;
  /** [slots] settings, e.g. {gpus: "none"} for a CPU workload. */
  slots?: { count?: 'auto' | number; gpus?: 'auto' | 'none' | number[] };
}

const v = (x: unknown): string => stringify({ x }).replace(/^x = /, '').trim();

export function renderConfigToml(a: InitAnswers): string {
  const lines = [
    '# autoresearch study configuration. Reference: `autoresearch --help` and the README.',
    '',
    '[study]',
    `tag = ${v(a.tag)}                 # the study branch is autoresearch/<tag>`,
    'seed = 0                        # proposer seed; also passed to runs as AUTORESEARCH_SEED',
    '',
    '[objective]',
    `metric = ${v(a.metric)}          # printed by the command: "---" then "${a.metric}: <number>", or "METRIC ${a.metric}=<number>"`,
    `direction = ${v(a.direction)}     # minimize or maximize`,
    '',
    '[run]',
    `command = ${v(a.command)}`,
    ...(a.evaluate ? [`evaluate = ${v(a.evaluate)}      # protected: scores what the command saved in $AUTORESEARCH_OUTPUT`] : []),
    `timeout_s = ${a.timeoutS}                # hard kill of the whole process group`,
    ...(a.timeBudgetS !== undefined ? [`time_budget_s = ${a.timeBudgetS}            # passed as AUTORESEARCH_TIME_BUDGET`] : []),
    ...(a.env && Object.keys(a.env).length ? [`env = ${v(a.env)}`] : []),
    '',
    '[files]',
    `editable = ${v(a.editable)}     # the only files a proposal may change`,
    `protected = ${v(a.protected)}    # hashed before every run; a change touching them is rejected`,
    ...(a.link?.length ? [`link = ${v(a.link)}             # untracked paths linked into every experiment's worktree`] : []),
    ...(a.validation?.length ? [`validation = ${v(a.validation)}   # only the evaluate step may read these`] : []),
    '',
    '[proposer]',
    'kind = "search"                 # offline search; or anthropic | openai | claude | codex | pi | gemini | opencode | aider',
    '# model = "claude-sonnet-5-5"    # for the LLM kinds; keys come from ANTHROPIC_API_KEY / OPENAI_API_KEY',
    '',
    ...(a.slots
      ? [
          '[slots]',
          ...(a.slots.count !== undefined ? [`count = ${v(a.slots.count)}                  # experiments at once ("auto": one per GPU)`] : []),
          ...(a.slots.gpus !== undefined ? [`gpus = ${v(a.slots.gpus)}                 # "auto", "none" (CPU slots) or GPU indices`] : []),
          '',
        ]
      : []),
    ...(a.memoryMetric ? ['[results]', `memory_metric = ${v(a.memoryMetric)}   # shown as memory_gb in results.tsv`, ''] : []),
    '[judge]',
    'kind = "noise"                  # noise: gains must clear the measured noise; greedy: the original rule',
    'noise_runs = 3                  # baseline runs (different seeds) that measure the noise floor',
    'min_delta = 0.0                 # keep only when the metric improves by more than this',
    '',
  ];
  return lines.join('\n');
}
