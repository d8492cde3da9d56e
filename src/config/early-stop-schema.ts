/**
 * `[early_stop]` of autoresearch.toml (see ./schema.ts): stop a run whose training curve is
 * clearly worse than the best commit's curves at the same elapsed time (../judge/curves.ts).
 * Key names are a public contract.
 */
import { z } from 'zod';

export const earlyStopSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Stop a candidate whose progress lines ("progress: elapsed=S loss=L") are clearly worse than the best commit\'s curves at the same elapsed time; it is recorded as discard, "stopped early". Off by default (see the README for the measured false-stop rate).',
      ),
    dry_run: z
      .boolean()
      .default(false)
      .describe(
        'With enabled: decide as if stopping, announce it (an early-stop event, dry_run), but let the run finish and be judged as usual (to see what early stopping would do on your workload).',
      ),
    k: z
      .number()
      .positive()
      .default(3)
      .describe(
        "Spreads (between-run standard deviations of the loss at that time, pooled over the study's repeated runs) above the best's mean curve a loss must be.",
      ),
    min_fraction: z
      .number()
      .min(0)
      .max(1)
      .default(0.3)
      .describe("Never stop before this fraction of the best's curve (its elapsed span)."),
    min_reference_runs: z
      .number()
      .int()
      .min(2)
      .default(2)
      .describe('Curves of the best commit needed before any stop (baseline repeats and re-measurements give them).'),
    patience: z
      .number()
      .int()
      .min(1)
      .default(2)
      .describe('Progress lines in a row that must be clearly worse before the run is stopped.'),
    min_rel_gap: z
      .number()
      .min(0)
      .default(0)
      .describe("The gap must also exceed this fraction of the best's loss (a floor when runs barely differ)."),
    check_steps: z
      .boolean()
      .default(false)
      .describe(
        'When progress lines carry step=: never stop a run whose loss is within the band at the same step (on a shared machine load slows a run down without making the change worse; it also spares changes that are slower per step, which are most of the savings).',
      ),
  })
  .default({
    enabled: false,
    dry_run: false,
    k: 3,
    min_fraction: 0.3,
    min_reference_runs: 2,
    patience: 2,
    min_rel_gap: 0,
    check_steps: false,
  });
