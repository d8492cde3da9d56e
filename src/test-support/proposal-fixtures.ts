/**
 * Test support for proposer tests: a plain directory standing for an experiment worktree (the
 * landscape's train.mjs + prepare.mjs), a ProposalContext on it, a parsed [proposer] section, and
 * instant retry dependencies that record the pauses.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { proposerSchema } from '../config/schema.js';
import type { Config } from '../config/load.js';
import type { Experiment } from '../ledger/types.js';
import type { RetryDeps } from '../proposer/llm/retry.js';
import type { ProposalContext } from '../proposer/types.js';
import { LANDSCAPE_PREPARE, LANDSCAPE_TRAIN } from './landscape.js';

export function makeProposalDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ar-proposal-'));
  writeFileSync(join(dir, 'train.mjs'), LANDSCAPE_TRAIN);
  writeFileSync(join(dir, 'prepare.mjs'), LANDSCAPE_PREPARE);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export function experiment(over: Partial<Experiment> & { number: number }): Experiment {
  return {
    id: over.number + 1,
    repairs: [],
    host: null,
    leaseUntil: null,
    studyId: 1,
    baseline: over.number === 0,
    status: 'keep',
    parentCommit: 'a'.repeat(40),
    commit: null,
    description: over.number === 0 ? 'baseline' : `change ${over.number}`,
    diff: '',
    change: null,
    proposer: 'test',
    value: 1.5,
    metrics: {},
    reason: '',
    logPath: null,
    logTail: '',
    exitCode: 0,
    pgid: null,
    attempts: 1,
    usage: null,
    env: {},
    startedAt: 0,
    endedAt: 0,
    proposeMs: 0,
    runMs: 0,
    ...over,
  } as unknown as Experiment;
}

export function proposalContext(worktree: string, over: Partial<ProposalContext> = {}): ProposalContext {
  return {
    worktree,
    editable: ['train.mjs'],
    protected: ['prepare.mjs'],
    objective: { metric: 'val_bpb', direction: 'minimize' },
    parentCommit: 'a'.repeat(40),
    best: { commit: 'a'.repeat(40), value: 1.5, number: 0 },
    number: 1,
    history: [experiment({ number: 0 })],
    program: 'Improve val_bpb. Try the learning rate first.',
    budget: { experimentsLeft: 5, secondsLeft: null },
    inFlight: [],
    ...over,
  };
}

export function proposerConfig(over: Record<string, unknown> = {}): Config['proposer'] {
  return proposerSchema.parse(over);
}

/** Retry dependencies that never wait; `pauses` records each requested pause in ms. */
export function instantRetry(): RetryDeps & { pauses: number[] } {
  const pauses: number[] = [];
  return {
    pauses,
    random: () => 0.5,
    sleep: async (ms, signal) => {
      pauses.push(ms);
      if (signal?.aborted) throw new Error('aborted');
    },
  };
}
