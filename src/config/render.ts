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
  env?: Record<string, string>;
  /** Protected evaluate step ([run].evaluate) and its limit. */
  evaluate?: string;
  evaluateTimeoutS?: number;
  /** Runs may reach the network ([run].network). */
  network?: boolean;
  /** Untracked workspace paths linked into worktrees ([files].link). */
  link?: string[];
  /** Paths only the evaluate step may read ([files].validation). */
  validation?: string[];
  /** Metric shown as memory_gb in results.tsv (default peak_vram_mb). */
  memoryMetric?: string;
  /** [slots] settings, e.g. {gpus: "none"} for a CPU workload. */
  slots?: { count?: 'auto' | number; gpus?: 'auto' | 'none' | number[] };
}

const v = (x: unknown): string => stringify({ x }).replace(/^x = /, '').trim();

/** A string table as a TOML inline table (`{ A = "1", B = "2" }`), valid on one line. */
const inlineTable = (t: Record<string, string>): string =>
  `{ ${Object.entries(t)
    .map(([k, x]) => `${/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k)} = ${v(x)}`)
    .join(', ')} }`;

export function renderConfigToml(a: InitAnswers): string {
  const lines = [
    '# autoresearch study configuration. Reference: `autoresearch --help` and the README.',
    '',
    '[study]',
    `tag = ${v(a.tag)}                 # the study branch is autoresearch/<tag>`,
    'seed = 0                        # proposer seed (runs get a seed drawn per run: [judge] seeds)',
    '',
    '[objective]',
    `metric = ${v(a.metric)}          # printed by the command: "---" then "${a.metric}: <number>", or "METRIC ${a.metric}=<number>"`,
    `direction = ${v(a.direction)}     # minimize or maximize`,
    '',
    '[run]',
    `command = ${v(a.command)}`,
    `timeout_s = ${a.timeoutS}                # hard kill of the whole process group`,
    ...(a.timeBudgetS !== undefined
      ? [`time_budget_s = ${a.timeBudgetS}            # passed as AUTORESEARCH_TIME_BUDGET`]
      : []),
    ...(a.env && Object.keys(a.env).length ? [`env = ${inlineTable(a.env)}`] : []),
    ...(a.evaluate !== undefined
      ? [
          `evaluate = ${v(a.evaluate)}   # protected evaluation: the objective is read from its output only`,
          ...(a.evaluateTimeoutS !== undefined ? [`evaluate_timeout_s = ${a.evaluateTimeoutS}`] : []),
        ]
      : ['# evaluate = "..."             # a protected evaluate step (recommended): see the README']),
    'sandbox = "auto"                # runs in bubblewrap when installed: read-only system, no network, no ledger/.git/$HOME',
    ...(a.network ? ['network = true                  # runs may reach the network (e.g. a first data download)'] : []),
    '',
    '[files]',
    `editable = ${v(a.editable)}     # the only files a proposal may change`,
    `protected = ${v(a.protected)}    # hashed before every run; a change touching them is rejected`,
    ...(a.link?.length ? [`link = ${v(a.link)}     # untracked paths linked (read-only) into every worktree`] : []),
    ...(a.validation?.length ? [`validation = ${v(a.validation)}   # only the evaluate step may read these`] : []),
    '',
    '[proposer]',
    'kind = "search"                 # offline search; or anthropic | openai | claude | codex | pi | gemini | opencode | aider',
    '# model = "claude-sonnet-5-5"    # for the LLM kinds; keys come from ANTHROPIC_API_KEY / OPENAI_API_KEY',
    '',
    ...(a.slots
      ? [
          '[slots]',
          ...(a.slots.count !== undefined
            ? [`count = ${v(a.slots.count)}                  # experiments at once ("auto": one per GPU)`]
            : []),
          ...(a.slots.gpus !== undefined
            ? [`gpus = ${v(a.slots.gpus)}                 # "auto", "none" (CPU slots) or GPU indices`]
            : []),
          '',
        ]
      : []),
    ...(a.memoryMetric
      ? ['[results]', `memory_metric = ${v(a.memoryMetric)}   # shown as memory_gb in results.tsv`, '']
      : []),
    '[judge]',
    'kind = "sequential"             # sequential: a bounded test against the learnt noise; greedy: the original rule',
    'noise_runs = 3                  # baseline runs (different seeds) that first measure the noise',
    'min_delta = 0.0                 # keep only when the metric improves by more than this',
    '',
  ];
  return lines.join('\n');
}
