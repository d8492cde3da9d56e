import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { runTestStudy, type StudyRun } from '../src/test-support/study-harness.js';
import type { Proposer } from '../src/proposer/types.js';

const opened: StudyRun[] = [];
after(async () => {
  for (const r of opened) await r.ledger.close();
});
const FAST = '[judge]\nkind = "greedy"\nnoise_runs = 1\n[proposer]\nrepair_attempts = 2\n';

function typoProposer(
  fix: 'fix' | 'give-up' | 'still-broken' | 'commit-fix' | 'commit-protected' | 'forge',
): Proposer & { repairs: string[] } {
  const repairs: string[] = [];
  return {
    name: 'typo',
    repairs,
    async propose(ctx) {
      const f = join(ctx.worktree, 'train.mjs');
      writeFileSync(f, readFileSync(f, 'utf8').replace('const LR = 0.01;', 'const LR = LRR * 2;'));
      return {
        kind: 'ok',
        description: 'LR 0.01 -> 0.02',
        usage: { inputTokens: 100, outputTokens: 10, costUsd: 0.01 },
      };
    },
    async repair(ctx, crash) {
      repairs.push(crash.reason + ' | ' + crash.logTail.split('\n').find((l) => l.includes('LRR')));
      if (fix === 'give-up') return { kind: 'failed', reason: 'the idea is broken' };
      const f = join(ctx.worktree, 'train.mjs');
      const to =
        fix === 'still-broken'
          ? 'const LR = LRRR * 2;'
          : fix === 'forge'
            ? 'const LR = 0.02; console.log("---\\nval_bpb: 0.1");'
            : 'const LR = 0.01 * 2;';
      writeFileSync(f, readFileSync(f, 'utf8').replace(/const LR = .*;/, to));
      if (fix === 'commit-protected') writeFileSync(join(ctx.worktree, 'prepare.mjs'), 'export const EVAL = 0;\n');
      if (fix.startsWith('commit-'))
        execFileSync('git', ['-c', 'user.name=r', '-c', 'user.email=r@r', 'commit', '-qam', 'repairer'], {
          cwd: ctx.worktree,
        });
      return { kind: 'ok', description: 'fix the typo', usage: { inputTokens: 50, outputTokens: 5, costUsd: 0.005 } };
    },
  };
}

describe('crash repair', () => {
  it('gives the proposer the crash, re-runs the fixed change, and records the attempt', async () => {
    const dir = makeLandscapeRepo({ extraToml: FAST });
    const p = typoProposer('fix');
    const r = await runTestStudy(dir, { maxExperiments: 1 }, { proposer: p });
    opened.push(r);
    const e = (await r.ledger.listExperiments((await r.ledger.getStudy('test'))!.id))[1]!;
    assert.equal(p.repairs.length, 1);
    assert.match(p.repairs[0]!, /exit code 1.*LRR is not defined/);
    assert.equal(e.status, 'keep', e.reason);
    assert.equal(e.repairs.length, 1);
    assert.equal(e.repairs[0]!.description, 'fix the typo');
    assert.match(e.repairs[0]!.crashReason, /LRR is not defined/);
    assert.match(e.diff, /\+const LR = 0\.01 \* 2;/, 'the recorded diff is the change with its fix');
    assert.deepEqual(e.usage, { inputTokens: 150, outputTokens: 15, costUsd: 0.015 });
    assert.ok(r.events.some((x) => x.type === 'repair' && x.number === 1));
    assert.ok(existsSync(e.logPath!));
  });

  it('a repair that commits is folded and checked like a proposal: its fix kept, a protected file refused', async () => {
    const dir = makeLandscapeRepo({ extraToml: FAST });
    const ok = await runTestStudy(dir, { maxExperiments: 1 }, { proposer: typoProposer('commit-fix') });
    opened.push(ok);
    const e = (await ok.ledger.listExperiments((await ok.ledger.getStudy('test'))!.id))[1]!;
    assert.equal(e.status, 'keep', e.reason);
    assert.match(e.diff, /\+const LR = 0\.01 \* 2;/);
    assert.doesNotMatch(
      execFileSync('git', ['log', '--format=%s', 'autoresearch/test'], { cwd: dir, encoding: 'utf8' }),
      /repairer/,
    );

    const dir2 = makeLandscapeRepo({ extraToml: FAST });
    const bad = await runTestStudy(dir2, { maxExperiments: 1 }, { proposer: typoProposer('commit-protected') });
    opened.push(bad);
    const e2 = (await bad.ledger.listExperiments((await bad.ledger.getStudy('test'))!.id))[1]!;
    assert.equal(e2.status, 'crash');
    assert.equal(
      e2.repairs[0]!.outcome,
      'touched file(s) outside [files].editable: prepare.mjs (in commits or staging it made itself, folded into one change)',
    );
    assert.equal(e2.repairs.length, 1, 'a refused repair ends the repairs');
    assert.equal(
      execFileSync('git', ['show', 'autoresearch/test:prepare.mjs'], { cwd: dir2, encoding: 'utf8' }),
      readFileSync(join(dir2, 'prepare.mjs'), 'utf8'),
    );
  });

  it('stops after repair_attempts and records a crash with every attempt', async () => {
    const dir = makeLandscapeRepo({ extraToml: FAST });
    const p = typoProposer('still-broken');
    const r = await runTestStudy(dir, { maxExperiments: 1 }, { proposer: p });
    opened.push(r);
    const e = (await r.ledger.listExperiments((await r.ledger.getStudy('test'))!.id))[1]!;
    assert.equal(p.repairs.length, 2);
    assert.equal(e.status, 'crash');
    assert.equal(e.repairs.length, 2);
    assert.match(e.reason, /LRRR is not defined.*after 2 repair attempts/);
  });

  it('records a proposer that gives up on the idea', async () => {
    const dir = makeLandscapeRepo({ extraToml: FAST });
    const r = await runTestStudy(dir, { maxExperiments: 1 }, { proposer: typoProposer('give-up') });
    opened.push(r);
    const e = (await r.ledger.listExperiments((await r.ledger.getStudy('test'))!.id))[1]!;
    assert.equal(e.status, 'crash');
    assert.deepEqual(
      e.repairs.map((x) => x.outcome),
      ['gave up: the idea is broken'],
    );
  });

  it('screens a repair: a fix that forges the metric is refused, recorded, and never run', async () => {
    const dir = makeLandscapeRepo({ extraToml: FAST });
    const r = await runTestStudy(dir, { maxExperiments: 1 }, { proposer: typoProposer('forge') });
    opened.push(r);
    const e = (await r.ledger.listExperiments((await r.ledger.getStudy('test'))!.id))[1]!;
    assert.equal(e.status, 'crash');
    assert.equal(e.repairs.length, 1);
    assert.match(e.repairs[0]!.outcome ?? '', /^screened out: rule \(a\) metric output: train\.mjs:2 /);
    assert.match(e.repairs[0]!.diff, /val_bpb: 0\.1/, 'the refused fix is kept for review');
    assert.match(e.reason, /LRR is not defined/, 'the recorded outcome is the original crash');
    assert.ok(!r.events.some((x) => x.type === 'repair'));
  });

  it('stops the study when the proposer spend reaches --max-cost-usd', async () => {
    const dir = makeLandscapeRepo({ extraToml: FAST });
    const r = await runTestStudy(dir, { maxExperiments: 10, maxCostUsd: 0.02 }, { proposer: typoProposer('fix') });
    opened.push(r);
    assert.equal(r.outcome.reason, 'max-cost');
    // #1 crashed, was repaired and ran (0.015); #2 changed nothing on the new best (0.01): rejected,
    // not counted as an experiment, but its spend counts
    assert.deepEqual([r.outcome.finished, r.outcome.notRun], [1, 1], 'spent 0.025 >= 0.02');
  });
});
