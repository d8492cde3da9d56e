/**
 * The greedy judge of the original autoresearch: keep when the metric improved in its direction
 * by more than `minDelta`. Pure; never throws. (A noise-aware judge comes later behind `Judge`.)
 */
import type { Decision, Judge, JudgeInput } from './types.js';

export class GreedyJudge implements Judge {
  readonly name = 'greedy';

  constructor(private readonly minDelta = 0) {}

  decide({ direction, best, candidate }: JudgeInput): Decision {
    const gain = direction === 'minimize' ? best - candidate : candidate - best;
    const fmt = (x: number) => formatDelta(x);
    if (gain > this.minDelta) {
      return { decision: 'keep', reason: `improved by ${fmt(gain)}${this.minDelta > 0 ? ` (> min_delta ${this.minDelta})` : ''}` };
    }
    if (gain > 0) return { decision: 'discard', reason: `improved by only ${fmt(gain)} (<= min_delta ${this.minDelta})` };
    if (gain === 0) return { decision: 'discard', reason: 'no change' };
    return { decision: 'discard', reason: `worse by ${fmt(-gain)}` };
  }
}

function formatDelta(x: number): string {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  return abs >= 0.001 && abs < 1e6 ? x.toFixed(6).replace(/0+$/, '').replace(/\.$/, '') : x.toExponential(3);
}
