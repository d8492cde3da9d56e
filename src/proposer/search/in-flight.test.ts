import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Experiment } from '../../ledger/types.js';
import type { InFlight, ProposalContext, ProposalResult } from '../types.js';
import { parseChange, type SearchChange } from './history.js';
import { SearchProposer } from './search-proposer.js';
import { experiment as fixture } from '../../test-support/proposal-fixtures.js';

const TRAIN_PY = [
  'import torch',
  '',
  'DEPTH = 8',
  'EMBEDDING_LR = 0.6',
  'MATRIX_LR = 0.04',
  'WEIGHT_DECAY = 0.2',
  'WARMUP_RATIO = 0.0',
  '',
].join('\n');
const OLD = 'a'.repeat(40);
const BEST = 'b'.repeat(40);

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function worktree(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'search-inflight-'));
  dirs.push(dir);
  await writeFile(join(dir, 'train.py'), TRAIN_PY);
  return dir;
}

/** A finished search experiment (the shared fixture, with this file's defaults). */
function experiment(number: number, over: Partial<Experiment> = {}): Experiment {
  return fixture({
    number,
    baseline: false,
    status: 'discard',
    parentCommit: BEST,
    description: '',
    proposer: 'search',
    value: null,
    exitCode: 0,
    slot: null,
    evidence: null,
    ...over,
  });
}

/** Best = #1, a kept search step MATRIX_LR up (so the search wants to continue on MATRIX_LR). */
const KEPT: SearchChange = {
  file: 'train.py',
  name: 'MATRIX_LR',
  from: '0.03',
  to: '0.04',
  direction: 'up',
  step: 'small',
};
const base = () => [
  experiment(0, { baseline: true, status: 'keep', proposer: 'baseline', parentCommit: OLD, value: 1.0 }),
  experiment(1, { status: 'keep', parentCommit: OLD, commit: BEST, value: 0.9, change: KEPT }),
];

function context(dir: string, history: Experiment[], inFlight: InFlight[]): ProposalContext {
  return {
    worktree: dir,
    editable: ['train.py'],
    protected: [],
    objective: { metric: 'val_bpb', direction: 'minimize' },
    parentCommit: BEST,
    best: { commit: BEST, value: 0.9, number: 1 },
    number: history.length,
    history,
    inFlight,
    program: null,
    budget: { experimentsLeft: null, secondsLeft: null },
  };
}

function changeOf(r: ProposalResult): SearchChange {
  assert.equal(r.kind, 'ok', JSON.stringify(r));
  return parseChange(r.kind === 'ok' ? r.change : null)!;
}

const lineOf = (name: string) => TRAIN_PY.split('\n').findIndex((l) => l.startsWith(`${name} =`)) + 1;

test('the search steers clear of the line a change in flight touches', async () => {
  // #2, in flight: the follow-up on MATRIX_LR (what the search picks first)
  const first = changeOf(await new SearchProposer({ seed: 3 }).propose(context(await worktree(), base(), [])));
  assert.equal(first.name, 'MATRIX_LR');
  const running = experiment(2, {
    status: 'running',
    change: first,
    description: `MATRIX_LR ${first.from} -> ${first.to}`,
  });
  const history = [...base(), running];
  const line = lineOf('MATRIX_LR');
  const inFlight: InFlight = {
    number: 2,
    description: running.description,
    parentCommit: BEST,
    diff: '(diff)',
    lines: { 'train.py': [line] },
    change: null,
  };

  // told only through the history (the old context): the next follow-up edits the same line
  const blind = changeOf(await new SearchProposer({ seed: 3 }).propose(context(await worktree(), history, [])));
  assert.equal(blind.name, 'MATRIX_LR', 'without the in-flight lines it continues on the line in flight');

  const dir = await worktree();
  const told = changeOf(await new SearchProposer({ seed: 3 }).propose(context(dir, history, [inFlight])));
  assert.notEqual(told.name, 'MATRIX_LR');
  const after = (await readFile(join(dir, 'train.py'), 'utf8')).split('\n');
  assert.equal(after[line - 1], TRAIN_PY.split('\n')[line - 1], 'the line in flight is untouched');
});

test('concurrent calls with the same context choose different constants; called one at a time it has no memory', async () => {
  const p = new SearchProposer({ seed: 5 });
  const history = [
    experiment(0, { baseline: true, status: 'keep', proposer: 'baseline', parentCommit: BEST, value: 1.0 }),
  ];
  const ctxs = await Promise.all([1, 2, 3].map(async () => context(await worktree(), history, [])));
  for (const c of ctxs) c.best = { commit: BEST, value: 1.0, number: 0 };
  const results = await Promise.all(ctxs.map((c) => p.propose(c)));
  const names = results.map((r) => changeOf(r).name);
  assert.equal(new Set(names).size, 3, names.join(', '));

  // once the history shows them finished, the same instance chooses as a fresh one would
  const done = [...history, ...results.map((r, i) => experiment(i + 1, { status: 'discard', change: changeOf(r) }))];
  const next = async (q: SearchProposer) => {
    const c = context(await worktree(), done, []);
    c.best = { commit: BEST, value: 1.0, number: 0 };
    return JSON.stringify(await q.propose(c));
  };
  assert.equal(await next(p), await next(new SearchProposer({ seed: 5 })));
});
