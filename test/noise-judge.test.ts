import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { runTestStudy, scriptedProposer, type StudyRun } from '../src/test-support/study-harness.js';

const opened: StudyRun[] = [];
after(async () => {
  for (const r of opened) await r.ledger.close();
});

// The metric depends on the seed the harness passes (AUTORESEARCH_SEED = study seed + run index
// with seeds = "indexed"). These tests pin the earlier z-rule judge (kind = "noise"); the default
// sequential judge and drawn seeds are tested in test/sequential-judge.test.ts.
const NOISE = '[judge]\nkind = "noise"\nseeds = "indexed"\n';
const train = (values: number[]) =>
  `const VALUES = ${JSON.stringify(values)}; // one value per seed\n` +
  'const seed = Number(process.env.AUTORESEARCH_SEED ?? 0);\n' +
  'console.log("---"); console.log("val_bpb: " + VALUES[seed % VALUES.length].toFixed(6));\n';

async function scripted(candidates: number[][]) {
  const dir = makeLandscapeRepo({ train: train([1.0, 1.01, 0.99]), extraToml: NOISE });
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
    const dir = makeLandscapeRepo({
      train: train([1.0, 1.01, 0.99]),
      extraToml: '[judge]\nkind = "greedy"\nseeds = "indexed"\n',
    });
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
    const dir = makeLandscapeRepo({ train: train([1.0, 1.01, 0.99]), extraToml: `${NOISE}vary_seed = false\n` });
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

  it("with several slots, runs the baseline's noise runs and the confirmation runs at once on free cards, each with its own seed and log", async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'ar-cards-')), 'runs.log');
    const stamp = (what: string) =>
      `echo "$CUDA_VISIBLE_DEVICES $AUTORESEARCH_EXPERIMENT $AUTORESEARCH_SEED ${what} $(date +%s%N)" >> ${log}`;
    const dir = makeLandscapeRepo({
      train: train([1.0, 1.01, 0.99]),
      command: `${stamp('start')}; sleep 0.5; node train.mjs; ${stamp('end')}`,
      extraToml: `${NOISE}[slots]\nprefetch = 0\n`,
      sandbox: 'none', // the command logs outside the workspace
    });
    const p = scriptedProposer('scripted', async (ctx) => {
      writeFileSync(join(ctx.worktree, 'train.mjs'), train([0.99, 0.975, 0.97]));
      return { kind: 'ok', description: 'near the line' };
    });
    const fakeGpus = async () => [0, 1, 2].map((index) => ({ index, name: 'Fake H100', memoryMb: 80000 }));
    const r = await runTestStudy(dir, { maxExperiments: 1 }, { proposer: p, listGpus: fakeGpus });
    opened.push(r);
    const study = (await r.ledger.getStudy('test'))!;
    const all = await r.ledger.listExperiments(study.id);
    // the same decisions as one run after another (the seed of a run is seed + its index)
    assert.deepEqual(study.noise?.runs, [1.0, 1.01, 0.99]);
    assert.equal(all[1]!.status, 'keep');
    assert.deepEqual(all[1]!.evidence?.runs, [0.99, 0.975, 0.97]);
    assert.equal(r.events.filter((e) => e.type === 'confirm').length, 2);

    type Run = { gpu: string; exp: string; seed: string; start: bigint; end: bigint };
    const runs = new Map<string, Run>();
    for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
      const [gpu, exp, seed, what, t] = line.split(' ');
      const key = `${exp}/${seed}`;
      const run = runs.get(key) ?? { gpu: gpu!, exp: exp!, seed: seed!, start: 0n, end: 0n };
      if (what === 'start') run.start = BigInt(t!);
      else run.end = BigInt(t!);
      runs.set(key, run);
    }
    assert.equal(runs.size, 6, [...runs.keys()].join(' '));
    const overlap = (xs: Run[]) => xs.every((a) => xs.every((b) => a.start < b.end && b.start < a.end));
    const baseline = [...runs.values()].filter((x) => x.exp === '0');
    assert.deepEqual(baseline.map((x) => x.seed).sort(), ['0', '1', '2']);
    assert.ok(overlap(baseline), 'the three baseline runs ran at once');
    assert.equal(new Set(baseline.map((x) => x.gpu)).size, 3, 'on three cards');
    const confirmations = [...runs.values()].filter((x) => x.exp === '1' && x.seed !== '0');
    assert.equal(confirmations.length, 2);
    assert.ok(overlap(confirmations), 'both confirmation runs ran at once');
    assert.equal(new Set(confirmations.map((x) => x.gpu)).size, 2, 'on two cards');
    assert.ok(
      confirmations.every((x) => x.start > runs.get('1/0')!.end),
      'after the first run',
    );
    // never two runs on one card
    for (const gpu of ['0', '1', '2']) {
      const on = [...runs.values()].filter((x) => x.gpu === gpu).sort((a, b) => (a.start < b.start ? -1 : 1));
      for (let i = 1; i < on.length; i++) assert.ok(on[i]!.start > on[i - 1]!.end, `GPU ${gpu} ran two at once`);
    }
    const logs = join(dir, '.autoresearch', 'logs', 'test');
    for (const f of ['0000.log', '0000.r1.log', '0000.r2.log', '0001.log', '0001.r1.log', '0001.r2.log'])
      assert.ok(existsSync(join(logs, f)), f);
  });
});
