/**
 * The schema of `autoresearch.toml` (zod). Key names are a public contract: users and scripts
 * rely on them. Every key has a default except `run.command` and `files.editable`.
 */
import { z } from 'zod';
import { earlyStopSchema } from './early-stop-schema.js';
import { proposerSchema } from './proposer-schema.js';

export { proposerSchema } from './proposer-schema.js';

const tagPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const studySchema = z
  .strictObject({
    tag: z
      .string()
      .regex(tagPattern, 'letters, digits, ".", "_" and "-" only (it becomes the branch autoresearch/<tag>)')
      .optional()
      .describe('Study name; the study branch is autoresearch/<tag>. Default: the month and day, e.g. "nov27".'),
    seed: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        'Seed for the proposer; runs get it as AUTORESEARCH_SEED with [judge] vary_seed = false (else a seed drawn per run, or seed + run index with [judge] seeds = "indexed").',
      ),
    failure_window: z
      .number()
      .int()
      .min(0)
      .default(12)
      .describe(
        'Stop the study when, of the last failure_window decided experiments, at least failure_rate crashed, timed out or were rejected (0 = never).',
      ),
    failure_rate: z
      .number()
      .gt(0)
      .max(1)
      .default(0.9)
      .describe(
        'Fraction of failures over the last failure_window experiments that stops the study (reason "failures").',
      ),
    remote: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .optional()
      .describe(
        'A git remote (name or URL) the study branch is pushed to after each keep (best effort: a warning when it fails). Handy with several hosts.',
      ),
  })
  .default({ seed: 0, failure_window: 12, failure_rate: 0.9 });

export const objectiveSchema = z
  .strictObject({
    metric: z
      .string()
      .regex(/^[A-Za-z_][\w.\-/]*$/, 'a metric name like val_bpb')
      .default('val_bpb')
      .describe(
        'Name of the metric the command prints ("val_bpb: 0.99" after a "---" line, or "METRIC val_bpb=0.99").',
      ),
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
  stall_timeout_s: z
    .number()
    .positive()
    .optional()
    .describe(
      'Kill a run that prints nothing (stdout or stderr) for this long; recorded as a timeout, reason "stalled". ' +
        'Off when unset: a silent compile or a buffered print would look like a hang.',
    ),
  kill_grace_s: z.number().min(0).default(5).describe('Seconds between SIGTERM and SIGKILL at the timeout.'),
  log_cap_mb: z.number().positive().default(50).describe('Per-experiment log cap; head and tail are kept.'),
  env: z.record(z.string(), z.string()).default({}).describe('Extra environment variables for every run.'),
  evaluate: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .optional()
    .describe(
      'Protected evaluation command, run after training in a fresh process on what training left in $AUTORESEARCH_OUTPUT; when set, the objective is read from its output only.',
    ),
  evaluate_timeout_s: z
    .number()
    .positive()
    .default(600)
    .describe('Hard wall-clock limit of the evaluate step (counted apart from training).'),
  sandbox: z
    .enum(['auto', 'bwrap', 'none'])
    .default('auto')
    .describe(
      'auto: bubblewrap when installed (one line says so when not); bwrap: required; none: runs have your rights.',
    ),
  network: z
    .boolean()
    .default(false)
    .describe('Let runs reach the network (inside the sandbox there is none otherwise).'),
});

export const filesSchema = z.strictObject({
  editable: z.array(z.string().min(1)).min(1, 'list at least one file the proposer may edit'),
  protected: z.array(z.string().min(1)).default([]),
  program: z.string().default('program.md').describe('The research strategy given to agents.'),
  link: z
    .array(z.string().min(1))
    .default([])
    .describe('Untracked paths of the workspace (data, .venv) linked into the experiment worktree.'),
  validation: z
    .array(z.string().min(1))
    .default([])
    .describe('Paths (files or folders) only the evaluate step may read: hidden from training runs by the sandbox.'),
});

/** `[judge] paired`'s default (bench/RESULTS.md, "Paired seeds", says why). */
const PAIRED_DEFAULT = true;

export const judgeSchema = z
  .strictObject({
    kind: z
      .enum(['sequential', 'noise', 'greedy'])
      .default('sequential')
      .describe(
        "sequential: a bounded sequential test against the noise estimate pooled over the study (no-op changes kept at most alpha of the time); noise: gains must clear z standard errors of the baseline's spread (the earlier rule); greedy: any gain > min_delta (the original).",
      ),
    min_delta: z.number().min(0).default(0).describe('Keep only when the metric improves by more than this.'),
    noise_runs: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe(
        'sequential, noise: runs of the unchanged baseline (with different seeds) that first measure the noise.',
      ),
    confirm_runs: z.number().int().min(0).default(2).describe('noise: extra runs for a candidate near the line.'),
    z: z.number().positive().default(2).describe('noise: standard errors a gain must clear.'),
    alpha: z
      .number()
      .gt(0)
      .lt(0.5)
      .default(0.02)
      .describe(
        'sequential: the most a change with no real effect may be kept, as a probability (spent over its runs).',
      ),
    max_runs: z
      .number()
      .int()
      .min(1)
      .default(4)
      .describe("sequential: the most runs one candidate gets before it is decided (the bound on a decision's cost)."),
    futility: z
      .number()
      .min(0)
      .default(0.5)
      .describe(
        'sequential: discard at once when the gain is below this many standard errors (0 = only when not better).',
      ),
    remeasure_runs: z
      .number()
      .int()
      .min(0)
      .default(2)
      .describe(
        'sequential: runs that re-measure a new best on fresh seeds right after it is kept (a best picked for a low run is optimistic); 0 = never.',
      ),
    seeds: z
      .enum(['drawn', 'indexed'])
      .default('drawn')
      .describe(
        'With vary_seed: drawn = every run gets a seed the harness draws at random when the run starts (never shown to the proposer); indexed = seed + run index (reproducible, predictable).',
      ),
    paired: z
      .boolean()
      .default(PAIRED_DEFAULT)
      .describe(
        'sequential, with drawn seeds: candidate and best run on common seeds the harness draws afresh for each best (never shown to the proposer), and the test uses the paired differences cand(seed) - best(seed), so the seed luck both share cancels; the best is run once per seed and reused for every candidate.',
      ),
    vary_seed: z
      .boolean()
      .default(true)
      .describe(
        'Repeat runs get different seeds (see seeds; the noise estimate includes seed noise). false: every run gets [study].seed, as in the original (changes are compared on the same initialisation and data order; the estimate measures the rest of the noise).',
      ),
  })
  .default({
    kind: 'sequential',
    min_delta: 0,
    noise_runs: 3,
    confirm_runs: 2,
    z: 2,
    alpha: 0.02,
    max_runs: 4,
    futility: 0.5,
    remeasure_runs: 2,
    seeds: 'drawn',
    paired: PAIRED_DEFAULT,
    vary_seed: true,
  });

export const heldoutSchema = z
  .strictObject({
    every: z
      .number()
      .int()
      .min(0)
      .default(5)
      .describe(
        "Score the current best on the template's held-out split every this many keeps (one run with AUTORESEARCH_SPLIT=heldout, recorded, shown by status and report as the validation-vs-held-out gap; it never drives a decision); 0 = never.",
      ),
  })
  .default({ every: 5 });

export const slotsSchema = z
  .strictObject({
    count: z
      .union([z.literal('auto'), z.number().int().min(1)])
      .default('auto')
      .describe('Experiments at once: "auto" = one per GPU (one CPU slot without GPUs), or a number.'),
    gpus: z
      .union([z.literal('auto'), z.literal('none'), z.array(z.number().int().min(0))])
      .default('auto')
      .describe('"auto" (nvidia-smi), "none" (CPU slots), or GPU indices, e.g. [0, 1].'),
    prefetch: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe('Proposals prepared ahead while every slot is busy (0 = propose only when a slot is idle).'),
  })
  .default({ count: 'auto', gpus: 'auto', prefetch: 1 });

/** True when a postgres:// URL carries a password (user:pass@host, or ?password=). */
export function urlHasPassword(url: string): boolean {
  if (!/^postgres(ql)?:/i.test(url.trim())) return false;
  try {
    const u = new URL(url.trim());
    return u.password !== '' || u.searchParams.has('password');
  } catch {
    return /:\/\/[^/@]*:[^/@]*@/.test(url);
  }
}

export const ledgerSchema = z
  .strictObject({
    url: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .default('sqlite:.autoresearch/ledger.db')
      .refine(
        (u) => !urlHasPassword(u),
        'the URL has a password in it: autoresearch.toml is not the place for secrets. Remove it from the URL (postgres://user@host/db) and set it in the environment variable named by [ledger] password_env (default PGPASSWORD).',
      )
      .describe(
        'Where experiments are recorded: sqlite:PATH (default, one host), or postgres://user@host:5432/db to share one study between hosts (no password in the URL).',
      ),
    password_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .default('PGPASSWORD')
      .describe(
        "PostgreSQL: environment variable holding the password of the URL's user (scrubbed from logs, never passed to runs).",
      ),
    lease_s: z
      .number()
      .positive()
      .default(60)
      .describe(
        'PostgreSQL: a host holds each of its running experiments for this long, renewed every third of it while it lives; another host takes over the experiments of a host that stopped renewing.',
      ),
  })
  .default({ url: 'sqlite:.autoresearch/ledger.db', password_env: 'PGPASSWORD', lease_s: 60 });

export const resultsSchema = z
  .strictObject({
    memory_metric: z.string().default('peak_vram_mb').describe('Metric shown as memory_gb in results.tsv.'),
    memory_scale: z
      .number()
      .positive()
      .default(1 / 1024)
      .describe('Factor from memory_metric to GB.'),
  })
  .default({ memory_metric: 'peak_vram_mb', memory_scale: 1 / 1024 });

export const notifySchema = z
  .strictObject({
    webhook_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .default('AUTORESEARCH_WEBHOOK_URL')
      .describe(
        'Environment variable holding the webhook URL (Slack or Discord incoming webhook). The URL is a secret ' +
          '(whoever has it can post), so it is never written in this file; unset = no notifications.',
      ),
    failure_streak: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('Post when this many experiments in a row crash or time out.'),
    summary_every_h: z
      .number()
      .min(0)
      .default(24)
      .describe('Post a summary this often while the study runs (hours; 0 = never).'),
    timeout_s: z
      .number()
      .positive()
      .default(10)
      .describe('Give up on one post after this long (a warning, never a stop).'),
  })
  .default({ webhook_env: 'AUTORESEARCH_WEBHOOK_URL', failure_streak: 3, summary_every_h: 24, timeout_s: 10 });

export const hubSchema = z
  .strictObject({
    url: z.string().url().describe('The hub this workspace was joined from (base URL, e.g. http://hub.example:8787).'),
    study: z.uuid().describe('The study id on that hub (the last part of the study URL).'),
    verify: z
      .boolean()
      .default(true)
      .describe(
        "Between experiments, ask the hub for verification work (re-run another contributor's claimed result on this platform) and post the value.",
      ),
  })
  .optional()
  .describe(
    'Written by `autoresearch join`: the hub study this workspace contributes to. Token: AUTORESEARCH_HUB_TOKEN.',
  );

export const configSchema = z.strictObject({
  study: studySchema,
  objective: objectiveSchema,
  run: runSchema,
  files: filesSchema,
  proposer: proposerSchema,
  judge: judgeSchema,
  early_stop: earlyStopSchema,
  slots: slotsSchema,
  ledger: ledgerSchema,
  results: resultsSchema,
  notify: notifySchema,
  heldout: heldoutSchema,

  hub: hubSchema,
});

export type ConfigFile = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
