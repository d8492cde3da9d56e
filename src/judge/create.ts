/** Builds the judge named by `[judge].kind` (noise-aware by default). */
import type { Config } from '../config/load.js';
import { GreedyJudge } from './greedy.js';
import { NoiseJudge } from './noise.js';
import type { Judge } from './types.js';

export function createJudge(config: Config): Judge {
  const j = config.judge;
  return j.kind === 'greedy'
    ? new GreedyJudge(j.min_delta)
    : new NoiseJudge({ z: j.z, confirmRuns: j.confirm_runs, minDelta: j.min_delta });
}
