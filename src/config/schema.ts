/**
 * The schema of `autoresearch.toml` (zod). Key names are a public contract: users and scripts
 * rely on them. Every key has a default except `run.command` and `files.editable`.
 */
import { z } from 'zod';

const tagPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const studySchema = z
  .strictObject({
    tag: z
      .string()
      .regex(tagPattern, 'letters, digits, ".", "_" and "-" only (it becomes the branch autoresearch/<tag>)')
      .optional()
      .describe('Study name; the study branch is autoresearch/<tag>. Default: the month and day, e.g. "nov27".'),
    seed: z.number().int().min(0).default(0).describe('Seed for the proposer; also passed to runs as AUTORESEARCH_SEED.'),
  })
  .default({ seed: 0 });

export const objectiveSchema = z
  .strictObject({
    metric: z
      .string()
      .regex(/^[A-Za-z_][\w.\-/]*$/, 'a metric name like val_bpb')
      .default('val_bpb')
      .describe('Name of the metric the command prints ("val_bpb: 0.99" after a "---" line, or "METRIC val_bpb=0.99").'),
    direction: z.enum(['minimize', 'maximize']).default('minimize'),
  })
  .default({ metric: 'val_bpb', direction: 'minimize' });

export const runSchema = z.strictObject({
  command: z.string().trim().min(1, 'must not be empty').describe('Shell command that trains and prints the metric.'),
  timeout_s: z.number().positive().default(600).describe('Hard wall-clock limit; the whole process group is killed.'),
  time_budget_s: z
    .number()
    .positive()
    .optional()
    .describe('Training budget passed to the command as AUTORESEARCH_TIME_BUDGET (templates read it).'),
  kill_grace_s: z.number().min(0).default(5).describe('Seconds between SIGTERM and SIGKILL at the timeout.'),
  log_cap_mb: z.number().positive().default(50).describe('Per-experiment log cap; head and tail are kept.'),
  env: z.record(z.string(), z.string()).default({}).describe('Extra environment variables for every run.'),
});

export const filesSchema = z.strictObject({
  editable: z.array(z.string().min(1)).min(1, 'list at least one file the proposer may edit'),
  protected: z.array(z.string().min(1)).default([]),
  program: z.string().default('program.md').describe('The research strategy given to agents.'),
  link: z
    .array(z.string().min(1))
    .default([])
    .describe('Untracked paths of the workspace (data, .venv) linked into the experiment worktree.'),
});

export const proposerSchema = z
  .strictObject({
    kind: z.string().default('search').describe('search (offline, default); later: anthropic, openai, claude, codex, ...'),
    model: z.string().optional(),
    exclude: z.array(z.string()).default([]).describe('search: constants never to touch.'),
  })
  .default({ kind: 'search', exclude: [] });

export const judgeSchema = z
  .strictObject({
    kind: z.enum(['greedy']).default('greedy'),
    min_delta: z.number().min(0).default(0).describe('Keep only when the metric improves by more than this.'),
  })
  .default({ kind: 'greedy', min_delta: 0 });

export const ledgerSchema = z
  .strictObject({
    url: z.string().default('sqlite:.autoresearch/ledger.db'),
  })
  .default({ url: 'sqlite:.autoresearch/ledger.db' });

export const resultsSchema = z
  .strictObject({
    memory_metric: z.string().default('peak_vram_mb').describe('Metric shown as memory_gb in results.tsv.'),
    memory_scale: z.number().positive().default(1 / 1024).describe('Factor from memory_metric to GB.'),
  })
  .default({ memory_metric: 'peak_vram_mb', memory_scale: 1 / 1024 });

export const configSchema = z.strictObject({
  study: studySchema,
  objective: objectiveSchema,
  run: runSchema,
  files: filesSchema,
  proposer: proposerSchema,
  judge: judgeSchema,
  ledger: ledgerSchema,
  results: resultsSchema,
});

export type ConfigFile = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
