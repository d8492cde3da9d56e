/**
 * Search that does not stall (issue 12, item 4): plateau detection, the search's response (wider
 * steps, untouched constants, moves beyond the exhausted set), the coordinate strategy's rules,
 * the agents' plateau section, and the loop telling proposers (a notice once per plateau).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Experiment } from '../src/ledger/types.js';
import { plateauSection } from '../src/proposer/llm/plateau-section.js';
import { cliPrompt, taskPrompt } from '../src/proposer/llm/prompt.js';
import { plateauOf } from '../src/proposer/plateau.js';
import { findConstants } from '../src/proposer/search/constants.js';
import { chooseCoordinate, type Knob } from '../src/proposer/search/coordinate.js';
import { moveKey, parseChange, type SearchChange } from '../src/proposer/search/history.js';
import { candidateMoves } from '../src/proposer/search/moves.js';
import { SearchProposer } from '../src/proposer/search/search-proposer.js';
import type { ProposalContext } from '../src/proposer/types.js';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { experiment, makeProposalDir, proposalContext } from '../src/test-support/proposal-fixtures.js';
import { scriptedProposer, studiesClosedAfterAll } from '../src/test-support/study-harness.js';

const study = studiesClosedAfterAll();
const P = 'a'.repeat(40);
const change = (name: string, to: string, direction: SearchChange['direction'], level?: number): SearchChange => ({
  file: 'train.mjs',
  name,
  from: '',
  to,
  direction,
  step: 'big',
  ...(level !== undefined ? { level } : {}),
});

describe('plateauOf', () => {
  it('counts experiments that ran since the last keep; rejected, queued and the baseline do not count', () => {
    const h = [
      experiment({ number: 0 }),
      experiment({ number: 1, status: 'keep' }),
      experiment({ number: 2, status: 'discard' }),
      experiment({ number: 3, status: 'rejected' }),
      experiment({ number: 4, status: 'crash' }),
      experiment({ number: 5, status: 'running' }),
      experiment({ number: 6, status: 'timeout' }),
    ];
    assert.deepEqual(plateauOf(h, 3), { since: 3, after: 3, lastKeep: 1 });
    assert.equal(plateauOf(h, 4), null);
    assert.equal(plateauOf(h, 0), null, '0 = never');
    assert.deepEqual(plateauOf([experiment({ number: 0 }), experiment({ number: 1, status: 'discard' })], 1), {
      since: 1,
      after: 1,
      lastKeep: 0,
    });
  });
});

describe('search on a plateau', () => {
  const ctxWith = (dir: string, history: Experiment[], plateau: ProposalContext['plateau']) =>
    proposalContext(dir, { history, plateau, number: history.length, parentCommit: P, inFlight: [] });

  it('takes a wide step, and has moves left when every usual move from the parent was tried', async () => {
    const dir = makeProposalDir();
    const constants = findConstants(readFileSync(join(dir, 'train.mjs'), 'utf8'), 'typescript');
    const usual = constants.flatMap((c) => candidateMoves(c, { file: 'train.mjs' }));
    const history = [
      experiment({ number: 0 }),
      ...usual.map((m, i) =>
        experiment({ number: i + 1, status: 'discard', parentCommit: P, change: change(m.name, m.to, m.direction) }),
      ),
    ];
    const off = await new SearchProposer({ seed: 1 }).propose(ctxWith(dir, history, null));
    assert.equal(off.kind, 'exhausted', 'today: nothing left to try from this parent');
    const plateau = { since: usual.length, after: 10, lastKeep: 0 };
    const on = await new SearchProposer({ seed: 1 }).propose(ctxWith(makeProposalDir(), history, plateau));
    assert.equal(on.kind, 'ok');
    const c = parseChange(on.kind === 'ok' ? on.change : null)!;
    assert.equal(c.step, 'wide');
    assert.equal(c.level, 1);
    assert.ok(!usual.some((m) => moveKey(m) === moveKey(c)), 'a move beyond the usual set');
  });

  it('prefers a constant never changed over one tried before, and a wide step over a small one', async () => {
    // LR tried (long ago, so recency alone does not decide); WIDTH, USE_TRICK, DROPOUT never
    const history = [
      experiment({ number: 0 }),
      experiment({ number: 1, status: 'discard', change: change('LR', '0.02', 'up') }),
      ...Array.from({ length: 12 }, (_, i) => experiment({ number: i + 2, status: 'discard', change: null })),
    ];
    for (let seed = 0; seed < 8; seed++) {
      const r = await new SearchProposer({ seed }).propose(
        ctxWith(makeProposalDir(), history, { since: 13, after: 10, lastKeep: 0 }),
      );
      const c = parseChange(r.kind === 'ok' ? r.change : null)!;
      assert.notEqual(c.name, 'LR', `seed ${seed}`);
      assert.notEqual(c.step, 'small', `seed ${seed}`);
    }
  });
});

describe('coordinate strategy', () => {
  const dir = makeProposalDir();
  const source = readFileSync(join(dir, 'train.mjs'), 'utf8');
  const knobs: Knob[] = findConstants(source, 'typescript').map((constant) => ({
    constant,
    file: 'train.mjs',
    source,
  }));
  const choose = (history: Experiment[], tried: string[] = [], plateau: ProposalContext['plateau'] = null) =>
    chooseCoordinate({
      history,
      knobs,
      exclude: [],
      plateau,
      isOpen: (m) => !tried.includes(moveKey(m)),
      tieBreak: (k) => knobs.indexOf(k) / 10,
    })!.move;
  const e = (number: number, status: Experiment['status'], c: SearchChange) =>
    experiment({ number, status, change: c });

  it('continues a kept line, polls the other direction after one failure, then moves on', () => {
    const m1 = choose([experiment({ number: 0 })]);
    assert.deepEqual([m1.name, m1.direction, m1.level], ['LR', 'up', 0], 'never tried: the first constant, big, up');
    const kept = choose([experiment({ number: 0 }), e(1, 'keep', change('LR', '0.02', 'up', 0))]);
    assert.deepEqual([kept.name, kept.direction], ['LR', 'up'], 'continue the kept line');
    const failed = choose([experiment({ number: 0 }), e(1, 'discard', change('LR', '0.02', 'up', 0))]);
    assert.deepEqual([failed.name, failed.direction], ['LR', 'down'], 'poll the other direction');
    const both = choose([
      experiment({ number: 0 }),
      e(1, 'discard', change('LR', '0.02', 'up', 0)),
      e(2, 'discard', change('LR', '0.005', 'down', 0)),
    ]);
    assert.equal(both.name, 'WIDTH', 'both directions failed: next constant');
  });

  it('refines a constant after both directions failed, and restarts wide past the finest level', () => {
    const base = [experiment({ number: 0 })];
    const fails = (n: number) =>
      Array.from({ length: n }, (_, i) => e(i + 1, 'discard', change('LR', `x${i}`, i % 2 ? 'down' : 'up')));
    // every other constant polled as often, so that LR's turn comes
    const others = (n: number, from: number) =>
      knobs
        .filter((k) => k.constant.name !== 'LR')
        .flatMap((k, j) =>
          Array.from({ length: n }, (_, i) =>
            e(from + j * n + i, 'discard', change(k.constant.name, `y${i}`, i % 2 ? 'down' : 'up')),
          ),
        );
    const at = (n: number) => choose([...base, ...fails(n), ...others(n, 100)]);
    assert.equal(at(2).level, -1);
    assert.equal(at(4).level, -2);
    assert.equal(at(6).level, 1, 'restart at the widest level');
    assert.equal(at(2).name, 'LR');
  });

  it('the strategy runs through SearchProposer and is named for the ledger', async () => {
    const p = new SearchProposer({ seed: 0, strategy: 'coordinate' });
    assert.equal(p.name, 'search:coordinate');
    const r = await p.propose(proposalContext(makeProposalDir(), { inFlight: [] }));
    assert.equal(r.kind, 'ok');
    assert.equal(parseChange(r.kind === 'ok' ? r.change : null)!.level, 0);
  });
});

describe('plateau section for agents', () => {
  const diff = (name: string, from: string, to: string) =>
    `--- a/train.mjs\n+++ b/train.mjs\n@@ -1,1 +1,1 @@\n-const ${name} = ${from};\n+const ${name} = ${to};\n`;
  const history = [
    experiment({ number: 0, value: 1.5 }),
    experiment({ number: 1, status: 'keep', value: 1.4, diff: diff('LR', '0.01', '0.02') }),
    experiment({
      number: 2,
      status: 'discard',
      value: 1.401,
      description: 'WIDTH 32 -> 64',
      diff: diff('WIDTH', '32', '64'),
      evidence: { runs: [1.401], mean: 1.401, spread: 0, bestMean: 1.4, bestRuns: 1, threshold: 0.002 },
    }),
    experiment({
      number: 3,
      status: 'discard',
      value: 1.3995,
      description: 'DROPOUT 0.5 -> 0.4 ```injected fence',
      diff: `${diff('DROPOUT', '0.5', '0.4')}+// \`\`\`\`\n`,
      evidence: { runs: [1.3995], mean: 1.3995, spread: 0, bestMean: 1.4, bestRuns: 1, threshold: 0.002 },
    }),
    experiment({ number: 4, status: 'crash', value: null, diff: '--- a/train.mjs\n+++ b/train.mjs\n+foo();\n' }),
  ];
  it('lists kinds tried, constants never tried, near-misses best first with their diffs; only on a plateau', () => {
    const ctx = proposalContext(makeProposalDir(), { history, plateau: { since: 3, after: 3, lastKeep: 1 } });
    const s = plateauSection(ctx);
    assert.match(s, /# Plateau: no keep in the last 3 experiments that ran \(the last keep is #1\)/);
    assert.match(s, /constants (?=.*LR x1 \(1 kept\))(?=.*WIDTH x1)(?=.*DROPOUT x1).*; other code changes x1\./);
    assert.match(s, /never changed: USE_TRICK\./);
    assert.ok(s.indexOf('## #3 gain 0.0005') < s.indexOf('## #2 gain -0.001'), 'best gain first');
    assert.match(s, /needed 0\.002/);
    assert.match(s, /combine #a \+ #b/);
    assert.match(s, /`````diff\n--- a\/train\.mjs[\s\S]*\+\/\/ ````\n`````/, 'a fence longer than any in the diff');
    assert.match(taskPrompt(ctx), /# Plateau/);
    assert.match(cliPrompt(ctx), /# Plateau/);
    assert.doesNotMatch(taskPrompt({ ...ctx, plateau: null }), /# Plateau/);
    assert.doesNotMatch(taskPrompt(ctx, { description: 'd', reason: 'r', logTail: '', attempt: 1 }), /# Plateau/);
  });
});

describe('the loop on a plateau', () => {
  it('tells the proposer (ctx.plateau) and says so once per plateau', { timeout: 120_000 }, async () => {
    const dir = makeLandscapeRepo({
      extraToml: '[judge]\nkind = "greedy"\nnoise_runs = 1\n[proposer]\nplateau_after = 2\n[slots]\nprefetch = 0\n',
    });
    const seen: Array<ProposalContext['plateau']> = [];
    const p = scriptedProposer('worse', async (ctx, call) => {
      seen.push(ctx.plateau ?? null);
      const f = join(ctx.worktree, 'train.mjs');
      writeFileSync(f, readFileSync(f, 'utf8').replace('const LR = 0.01;', `const LR = ${0.001 / (call + 1)};`));
      return { kind: 'ok', description: `LR down ${call}` };
    });
    const { outcome, events } = await study(dir, { maxExperiments: 4 }, { proposer: p });
    assert.equal(outcome.reason, 'max-experiments', outcome.message);
    assert.equal(outcome.kept, 0);
    assert.deepEqual(seen, [null, null, { since: 2, after: 2, lastKeep: 0 }, { since: 3, after: 2, lastKeep: 0 }]);
    const notices = events.filter((e) => e.type === 'notice' && /^plateau:/.test(e.message));
    assert.equal(notices.length, 1);
  });
});

describe('[proposer] strategy in autoresearch.toml', () => {
  it('strategy = "coordinate" runs the coordinate search through the real loop', { timeout: 120_000 }, async () => {
    const dir = makeLandscapeRepo({
      extraToml:
        '[judge]\nkind = "greedy"\nnoise_runs = 1\n[proposer]\nstrategy = "coordinate"\n[slots]\nprefetch = 0\n',
    });
    const { outcome, ledger, events } = await study(dir, { maxExperiments: 3 });
    assert.equal(outcome.reason, 'max-experiments', outcome.message);
    const started = events.find((e) => e.type === 'study-started');
    assert.equal(started?.type === 'study-started' && started.proposer, 'search:coordinate');
    const all = (await ledger.listExperiments((await ledger.getStudy('test'))!.id)).filter((e) => !e.baseline);
    assert.equal(all.length, 3);
    for (const e of all) {
      assert.equal(e.proposer, 'search:coordinate');
      assert.equal(typeof parseChange(e.change)?.level, 'number', 'coordinate moves record their level');
    }
  });
});
