/**
 * Queued experiments: proposed, recorded and committed, but never started on a slot (a clean
 * stop — `--max-hours`, Ctrl-C, a budget — leaves the prefetched ones so). The ledger keeps them
 * as `running` with no slot: `run` re-queues every `running` experiment on resume and starts
 * these as first attempts (a slot is set only when one starts it). They are not interrupted
 * runs: nothing of theirs ran, nothing to kill, and status shows them as `queued`.
 */
import type { Experiment } from '../ledger/types.js';

/** True for an experiment waiting in the queue: not finished, not a baseline, never on a slot. */
export function isQueued(e: Pick<Experiment, 'status' | 'baseline' | 'slot'>): boolean {
  return e.status === 'running' && !e.baseline && e.slot === null;
}

/** The sentence for a stop that leaves queued experiments behind, or '' when there are none. */
export function queuedNote(all: readonly Experiment[]): string {
  const n = all.filter(isQueued).length;
  if (n === 0) return '';
  return `; ${n} proposed experiment${n === 1 ? '' : 's'} not started (queued): the next \`autoresearch run\` starts ${n === 1 ? 'it' : 'them'}`;
}
