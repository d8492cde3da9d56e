import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { runTestStudy, scriptedProposer, type StudyRun } from '../src/test-support/study-harness.js';

const opened: StudyRun[] = [];
after(async () => {
  for (const r of opened) await r.ledger.close();
});

// The metric depends on the seed the harness passes (AUTORESEARCH_SEED = study seed + run index).
const train = (values: number[]) =>
  `const VALUES = ${JSON.stringify(values)}; // one value per seed\n` +
  'const seed = Number(process.env.AUTORESEARCH_SEED ?? 0);\n' +
  'console.log("---"); console.log("val_bpb: " + VALUES[seed % VALUES.length].toFixed(6));\n';

async function scripted(candidates: number[][]) {
  const dir = makeLandscapeRepo({ train: train([1.0, 1.01, 0.99]) });
  const p = scriptedProposer('scripted', async (ctx, call) => {
    writeFileSync(join(ctx.worktree, 'train.mjs'), train(candidates[call]!));
    return { kind: 'ok', description: `candidate ${call}` };
  });
  const r = await runTestStudy(dir, { maxExperiments: candidates.length }, { proposer: p });
  opened.push(r);
  const study = (await r.ledger.getStudy('test'))!;
  return { r, study, all: await r.ledger.listExperiments(study.id) };
}

describe('the noise-aware judge in the loop', () => {
  it('measures the noise floor from repeated baseline runs with different seeds', async () => {
    const { study, all, r } = await scripted([[0.9, 0.9, 0.9]]);
    assert.deepEqual(study.noise?.runs, [1.0, 1.01, 0.99]);
    assert.ok(Math.abs(study.noise!.sigma - 0.01) < 1e-9);
    assert.deepEqual(all[0]!.evidence?.runs, [1.0, 1.01, 0.99]);
    assert.ok(Math.abs(all[0]!.value! - 1.0) < 1e-9, 'the baseline value is the mean of its runs');
    assert.ok(r.events.some((e) => e.type === 'noise-floor'));
    // a gain far beyond the noise is kept after one run
    assert.equal(all[1]!.status, 'keep');
    assert.deepEqual(all[1]!.evidence?.runs, [0.9]);
    assert.ok(readFileSync(join(r.config.root, 'results.tsv'), 'utf8').includes('keep\tcandidate 0'));
  });

  it('confirms a candidate near the line, keeping it when the mean clears the shrinking threshold', async () => {
    const { all, r } = await scripted([[0.99, 0.975, 0.97]]);
    const e = all[1]!;
    assert.equal(e.status, 'keep');
    assert.deepEqual(e.evidence?.runs, [0.99, 0.975, 0.97]);
    assert.ok(e.evidence!.threshold! > 0.016 && e.evidence!.threshold! < 0.0164);
    assert.equal(r.events.filter((x) => x.type === 'confirm').length, 2);
    assert.match(e.reason, /over 3 runs/);
  });

  it('discards a lucky first run that does not hold up', async () => {
    const { all } = await scripted([[0.985, 1.01, 1.0]]);
    assert.equal(all[1]!.status, 'discard');
    assert.deepEqual(all[1]!.evidence?.runs, [0.985, 1.01, 1.0]);
    assert.match(all[1]!.reason, /within noise/);
  });

  it('the greedy judge keeps the same lucky run after one run', async () => {
    const dir = makeLandscapeRepo({ train: train([1.0, 1.01, 0.99]), extraToml: '[judge]\nkind = "greedy"\n' });
    const p = scriptedProposer('scripted', async (ctx) => {
      writeFileSync(join(ctx.worktree, 'train.mjs'), train([0.985, 1.01, 1.0]));
      return { kind: 'ok', description: 'lucky' };
    });
    const r = await runTestStudy(dir, { maxExperiments: 1 }, { proposer: p });
    opened.push(r);
    const all = await r.ledger.listExperiments((await r.ledger.getStudy('test'))!.id);
    assert.equal(all[0]!.evidence?.runs.length, 1, 'greedy runs the baseline once');
    assert.equal(all[1]!.status, 'keep');
  });

  it('with vary_seed = false every run gets the study seed (paired comparisons, as in the original)', async () => {
    const dir = makeLandscapeRepo({ train: train([1.0, 1.01, 0.99]), extraToml: '[judge]\nvary_seed = false\n' });
    const p = scriptedProposer('scripted', async (ctx) => {
      writeFileSync(join(ctx.worktree, 'train.mjs'), train([0.999, 0.5, 0.5]));
      return { kind: 'ok', description: 'small gain on seed 0 only' };
    });
    const r = await runTestStudy(dir, { maxExperiments: 1 }, { proposer: p });
    opened.push(r);
    const study = (await r.ledger.getStudy('test'))!;
    assert.deepEqual(study.noise?.runs, [1.0, 1.0, 1.0], 'the same seed three times');
    const e = (await r.ledger.listExperiments(study.id))[1]!;
    assert.equal(e.status, 'keep');
    assert.deepEqual(e.evidence?.runs, [0.999]);
  });
});
