/** Builds the judge named by `[judge].kind` (the sequential test by default). */
import type { Config } from '../config/load.js';
import { GreedyJudge } from './greedy.js';
import { NoiseJudge } from './noise.js';
import { SequentialJudge } from './sequential.js';
import type { Judge } from './types.js';

export function createJudge(config: Config): Judge {
  const j = config.judge;
  if (j.kind === 'greedy') return new GreedyJudge(j.min_delta);
  if (j.kind === 'noise') return new NoiseJudge({ z: j.z, confirmRuns: j.confirm_runs, minDelta: j.min_delta });
  return new SequentialJudge({
    alpha: j.alpha,
    maxRuns: j.max_runs,
    futility: j.futility,
    minDelta: j.min_delta,
    seedsVary: j.vary_seed,
  });
}

/** The most runs one candidate may get under `[judge]` (first run + confirmations). */
export function maxRunsOf(config: Config): number {
  const j = config.judge;
  return j.kind === 'greedy' ? 1 : j.kind === 'noise' ? j.confirm_runs + 1 : j.max_runs;
}
