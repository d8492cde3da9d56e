/**
 * The greedy judge of the original autoresearch: keep when the metric improved in its direction
 * by more than `minDelta`, after one run. Pure; never throws; never asks for confirmation.
 */
import { formatDelta, gainOf, type Decision, type Judge, type JudgeInput } from './types.js';

export class GreedyJudge implements Judge {
  readonly name = 'greedy';

  constructor(private readonly minDelta = 0) {}

  decide(input: JudgeInput): Decision {
    const { gain } = gainOf(input);
    const threshold = this.minDelta;
    if (gain > threshold) {
      return {
        decision: 'keep',
        threshold,
        reason: `improved by ${formatDelta(gain)}${threshold > 0 ? ` (> min_delta ${threshold})` : ''}`,
      };
    }
    if (gain > 0)
      return {
        decision: 'discard',
        threshold,
        reason: `improved by only ${formatDelta(gain)} (<= min_delta ${threshold})`,
      };
    if (gain === 0) return { decision: 'discard', threshold, reason: 'no change' };
    return { decision: 'discard', threshold, reason: `worse by ${formatDelta(-gain)}` };
  }
}
