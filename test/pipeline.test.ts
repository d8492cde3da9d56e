/**
 * The proposal pipeline (issue 10, items 2 and 8): proposals that never ran do not use up
 * --max-experiments, a broken proposer still stops, proposers are told what is in flight (and
 * the search keeps clear of its lines), and several proposals are made at once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { InFlight, ProposalContext } from '../src/proposer/types.js';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { scriptedProposer, studiesClosedAfterAll } from '../src/test-support/study-harness.js';

const study = studiesClosedAfterAll();
const GREEDY = '[judge]\nkind = "greedy"\nnoise_runs = 1\n';

function edit(ctx: ProposalContext, from: string, to: string): void {
  const f = join(ctx.worktree, 'train.mjs');
  writeFileSync(f, readFileSync(f, 'utf8').replace(from, to));
}

describe('proposals that never ran', () => {
  it('a proposal repeating the change in flight is rejected, not counted, and the proposer asked again (-n 2: two ran)', async () => {
    const dir = makeLandscapeRepo({
      command: 'sleep 0.6; node train.mjs',
      extraToml: `${GREEDY}[slots]\ncount = 1\ngpus = "none"\nprefetch = 1\n`,
    });
    const seen: InFlight[][] = [];
    const p = scriptedProposer('scripted', async (ctx, call) => {
      seen.push(ctx.inFlight);
      if (call <= 1)
        edit(ctx, 'const DROPOUT = 0.5;', 'const DROPOUT = 0.3;'); // call 1 repeats call 0, in flight
      else edit(ctx, 'const LR = 0.01;', `const LR = ${0.01 + 0.01 * call};`);
      return { kind: 'ok', description: call <= 1 ? 'DROPOUT 0.5 -> 0.3' : `LR step ${call}` };
    });
    const { outcome, ledger } = await study(dir, { maxExperiments: 2 }, { proposer: p });
    assert.equal(outcome.reason, 'max-experiments');
    assert.equal(outcome.finished, 2, 'two experiments ran');
    assert.equal(outcome.notRun, 1, 'the duplicate is recorded apart');
    const all = (await ledger.listExperiments((await ledger.getStudy('test'))!.id)).slice(1);
    assert.deepEqual(
      all.map((e) => e.status === 'rejected'),
      [false, true, false],
    );
    assert.match(all[1]!.reason, /repeats #1 \(in flight\)/);
    assert.equal(all[1]!.logPath, null, 'never run');
    const dropoutLine =
      readFileSync(join(dir, 'train.mjs'), 'utf8')
        .split('\n')
        .findIndex((l) => l.startsWith('const DROPOUT')) + 1;
    const told = seen[1]!.find((f) => f.number === 1);
    assert.ok(told, `call 1 is told that #1 is in flight: ${JSON.stringify(seen[1])}`);
    assert.deepEqual(told.lines, { 'train.mjs': [dropoutLine] });
    assert.equal(told.description, 'DROPOUT 0.5 -> 0.3');
  });

  it('a proposer whose every proposal is rejected stops the study after [proposer] max_rejections in a row', async () => {
    const dir = makeLandscapeRepo({ extraToml: `${GREEDY}[proposer]\nmax_rejections = 3\n` });
    const p = scriptedProposer('broken', async () => ({ kind: 'failed', reason: 'the model answered garbage' }));
    const { outcome, ledger } = await study(dir, { maxExperiments: 5 }, { proposer: p });
    assert.equal(outcome.reason, 'rejections');
    assert.match(outcome.message, /last 3 proposals in a row ended without running/);
    assert.equal(outcome.finished, 0);
    assert.equal(outcome.notRun, 3);
    const all = (await ledger.listExperiments((await ledger.getStudy('test'))!.id)).slice(1);
    assert.equal(all.length, 3);
  });
});

describe('stopping', () => {
  it('--max-hours stops the pipeline even while it waits for room (the slots stopped taking work)', {
    timeout: 60_000,
  }, async () => {
    const dir = makeLandscapeRepo({
      command: 'sleep 1; node train.mjs',
      extraToml: `${GREEDY}[slots]\ncount = 1\ngpus = "none"\nprefetch = 1\n`,
    });
    const p = scriptedProposer('trials', async (ctx, call) => {
      edit(ctx, 'const LR = 0.01;', `const LR = 0.01;\nconst TRIAL_${call} = ${call};`);
      return { kind: 'ok', description: `trial ${call}` };
    });
    // the baseline takes ~1 s of the budget; then one runs while the next waits in the queue
    const { outcome } = await study(dir, { maxHours: 2.5 / 3600 }, { proposer: p });
    assert.equal(outcome.reason, 'max-hours');
  });
});

describe('search with a change in flight', () => {
  it('one slot, prefetch 1: no prefetched change ends `conflict` by editing the line in flight', async () => {
    // far from the optimum: most steps are kept and the search continues on the kept constant
    const dir = makeLandscapeRepo({ extraToml: `${GREEDY}[slots]\ncount = 1\ngpus = "none"\nprefetch = 1\n` });
    const { outcome, ledger } = await study(dir, { maxExperiments: 14 });
    const all = (await ledger.listExperiments((await ledger.getStudy('test'))!.id)).slice(1);
    assert.ok(all.filter((e) => e.status === 'keep').length >= 3, 'keep-heavy');
    assert.deepEqual(
      all.filter((e) => e.status === 'conflict').map((e) => `#${e.number} ${e.description}: ${e.reason}`),
      [],
    );
    assert.ok(outcome.finished >= 10 || outcome.reason === 'exhausted', `${outcome.reason} ${outcome.finished}`);
  });
});

describe('[proposer] concurrency', () => {
  it('defaults to the number of slots: proposals are made at once, each in its own worktree, each told of the others', async () => {
    const dir = makeLandscapeRepo({
      command: 'sleep 0.3; node train.mjs',
      extraToml: `${GREEDY}[slots]\ncount = 2\ngpus = "none"\nprefetch = 0\n`,
    });
    let active = 0;
    let peak = 0;
    const trees = new Set<string>();
    let toldOfOther = false;
    const p = scriptedProposer('slow', async (ctx, call) => {
      peak = Math.max(peak, ++active);
      trees.add(basename(ctx.worktree));
      await new Promise((r) => setTimeout(r, 400));
      toldOfOther ||= ctx.inFlight.some((f) => f.number === null);
      // a unique unused constant on its own line: nothing is kept, nothing conflicts
      edit(ctx, 'const LR = 0.01;', `const LR = 0.01;\nconst TRIAL_${call} = ${call};`);
      active--;
      return { kind: 'ok', description: `trial ${call}` };
    });
    const { outcome } = await study(dir, { maxExperiments: 4 }, { proposer: p });
    assert.equal(outcome.reason, 'max-experiments');
    assert.equal(peak, 2, 'two proposals at once');
    assert.deepEqual([...trees].sort(), ['propose-0', 'propose-1']);
    assert.ok(toldOfOther, 'a proposal was told that another one was being made');
  });

  it('[proposer] concurrency = 1 makes one proposal at a time', async () => {
    const dir = makeLandscapeRepo({
      extraToml: `${GREEDY}[slots]\ncount = 2\ngpus = "none"\nprefetch = 0\n[proposer]\nconcurrency = 1\n`,
    });
    let active = 0;
    let peak = 0;
    const p = scriptedProposer('slow', async (ctx, call) => {
      peak = Math.max(peak, ++active);
      await new Promise((r) => setTimeout(r, 200));
      edit(ctx, 'const LR = 0.01;', `const LR = 0.01;\nconst TRIAL_${call} = ${call};`);
      active--;
      return { kind: 'ok', description: `trial ${call}` };
    });
    const { outcome } = await study(dir, { maxExperiments: 3 }, { proposer: p });
    assert.equal(outcome.finished, 3);
    assert.equal(peak, 1);
  });
});
