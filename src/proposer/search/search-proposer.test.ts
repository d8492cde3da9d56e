import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Experiment, FinalStatus } from '../../ledger/types.js';
import type { ProposalContext, ProposalResult } from '../types.js';
import { parseChange, type SearchChange } from './history.js';
import { SearchProposer } from './search-proposer.js';

const TRAIN_PY = `import torch

# Model architecture
DEPTH = 8
ASPECT_RATIO = 64  # model_dim = depth * ASPECT_RATIO
HEAD_DIM = 128
WINDOW_PATTERN = "SSSL"  # "L" full, "S" half
# Optimization
TOTAL_BATCH_SIZE = 2**19
EMBEDDING_LR = 0.6
MATRIX_LR = 0.04
WEIGHT_DECAY = 0.2
ADAM_BETAS = (0.8, 0.95)
WARMUP_RATIO = 0.0
WARMDOWN_RATIO = 0.5
FINAL_LR_FRAC = 0.0
DEVICE_BATCH_SIZE = 128
TIME_BUDGET = 300

def train():
    LR = 0.1
`;
const PARENT = 'abc1234def5678900000000000000000000000000';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function worktree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'search-proposer-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

function experiment(number: number, over: Partial<Experiment> = {}): Experiment {
  return {
    id: number + 1,
    studyId: 1,
    number,
    baseline: false,
    status: 'discard',
    parentCommit: PARENT,
    commit: null,
    description: '',
    diff: '',
    change: null,
    proposer: 'search',
    value: null,
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
    slot: null,
    evidence: null,
    repairs: [],
    host: null,
    leaseUntil: null,
    ...over,
  };
}

const baseline = () => experiment(0, { baseline: true, status: 'keep', proposer: 'baseline', value: 1.0 });

function context(dir: string, over: Partial<ProposalContext> = {}): ProposalContext {
  const history = over.history ?? [baseline()];
  return {
    worktree: dir,
    editable: ['train.py'],
    protected: ['prepare.py'],
    objective: { metric: 'val_bpb', direction: 'minimize' },
    parentCommit: PARENT,
    best: { commit: PARENT, value: 1.0, number: 0 },
    number: history.length,
    history,
    program: null,
    budget: { experimentsLeft: null, secondsLeft: null },
    inFlight: [],
    ...over,
  };
}

function changeOf(r: ProposalResult): SearchChange {
  assert.equal(r.kind, 'ok', JSON.stringify(r));
  const c = parseChange(r.kind === 'ok' ? r.change : null);
  assert.ok(c);
  return c;
}

/** Runs `n` proposals on the same parent, recording each with the scripted status; resets the file after each. */
async function simulate(
  dir: string,
  source: string,
  n: number,
  seed = 7,
): Promise<{ results: ProposalResult[]; history: Experiment[] }> {
  const proposer = new SearchProposer({ seed });
  const history = [baseline()];
  const results: ProposalResult[] = [];
  const script: FinalStatus[] = ['discard', 'crash', 'discard', 'timeout', 'discard'];
  for (let i = 0; i < n; i++) {
    await writeFile(join(dir, 'train.py'), source);
    const r = await proposer.propose(context(dir, { history: [...history] }));
    results.push(r);
    if (r.kind !== 'ok') break;
    history.push(
      experiment(history.length, { status: script[i % script.length], change: r.change, description: r.description }),
    );
  }
  return { results, history };
}

test('proposes one change, writes only that literal, describes it', async () => {
  const dir = await worktree({ 'train.py': TRAIN_PY });
  const r = await new SearchProposer({ seed: 1 }).propose(context(dir));
  const c = changeOf(r);
  assert.equal(r.kind === 'ok' && r.description, `${c.name} ${c.from} -> ${c.to}`);
  assert.equal(c.file, 'train.py');
  const after = await readFile(join(dir, 'train.py'), 'utf8');
  const beforeLines = TRAIN_PY.split('\n');
  const afterLines = after.split('\n');
  const changed = beforeLines.flatMap((l, i) => (l === afterLines[i] ? [] : [i]));
  assert.equal(changed.length, 1);
  assert.equal(afterLines[changed[0]!], beforeLines[changed[0]!]!.replace(c.from, c.to));
  assert.notEqual(c.name, 'TIME_BUDGET');
});

test('deterministic: same context and seed give the same proposal; seeds vary it', async () => {
  const outs: string[] = [];
  for (let i = 0; i < 2; i++) {
    const dir = await worktree({ 'train.py': TRAIN_PY });
    const r = await new SearchProposer({ seed: 42 }).propose(context(dir));
    outs.push(JSON.stringify(r) + (await readFile(join(dir, 'train.py'), 'utf8')));
  }
  assert.equal(outs[0], outs[1]);
  const descriptions = new Set<string>();
  for (let seed = 0; seed < 20; seed++) {
    const dir = await worktree({ 'train.py': TRAIN_PY });
    const r = await new SearchProposer({ seed }).propose(context(dir));
    descriptions.add(r.kind === 'ok' ? r.description : r.kind);
  }
  assert.ok(descriptions.size > 3, [...descriptions].join(', '));
});

test('never repeats a (parent, change) pair, visits every constant before revisiting one, then is exhausted', async () => {
  const dir = await worktree({ 'train.py': TRAIN_PY });
  const { results, history } = await simulate(dir, TRAIN_PY, 40);
  const oks = results.filter((r) => r.kind === 'ok');
  assert.ok(oks.length >= 30, `only ${oks.length} proposals`);
  const keys = history.slice(1).map((e) => {
    const c = parseChange(e.change)!;
    return `${e.parentCommit} ${c.file} ${c.name} ${c.to}`;
  });
  assert.equal(new Set(keys).size, keys.length);
  const movable = 11; // every constant but WINDOW_PATTERN (no alternatives), ADAM_BETAS (tuple), TIME_BUDGET
  const firstRound = history.slice(1, 1 + movable).map((e) => parseChange(e.change)!.name);
  assert.equal(new Set(firstRound).size, movable, firstRound.join(', '));
  const last = results.at(-1)!;
  assert.equal(last.kind, 'exhausted');
  assert.match(
    last.kind === 'exhausted' ? last.reason : '',
    /^every move of the \d+ constants in train\.py was tried from abc1234$/,
  );
  // a new parent opens every move again
  await writeFile(join(dir, 'train.py'), TRAIN_PY);
  const r = await new SearchProposer({ seed: 7 }).propose(
    context(dir, { history, number: history.length, parentCommit: 'f'.repeat(40) }),
  );
  assert.equal(r.kind, 'ok');
});

test('a file with 2 constants is exhausted after its 5 moves', async () => {
  const src = 'LR = 0.01  # learning rate\nUSE_BIAS = True\n';
  const dir = await worktree({ 'train.py': src });
  const { results } = await simulate(dir, src, 10, 3);
  assert.deepEqual(
    results.map((r) => r.kind),
    ['ok', 'ok', 'ok', 'ok', 'ok', 'exhausted'],
  );
  const last = results[5]!;
  assert.equal(
    last.kind === 'exhausted' && last.reason,
    'every move of the 2 constants in train.py was tried from abc1234',
  );
  const descriptions = results
    .slice(0, 5)
    .map((r) => (r.kind === 'ok' ? r.description : ''))
    .sort();
  assert.deepEqual(descriptions, [
    'LR 0.01 -> 0.005',
    'LR 0.01 -> 0.008',
    'LR 0.01 -> 0.0125',
    'LR 0.01 -> 0.02',
    'USE_BIAS True -> False',
  ]);
});

test('after a keep it continues in the same direction with a small step, then a big one', async () => {
  const kept = 'c'.repeat(40);
  const dir = await worktree({ 'train.py': TRAIN_PY.replace('MATRIX_LR = 0.04', 'MATRIX_LR = 0.08') });
  const keep = experiment(1, {
    status: 'keep',
    commit: kept,
    value: 0.99,
    change: { file: 'train.py', name: 'MATRIX_LR', from: '0.04', to: '0.08', direction: 'up', step: 'big' },
  });
  const history = [baseline(), keep];
  const best = { commit: kept, value: 0.99, number: 1 };
  const proposer = new SearchProposer({ seed: 5 });
  const r1 = await proposer.propose(context(dir, { history, best, parentCommit: kept }));
  assert.equal(r1.kind === 'ok' && r1.description, 'MATRIX_LR 0.08 -> 0.1');
  assert.equal(changeOf(r1).step, 'small');
  assert.match(await readFile(join(dir, 'train.py'), 'utf8'), /^MATRIX_LR = 0\.1$/m);

  history.push(experiment(2, { parentCommit: kept, status: 'discard', change: changeOf(r1) }));
  await writeFile(join(dir, 'train.py'), TRAIN_PY.replace('MATRIX_LR = 0.04', 'MATRIX_LR = 0.08'));
  const r2 = await proposer.propose(context(dir, { history, best, parentCommit: kept }));
  assert.equal(r2.kind === 'ok' && r2.description, 'MATRIX_LR 0.08 -> 0.16');

  history.push(experiment(3, { parentCommit: kept, status: 'discard', change: changeOf(r2) }));
  await writeFile(join(dir, 'train.py'), TRAIN_PY.replace('MATRIX_LR = 0.04', 'MATRIX_LR = 0.08'));
  const r3 = await proposer.propose(context(dir, { history, best, parentCommit: kept }));
  const c3 = changeOf(r3);
  assert.ok(!(c3.name === 'MATRIX_LR' && c3.direction === 'up'), JSON.stringify(c3));
});

test('directions that failed before anywhere are penalised', async () => {
  const dir = await worktree({ 'train.py': 'A_LR = 0.1\nB_LR = 0.1\n' });
  const failed = [1, 2, 3].map((n) =>
    experiment(n, {
      parentCommit: `${n}`.repeat(40),
      change: { file: 'train.py', name: 'A_LR', from: '0.1', to: '0.2', direction: 'up', step: 'big' },
    }),
  );
  for (let seed = 0; seed < 10; seed++) {
    const r = await new SearchProposer({ seed }).propose(
      context(dir, { history: [baseline(), ...failed], number: 50 }),
    );
    const c = changeOf(r);
    assert.ok(!(c.name === 'A_LR' && c.direction === 'up'), `seed ${seed}: ${JSON.stringify(c)}`);
    await writeFile(join(dir, 'train.py'), 'A_LR = 0.1\nB_LR = 0.1\n');
  }
});

test('works on a TypeScript editable file', async () => {
  const src =
    "export const LR = 3e-4; // learning rate\nconst USE_BIAS: boolean = false;\nlet ACT = 'relu'; // 'relu' | 'gelu'\n";
  const dir = await worktree({ 'train.ts': src });
  const r = await new SearchProposer({ seed: 0 }).propose(context(dir, { editable: ['train.ts'] }));
  const c = changeOf(r);
  assert.equal(c.file, 'train.ts');
  const after = await readFile(join(dir, 'train.ts'), 'utf8');
  assert.equal(after.length - src.length, c.to.length - c.from.length);
  assert.ok(after.includes(c.to));
});

test("'failed' without constants, 'exhausted' when nothing can move, 'aborted' on abort", async () => {
  const dir = await worktree({
    'train.py': 'import torch\nmodel = torch.nn.Linear(2, 2)\n',
    'seeded.py': 'SEED = 1\n',
  });
  const p = new SearchProposer({ seed: 0, exclude: ['LR'] });
  const r = await p.propose(context(dir));
  assert.deepEqual(r, {
    kind: 'failed',
    reason: 'no UPPER_CASE constants found in train.py; the search proposer needs knobs like LR = 0.01',
  });
  const missing = await p.propose(context(dir, { editable: ['nope.py'] }));
  assert.equal(missing.kind, 'failed');
  const none = await p.propose(context(dir, { editable: ['seeded.py'] }));
  assert.equal(none.kind, 'exhausted');
  const ctl = new AbortController();
  ctl.abort();
  assert.deepEqual(await p.propose(context(dir), ctl.signal), { kind: 'failed', reason: 'aborted' });
  await writeFile(join(dir, 'train.py'), 'LR = 0.1\n');
  assert.equal((await p.propose(context(dir))).kind, 'exhausted');
});

test('skips moves other hub contributors tried from this best, until none else is left', async () => {
  const src = 'LR = 0.01  # learning rate\nUSE_BIAS = True\n';
  const dir = await worktree({ 'train.py': src });
  const byOthers = ['LR 0.01 -> 0.005', 'LR 0.01 -> 0.008', 'LR 0.01 -> 0.0125', 'LR 0.01 -> 0.02'];
  const others = {
    tried: byOthers.map((description) => ({ contributor: 'bob', description, status: 'discard', value: 1.1 })),
    notes: [],
  };
  const proposer = new SearchProposer({ seed: 3 });
  const first = await proposer.propose(context(dir, { others }));
  assert.equal(first.kind === 'ok' && first.description, 'USE_BIAS True -> False', 'the one move nobody tried');
  // that one tried here too: the others' moves are proposed rather than stopping (exhausted)
  await writeFile(join(dir, 'train.py'), src);
  const history = [baseline(), experiment(1, { change: first.kind === 'ok' ? first.change : null })];
  const second = await new SearchProposer({ seed: 3 }).propose(context(dir, { others, history }));
  assert.equal(second.kind, 'ok');
  assert.ok(byOthers.includes(second.kind === 'ok' ? second.description : ''));
});
