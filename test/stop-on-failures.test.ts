/**
 * "Pause when it stops making sense" (issue 12, item 6): a study whose last experiments mostly
 * crashed or were rejected stops cleanly with reason 'failures', the rate, and the last errors;
 * `autoresearch run` after that starts with a fresh window. Real git, SQLite, child processes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Experiment } from '../src/ledger/types.js';
import { failuresMessage, tooManyFailures } from '../src/loop/failures.js';
import type { ProposalContext } from '../src/proposer/types.js';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { scriptedProposer, studiesClosedAfterAll } from '../src/test-support/study-harness.js';

const study = studiesClosedAfterAll();
const BASE =
  '[judge]\nkind = "greedy"\nnoise_runs = 1\n[proposer]\nrepair_attempts = 0\n[slots]\ncount = 1\ngpus = "none"\nprefetch = 0\n';

function append(ctx: ProposalContext, line: string): void {
  const f = join(ctx.worktree, 'train.mjs');
  writeFileSync(f, `${readFileSync(f, 'utf8')}\n${line}\n`);
}

/** Only crashing changes (each a different error, so none is a duplicate of another). */
const crasher = () =>
  scriptedProposer('crasher', async (ctx, call) => {
    append(ctx, `throw new Error("boom ${call}: shape mismatch");`);
    return { kind: 'ok', description: `crashing change ${call}` };
  });

describe('a study that only fails', () => {
  it('stops with reason "failures" after the window, listing the last errors; a resume gets a fresh window', {
    timeout: 120_000,
  }, async () => {
    const dir = makeLandscapeRepo({ extraToml: BASE, studyToml: 'failure_window = 4\nfailure_rate = 0.75' });
    const first = await study(dir, { maxExperiments: 20 }, { proposer: crasher() });
    assert.equal(first.outcome.reason, 'failures', first.outcome.message);
    assert.equal(first.outcome.finished, 4, 'four ran (and crashed), then it stopped');
    assert.match(first.outcome.message, /4 of the last 4 experiments crashed, timed out or were rejected/);
    assert.match(first.outcome.message, /failure_rate 0\.75 of failure_window 4/);
    assert.match(first.outcome.message, /last errors, newest first:\n {2}#4 crash: .*boom 3: shape mismatch/);
    assert.match(first.outcome.message, /#1 crash: .*boom 0/);
    const stopped = first.events.at(-1)!;
    assert.equal(stopped.type, 'study-stopped');
    // the ledger is consistent: nothing left running, the best is still the baseline
    const s = (await first.ledger.getStudy('test'))!;
    const all = await first.ledger.listExperiments(s.id);
    assert.ok(all.every((e) => e.status !== 'running'));
    assert.equal(s.bestNumber, 0);

    // resumed (same failing proposer): the old failures do not count, four new ones are run
    const second = await study(dir, { maxExperiments: 20 }, { proposer: crasher() });
    assert.equal(second.outcome.reason, 'failures');
    assert.equal(second.outcome.finished, 8);
  });

  it('a mix under the rate goes on: 2 crashes in every 4 with failure_rate 0.75', { timeout: 120_000 }, async () => {
    const dir = makeLandscapeRepo({ extraToml: BASE, studyToml: 'failure_window = 4\nfailure_rate = 0.75' });
    const p = scriptedProposer('half', async (ctx, call) => {
      if (call % 2 === 0) append(ctx, `throw new Error("boom ${call}");`);
      else append(ctx, `const TRIAL_${call} = ${call};`);
      return { kind: 'ok', description: `change ${call}` };
    });
    const { outcome } = await study(dir, { maxExperiments: 6 }, { proposer: p });
    assert.equal(outcome.reason, 'max-experiments');
    assert.equal(outcome.finished, 6);
  });

  it('rejections count as failures; failure_window = 0 never stops', { timeout: 120_000 }, async () => {
    const dir = makeLandscapeRepo({
      extraToml: BASE.replace('[slots]', 'max_rejections = 0\n[slots]'),
      studyToml: 'failure_window = 3\nfailure_rate = 1',
    });
    const p = scriptedProposer('rejected', async (ctx, call) => {
      writeFileSync(join(ctx.worktree, 'prepare.mjs'), `export const EVAL = ${call + 2};\n`); // protected
      return { kind: 'ok', description: `touches the evaluation ${call}` };
    });
    const { outcome } = await study(dir, { maxExperiments: 5 }, { proposer: p });
    assert.equal(outcome.reason, 'failures');
    assert.equal(outcome.notRun, 3);
    assert.match(outcome.message, /#3 rejected: .*prepare\.mjs/);

    const off = makeLandscapeRepo({ extraToml: BASE, studyToml: 'failure_window = 0' });
    const r = await study(off, { maxExperiments: 3 }, { proposer: crasher() });
    assert.equal(r.outcome.reason, 'max-experiments');
  });
});

describe('tooManyFailures', () => {
  const e = (number: number, status: Experiment['status'], startedAt = 10): Experiment =>
    ({
      number,
      status,
      baseline: number === 0,
      startedAt,
      reason: `r${number}`,
      description: `d${number}`,
    }) as Experiment;
  it('counts the last decided experiments since the start, not the baseline, running ones or conflicts', () => {
    const s = { window: 3, rate: 0.6 };
    assert.equal(tooManyFailures([e(0, 'crash'), e(1, 'crash'), e(2, 'crash')], s), null, 'only 2 decided');
    assert.ok(tooManyFailures([e(1, 'crash'), e(2, 'keep'), e(3, 'timeout')], s), '2 of 3 >= 0.6');
    assert.equal(tooManyFailures([e(1, 'crash'), e(2, 'conflict'), e(3, 'discard'), e(4, 'running')], s), null);
    assert.equal(tooManyFailures([e(1, 'crash', 1), e(2, 'crash', 1), e(3, 'crash', 1)], s, 5), null, 'before since');
    assert.equal(tooManyFailures([e(1, 'crash'), e(2, 'crash'), e(3, 'crash')], { window: 0, rate: 1 }), null);
    assert.match(failuresMessage([e(1, 'crash'), e(2, 'rejected'), e(3, 'keep')], s), /#2 rejected: r2 \(d2\)\n {2}#1/);
  });
});
